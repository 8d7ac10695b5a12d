"""The package stage on its own: a planned deck in, the notes the package holds out.

Golden files: each `fixtures/package/<case>.md` is a one-file content folder. The stages before the
package stage plan its deck; `write_package` writes it; a real Anki collection (the `anki` package)
imports it, and what the collection then holds (decks, note types, each note's guid, fields by name
and tags, each card's deck, and the media files) is compared with `fixtures/package/<case>.txt`
beside it. Note ids and times are left out: they come from the build's clock. A new case is a new
`.md` file. After a deliberate change, or for a new case, regenerate the text files with
`pytest tests/test_package_stage.py --update-goldens` and read their diff before committing them.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import AnkiCollection

from deckbuild.build import plan_without_writing
from deckbuild.config import load_config
from deckbuild.package import plan_digest, write_package
from deckbuild.records import DeckPlan

PACKAGE = Path(__file__).parent / "fixtures" / "package"
CASES = sorted(PACKAGE.glob("*.md"))


def collection_text(anki: AnkiCollection) -> str:
    """What an Anki collection holds, as stable text: sorted, without ids or times."""
    col = anki.col
    lines = [f"deck: {name}" for name in sorted(d.name for d in col.decks.all_names_and_ids())]
    notes = sorted((col.get_note(note_id) for note_id in col.find_notes("")), key=lambda note: note.guid)
    for note in notes:
        lines.append(f"== note {note.guid} type={note.note_type()['name']} tags={sorted(note.tags)}")  # type: ignore[index]
        lines += [f"{name}: {value}" for name, value in note.items()]
        lines += [f"card {card.ord}: deck={col.decks.name(card.did)}" for card in note.cards()]
    lines += [f"media: {name}" for name in sorted(os.listdir(col.media.dir()))]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_package_matches_golden(case: Path, tmp_path: Path, anki: AnkiCollection, update_goldens: bool) -> None:
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(case, folder / case.name)
    _content, plans = plan_without_writing(load_config(folder, pyproject=folder / "none.toml"))
    (plan,) = plans
    package = tmp_path / "deck.apkg"
    write_package(plan, package)
    anki.import_package(package)
    actual = collection_text(anki)
    golden = case.with_suffix(".txt")
    if update_goldens:
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file for {case.name}: run pytest {__file__} --update-goldens"
    assert actual == golden.read_text(encoding="utf-8")


def test_a_rebuild_that_writes_no_package_never_imports_genanki(sample: Path, tmp_path: Path) -> None:
    """genanki (with asyncio, which it imports) is loaded only to write a package."""
    script = Path(__file__).resolve().parent.parent / "build_deck.py"
    command = [
        sys.executable, "-X", "importtime", str(script), "build", "--content", str(sample),
        "--out", str(tmp_path / "dist"), "--lock", str(tmp_path / "lock.json"), "--cache-dir", str(tmp_path / "cache"),
    ]

    def imported(run: subprocess.CompletedProcess[str]) -> set[str]:
        lines = [line for line in run.stderr.splitlines() if line.startswith("import time:")]
        return {line.rsplit("|", 1)[1].strip() for line in lines}

    first = subprocess.run(command, capture_output=True, text=True, check=True)
    second = subprocess.run(command, capture_output=True, text=True, check=True)
    assert "genanki" in imported(first)  # the first build writes the deck
    assert "(unchanged)" in second.stdout + second.stderr
    assert "genanki" not in imported(second)


def test_the_plan_digest_changes_with_anything_the_package_holds(tmp_path: Path) -> None:
    """A build skips writing a deck whose plan digest it recorded: so an edit to a field's text, a
    text moved from one field to the next, a tag or a note's place must each give another digest."""
    folder = tmp_path / "content"
    folder.mkdir()
    shutil.copy(CASES[0], folder / CASES[0].name)
    _content, (plan,) = plan_without_writing(load_config(folder, pyproject=folder / "none.toml"))
    note = plan.notes[0]
    assert len(note.fields) >= 2 and note.fields[0]

    def with_note(**changes: object) -> DeckPlan:
        return dataclasses.replace(plan, notes=(dataclasses.replace(note, **changes), *plan.notes[1:]))

    first, second, *rest = note.fields
    variants = [
        with_note(fields=(first + "x", second, *rest)),
        with_note(fields=(first[:-1], first[-1] + second, *rest)),  # the same text, split elsewhere
        with_note(tags=(*note.tags, "extra")),
        with_note(positions=(99,)),
    ]
    digests = {plan_digest(plan), *(plan_digest(variant) for variant in variants)}
    assert len(digests) == 1 + len(variants)
    assert plan_digest(plan) == plan_digest(dataclasses.replace(plan))  # and it is stable



def test_note_guids_are_genankis_and_never_change() -> None:
    """A note's guid is worked out by deckbuild itself, so that no upgrade can change it: the same
    as genanki's guid_for for every kind of namespace and id, and fixed for notes already published."""
    import random

    import genanki

    from deckbuild.package import note_guid

    rng = random.Random(23)
    alphabet = "abcxyz-_019 ./:\u00e9\u00df\u4e2d\U0001f600"
    pairs = [("pyprep", ""), ("", ""), ("", "x")] + [
        ("".join(rng.choices(alphabet, k=rng.randint(0, 12))), "".join(rng.choices(alphabet, k=rng.randint(0, 40))))
        for _ in range(3000)
    ]
    assert [note_guid(a, b) for a, b in pairs] == [genanki.guid_for(a, b) for a, b in pairs]
    # two notes of the published deck, as learners' collections hold them
    assert note_guid("pyprep", "abstract-base-classes") == "O7-jIe#Lnr"
    assert note_guid("pyprep", "abstract-base-classes-register") == "I:<u2}:i)A"
