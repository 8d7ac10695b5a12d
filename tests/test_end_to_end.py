"""Build real decks and import them into a real Anki collection (the PyPI `anki` package)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, AnkiCollection
from helpers import build_folder


def test_sample_deck_imports_with_notes_tags_decks_and_highlighting(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    out = tmp_path / "dist"
    result = build_folder(sample, out)
    assert "sample.apkg: 5 notes, 5 cards" in result.stdout

    anki.import_package(out / "sample.apkg")
    notes = anki.notes()
    assert sorted(notes) == ["float-sum", "fractions-module", "str-equal-quiz", "str-join", "str-repeat"]

    join = notes["str-join"]
    assert join.notetype == "Markdown Q&A (build_deck)"
    assert join.tags == ("idioms", "sample", "sample::difficulty::intermediate", "sample::topic::strings")
    assert join.fields["Question"] == "What does this print?"
    # no line number: moving a card changes no other note
    assert join.fields["Source"] == '<span class="topic">Strings</span> <span class="file">sample/01-strings.md</span>'
    (card,) = join.cards
    assert card.deck == "Sample"  # one deck: topics are tags (sample::topic::strings)
    # The code shown with the question is highlighted on the front; its output is on the back only.
    assert '<span class="nb">print</span>' in card.question
    assert "a-b-c" not in card.question
    assert 'language-output' in card.answer and "a-b-c" in card.answer
    # The note type carries the light and the night-mode style sheets.
    assert ".nightMode .highlight .k" in card.question and ".highlight .k {" in card.question

    floats = notes["float-sum"]
    assert floats.tags == ("sample::difficulty::advanced", "sample::topic::numbers")
    assert floats.cards[0].deck == "Sample"
    assert '<span class="gp">&gt;&gt;&gt; </span>' in floats.fields["Answer"]  # pycon is highlighted
    assert "<table>" in floats.fields["Answer"] and "<s>yes</s>" in floats.fields["Answer"]

    fractions = notes["fractions-module"]
    assert fractions.tags == ("sample::difficulty::expert", "sample::topic::numbers")
    assert '<span class="kn">from</span>' in fractions.fields["Answer"]  # a ~~~ fence
    assert "Fraction(1, 2)" in fractions.fields["Answer"]  # an indented code block, as plain text

    quiz = notes["str-equal-quiz"]
    assert quiz.notetype == "Multiple choice (build_deck)"
    front, back = quiz.cards[0].question, quiz.cards[0].answer
    assert front.count("<li>") == 3 and "correct" not in re.sub(r"<style>.*?</style>", "", front, flags=re.S)
    assert back.count('class="correct"') == 2 and back.count('class="wrong"') == 1


def test_description_names_version_and_card_count(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    build_folder(sample, tmp_path / "dist")
    anki.import_package(tmp_path / "dist" / "sample.apkg")
    deck = anki.col.decks.by_name("Sample")
    assert deck is not None
    assert "Version " in deck["desc"] and "5 cards" in deck["desc"]


@pytest.mark.deck
def test_repository_content_builds_and_imports(tmp_path: Path, anki: AnkiCollection, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "dist"
    result = build_folder(ROOT / "content", out, "--lock", tmp_path / "build_deck.lock")
    deck = out / "python-interview-prep.apkg"
    anki.import_package(deck)
    notes = anki.notes()
    match = re.search(r"python-interview-prep\.apkg: (\d+) notes, (\d+) cards", result.stdout)
    assert match, result.stdout
    assert len(notes) == int(match.group(1)) > 0
    assert all(any(t.startswith("pyprep::topic::") for t in n.tags) for n in notes.values())
    assert all(any(t.startswith("pyprep::difficulty::") for t in n.tags) for n in notes.values())
    decks = {card.deck for note in notes.values() for card in note.cards}
    assert decks == {"Python Interview Prep"}  # one deck, so that Anki follows the build's order
    assert any('<span class="k">' in card.answer for note in notes.values() for card in note.cards)
    assert anki.col.fix_integrity() == ("Database rebuilt and optimized.", True)  # nothing to fix
