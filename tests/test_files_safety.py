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
from helpers import build_folder, run_cli, tree_snapshot

from deckbuild.lock import exclusive, guard_path

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


# --- X5: the cleanup removes only what this tool made ---------------------------------------------


def test_the_cleanup_leaves_files_it_did_not_make(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repro cleanup-deletes-foreign: a user's files named like a dead build's were deleted."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "dist"
    out.mkdir()
    backup = scratch / f"build_deck-{dead.pid}-mybackup"
    backup.mkdir()
    (backup / "notes.txt").write_text("mine", encoding="utf-8")
    draft = out / f".notes.build_deck-{dead.pid}-draft.tmp"
    draft.write_text("mine too", encoding="utf-8")
    lookalike = out / f".sample.apkg.build_deck-{dead.pid}-{'0' * 16}-{'0' * 16}.tmp"  # a wrong check
    lookalike.write_text("and this", encoding="utf-8")
    build_folder(sample, out)
    assert (backup / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert draft.read_text(encoding="utf-8") == "mine too" and lookalike.exists()
    assert list(scratch.iterdir()) == [backup]  # the build made nothing in the temporary folder


def test_temporaries_are_made_privately_and_never_through_a_link(tmp_path: Path) -> None:
    from deckbuild.package import is_own_temporary, make_temporary

    made = make_temporary(tmp_path, tmp_path / "deck.apkg")
    folder = make_temporary(tmp_path, tmp_path / "deck.apkg", directory=True)
    assert is_own_temporary(made) and is_own_temporary(folder)
    assert made.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    renamed = made.with_name(made.name.replace("deck.apkg", "other.apkg"))
    made.rename(renamed)
    assert not is_own_temporary(renamed)  # the check covers the whole name


# --- X26: a full disk under the lock --------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell which file a write is for")
def test_a_full_disk_under_the_lock_names_the_lock_folder_and_leaves_nothing(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Repro lock-disk-full: the error named the output folder and left the lock's temporary file."""
    import errno

    lock_folder = tmp_path / "locks"
    lock_folder.mkdir()
    real_fdopen = os.fdopen

    def full_disk_for_the_lock(fd: int, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(lock_folder)):
            os.close(fd)
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(os, "fdopen", full_disk_for_the_lock)
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out", "--lock", lock_folder / "deck.lock")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{lock_folder}: error: No space left on device; nothing was written"), result.stderr
    assert list(lock_folder.iterdir()) == [] and tree_snapshot(tmp_path / "out") == {}


# --- W3: a cache folder others can write, and entries that are not regular files of ours -----------


def _cache_env(cache: Path) -> dict[str, str]:
    return {**os.environ, "BUILD_DECK_CACHE_DIR": str(cache)}


def test_a_cache_folder_others_can_write_is_not_used(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repro shared-cache-symlinks: a link planted in a world-writable cache made the build overwrite
    the link's target with its package record."""
    import hashlib

    cache = tmp_path / "shared-cache"
    cache.mkdir()
    cache.chmod(0o1777)
    monkeypatch.setenv("BUILD_DECK_CACHE_DIR", str(cache))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    out = tmp_path / "dist"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (cache / "packages").mkdir()
    (cache / "packages").chmod(0o777)
    name = hashlib.sha256(str((out / "sample.apkg").absolute()).encode()).hexdigest()
    (cache / "packages" / f"{name}.json").symlink_to(victim)
    build_folder(sample, out)
    build_folder(sample, out)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert sorted(p.name for p in cache.iterdir()) == ["packages"]  # nothing cached in it


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "huge", "folder"])
def test_a_cache_entry_that_is_not_a_regular_file_of_ours_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from deckbuild.cache import MAX_ENTRY_BYTES, RenderCache

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    cache = RenderCache(tmp_path / "cache")
    key = "ab" + "0" * 62
    path = cache._path(key, create=True)
    assert path is not None
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link to /dev/zero":
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero")
        path.symlink_to("/dev/zero")
    elif kind == "huge":
        with path.open("wb") as stream:
            stream.truncate(MAX_ENTRY_BYTES + 1)  # sparse: costs no disk
    else:
        path.mkdir()
    started = time.monotonic()
    assert cache.get(key) is None
    assert time.monotonic() - started < 5


def test_a_build_with_a_fifo_in_its_own_cache_finishes(sample: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**_cache_env(cache), "XDG_STATE_HOME": str(tmp_path / "state")}
    command = [sys.executable, str(ROOT / "build_deck.py"), "build", "--content", str(sample),
               "--out", str(tmp_path / "out")]
    subprocess.run(command, env=env, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    entries = sorted((cache / "files").rglob("*.json")) + sorted((cache / "packages").glob("*.json"))
    assert entries
    for entry in entries:
        entry.unlink()
        os.mkfifo(entry)
    completed = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr


def test_a_relative_state_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repro relative-state-home: XDG_STATE_HOME=relstate put the signing key inside the project."""
    from deckbuild.cache import default_cache_dir, default_key_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BUILD_DECK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", "relstate")
    monkeypatch.setenv("XDG_CACHE_HOME", "relcache")
    assert default_key_path().is_absolute() and "relstate" not in default_key_path().parts
    assert default_cache_dir().is_absolute() and "relcache" not in default_cache_dir().parts


# --- X20: an output folder whose name is not UTF-8 -------------------------------------------------


@pytest.mark.skipif(sys.platform == "darwin" or os.name == "nt", reason="file names there are always Unicode")
def test_an_output_folder_named_in_other_bytes_builds(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repro out-non-utf8: the deck was written, then exit 3 (UnicodeEncodeError) recording it."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("BUILD_DECK_CACHE_DIR", str(tmp_path / "cache"))
    out = Path(os.fsdecode(bytes(tmp_path) + b"/d\xfe"))
    build_folder(sample, out)
    result = build_folder(sample, out)
    assert "(unchanged)" in result.output  # the package record was written and read back


# --- X6: configured paths stay inside the project --------------------------------------------------


def _project(tmp_path: Path, sample: Path, settings: str) -> Path:
    import shutil

    project = tmp_path / "project"
    project.mkdir()
    shutil.copytree(sample, project / "content")
    (project / "media").mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nversion = "1.0"\n\n[tool.build_deck]\n' + settings +
        '\n[[tool.build_deck.decks]]\nname = "Sample"\nnamespace = "sample"\n', encoding="utf-8")
    return project


@pytest.mark.parametrize("settings,line", [
    ('media = "/etc/ssl"\n', 5),
    ('lock = "../pp-outside/created-by-build.lock"\n', 5),
    ('media = "/"\n', 5),
    ('content = "content"\nout = "../../elsewhere"\n', 6),
    ('media = "linked"\n', 5),
])
def test_configured_paths_outside_the_project_are_refused(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: str, line: int
) -> None:
    """Repros pyproject-paths-outside and pyproject-media-root: a pull request's pyproject.toml
    packaged /etc/ssl/openssl.cnf, created a lock outside the project and walked the file system."""
    project = _project(tmp_path, sample, settings)
    (tmp_path / "outside").mkdir()
    (project / "linked").symlink_to(tmp_path / "outside")
    monkeypatch.chdir(project)
    result = run_cli("build")
    assert result.exit_code == 1, result.output
    assert f"pyproject.toml:{line}: error: [tool.build_deck]" in result.stderr
    assert "is outside the project" in result.stderr
    assert not (tmp_path / "pp-outside").exists() and not (project / "dist").exists()
    assert run_cli("check").exit_code == 1


def test_paths_inside_the_project_and_on_the_command_line_are_fine(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, sample, 'media = "media"\nlock = "locks/deck.lock"\nout = "build/decks"\n')
    monkeypatch.chdir(project)
    build_folder(project / "content", project / "build" / "decks")
    assert (project / "locks" / "deck.lock").is_file()
    elsewhere = tmp_path / "elsewhere"
    result = run_cli("build", "--out", elsewhere, "--lock", tmp_path / "other.lock")
    assert result.exit_code == 0, result.output
    assert (elsewhere / "sample.apkg").is_file() and (tmp_path / "other.lock").is_file()


# --- X21, X16: lock input and the build's clock ---------------------------------------------------


def test_a_deeply_nested_lock_is_refused_not_a_crash(sample: Path, tmp_path: Path) -> None:
    """Repro lock-deep-json: 100,000 nested arrays gave exit 3 (RecursionError)."""
    lock = tmp_path / "build_deck.lock"
    lock.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out", "--lock", lock)
    assert result.exit_code == 1, result.output
    assert "the lock cannot be used: it is not a build_deck lock (its JSON is nested too deeply)" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("epoch", ["253402300799", "170000000000", "4102444801"])
def test_a_far_future_build_time_is_refused(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: str
) -> None:
    """Repro epoch-far-future: year-9999 times were accepted; Anki re-ids such notes and resets them."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out")
    assert result.exit_code == 1 and "SOURCE_DATE_EPOCH must be a whole number" in result.stderr
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    lock = tmp_path / "build_deck.lock"
    lock.write_text(json.dumps({"version": 2, "notes": {"sample/x": {"hash": "x", "modified": int(epoch)}}}),
                    encoding="utf-8")
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out", "--lock", lock)
    assert result.exit_code == 1 and "out of range" in result.stderr


# --- X8, X22: add-ids writes ids that read back as themselves, into the file it parsed -------------


def test_add_ids_writes_ids_that_yaml_reads_back_as_themselves(tmp_path: Path) -> None:
    """Repro add-ids-yaml-ids: `id: yes` read as true, `id: null` as no id (appended on every run),
    `id: 0x1f` as 31."""
    content = tmp_path / "content"
    content.mkdir()
    questions = ["Yes", "On", "Null", "0x1F", "1e3", "Plain question"]
    card = content / "a.md"
    card.write_text("".join(f"## {q}\n\nAnswer {n}.\n\n" for n, q in enumerate(questions)), encoding="utf-8")
    first = run_cli("add-ids", "--content", content)
    assert first.exit_code == 0, first.output
    written = card.read_text(encoding="utf-8")
    assert '<!-- id: "yes" -->' in written and '<!-- id: "null" -->' in written and '<!-- id: "0x1f" -->' in written
    assert "<!-- id: plain-question -->" in written  # unambiguous ids stay plain
    second = run_cli("add-ids", "--content", content)
    assert second.exit_code == 0 and "added 0 id(s)" in second.output
    assert card.read_text(encoding="utf-8") == written
    from deckbuild.errors import Diagnostics
    from deckbuild.load import load_sources
    from deckbuild.parse import parse_source

    diagnostics = Diagnostics()
    (parsed,) = [parse_source(source, diagnostics) for source in load_sources(content, diagnostics)]
    assert not diagnostics.has_errors()
    assert [(c.meta.id, c.meta.id_is_derived) for c in parsed.cards] == [
        ("yes", False), ("on", False), ("null", False), ("0x1f", False), ("1e3", False), ("plain-question", False)]


def test_add_ids_writes_nothing_into_a_file_saved_meanwhile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repro add-ids-race: line numbers from the old text put an id inside a code block of the new."""
    import deckbuild.addids

    content = tmp_path / "content"
    content.mkdir()
    card = content / "a.md"
    card.write_text("## First q\n\nOne.\n\n## Second q\n\nTwo.\n", encoding="utf-8")
    saved = "## First q\n\n```python\nx = 1\ny = 2\n```\n\n## Second q\n\nTwo.\n"
    real = deckbuild.addids.add_ids

    def author_saves_first(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        path.write_text(saved, encoding="utf-8")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(deckbuild.addids, "add_ids", author_saves_first)
    result = run_cli("add-ids", "--content", content)
    assert result.exit_code == 1
    assert "the file changed while add-ids ran; nothing was written to it" in result.stderr
    assert card.read_text(encoding="utf-8") == saved


def test_add_ids_never_replaces_a_symbolic_link(tmp_path: Path) -> None:
    """Repro add-ids-symlink: a card file linking to another was replaced by a copy with other ids."""
    content = tmp_path / "content"
    (content / "sub").mkdir(parents=True)
    real = content / "sub" / "real.md"
    real.write_text("## Shared question\n\nAnswer.\n", encoding="utf-8")
    alias = content / "alias.md"
    alias.symlink_to(Path("sub") / "real.md")
    result = run_cli("add-ids", "--content", content)
    assert result.exit_code == 0, result.output
    assert "alias.md: warning: a symbolic link: not changed" in result.stderr
    assert alias.is_symlink() and os.readlink(alias) == str(Path("sub") / "real.md")
    assert "<!-- id: " in real.read_text(encoding="utf-8")


# --- X23: Markdown files with another ending are not silently ignored ------------------------------


def test_markdown_files_with_another_ending_are_reported(sample: Path, tmp_path: Path) -> None:
    """Repro uppercase-md-ignored: UPPER.MD and long.markdown holding cards were skipped silently."""
    for name in ("UPPER.MD", "long.markdown", "Mixed.Md"):
        (sample / name).write_text("## A question?\n<!-- id: x -->\n\nAn answer.\n", encoding="utf-8")
    result = run_cli("check", "--content", sample)
    assert result.exit_code == 0
    for name in ("UPPER.MD", "long.markdown", "Mixed.Md"):
        assert f"{name}: warning: not read: card files end in .md (lowercase)" in result.stderr
    assert run_cli("check", "--content", sample, "--strict").exit_code == 1


# --- X19: init ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,message", [
    ("Bad\rName", "control characters"),
    ("X {namespace} {version} {file}", "cannot contain { or }"),
    ("<b>Deck</b>", "cannot hold HTML tags"),
    ("Tab\there", "control characters"),
])
def test_init_refuses_names_that_would_break_the_configuration(tmp_path: Path, name: str, message: str) -> None:
    """Repro init-name-checks: a CR made invalid TOML, placeholders were filled in, HTML was refused later."""
    result = run_cli("init", tmp_path / "deck", "--name", name)
    assert result.exit_code == 1 and message in result.stderr, result.output
    assert not (tmp_path / "deck").exists() or list((tmp_path / "deck").iterdir()) == []


def test_init_keeps_a_name_with_dollar_signs_and_hashes_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_cli("init", tmp_path / "deck", "--name", "C# & $(id) deck")
    assert result.exit_code == 0, result.output
    import tomllib

    data = tomllib.loads((tmp_path / "deck" / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["tool"]["build_deck"]["decks"][0]["name"] == "C# & $(id) deck"


@pytest.mark.parametrize("link", ["pyproject.toml", "content", ".github"])
def test_init_never_writes_through_a_dangling_link(tmp_path: Path, link: str) -> None:
    """Repro init-dangling-symlink: a dangling pyproject.toml link was written through (outside the
    folder); a dangling content link failed after pyproject.toml had been written."""
    deck = tmp_path / "deck"
    deck.mkdir()
    (deck / link).symlink_to(tmp_path / "outside" / "missing")
    result = run_cli("init", deck, "--name", "Deck")
    assert result.exit_code == 1, result.output
    assert "is a symbolic link; init writes only real files and folders (nothing was written)" in result.stderr
    assert not (tmp_path / "outside").exists()
    assert sorted(p.name for p in deck.iterdir()) == [link]


# --- X17: push does not trust the server ---------------------------------------------------------------


class _Hostile:
    """A server on 127.0.0.1 that answers every request with `body`, optionally one byte at a time."""

    def __init__(self, body: bytes, trickle: float = 0.0):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                try:
                    if trickle:
                        for byte in outer.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(trickle)
                    else:
                        self.wfile.write(outer.body)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.body = body
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("body,expected", [
    (json.dumps({"result": None, "error": "\x1b]0;PWNED-TITLE\x07\x1b[2J\n::error::fake"}).encode(),
     "AnkiConnect refused `version`: \\x1b]0;PWNED-TITLE\\x07\\x1b[2J\\x0a::error::fake"),
    (b"[" * 100_000 + b"]" * 100_000, "did not answer in AnkiConnect's format"),
    (b" " * (2 * 1024 * 1024), "answered with over 1,048,576 bytes"),
])
def test_push_reports_a_hostile_answer_in_one_printable_line(tmp_path: Path, body: bytes, expected: str) -> None:
    """Repro push-hostile-server: escapes printed raw, nested JSON exit 3, unbounded body."""
    from deckbuild.push import PushError, push_package

    server = _Hostile(body)
    try:
        with pytest.raises(PushError) as raised:
            push_package(tmp_path / "deck.apkg", server.url)
    finally:
        server.close()
    message = str(raised.value)
    assert expected in message and "\x1b" not in message and "\n" not in message


def test_push_gives_up_on_a_trickling_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import deckbuild.push as push

    monkeypatch.setattr(push, "TIMEOUT_SECONDS", 2)
    server = _Hostile(json.dumps({"result": 6, "error": None}).encode() + b" " * 100, trickle=0.2)
    started = time.monotonic()
    try:
        with pytest.raises(push.PushError, match="did not finish answering in 2 s"):
            push.push_package(tmp_path / "deck.apkg", server.url)
    finally:
        server.close()
    assert time.monotonic() - started < 10


# --- found on the way: a link to a sound inside an image's description ---------------------------


def test_a_sound_link_inside_an_image_description_is_no_crash(tmp_path: Path) -> None:
    """Marking the link as a sound looked for it among the paragraph's own tokens: exit 3."""
    content, media = tmp_path / "content", tmp_path / "media"
    content.mkdir(), media.mkdir()
    (media / "p.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    (media / "s.mp3").write_bytes(b"ID3" + b"\x00" * 32)
    (content / "a.md").write_text(
        "## Q\n<!-- id: q -->\n\n![x [say](../media/s.mp3) y](../media/p.png) and [b](../media/s.mp3)\n",
        encoding="utf-8")
    result = run_cli("check", "--content", content, "--media", media)
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.stderr


def test_a_build_time_later_than_now_is_refused_because_anki_would_re_id_the_notes(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """X16, closed: a month ahead of the clock was accepted, and real Anki then gave the notes new ids
    (their ids are stamped from the build time) and Check Database reset their times."""
    import time

    ahead = str(int(time.time()) + 30 * 86_400)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", ahead)
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert f"SOURCE_DATE_EPOCH {ahead} is later than now" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_past_build_time_keeps_its_note_ids_and_times_through_import_and_check_database(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import AnkiCollection

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out", "--lock", tmp_path / "lock.json")
    assert result.exit_code == 0, result.output
    anki = AnkiCollection(tmp_path / "anki")
    try:
        anki.import_package(next((tmp_path / "out").glob("*.apkg")))
        before = {n.id: n.mod for n in anki.notes().values()}
        assert all(1_700_000_000_000 < note_id < 1_700_001_000_000 for note_id in before)  # stamped, kept
        anki.col.fix_integrity()
        anki.reopen()
        assert {n.id: n.mod for n in anki.notes().values()} == before
    finally:
        anki.close()
