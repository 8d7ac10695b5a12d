"""The render cache's plain data is derived from the records: every field of every record survives
the trip through JSON, and an entry with a field missing, an extra one or a wrong type is refused."""

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

from deckbuild.cache import _Invalid, result_data, result_from_data
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
    back = result_from_data(json.loads(json.dumps(result_data(result), ensure_ascii=True)))
    assert back == result
    assert repr(back) == repr(result)  # fields left out of == (a diagnostic's severity and kind) too


@pytest.mark.parametrize("change", ["missing", "extra", "mistyped", "bool for int", "value out of range"])
@settings(max_examples=25)
@given(card=_strategy(Card))
def test_an_entry_unlike_the_records_is_refused(change: str, card: Card) -> None:
    data = result_data(FileResult(Path("a.md"), "topic", None, (card,), ()))
    assert result_from_data(data) == FileResult(Path("a.md"), "topic", None, (card,), ())
    entry = data["cards"][0]
    if change == "missing":
        del entry["meta"]["guid"]  # never given its default
    elif change == "extra":
        entry["colour"] = "red"
    elif change == "mistyped":
        entry["meta"]["location"]["line"] = "12"
    elif change == "bool for int":
        entry["meta"]["location"]["line"] = True
    else:
        entry["meta"]["value"] = 6
    with pytest.raises(_Invalid):
        result_from_data(data)
