"""The lock: notes change only when their own content changes, the toolchain is recorded, a release
build can be frozen, and a lock or clock that cannot be trusted is an error that says what to do."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, AnkiCollection
from helpers import build_folder, run_cli, tree_snapshot

from deckbuild.lock import TOOLCHAIN_LIBRARIES, exclusive, toolchain

EPOCH = "1700000000"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)


def _notes(lock: Path) -> dict[str, dict]:
    return {k: v for k, v in json.loads(lock.read_text(encoding="utf-8"))["notes"].items() if k.startswith("sample/")}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _rebuild(sample: Path, out: Path, lock: Path, epoch: str = "1790000000") -> dict[str, dict]:
    os.environ["SOURCE_DATE_EPOCH"] = epoch  # a later "now": a changed note would get this time
    build_folder(sample, out, "--lock", lock)
    return _notes(lock)


def test_a_blank_line_between_cards_changes_no_note(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    before = lock.read_text(encoding="utf-8")
    _edit(sample / "01-strings.md", "## What does this print?", "\n\n## What does this print?")
    _edit(sample / "01-strings.md", "# Strings\n", "\n# Strings\n\n")
    _rebuild(sample, tmp_path / "v2", lock)
    assert lock.read_text(encoding="utf-8") == before
    assert (tmp_path / "v1" / "sample.apkg").read_bytes() == (tmp_path / "v2" / "sample.apkg").read_bytes()


def test_a_card_inserted_in_the_middle_adds_one_note_and_changes_none(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    before = _notes(lock)
    new_card = "## What does `'a' < 'b'` give?\n<!-- id: str-compare -->\n\n`True`.\n\n"
    _edit(sample / "01-strings.md", "## What does this print?", new_card + "## What does this print?")
    after = _rebuild(sample, tmp_path / "v2", lock)
    assert set(after) - set(before) == {"sample/str-compare"}
    assert {k: after[k] for k in before} == before


def test_moving_a_card_to_another_file_changes_that_card_only(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    before = _notes(lock)
    strings = sample / "01-strings.md"
    text = strings.read_text(encoding="utf-8")
    start = text.index("## What does `\"ab\" * 2`")
    end = text.index("## What does this print?")
    card = text[start:end].replace("<!-- id: str-repeat -->", "<!-- id: str-repeat, topic: strings, difficulty: beginner, tags: [sample] -->")
    strings.write_text(text[:start] + text[end:], encoding="utf-8")
    numbers = sample / "nested" / "02-numbers.md"
    numbers.write_text(numbers.read_text(encoding="utf-8") + "\n" + card, encoding="utf-8")
    after = _rebuild(sample, tmp_path / "v2", lock)
    changed = {k for k in before if after[k] != before[k]}
    assert changed == {"sample/str-repeat"}  # its Source field names the new file
    assert after["sample/str-repeat"]["modified"] == 1790000000


def test_the_lock_records_the_toolchain(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "out", "--lock", lock)
    recorded = json.loads(lock.read_text(encoding="utf-8"))["toolchain"]
    assert recorded == toolchain()
    assert set(recorded) == {"deckbuild", *TOOLCHAIN_LIBRARIES}


def test_another_toolchain_is_named_once_with_the_notes_it_alone_changes(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    # As if an older Pygments had rendered the lock's notes: two notes' HTML differs, sources do not.
    data = json.loads(lock.read_text(encoding="utf-8"))
    data["toolchain"]["Pygments"] = "1.0"
    for key in ("sample/str-join", "sample/float-sum"):
        data["notes"][key]["hash"] = "0" * 32
    lock.write_text(json.dumps(data), encoding="utf-8")
    # ... and the author edited one card, which is not the toolchain's doing
    _edit(sample / "01-strings.md", "repeats it.", "repeats it, twice here.")
    result = build_folder(sample, tmp_path / "v2", "--lock", lock)
    notes = [line for line in result.stderr.splitlines() if "other versions" in line]
    assert len(notes) == 1
    assert f"Pygments 1.0 -> {toolchain()['Pygments']}" in notes[0]
    assert "2 note(s) change only because of that" in notes[0]
    assert json.loads(lock.read_text(encoding="utf-8"))["toolchain"] == toolchain()
    again = build_folder(sample, tmp_path / "v3", "--lock", lock)
    assert "other versions" not in again.stderr


def test_frozen_build_passes_when_nothing_changed(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    build_folder(sample, tmp_path / "v2", "--lock", lock, "--frozen")
    assert (tmp_path / "v2" / "sample.apkg").is_file()


def test_frozen_build_fails_and_writes_nothing_when_the_lock_would_change(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "out", "--lock", lock)
    _edit(sample / "01-strings.md", "repeats it.", "repeats it, twice here.")
    before, lock_before = tree_snapshot(tmp_path / "out"), lock.read_bytes()
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out", "--lock", lock, "--frozen")
    assert result.exit_code == 1
    assert "--frozen: the lock would change: 1 note(s) changed (sample/str-repeat)" in result.stderr
    assert "Run `python build_deck.py build` and commit" in result.stderr
    assert tree_snapshot(tmp_path / "out") == before and lock.read_bytes() == lock_before


def test_frozen_build_without_a_lock_fails(sample: Path, tmp_path: Path) -> None:
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out", "--frozen")
    assert result.exit_code == 1
    assert "the lock does not exist" in result.stderr
    assert not (tmp_path / "out").exists()


DAMAGED = {
    "garbage": ("not json at all", "it is not JSON"),
    "conflict": ('{"version": 2,\n<<<<<<< HEAD\n "notes": {}\n=======\n "notes": {}\n>>>>>>> other\n}\n',
                 "merge-conflict markers"),
    "a list": ("[]", "not a build_deck lock"),
    "notes a list": ('{"version": 1, "notes": []}', "not a mapping"),
    "newer tool": ('{"version": 3, "notes": {}}', "newer deckbuild"),
    "huge time": ('{"version": 1, "notes": {"sample/x": {"hash": "x", "modified": 1e30}}}', "out of range"),
    "long time": ('{"version": 1, "notes": {"sample/x": {"hash": "x", "modified": 99999999999999999}}}',
                  "out of range"),
    "infinite": ('{"version": 1, "notes": {"sample/x": {"hash": "x", "modified": Infinity}}}', "must be a number of seconds"),
    "negative": ('{"version": 2, "notes": {"sample/x": {"hash": "x", "modified": -5}}}', "out of range"),
}


@pytest.mark.parametrize("text,expected", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_lock_is_an_error_never_silently_reset(
    sample: Path, tmp_path: Path, text: str, expected: str
) -> None:
    lock = tmp_path / "build_deck.lock"
    lock.write_text(text, encoding="utf-8")
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out", "--lock", lock)
    assert result.exit_code == 1, result.output
    assert expected in result.stderr and "Restore it from version control" in result.stderr
    assert "Traceback" not in result.stderr
    assert lock.read_text(encoding="utf-8") == text and not (tmp_path / "out").exists()
    check = run_cli("check", "--content", sample)  # check reads no lock of this folder; still no crash
    assert check.exit_code == 0


def test_a_version_1_lock_is_read_and_upgraded(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    data = json.loads(lock.read_text(encoding="utf-8"))
    old = {"version": 1, "notes": {k: {"hash": v["hash"], "modified": v["modified"]} for k, v in data["notes"].items()}}
    lock.write_text(json.dumps(old), encoding="utf-8")
    _rebuild(sample, tmp_path / "v2", lock)
    assert json.loads(lock.read_text(encoding="utf-8")) == data  # same times: no note looks changed


@pytest.mark.parametrize("value", ["abc", "-1", "1.5e9", "", " 17", "\u00b2", "\u0663\u0663", "9" * 20])
def test_a_malformed_source_date_epoch_is_an_error(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out")
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("SOURCE_DATE_EPOCH: error: SOURCE_DATE_EPOCH must be a whole number")
    assert not (tmp_path / "out").exists()


def test_source_date_epoch_zero_gives_a_deck_anki_can_use(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anki: AnkiCollection
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    build_folder(sample, tmp_path / "out")
    anki.import_package(tmp_path / "out" / "sample.apkg")
    col = anki.col
    note_ids = col.find_notes("")
    assert len(note_ids) == 5 and 0 not in note_ids
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        assert card.question() and card.note().fields
    col.fix_integrity()  # Anki's own Check Database panicked on a note with id 0


def test_the_lock_cannot_be_a_deck_or_a_source(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    build_folder(sample, out)
    before = tree_snapshot(out)
    source_before = tree_snapshot(sample)
    for lock, expected in ((out / "sample.apkg", "also a deck's output file"),
                           (sample / "01-strings.md", "would be a source file")):
        result = run_cli("build", "--content", sample, "--out", out, "--lock", lock)
        assert result.exit_code == 1 and expected in result.stderr, result.output
    binary = tmp_path / "picture.bin"
    binary.write_bytes(b"\xff\xfe\x00binary")
    result = run_cli("build", "--content", sample, "--out", out, "--lock", binary)
    assert result.exit_code == 1 and "not a build_deck lock (not UTF-8 text)" in result.stderr
    assert tree_snapshot(out) == before and tree_snapshot(sample) == source_before
    assert binary.read_bytes() == b"\xff\xfe\x00binary"


def test_a_second_build_waits_for_the_first_to_finish_with_the_lock(sample: Path, tmp_path: Path) -> None:
    """Two builds sharing a lock never interleave their read-modify-write (which lost entries)."""
    lock = tmp_path / "build_deck.lock"
    env = {**os.environ, "BUILD_DECK_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, str(ROOT / "build_deck.py"), "build", "--content", str(sample),
               "--out", str(tmp_path / "out"), "--lock", str(lock)]
    with exclusive(lock):  # as a running build holds it
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2.0)
            assert process.poll() is None, "the build did not wait for the lock"
            assert not lock.exists()
        except BaseException:
            process.kill()
            raise
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "sample/str-repeat" in lock.read_text(encoding="utf-8")


def test_concurrent_builds_keep_every_lock_entry(sample: Path, tmp_path: Path) -> None:
    second = tmp_path / "second"
    second.mkdir()
    for number in range(40):
        (second / f"{number:02}.md").write_text(
            "".join(f"## Question {number}-{card}?\n<!-- id: q{number}-{card} -->\n\nAnswer.\n\n" for card in range(40)),
            encoding="utf-8",
        )
    env = {**os.environ, "BUILD_DECK_CACHE_DIR": str(tmp_path / "cache")}
    processes = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "build_deck.py"), "build", "--content", str(folder),
             "--out", str(tmp_path / "out"), "--no-cache"],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for folder in (sample, second)
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    notes = json.loads((tmp_path / "out" / "build_deck.lock").read_text(encoding="utf-8"))["notes"]
    assert sum(k.startswith("sample/") for k in notes) == 5
    assert sum(k.startswith("second/") for k in notes) == 1600


def _temporary_of(pid: int, out: Path, monkeypatch: pytest.MonkeyPatch, directory: bool = False) -> Path:
    """A temporary file (or folder) as the build with process id `pid` makes it."""
    import deckbuild.package as package

    with monkeypatch.context() as patch:
        patch.setattr(package.os, "getpid", lambda: pid)
        made = package.make_temporary(out, out / "sample.apkg", directory=directory)
    (made / "collection.anki2" if directory else made).write_bytes(b"partial")
    return made


def test_stale_temporary_files_of_a_killed_build_are_removed(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build_folder(sample, out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a process id that no longer runs
    stale_file = _temporary_of(dead.pid, out, monkeypatch)
    stale_folder = _temporary_of(dead.pid, out, monkeypatch, directory=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy_file = _temporary_of(alive.pid, out, monkeypatch)
        build_folder(sample, out)
        assert not stale_file.exists() and not stale_folder.exists()
        assert busy_file.exists()  # a running build's file is left alone
    finally:
        alive.kill()
        alive.wait()


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_write_error_names_the_output_folder(sample: Path, tmp_path: Path) -> None:
    """A full disk (simulated by a file-size limit) is reported with a path, and nothing is left."""
    out = tmp_path / "out"
    env = {**os.environ, "BUILD_DECK_CACHE_DIR": str(tmp_path / "cache")}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "build_deck.py"), "build", "--content", str(sample), "--out", str(out),
         "--no-cache"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size,
    )
    assert completed.returncode == 1, completed.stderr
    assert completed.stderr.startswith("out: error: "), completed.stderr
    assert "nothing was written" in completed.stderr
    assert [p.name for p in out.iterdir()] == [] if out.exists() else True
