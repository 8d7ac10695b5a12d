"""The Python interview deck covers every entry of the brief's catalogue, with its topic and difficulty."""

from __future__ import annotations

import csv
from functools import lru_cache

import pytest
from conftest import FIXTURES, ROOT

from deckbuild.build import read_content
from deckbuild.config import load_config
from deckbuild.records import Card

pytestmark = pytest.mark.deck  # about the deck's content, not the tool


def _catalogue() -> list[tuple[str, str, str]]:
    lines = (FIXTURES / "catalogue.tsv").read_text(encoding="utf-8").splitlines()
    rows = csv.DictReader((line for line in lines if not line.startswith("#")), delimiter="\t")
    return [(row["id"], row["topic"], row["difficulty"]) for row in rows]


CATALOGUE = _catalogue()


@lru_cache(maxsize=1)
def repository_cards() -> dict[str, Card]:
    content = read_content(load_config(ROOT / "content", pyproject=ROOT / "pyproject.toml"), strict=True)
    return {card.meta.id: card for card in content.cards}


def test_catalogue_has_132_entries() -> None:
    assert len(CATALOGUE) == 132


@pytest.mark.parametrize("entry_id, topic, difficulty", CATALOGUE, ids=[row[0] for row in CATALOGUE])
def test_entry_has_a_card_with_its_id_topic_and_difficulty(entry_id: str, topic: str, difficulty: str) -> None:
    cards = repository_cards()
    assert entry_id in cards, f"no card has the id '{entry_id}'"
    card = cards[entry_id]
    assert (card.meta.topic, card.meta.difficulty) == (topic, difficulty)


def test_split_cards_keep_their_entry_topic() -> None:
    topics = {entry_id: topic for entry_id, topic, _ in CATALOGUE}
    cards = repository_cards()
    for card in cards.values():
        entry = max((e for e in topics if card.meta.id == e or card.meta.id.startswith(e + "-")), key=len, default=None)
        if entry is not None:
            meta = card.meta
            assert meta.topic == topics[entry], f"{meta.location}: '{meta.id}' belongs to topic {topics[entry]}"


def test_at_least_twenty_multiple_choice_cards() -> None:
    assert sum(card.is_multiple_choice for card in repository_cards().values()) >= 20


def test_every_content_file_gives_its_topic_in_front_matter() -> None:
    for path in sorted((ROOT / "content").glob("*.md")):
        head = path.read_text(encoding="utf-8").split("\n---\n", 1)[0]
        assert head.startswith("---\n") and "\ntopic: " in head, f"{path.name}: no topic in front matter"
