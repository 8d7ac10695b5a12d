"""Identity and updates: re-importing a newer build keeps every note and its review history."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import AnkiCollection
from helpers import build_folder

from deckbuild.notetypes import NOTETYPES


def _reword(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_rewording_a_question_keeps_the_guid(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    build_folder(sample, tmp_path / "v1")
    anki.import_package(tmp_path / "v1" / "sample.apkg")
    before = anki.notes()["str-repeat"].guid
    _reword(sample / "01-strings.md", 'What does `"ab" * 2` evaluate to?', "What is `'ab' * 2`?")
    build_folder(sample, tmp_path / "v2", "--lock", tmp_path / "v1" / "build_deck.lock")
    anki.import_package(tmp_path / "v2" / "sample.apkg")
    notes = anki.notes()
    assert len(notes) == 5
    assert notes["str-repeat"].guid == before
    assert notes["str-repeat"].fields["Question"] == "What is <code>'ab' * 2</code>?"


def _answer_every_card(anki: AnkiCollection) -> int:
    col = anki.col
    answered = 0
    for deck in col.decks.all_names_and_ids():
        col.decks.select(deck.id)
        while (queued := col.sched.get_queued_cards()).cards:
            card = col.get_card(queued.cards[0].card.id)
            card.start_timer()
            states = queued.cards[0].states
            col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=3))
            answered += 1
    return answered


def test_update_keeps_reviews_updates_changed_notes_only(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    lock = tmp_path / "build_deck.lock"
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        build_folder(sample, tmp_path / "v1", "--lock", lock)
        anki.import_package(tmp_path / "v1" / "sample.apkg")
        assert _answer_every_card(anki) == 5
        reviews = anki.col.db.scalar("select count() from revlog")
        v1 = anki.notes()

        # v2: one reworded question, one extended answer, one card moved to another file, one new card,
        # one retired card.
        _reword(sample / "01-strings.md", 'What does `"ab" * 2` evaluate to?', 'What is `"ab" * 2`?')
        _reword(sample / "nested" / "02-numbers.md", "The `fractions` module.", "The `fractions` module (exact rationals).")
        strings = (sample / "01-strings.md").read_text(encoding="utf-8")
        start = strings.index("## Which of these strings")
        (sample / "moved.md").write_text("---\ntopic: strings\ndifficulty: beginner\ntags: [sample]\n---\n\n" + strings[start:])
        (sample / "01-strings.md").write_text(strings[:start])
        with (sample / "nested" / "02-numbers.md").open("a", encoding="utf-8") as stream:
            stream.write("\n## What does `int('7') + 1` give?\n<!-- id: int-parse -->\n\n`8`\n")
        _reword(sample / "nested" / "02-numbers.md", "<!-- id: float-sum -->", "<!-- id: float-sum, retired: true -->")
        os.environ["SOURCE_DATE_EPOCH"] = "1790000000"
        build_folder(sample, tmp_path / "v2", "--lock", lock)
        anki.import_package(tmp_path / "v2" / "sample.apkg")
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]

    v2 = anki.notes()
    assert sorted(v2) == sorted([*v1, "int-parse"])  # nothing duplicated, one new
    changed = {key for key in v1 if v2[key].fields != v1[key].fields}
    # the moved card's Source field changed too: it is an update of the same note, not a new one
    assert changed == {"str-repeat", "fractions-module", "str-equal-quiz", "float-sum"}
    assert "sample::status::retired" in v2["float-sum"].tags
    for key in v1:
        assert v2[key].id == v1[key].id and v2[key].guid == v1[key].guid
        assert (v2[key].mod > v1[key].mod) == (key in changed)
    assert anki.col.db.scalar("select count() from revlog") == reviews
    assert anki.col.db.scalar("select count() from cards where type = 0") == 1  # only the new card is new
    assert anki.notetype_names().count("Markdown Q&A (build_deck)") == 1
    assert not any(name.endswith("+") for name in anki.notetype_names())
    basic = anki.col.models.by_name(NOTETYPES["basic"].name)
    assert [(f["name"], f["id"]) for f in basic["flds"]] == list(NOTETYPES["basic"].fields)


def test_same_sources_give_the_same_bytes(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "first", "--lock", lock)
    for path in sample.rglob("*.md"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    build_folder(sample, tmp_path / "second", "--lock", lock)
    assert (tmp_path / "first" / "sample.apkg").read_bytes() == (tmp_path / "second" / "sample.apkg").read_bytes()


def test_a_user_edit_survives_an_update_of_an_unchanged_note(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    anki.import_package(tmp_path / "v1" / "sample.apkg")
    note = anki.col.get_note(anki.notes()["str-repeat"].id)
    note["Answer"] = "my own note"
    anki.col.update_note(note)
    shutil.rmtree(tmp_path / "v1")
    build_folder(sample, tmp_path / "v2", "--lock", lock)
    anki.import_package(tmp_path / "v2" / "sample.apkg")
    assert anki.notes()["str-repeat"].fields["Answer"] == "my own note"


def test_style_change_updates_the_note_type_in_place(sample: Path, tmp_path: Path, anki: AnkiCollection, monkeypatch) -> None:
    import deckbuild.package
    import deckbuild.plan
    from deckbuild.notetypes import card_css

    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    anki.import_package(tmp_path / "v1" / "sample.apkg")
    before = anki.col.models.by_name(NOTETYPES["basic"].name)
    names_before = anki.notetype_names()
    restyled = card_css() + "\n.question { letter-spacing: 0.01em; }\n"
    monkeypatch.setattr(deckbuild.plan, "card_css", lambda: restyled)
    monkeypatch.setattr(deckbuild.package, "card_css", lambda: restyled)
    build_folder(sample, tmp_path / "v2", "--lock", lock, "--no-cache")
    anki.import_package(tmp_path / "v2" / "sample.apkg")
    anki.reopen()  # the Python side caches note types
    after = anki.col.models.by_name(NOTETYPES["basic"].name)
    assert after["id"] == before["id"] and "letter-spacing: 0.01em" in after["css"]
    assert anki.notetype_names() == names_before  # updated in place: no copy such as "... +"
