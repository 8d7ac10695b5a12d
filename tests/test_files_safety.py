"""Nothing the builder does follows another user's files (security audit 2026-12-07: W2, W3, X5,
X10, X11 and the other file findings): the inter-process lock, temporary files, the cache and the
cleanup of what killed builds left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from deckbuild.lock import exclusive, guard_path
from helpers import build_folder, run_cli, tree_snapshot

EPOCH = "1700000000"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def _build_command(sample: Path, out: Path, lock: Path) -> list[str]:
    return [sys.executable, str(ROOT / "build_deck.py"), "build", "--content", str(sample),
            "--out", str(out), "--lock", str(lock)]


# --- W2: the inter-process lock ------------------------------------------------------------------


def test_the_guard_lives_beside_the_lock_and_is_gone_after_the_build(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    lock = tmp_path / "locks" / "deck.lock"
    build_folder(sample, tmp_path / "out", "--lock", lock)
    assert list(scratch.iterdir()) == []  # nothing in the temporary folder, not even a lock file
    assert sorted(p.name for p in lock.parent.iterdir()) == ["deck.lock"]  # the guard was removed


def test_a_planted_symbolic_link_at_the_guard_is_never_followed(sample: Path, tmp_path: Path) -> None:
    """Repro flock-symlink-tmp: a link where the guard goes made the build create its target."""
    lock = tmp_path / "build_deck.lock"
    victim = tmp_path / "elsewhere" / "CREATED_BY_BUILD"
    victim.parent.mkdir()
    guard_path(lock).symlink_to(victim)
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out", "--lock", lock)
    assert result.exit_code == 1, result.output
    assert "guard file is a symbolic link: remove it" in result.stderr
    assert not victim.exists() and not lock.exists() and not (tmp_path / "out").exists()


def test_a_fifo_at_the_guard_is_refused_without_hanging(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    os.mkfifo(guard_path(lock))
    completed = subprocess.run(_build_command(sample, tmp_path / "out", lock), capture_output=True, text=True,
                               timeout=60, cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    assert "guard file is not a regular file" in completed.stderr


def test_a_build_waiting_for_another_says_so(sample: Path, tmp_path: Path) -> None:
    """Another build (or anyone who can write beside the lock) holding the lock: the wait is announced."""
    lock = tmp_path / "build_deck.lock"
    with exclusive(lock):
        process = subprocess.Popen(_build_command(sample, tmp_path / "out", lock), cwd=tmp_path,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2.0)
            assert process.poll() is None
        except BaseException:
            process.kill()
            raise
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "note: another build is using this lock; waiting for it to finish" in err


# --- X10: the lock does not depend on TMPDIR -------------------------------------------------------


def test_builds_with_different_temporary_folders_share_the_lock(sample: Path, tmp_path: Path) -> None:
    """Repro flock-tmpdir-split: with another TMPDIR the second build did not wait and lost entries."""
    lock = tmp_path / "shared.lock"
    mine, theirs = tmp_path / "tmp-a", tmp_path / "tmp-b"
    mine.mkdir(), theirs.mkdir()
    env = {**os.environ, "TMPDIR": str(theirs), "BUILD_DECK_CACHE_DIR": str(tmp_path / "cache")}
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(mine)
    try:
        with exclusive(lock):
            process = subprocess.Popen(_build_command(sample, tmp_path / "out", lock), env=env, cwd=tmp_path,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                time.sleep(2.0)
                assert process.poll() is None, "a build with another TMPDIR did not wait for the lock"
                assert not lock.exists()
            except BaseException:
                process.kill()
                raise
    finally:
        if previous is None:
            os.environ.pop("TMPDIR")
        else:
            os.environ["TMPDIR"] = previous
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "sample/str-repeat" in json.loads(lock.read_text(encoding="utf-8"))["notes"]


# --- X11: --lock paths are compared resolved ------------------------------------------------------


def test_a_lock_path_through_dot_dot_cannot_replace_the_deck(sample: Path, tmp_path: Path) -> None:
    """Repro lock-path-dotdot: `--lock dist/../dist/<deck>.apkg` replaced the deck by the lock's JSON."""
    out = tmp_path / "dist"
    for lock in (out / ".." / "dist" / "sample.apkg", out / "." / "sample.apkg"):
        result = run_cli("build", "--content", sample, "--out", out, "--lock", lock)
        assert result.exit_code == 1 and "also a deck's output file" in result.stderr, result.output
        assert not out.exists()
    build_folder(sample, out)
    before = tree_snapshot(out)
    (tmp_path / "link.lock").symlink_to(out / "sample.apkg")
    result = run_cli("build", "--content", sample, "--out", out, "--lock", tmp_path / "link.lock")
    assert result.exit_code == 1 and "also a deck's output file" in result.stderr, result.output
    assert tree_snapshot(out) == before
