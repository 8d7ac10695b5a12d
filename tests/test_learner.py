"""What a learner meets: the browser's sort column, the learning order, multiple choice that never
leaks its answer, and the topic and source shown on every card (each checked in a real Anki)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import AnkiCollection
from deckbuild.notetypes import NOTETYPES
from helpers import build_folder, run_cli


def test_the_question_is_every_note_types_sort_field(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    build_folder(sample, tmp_path / "dist")
    anki.import_package(tmp_path / "dist" / "sample.apkg")
    imported = [c for c in NOTETYPES.values() if anki.col.models.get(c.id)]  # the kinds the sample uses
    assert len(imported) >= 2
    for contract in imported:
        assert anki.col.models.get(contract.id)["sortf"] == contract.field_names.index(contract.sort_field) != 0
    sort_column = dict(anki.col.db.all("select flds, sfld from notes"))
    assert 'What does "ab" * 2 evaluate to?' in sort_column.values()
    assert not set(sort_column.values()) & set(anki.notes())  # no id slug in the browser's first column


def test_an_old_collection_takes_the_new_sort_field_in_place(
    sample: Path, tmp_path: Path, anki: AnkiCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "build_deck.lock"
    with monkeypatch.context() as old:  # the note types as they were: sorted by the Id field
        for key, contract in NOTETYPES.items():
            old.setitem(NOTETYPES, key, dataclasses.replace(contract, sort_field="Id"))
        old.setenv("SOURCE_DATE_EPOCH", "1700000000")
        build_folder(sample, tmp_path / "v1", "--lock", lock)
    anki.import_package(tmp_path / "v1" / "sample.apkg")
    names = anki.notetype_names()
    assert anki.col.models.get(NOTETYPES["basic"].id)["sortf"] == 0
    notes_before = anki.notes()

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1800000000")
    build_folder(sample, tmp_path / "v2", "--lock", lock)
    log = anki.import_package(tmp_path / "v2" / "sample.apkg").log  # Anki's default import options
    anki.reopen()
    assert not log.conflicting and not log.new and not log.missing_notetype
    assert anki.notetype_names() == names  # updated in place: no copy such as "... +"
    for contract in NOTETYPES.values():
        if anki.col.models.get(contract.id):
            assert anki.col.models.get(contract.id)["sortf"] == contract.sort_index
    notes = anki.notes()
    assert {key: note.id for key, note in notes.items()} == {key: note.id for key, note in notes_before.items()}
    assert anki.col.db.scalar("select sfld from notes where id = ?", notes["str-repeat"].id) == (
        'What does "ab" * 2 evaluate to?'
    )


@pytest.fixture(scope="module")
def flagship(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's deck, built from content/ as released."""
    out = tmp_path_factory.mktemp("flagship")
    result = run_cli("build", "--out", out, "--lock", out / "build_deck.lock")
    assert result.exit_code == 0, result.output
    return out / "python-interview-prep.apkg"


@pytest.mark.parametrize("with_scheduling", [False, True])
def test_a_new_learner_starts_with_beginner_cards_of_the_first_topic(
    flagship: Path, tmp_path: Path, with_scheduling: bool
) -> None:
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    anki = AnkiCollection(tmp_path / "anki")
    try:
        options = ImportAnkiPackageOptions(with_scheduling=with_scheduling)  # else Anki's defaults
        anki.col.import_anki_package(ImportAnkiPackageRequest(package_path=str(flagship), options=options))
        col = anki.col
        top = col.decks.id_for_name("Python Interview Prep")
        assert col.decks.config_dict_for_deck_id(top)["new"]["perDay"] == 20  # the default options
        col.decks.select(top)
        queued = col.sched.get_queued_cards(fetch_limit=100).cards
        assert len(queued) == 20  # a day's new cards
        first_topic = col.decks.name(col.get_card(queued[0].card.id).did)
        assert first_topic == "Python Interview Prep::01 Core types"
        for entry in queued:
            card = col.get_card(entry.card.id)
            assert card.type == 0 and col.decks.name(card.did) == first_topic
            assert "pyprep::difficulty::beginner" in card.note().tags, card.note()["Id"]
        subdecks = [name for name, _ in sorted((d.name, d.id) for d in col.decks.all_names_and_ids())]
        assert subdecks.index("Python Interview Prep::01 Core types") < subdecks.index("Python Interview Prep::10 Asyncio")
    finally:
        anki.close()


def _card(number: int, difficulty: str) -> str:
    return f"## Question {number}?\n<!-- id: q{number}, difficulty: {difficulty} -->\n\nAnswer {number}.\n\n"


def test_new_cards_come_topic_by_topic_from_beginner_to_expert(tmp_path: Path, anki: AnkiCollection) -> None:
    content = tmp_path / "notes"
    content.mkdir()
    levels = ["expert", "beginner", "advanced", "intermediate", "beginner"]
    (content / "01-zebras.md").write_text("# Zebras\n\n" + "".join(_card(n, d) for n, d in enumerate(levels)))
    (content / "02-ants.md").write_text("# Ants\n\n" + "".join(_card(10 + n, d) for n, d in enumerate(levels[:3])))
    build_folder(content, tmp_path / "dist")
    anki.import_package(tmp_path / "dist" / "notes.apkg")
    col = anki.col
    col.decks.select(col.decks.id_for_name("Notes"))
    queue = [col.get_card(entry.card.id) for entry in col.sched.get_queued_cards(fetch_limit=20).cards]
    order = [(col.decks.name(card.did), card.note()["Id"]) for card in queue]
    assert order == [
        ("Notes::01 Zebras", "q1"), ("Notes::01 Zebras", "q4"), ("Notes::01 Zebras", "q3"),
        ("Notes::01 Zebras", "q2"), ("Notes::01 Zebras", "q0"),
        ("Notes::02 Ants", "q11"), ("Notes::02 Ants", "q12"), ("Notes::02 Ants", "q10"),
    ]
