"""Nothing unsafe reaches a card: injection payloads are built, imported into Anki and inspected."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from conftest import FIXTURES, AnkiCollection
from helpers import build_folder

PAYLOADS = [
    line for line in (FIXTURES / "injection" / "payloads.txt").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]
FORBIDDEN_TAGS = ("script", "iframe", "object", "embed", "style", "svg", "math", "meta", "link", "base",
                  "form", "body", "video", "audio", "source")
DANGER = [
    re.compile(rf"<\s*{tag}\b", re.I) for tag in FORBIDDEN_TAGS
] + [
    re.compile(r"<[^>]*\son\w+\s*=", re.I),  # event-handler attributes
    re.compile(r"<[^>]*\s(?:href|src|action|data|formaction)\s*=\s*[\"']?\s*(?:javascript|vbscript|data):", re.I),
    re.compile(r"<img[^>]*\ssrc\s*=\s*[\"']?https?:", re.I),  # remote loads
    re.compile(r"<[^>]*\sstyle\s*=", re.I),
]


def test_corpus_has_at_least_twenty_payloads() -> None:
    assert len(PAYLOADS) >= 20


def _write_payload_cards(folder: Path) -> None:
    cards = ["---\ndifficulty: beginner\n---\n"]
    for number, payload in enumerate(PAYLOADS):
        cards.append(
            f"## Question {number} {payload}\n<!-- id: q{number} -->\n\nAnswer {payload}\n\n"
            f"Inline: {payload} and code `{payload}`\n\n```html\n{payload}\n```\n\n"
            f"## Choice {number}\n<!-- id: c{number} -->\n\n- [x] right {payload}\n- [ ] wrong\n\n{payload}\n"
        )
    (folder / "payloads.md").write_text("\n".join(cards), encoding="utf-8")


def test_no_payload_survives_in_any_field(tmp_path: Path, anki: AnkiCollection) -> None:
    content = tmp_path / "content"
    content.mkdir()
    _write_payload_cards(content)
    build_folder(content, tmp_path / "dist")
    anki.import_package(tmp_path / "dist" / "content.apkg")
    notes = anki.notes()
    assert len(notes) == 2 * len(PAYLOADS)
    for note in notes.values():
        for name, value in note.fields.items():
            for pattern in DANGER:
                assert not pattern.search(value), f"{note.fields['Id']} field {name}: {pattern.pattern} in {value!r}"
    # Code blocks keep showing HTML as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in notes["q0"].fields["Answer"]


def test_package_is_sound(sample: Path, tmp_path: Path) -> None:
    build_folder(sample, tmp_path / "dist")
    package = tmp_path / "dist" / "sample.apkg"
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None  # every entry's CRC checks out
        assert archive.namelist() == ["collection.anki2", "media"]
        database = tmp_path / "collection.anki2"
        database.write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()


def test_genanki_leaves_no_temporary_database_behind(sample: Path, tmp_path: Path, monkeypatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    build_folder(sample, tmp_path / "dist")
    # the only thing a build keeps there is the empty file its inter-process lock is taken on
    assert [p.name for p in scratch.iterdir() if not p.name.startswith("build_deck.lock-")] == []


@pytest.mark.parametrize("when", ["first deck", "lock file"])
def test_interrupted_build_leaves_output_untouched(sample: Path, tmp_path: Path, monkeypatch, when: str) -> None:
    from helpers import run_cli, tree_snapshot
    import deckbuild.build
    import deckbuild.package

    out = tmp_path / "dist"
    build_folder(sample, out)
    (sample / "01-strings.md").write_text(
        (sample / "01-strings.md").read_text(encoding="utf-8").replace("repeats it", "repeats it n times"),
        encoding="utf-8",
    )
    before = tree_snapshot(out)
    real_write = deckbuild.package.write_package

    def interrupted_write(plan, target):
        real_write(plan, target)  # a complete temporary file exists when Ctrl-C arrives
        raise KeyboardInterrupt

    def interrupted_stage(path, text, staged):
        raise KeyboardInterrupt

    if when == "first deck":
        monkeypatch.setattr(deckbuild.package, "write_package", interrupted_write)
    else:
        monkeypatch.setattr(deckbuild.build, "_stage_text", interrupted_stage)
    result = run_cli("build", "--content", sample, "--out", out)
    assert result.exit_code == 130
    assert "interrupted: nothing was written" in result.stderr
    assert tree_snapshot(out) == before
