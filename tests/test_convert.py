"""`convert`: our own example files in each tool's documented syntax are converted, built and
imported into a real Anki collection; a deck built the way the tool builds it is then updated by
ours (same guid), not duplicated."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import genanki
import pytest
from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.consts import CARD_TYPE_REV, QUEUE_TYPE_REV
from click.testing import Result
from conftest import FIXTURES, AnkiCollection, ImportedNote
from helpers import run_cli, tree_snapshot

EXAMPLES = FIXTURES / "convert"
# tool -> (notes, cards, constructs not carried)
EXPECTED = {
    "ankdown": (4, 4, 2),
    "md2anki": (6, 6, 5),
    "markdown-anki-decks": (5, 5, 2),
    "inka2": (4, 6, 1),
    "obsidian": (8, 11, 3),
}


def _convert(tool: str, tmp_path: Path) -> tuple[Path, Result]:
    source = tmp_path / "src" / tool
    shutil.copytree(EXAMPLES / tool, source)
    before = tree_snapshot(source)
    out = tmp_path / "converted"
    result = run_cli("convert", "--from", tool, source, "--out", out)
    assert result.exit_code == 0, result.output
    assert tree_snapshot(source) == before  # the sources are only read
    return out, result


def _import(out: Path, tmp_path: Path, anki: AnkiCollection) -> dict[str, ImportedNote]:
    built = run_cli("build", "--content", out, "--out", tmp_path / "dist")
    assert built.exit_code == 0, built.output
    (deck,) = (tmp_path / "dist").glob("*.apkg")
    anki.import_package(deck)
    return anki.notes()


@pytest.mark.parametrize("tool", sorted(EXPECTED))
def test_every_example_converts_builds_and_imports(tool: str, tmp_path: Path, anki: AnkiCollection) -> None:
    out, result = _convert(tool, tmp_path)
    notes_expected, cards_expected, lost_expected = EXPECTED[tool]
    lost = [line for line in result.stderr.splitlines() if ": not carried: " in line]
    assert len(lost) == lost_expected, result.stderr
    assert f"{notes_expected} notes in" in result.stdout
    assert f"{lost_expected} construct(s) not carried" in result.stdout
    notes = _import(out, tmp_path, anki)
    assert len(notes) == notes_expected
    assert sum(len(note.cards) for note in notes.values()) == cards_expected


def test_ankdown_fields_tags_math_media_and_identity(tmp_path: Path, anki: AnkiCollection) -> None:
    out, result = _convert("ankdown", tmp_path)
    assert "capitals.md:36: not carried: a fourth field" in result.stderr
    notes = _import(out, tmp_path, anki)
    peru = notes["what-is-the-capital-of-peru"]
    assert {"capitals", "south-america"} <= set(peru.tags)
    # ankdown's own guid: MD5 of "<folder>/<file><card number>" mod 2^63
    digest = hashlib.md5(b"geography/capitals.md0").hexdigest()  # noqa: S324
    assert peru.guid == str(int(digest, 16) % (1 << 63))
    circle = notes["what-is-the-area-of-a-circle-of-radius-r"]
    assert r"\(r\)" in circle.fields["Question"] and r"\[A = \pi r^2\]" in circle.fields["Answer"]
    assert "[sound:lima-" in notes["how-is-lima-pronounced"].fields["Answer"]
    assert '<img src="flag-' in notes["which-flag-is-this"].fields["Context"]
    media = {p.name.split("-")[0] for p in Path(anki.col.media.dir()).iterdir()}
    assert {"flag", "lima"} <= media


def test_md2anki_subdecks_ids_tags_and_clozes(tmp_path: Path, anki: AnkiCollection) -> None:
    out, result = _convert("md2anki", tmp_path)
    assert "code evaluation of a py block" in result.stderr
    notes = _import(out, tmp_path, anki)
    mercury = notes["5f0c2a1e-8d4b-4c3a-9e21-7b6d0f3a9c11"]
    assert mercury.guid == "5f0c2a1e-8d4b-4c3a-9e21-7b6d0f3a9c11"  # md2anki's note id is its guid
    assert {"space", "planets", "inner"} <= set(mercury.tags)
    titan = notes["aa11bb22-cc33-4d44-8e55-66ff77889900"]
    assert titan.notetype.endswith("Cloze") or "cloze" in titan.notetype.lower()
    assert ">[...]<" in titan.cards[0].question and ">Titan<" in titan.cards[0].answer
    assert '<span class="topic">Astronomy - Moons</span>' in titan.fields["Source"]  # ### under `## Subdeck:`
    assert notes["moon-photo-1"].guid == "Moon-Photo-1"
    assert r"\[F = G \frac{m_1 m_2}{r^2}\]" in notes["c2c6a77e-5b1f-4a8e-9d0b-3f2e1a4b5c6d"].fields["Context"]


def test_markdown_anki_decks_html_questions_and_clozes(tmp_path: Path, anki: AnkiCollection) -> None:
    out, _ = _convert("markdown-anki-decks", tmp_path)
    notes = _import(out, tmp_path, anki)
    assert "The Mekong." in notes["which-river-is-drawn-on-this-map"].fields["Answer"]
    amazon = next(note for note in notes.values() if "Amazon" in str(note.fields))
    assert len(amazon.cards) == 1 and ">[...]<" in amazon.cards[0].question
    deck_id = int(hashlib.sha256(b"Rivers").hexdigest(), 16) % (1 << 31)
    assert notes["which-river-flows-through-cairo"].guid == genanki.guid_for(
        "<h2>Which river flows through Cairo?</h2>", deck_id
    )
    assert notes["what-is-the-length-of-the-danube"].guid == genanki.guid_for(
        "<h2>What is the <code>length</code> of the <em>Danube</em>?</h2>", deck_id
    )


def test_inka2_sections_clozes_and_answers(tmp_path: Path, anki: AnkiCollection) -> None:
    out, result = _convert("inka2", tmp_path)
    assert "identity of 1 note(s)" in result.stderr
    notes = _import(out, tmp_path, anki)
    assert {"elements", "basics"} <= set(notes["what-is-the-chemical-symbol-of-gold"].tags)
    water = next(note for note in notes.values() if "hydrogen" in note.fields.get("Text", ""))
    assert len(water.cards) == 2
    energy = next(note for note in notes.values() if "energy" in note.fields.get("Text", ""))
    assert r"\(E = mc^2\)" in energy.fields["Text"] and len(energy.cards) == 2
    atom = notes["which-element-has-this-atom"]
    assert "[sound:h-" in atom.fields["Answer"] and "<img" in atom.fields["Context"]


def test_obsidian_blocks_inline_notes_and_cloze_styles(tmp_path: Path, anki: AnkiCollection) -> None:
    out, result = _convert("obsidian", tmp_path)
    assert "<!-- CARD --> marker" in result.stderr and "reverse card" in result.stderr
    notes = _import(out, tmp_path, anki)
    octave = notes["how-many-semitones-make-an-octave"]
    assert {"music::theory", "beginner", "intervals"} <= set(octave.tags)
    assert '<span class="topic">Music</span>' in octave.fields["Source"]  # TARGET DECK names the topic
    by_text = {note.fields.get("Text", ""): note for note in notes.values()}
    triad = next(note for text, note in by_text.items() if "triad" in text)
    assert len(triad.cards) == 3  # {C}, {E} and {G}
    fifth = next(note for text, note in by_text.items() if "fifth" in text)
    assert "{{c1::seven}}" in fifth.fields["Text"] and "{{c2::five}}" in fifth.fields["Text"]
    assert "Count the half steps." in fifth.fields["Extra"]
    a4 = next(note for text, note in by_text.items() if "440" in text)
    assert "{{c1::A4}}" in a4.fields["Text"]  # a highlight becomes a cloze
    assert "[sound:a440-" in notes["which-note-is-this"].fields["Answer"]
    assert "<img" in notes["which-clef-is-this"].fields["Context"]


def test_the_output_folder_is_never_one_with_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.md").write_text("mine\n", encoding="utf-8")
    result = run_cli("convert", "--from", "ankdown", EXAMPLES / "ankdown", "--out", out)
    assert result.exit_code == 1
    assert "notes.md: error: the output folder holds a file that `convert` did not write" in result.stderr
    assert tree_snapshot(out) == {"notes.md": b"mine\n"}
    assert run_cli("convert", "--from", "ankdown", EXAMPLES / "ankdown", "--out", out, "--force").exit_code == 0
    # a second run over its own output is fine, and the sources' folder is refused as output
    (out / "notes.md").unlink()
    assert run_cli("convert", "--from", "ankdown", EXAMPLES / "ankdown", "--out", out).exit_code == 0
    inside = run_cli("convert", "--from", "ankdown", tmp_path, "--out", out)
    assert inside.exit_code == 1 and "must not be or lie inside the source folder" in inside.stderr


def _peer_package(path: Path, guids_and_fields: list[tuple[str, list[str]]], cloze: bool = False) -> Path:
    """A deck built the way the other tools build theirs: genanki, their own note type, their guid."""
    model = genanki.Model(
        1607392319, "Peer model", fields=[{"name": "Question"}, {"name": "Answer"}],
        templates=[{"name": "Card 1", "qfmt": "{{Question}}", "afmt": "{{FrontSide}}<hr>{{Answer}}"}],
    )
    deck = genanki.Deck(2059400110, "Peer deck")
    for guid, fields in guids_and_fields:
        deck.add_note(genanki.Note(model=model, fields=fields, guid=guid))
    genanki.Package(deck).write_to_file(str(path))
    return path


def test_a_deck_the_peer_built_is_updated_not_duplicated(tmp_path: Path, anki: AnkiCollection) -> None:
    out, _ = _convert("ankdown", tmp_path)
    def digest(index: int) -> str:
        return str(int(hashlib.md5(f"geography/capitals.md{index}".encode()).hexdigest(), 16) % (1 << 63))  # noqa: S324

    peer = _peer_package(tmp_path / "peer.apkg", [(digest(0), ["What is the capital of Peru?", "Lima"]),
                                                   (digest(1), ["Which flag?", "Peru's"])])
    anki.import_package(peer)
    (first, *_) = anki.col.find_cards("")
    card = anki.col.get_card(first)
    card.ivl, card.type, card.queue, card.due = 30, CARD_TYPE_REV, QUEUE_TYPE_REV, 100  # a learner's review history
    anki.col.update_card(card)
    assert anki.col.db is not None
    anki.col.db.execute("UPDATE notes SET mod = 1600000000")  # imported long before the conversion
    before = {note.guid: note.id for note in anki.notes_by_guid()}
    built = run_cli("build", "--content", out, "--out", tmp_path / "dist")
    assert built.exit_code == 0, built.output
    (deck,) = (tmp_path / "dist").glob("*.apkg")
    request = ImportAnkiPackageRequest(package_path=str(deck), options=ImportAnkiPackageOptions(
        with_scheduling=False, merge_notetypes=True))
    log = anki.col.import_anki_package(request).log
    assert (len(log.updated), len(log.new), len(log.duplicate)) == (2, 2, 0)
    after = {note.guid: note.id for note in anki.notes_by_guid()}
    assert len(after) == 4 and all(after[guid] == note_id for guid, note_id in before.items())
    kept = anki.col.get_card(first)
    assert kept.ivl == 30  # the review history stayed with the updated note
    assert "Lima, on the Pacific coast." in anki.col.get_note(kept.nid)["Answer"]
