"""What a learner meets: the browser's sort column, the learning order, multiple choice that never
leaks its answer, and the topic and source shown on every card (each checked in a real Anki)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import AnkiCollection
from deckbuild.notetypes import NOTETYPES
from helpers import build_folder


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
