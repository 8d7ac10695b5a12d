"""The plan stage on its own: rendered cards and the previous lock in, each deck's notes and the new
lock entries out.

Golden files: each folder `fixtures/plan/<case>/` holds a content folder (`content/`), optionally a
configuration (`pyproject.toml`) and the lock of an earlier build (`previous.lock`). The stages before
the plan read the content; `plan_decks` plans it at a fixed "now"; what it gives (each deck's notes
in order with their note type, deck, time, card positions, tags and fields by name; each note
type's time; the new lock entries) is compared with `plan.txt` in the case's folder. A new case is a
new folder. After a deliberate change, or for a new case, regenerate with
`pytest tests/test_plan_stage.py --update-goldens` and read the diff before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deckbuild import __version__
from deckbuild.build import read_content
from deckbuild.config import load_config
from deckbuild.lock import ModificationLock
from deckbuild.notetypes import NOTETYPES
from deckbuild.plan import plan_decks

PLAN = Path(__file__).parent / "fixtures" / "plan"
CASES = sorted(folder for folder in PLAN.iterdir() if folder.is_dir())
NOW = 1_800_000_000


def dump(case: Path) -> str:
    config = load_config(case / "content", pyproject=case / "pyproject.toml")  # none: the folder is one deck
    content = read_content(config)
    previous = case / "previous.lock"
    entries = ModificationLock.read(previous, now=NOW).entries if previous.exists() else {}
    planned = plan_decks(content, config, entries, NOW)
    lines = []
    for plan in planned.plans:
        spec = plan.spec
        lines.append(f"# deck {spec.name!r} -> {spec.file_name} (namespace {spec.namespace}, order {spec.order})")
        lines.append(f"description: {plan.description.replace(__version__, '<version>')}")
        lines += [f"note type {key}: modified {modified}" for key, modified in sorted(plan.notetype_modified.items())]
        lines += [f"media: {media.name}" for media in plan.media]
        for note in plan.notes:
            lines.append(
                f"== {note.card_id} ({note.notetype}) deck={note.deck_name!r} modified={note.modified} "
                f"cards={list(note.card_ords)} positions={list(note.positions)}"
            )
            lines.append(f"tags: {' '.join(note.tags)}")
            names = NOTETYPES[note.notetype].field_names
            lines += [f"{name}: {value}" for name, value in zip(names, note.fields, strict=True) if value]
        lines.append("")
    lines.append(f"# lock ({planned.changed_by_toolchain} note(s) changed by the toolchain alone)")
    for key, (digest, modified, source) in sorted(planned.lock_entries.items()):
        lines.append(f"{key}: hash {digest[:12]} modified {modified}" + (f" source {source[:12]}" if source else ""))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_plan_matches_golden(case: Path, update_goldens: bool) -> None:
    actual = dump(case)
    golden = case / "plan.txt"
    if update_goldens:
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file for {case.name}: run pytest {__file__} --update-goldens"
    assert actual == golden.read_text(encoding="utf-8")


def test_every_case_has_content_and_nothing_else_unexpected() -> None:
    """A case folder holds what `dump` reads and its golden file, nothing it would silently ignore."""
    assert CASES
    for case in CASES:
        assert (case / "content").is_dir(), case
        assert {p.name for p in case.iterdir()} <= {"content", "pyproject.toml", "previous.lock", "plan.txt"}, case
