"""The render cache's plain data is derived from the records: every field of every record survives
the trip through JSON and the entry's texts, and an entry with a field missing, an extra one, a wrong
type or texts that do not add up is refused."""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deckbuild.cache import _Invalid, entry_from_payload, entry_payload, result_data, result_from_data
from deckbuild.errors import SourceLocation
from deckbuild.records import Card, CardMeta, FileResult

# the one field with a narrower range than its type
_FIELD_STRATEGIES: dict[tuple[Any, str], Any] = {(CardMeta, "value"): st.integers(1, 5)}


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of any type a record uses, built from its type hints, so that a new field is covered too."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return st.one_of([_strategy(option) for option in typing.get_args(hint)])
    if origin is tuple:
        return st.lists(_strategy(typing.get_args(hint)[0]), max_size=3).map(tuple)
    if dataclasses.is_dataclass(hint):
        hints = typing.get_type_hints(hint)
        return st.builds(hint, **{
            field.name: _FIELD_STRATEGIES[hint, field.name] if (hint, field.name) in _FIELD_STRATEGIES
            else _strategy(hints[field.name])
            for field in dataclasses.fields(hint)
        })
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    simple = {
        type(None): st.none(), str: st.text(max_size=20), int: st.integers(-(2**40), 2**40), bool: st.booleans(),
        Path: st.text(st.characters(blacklist_characters="\x00"), min_size=1, max_size=10).map(Path),
    }
    return simple[hint]


@given(_strategy(FileResult))
def test_every_field_survives_the_round_trip(result: FileResult) -> None:
    data, texts = result_data(result)
    back = result_from_data(json.loads(json.dumps(data, ensure_ascii=True)), texts)
    assert back == result
    assert repr(back) == repr(result)  # fields left out of == (a diagnostic's severity and kind) too
    stamps = [["media/a.png", 3, 1_700_000_000_000_000_000]]
    assert entry_from_payload(entry_payload(result, stamps)) == (result, stamps)  # and through the entry's bytes


def _at(record: type, name: str) -> int:
    """Where a field is stored in its record's list."""
    return [field.name for field in dataclasses.fields(record)].index(name)


@pytest.mark.parametrize(
    "change", ["missing", "extra", "mistyped", "bool for int", "value out of range", "no such text", "negative text"]
)
@settings(max_examples=25)
@given(card=_strategy(Card))
def test_an_entry_unlike_the_records_is_refused(change: str, card: Card) -> None:
    data, texts = result_data(FileResult(Path("a.md"), "topic", None, (card,), ()))
    assert result_from_data(data, texts) == FileResult(Path("a.md"), "topic", None, (card,), ())
    entry = data[_at(FileResult, "cards")][0]
    meta = entry[_at(Card, "meta")]
    location = meta[_at(CardMeta, "location")]
    if change == "missing":
        del meta[_at(CardMeta, "guid")]  # never given its default
    elif change == "extra":
        entry.append(texts.index("a.md"))
    elif change == "mistyped":
        location[_at(SourceLocation, "line")] = "12"
    elif change == "bool for int":
        location[_at(SourceLocation, "line")] = True
    elif change == "value out of range":
        meta[_at(CardMeta, "value")] = 6
    elif change == "no such text":
        entry[_at(Card, "answer_html")] = len(texts)
    else:
        entry[_at(Card, "answer_html")] = -1  # never read from the end of the list
    with pytest.raises(_Invalid):
        result_from_data(data, texts)


@pytest.mark.parametrize("change", ["longer", "shorter", "negative", "bool", "not UTF-8", "stamp"])
def test_an_entry_whose_texts_do_not_add_up_is_refused(change: str) -> None:
    result = FileResult(Path("a.md"), "topic", "Title", (), ())
    head, _, body = entry_payload(result, []).partition(b"\n")
    entry = json.loads(head)
    assert entry_from_payload(head + b"\n" + body) == (result, [])
    if change == "longer":
        body += b"x"
    elif change == "shorter":
        body = body[:-1]
    elif change == "negative":
        entry["lengths"][:2] = [entry["lengths"][0] + 1, -1]
    elif change == "bool":
        entry["lengths"].append(False)
    elif change == "not UTF-8":
        body = b"\xff" + body[1:]
    else:
        entry["stamps"] = [["a.png", 1]]
    with pytest.raises(ValueError):  # _Invalid and UnicodeDecodeError are ValueErrors: a miss
        entry_from_payload(json.dumps(entry).encode() + b"\n" + body)
