"""docs/MIGRATING.md's worked examples, one folder per tool, build and import into Anki as described."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, AnkiCollection
from helpers import run_cli

EXAMPLES = ROOT / "docs" / "migrating"
CASES = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())


def _build(folder: Path, tmp_path: Path, anki: AnkiCollection) -> dict:
    result = run_cli("build", "--content", folder, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    (deck,) = (tmp_path / "dist").glob("*.apkg")
    anki.import_package(deck)
    return anki.notes()


def test_every_tool_has_an_example_and_a_section() -> None:
    guide = (ROOT / "docs" / "MIGRATING.md").read_text(encoding="utf-8")
    assert [case.name for case in CASES] == ["ankdown", "markdown-anki-decks", "md2anki", "obsidian-to-anki"]
    for case in CASES:
        assert f"(migrating/{case.name}/" in guide


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_example_checks_with_only_the_warnings_the_guide_names(case: Path) -> None:
    result = run_cli("check", "--content", case)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    if case.name == "obsidian-to-anki":  # the vault's own keys: "ignored with one warning per file"
        assert len(warnings) == 1 and "front-matter key(s) aliases ignored" in warnings[0]
    else:
        assert warnings == []


def test_ankdown_fields_and_tags(tmp_path: Path, anki: AnkiCollection) -> None:
    notes = _build(EXAMPLES / "ankdown", tmp_path, anki)
    assert "elements" in notes["sodium-symbol"].tags
    assert "H₂ + O₂ → H₂O" in notes["balance-water"].fields["Context"]


def test_md2anki_ids_and_split_question(tmp_path: Path, anki: AnkiCollection) -> None:
    notes = _build(EXAMPLES / "md2anki", tmp_path, anki)
    assert set(notes) == {"5f0c2a1e-8d4b-4c3a-9e21-7b6d0f3a9c11", "0b7e9d44-2a6f-4f1d-8c35-1e9a2b7c4d60"}
    assert all({"space", "planets"} <= set(note.tags) for note in notes.values())


def test_markdown_anki_decks_keeps_question_ids(tmp_path: Path, anki: AnkiCollection) -> None:
    notes = _build(EXAMPLES / "markdown-anki-decks", tmp_path, anki)
    assert '<span class="topic">Rivers</span>' in notes["which-river-flows-through-cairo"].fields["Source"]


def test_obsidian_tags_title_and_clozes(tmp_path: Path, anki: AnkiCollection) -> None:
    notes = _build(EXAMPLES / "obsidian-to-anki", tmp_path, anki)
    assert {"music::theory", "beginner-friendly"} <= set(notes["octave-semitones"].tags)
    assert '<span class="topic">Music theory</span>' in notes["octave-semitones"].fields["Source"]
    assert len(notes["c-major-triad"].cards) == 3
