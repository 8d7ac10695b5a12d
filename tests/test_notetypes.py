"""The note-type contract is frozen: changing a field makes Anki copy the note type for every user."""

from __future__ import annotations

import json
from pathlib import Path

from deckbuild.notetypes import NOTETYPES

GOLDEN = Path(__file__).parent / "golden" / "notetypes.json"


def contract_snapshot() -> dict:
    return {
        key: {
            "id": contract.id,
            "name": contract.name,
            "fields": [list(field) for field in contract.fields],
            "sort_field": contract.sort_field,
            "templates": [[name, template_id] for name, template_id, _, _ in contract.templates],
        }
        for key, contract in sorted(NOTETYPES.items())
    }


def test_notetype_contract_is_frozen(update_goldens: bool) -> None:
    snapshot = contract_snapshot()
    if update_goldens:
        GOLDEN.write_text(json.dumps(snapshot, indent=2) + "\n", encoding="utf-8")
    frozen = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert snapshot == frozen, (
        "the note-type contract changed: every user's Anki would copy the note type and stop updating "
        "notes. If this is deliberate, run pytest --update-goldens and document a breaking release."
    )


def test_every_id_in_the_contract_is_distinct() -> None:
    ids = [c.id for c in NOTETYPES.values()]
    ids += [field_id for c in NOTETYPES.values() for _, field_id in c.fields]
    ids += [t[1] for c in NOTETYPES.values() for t in c.templates]
    assert len(ids) == len(set(ids))


def test_every_notetype_starts_with_the_id_field() -> None:
    # Anki checks the first field for duplicates: the id is unique by construction (the sort field is
    # the question, so that the browser lists questions).
    assert all(c.field_names[0] == "Id" for c in NOTETYPES.values())
