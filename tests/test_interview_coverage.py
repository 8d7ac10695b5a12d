"""Issue 25 item 4: the recurring questions of five public interview collections, mapped to cards.

`fixtures/interview-questions.tsv` names the collections in its header (`# collection X: name |
where`) and lists one question a row with the letters of the collections that ask it and the ids of
the cards that answer it. A question asked by two or more collections must name a card; every named
card must be a live card of the deck.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pytest
from conftest import FIXTURES, ROOT

from deckbuild.build import read_content
from deckbuild.config import load_config

pytestmark = pytest.mark.deck  # about the deck's content, not the tool

TABLE = FIXTURES / "interview-questions.tsv"
COLLECTION = re.compile(r"^# collection ([A-Z]): (.+?) \| (.+)$")
ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Row:
    line: int
    question: str
    collections: tuple[str, ...]
    cards: tuple[str, ...]
    reason: str


def _collections() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for text in TABLE.read_text(encoding="utf-8").splitlines():
        match = COLLECTION.match(text)
        if match:
            letter, name, where = match.groups()
            assert letter not in found, f"collection {letter} is named twice"
            found[letter] = (name.strip(), where.strip())
    return found


def _rows() -> list[Row]:
    rows = []
    header_seen = False
    for number, text in enumerate(TABLE.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip() or text.startswith("#"):
            continue
        fields = text.split("\t")
        assert len(fields) == 3, f"{TABLE.name}:{number}: expected 3 tab-separated fields, got {len(fields)}"
        if not header_seen:
            assert fields == ["question", "collections", "cards"], f"{TABLE.name}:{number}: bad column header"
            header_seen = True
            continue
        question, letters, rest = fields
        ids, _, reason = rest.partition("#")
        cards = tuple(ids.split())
        rows.append(Row(number, question.strip(), tuple(letters.split(",")), () if cards == ("-",) else cards,
                        reason.strip()))
    return rows


COLLECTIONS = _collections()
ROWS = _rows()


@lru_cache(maxsize=1)
def live_card_ids() -> frozenset[str]:
    content = read_content(load_config(ROOT / "content", pyproject=ROOT / "pyproject.toml"), strict=False)
    return frozenset(card.meta.id for card in content.cards if not card.meta.retired)


def test_header_names_at_least_five_collections_with_where_to_find_them() -> None:
    assert len(COLLECTIONS) >= 5, f"the header names {len(COLLECTIONS)} collections"
    for letter, (name, where) in COLLECTIONS.items():
        assert name and where, f"collection {letter} needs a name and where it is"


def test_every_collection_is_used_and_every_row_uses_named_collections() -> None:
    used = {letter for row in ROWS for letter in row.collections}
    assert used == set(COLLECTIONS), f"used {sorted(used)}, named {sorted(COLLECTIONS)}"
    for row in ROWS:
        assert len(set(row.collections)) == len(row.collections), f"line {row.line}: a letter repeats"


def test_questions_are_unique() -> None:
    seen: dict[str, int] = {}
    for row in ROWS:
        key = row.question.casefold()
        assert key not in seen, f"line {row.line}: same question as line {seen[key]}"
        seen[key] = row.line


def test_there_are_recurring_questions() -> None:
    assert sum(len(row.collections) >= 2 for row in ROWS) >= 20


@pytest.mark.parametrize("row", ROWS, ids=[f"line{row.line}" for row in ROWS])
def test_row_names_live_cards_or_says_why_not(row: Row) -> None:
    where = f"{TABLE.name}:{row.line} ({row.question})"
    if len(row.collections) >= 2:
        assert row.cards, f"{where}: asked by {','.join(row.collections)} but names no card"
    if not row.cards:
        assert row.reason, f"{where}: '-' needs a '# reason'"
    assert len(row.cards) <= 3, f"{where}: name the 1-3 most direct cards"
    malformed = [card for card in row.cards if not ID.match(card)]
    assert malformed == [], f"{where}: not card ids: {malformed}"
    missing = [card for card in row.cards if card not in live_card_ids()]
    assert missing == [], f"{where}: no live card with the id {missing}"
