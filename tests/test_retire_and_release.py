"""Retire, don't delete: retired cards are marked in users' collections; releases list what changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import AnkiCollection
from helpers import build_folder, run_cli


def _retire(path: Path, card_id: str) -> None:
    text = path.read_text(encoding="utf-8")
    marker = f"<!-- id: {card_id}"
    assert marker in text
    path.write_text(text.replace(marker, f"<!-- retired: true, id: {card_id}"), encoding="utf-8")


def test_retired_card_is_tagged_and_noticed_after_update(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    anki.import_package(tmp_path / "v1" / "sample.apkg")
    _retire(sample / "01-strings.md", "str-repeat")
    build_folder(sample, tmp_path / "v2", "--lock", lock)
    anki.import_package(tmp_path / "v2" / "sample.apkg")
    notes = anki.notes()
    assert len(notes) == 5
    retired = notes["str-repeat"]
    assert "sample::status::retired" in retired.tags
    assert "retired" in retired.fields["Notice"]
    assert 'class="notice"' in retired.cards[0].question
    assert all("sample::status::retired" not in n.tags for key, n in notes.items() if key != "str-repeat")


def test_check_warns_when_a_built_card_vanishes(sample: Path, tmp_path: Path, monkeypatch) -> None:
    lock = tmp_path / "build_deck.lock"
    build_folder(sample, tmp_path / "v1", "--lock", lock)
    shutil.move(sample / "nested", tmp_path / "gone")
    result = run_cli("build", "--content", sample, "--out", tmp_path / "v2", "--lock", lock)
    assert result.exit_code == 0
    for card_id in ("float-sum", "fractions-module"):
        assert f"card '{card_id}' of deck 'Sample' was built before but is gone from the sources" in result.stderr
    strict = run_cli("build", "--content", sample, "--out", tmp_path / "v3", "--lock", lock, "--strict")
    assert strict.exit_code == 1


def test_release_notes_list_added_changed_and_retired(sample: Path, tmp_path: Path, monkeypatch) -> None:
    previous = tmp_path / "v1.lock"
    build_folder(sample, tmp_path / "v1", "--lock", previous)
    _retire(sample / "01-strings.md", "str-repeat")
    numbers = sample / "nested" / "02-numbers.md"
    numbers.write_text(
        numbers.read_text(encoding="utf-8").replace("The `fractions` module.", "The `fractions` module!")
        + "\n## What is `7 // 2`?\n<!-- id: floor-div -->\n\n`3`\n",
        encoding="utf-8",
    )
    result = run_cli("release-notes", "--content", sample, "--previous-lock", previous)
    assert result.exit_code == 0, result.output
    notes = result.stdout
    assert "### Added (1)\n\n- `floor-div`: `What is 7 // 2?`\n" in notes  # card text in a code span: text
    assert "### Changed (1)\n\n- `fractions-module`: `Which module gives exact fractions?`\n" in notes
    assert '### Retired (1)\n\n- `str-repeat`: `What does "ab" * 2 evaluate to?`\n' in notes
