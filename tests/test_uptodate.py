"""The up-to-date check (deckbuild.uptodate): a build on exactly the files that the last build left
answers at once, with that build's report; anything a build depends on that changed makes it build
in full. Real builds and real files throughout."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FIXTURES
from helpers import run_cli, tree_snapshot

from deckbuild.build import build
from deckbuild.cache import RenderCache
from deckbuild.config import load_config
from deckbuild.errors import DeckError
from deckbuild.records import BuildConfig, BuildReport


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BuildConfig:
    """The `kinds` fixture (cards of every kind, an image, a sound) with two warnings of its own: a
    file that is not read and a media file no card uses. The working folder is the project's."""
    shutil.copytree(FIXTURES / "kinds", tmp_path / "kinds")
    root = tmp_path / "kinds"
    (root / "content" / "notes.MD").write_text("## Not read\n", encoding="utf-8")
    (root / "media" / "unused.png").write_bytes((root / "media" / "diagrams" / "stack.png").read_bytes())
    monkeypatch.chdir(root)
    return load_config(Path("content"), Path("media"), Path("dist"), lock_path=Path("deck.lock"))


def _build(config: BuildConfig, cache: Path, strict: bool = False) -> BuildReport:
    return build(config, strict=strict, cache=RenderCache(cache), reuse=True)


def _messages(report: BuildReport) -> list[str]:
    return [str(d) for d in report.diagnostics]


def test_a_build_on_the_files_the_last_one_left_answers_with_its_report(project: BuildConfig, private_cache: Path) -> None:
    first = _build(project, private_cache)
    assert first.plans and any(deck.written for deck in first.decks)
    assert any("not read" in m for m in _messages(first)) and any("unused.png" in m for m in _messages(first))
    files = tree_snapshot(Path.cwd())
    second = _build(project, private_cache)
    assert second.plans == () and second.cards == ()  # nothing was read or planned
    assert [(d.path, d.notes, d.cards, d.written) for d in second.decks] == [
        (d.path, d.notes, d.cards, False) for d in first.decks
    ]
    assert _messages(second) == _messages(first)  # the warnings are told again, in the same order
    assert tree_snapshot(Path.cwd()) == files  # nothing written


def test_its_answer_is_what_a_full_build_gives(project: BuildConfig, private_cache: Path) -> None:
    _build(project, private_cache)
    quick = _build(project, private_cache)
    full = build(project, cache=RenderCache(private_cache))  # the same files, read and planned in full
    assert full.plans and quick.plans == ()
    assert quick.decks == full.decks and _messages(quick) == _messages(full)


def _same_size_and_time(path: Path, old: str, new: str) -> None:
    info = path.stat()
    text = path.read_text(encoding="utf-8")
    assert len(old) == len(new) and old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def _later(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 2_000_000_000))


def _first_card_file() -> Path:
    return sorted(Path("content").glob("*.md"))[0]


def _edit_lock() -> None:
    lock = Path("deck.lock")
    text = lock.read_text(encoding="utf-8")
    lock.write_text(re.sub(r'"modified": (\d+)', lambda m: f'"modified": {int(m[1]) - 1}', text, count=1), encoding="utf-8")


def _damage_deck() -> None:
    deck = next(Path("dist").glob("*.apkg"))
    deck.write_bytes(deck.read_bytes()[:-10] + b"0123456789")


CHANGES: dict[str, Callable[[], None]] = {
    # the words of a card, with the file's size and time as they were: the text itself is compared
    "a card's text": lambda: _same_size_and_time(_first_card_file(), "## ", "##\t"),
    "a new card file": lambda: Path("content", "zz-new.md").write_text(
        "---\ntopic: extra\n---\n\n## What is new?\n<!-- id: new-card -->\n\nThis card.\n", encoding="utf-8"
    ),
    "a new file that is not read": lambda: Path("content", "more.markdown").write_text("## x\n", encoding="utf-8"),
    "a new media file": lambda: Path("media", "other.png").write_bytes(Path("media", "unused.png").read_bytes()),
    "a packaged image's time": lambda: _later(Path("media", "diagrams", "stack.png")),
    "a packaged image removed": lambda: Path("media", "diagrams", "stack.png").unlink(),
    "the lock": _edit_lock,
    "a deck's bytes": _damage_deck,
    "a deck removed": lambda: next(Path("dist").glob("*.apkg")).unlink(),
    "SOURCE_DATE_EPOCH": lambda: os.environ.__setitem__("SOURCE_DATE_EPOCH", "1700000000"),
    "the working folder": lambda: os.chdir("content"),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_to_anything_a_build_reads_makes_it_build_in_full(
    change: str, project: BuildConfig, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    config = dataclasses.replace(
        project, content_dir=project.content_dir.absolute(), media_dir=project.media_dir.absolute(),
        out_dir=project.out_dir.absolute(), lock_path=Path("deck.lock").absolute(),
    )  # the same folders from any working folder
    _build(config, private_cache)
    assert _build(config, private_cache).plans == ()
    CHANGES[change]()
    try:
        again = _build(config, private_cache)
    except DeckError as error:  # the change broke the content: the full build says so
        assert change == "a packaged image removed", error
        assert "not found" in str(error.diagnostics[0])
        return
    assert again.plans, f"after {change} the build answered from its record"
    assert _build(config, private_cache).plans == ()  # and the full build left a record of its own


def test_the_options_that_change_the_outcome_are_part_of_the_state(project: BuildConfig, private_cache: Path) -> None:
    _build(project, private_cache)  # with warnings: a strict build of the same files must fail
    with pytest.raises(DeckError):
        _build(project, private_cache, strict=True)
    with pytest.raises(DeckError):
        build(project, strict=True, cache=RenderCache(private_cache), reuse=True, frozen=True)


def test_no_answer_without_a_lock_or_a_cache_or_a_trusted_record(project: BuildConfig, private_cache: Path) -> None:
    unlocked = dataclasses.replace(project, lock_path=None)
    _build(unlocked, private_cache)
    assert _build(unlocked, private_cache).plans  # without a lock, times come from the clock
    build(project, cache=RenderCache(None), reuse=True)
    assert build(project, cache=RenderCache(None), reuse=True).plans  # no cache folder, no record
    _build(project, private_cache)
    records = list((private_cache / "builds").glob("*.json"))
    assert len(records) == 1
    signature, _, payload = records[0].read_bytes().partition(b"\n")
    records[0].write_bytes(b"0" * len(signature) + b"\n" + payload)  # a record this user did not sign
    assert _build(project, private_cache).plans


def test_the_command_says_the_same_on_the_quick_path(project: BuildConfig) -> None:
    args = ["build", "--content", "content", "--media", "media", "--out", "dist", "--lock", "deck.lock"]
    first, second = run_cli(*args), run_cli(*args)
    third = run_cli(*args)

    def without_time(text: str) -> str:
        return re.sub(r"in [0-9.]+ s", "in ? s", text)

    assert first.exit_code == second.exit_code == third.exit_code == 0
    assert "(unchanged)" not in first.stdout and "(unchanged)" in second.stdout
    assert without_time(second.stdout) == without_time(third.stdout)
    assert second.stderr == third.stderr and "not read" in third.stderr


def test_a_library_that_writes_the_package_is_part_of_the_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new genanki or SQLite may write other bytes: neither the up-to-date check nor the record
    of an unchanged deck may then answer for the old one."""
    import sqlite3

    from deckbuild import cache

    before = cache.tool_fingerprint()
    real_version = cache.metadata.version
    monkeypatch.setattr(cache.metadata, "version", lambda name: "0.0.1" if name == "genanki" else real_version(name))
    cache.tool_fingerprint.cache_clear()
    try:
        assert cache.tool_fingerprint() != before
        monkeypatch.setattr(cache.metadata, "version", real_version)
        cache.tool_fingerprint.cache_clear()
        assert cache.tool_fingerprint() == before
        monkeypatch.setattr(sqlite3, "sqlite_version", "3.0.0")
        cache.tool_fingerprint.cache_clear()
        assert cache.tool_fingerprint() != before
    finally:
        monkeypatch.undo()
        cache.tool_fingerprint.cache_clear()
