"""The plan stage on its own: a pure function from rendered cards and the previous lock entries to
each deck's notes and the new lock entries; fields filled by name from the note type's contract."""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deckbuild.build import read_content
from deckbuild.config import load_config
from deckbuild.errors import SourceLocation
from deckbuild.lock import LOCK_VERSION, MAX_TIME, lock_text
from deckbuild.notetypes import BASIC, CLOZE, MULTIPLE_CHOICE, NOTETYPES
from deckbuild.order import difficulty_rank, effective_value, value_order
from deckbuild.plan import plan_decks
from deckbuild.records import DIFFICULTIES, Card, CardMeta
from deckbuild.sanitize import finish_field, strip_control_characters

FIXTURES = Path(__file__).parent / "fixtures"
NOW = 1_800_000_000


def _content(folder: Path, media: Path | None = None):
    config = load_config(content_dir=folder, media_dir=media, pyproject=folder / "no-pyproject.toml")
    return config, read_content(config)


def test_planning_returns_the_lock_entries_and_changes_nothing_it_is_given() -> None:
    config, content = _content(FIXTURES / "sample")
    first = plan_decks(content, config, {}, NOW)
    notes = [note for plan in first.plans for note in plan.notes]
    assert notes and all(note.modified == NOW for note in notes)
    namespace = config.decks[0].namespace
    assert {f"{namespace}/{note.card_id}" for note in notes} <= set(first.lock_entries)
    assert {f"notetype/{key}" for key in NOTETYPES} <= set(first.lock_entries)

    previous = copy.deepcopy(first.lock_entries)
    again = plan_decks(content, config, previous, NOW + 100)
    assert previous == first.lock_entries  # the previous entries are read, never written
    assert again.lock_entries == first.lock_entries  # nothing changed: every note keeps its time
    assert again.plans == first.plans and again.changed_by_toolchain == 0


def test_a_changed_note_gets_a_later_time_and_the_others_keep_theirs() -> None:
    config, content = _content(FIXTURES / "sample")
    first = plan_decks(content, config, {}, NOW)
    key = next(k for k in first.lock_entries if not k.startswith("notetype/"))
    digest, modified, source = first.lock_entries[key]
    previous = {**first.lock_entries, key: ("another hash", modified, source)}
    planned = plan_decks(content, config, previous, NOW + 100)
    assert planned.lock_entries[key][1] == NOW + 100
    assert planned.lock_entries[key][0] == digest
    assert planned.changed_by_toolchain == (1 if source else 0)  # same source, other HTML: the toolchain
    assert {k: v for k, v in planned.lock_entries.items() if k != key} == {
        k: v for k, v in first.lock_entries.items() if k != key
    }


@pytest.mark.parametrize("folder", ["sample", "kinds/content"])
def test_fields_are_filled_by_name(folder: str) -> None:
    config, content = _content(FIXTURES / folder, FIXTURES / "kinds" / "media")
    cards = {card.meta.id: card for card in content.cards}
    for plan in plan_decks(content, config, {}, NOW).plans:
        for note in plan.notes:
            fields = dict(zip(NOTETYPES[note.notetype].field_names, note.fields, strict=True))
            card = cards[note.card_id]
            assert fields["Id"] == card.meta.id and fields["Reference"] == finish_field(card.reference_html)
            question = "Heading" if note.notetype == CLOZE.key else "Question"
            assert fields[question] == finish_field(card.question_html)
            answer = {BASIC.key: "Answer", MULTIPLE_CHOICE.key: "Explanation"}.get(note.notetype)
            if answer and not card.meta.media:
                assert fields[answer] == finish_field(card.answer_html)
            SEEN.add(note.notetype)


SEEN: set[str] = set()


def test_every_kind_of_note_had_its_fields_checked() -> None:
    """Runs after the cases above (pytest keeps the file's order)."""
    assert SEEN == set(NOTETYPES)


def test_the_contract_orders_fields_and_refuses_a_missing_or_unknown_one() -> None:
    names = BASIC.field_names
    assert BASIC.ordered_fields({name: name.lower() for name in reversed(names)}) == tuple(n.lower() for n in names)
    with pytest.raises(ValueError, match="missing \\['Answer'\\]"):
        BASIC.ordered_fields({name: "" for name in names if name != "Answer"})
    with pytest.raises(ValueError, match="unknown \\['Answr'\\]"):
        BASIC.ordered_fields({**{name: "" for name in names}, "Answr": ""})


def _scanned_value_order(cards: list[Card], topic_rank: dict[str, int], max_run: int) -> list[Card]:
    """The value order as its description reads, one scan of every topic per card, with exact
    fractions: what the planner's heap must give."""
    queues: dict[str, list[Card]] = defaultdict(list)
    for card in cards:
        queues[card.meta.topic].append(card)
    size: dict[tuple[str, int], int] = defaultdict(int)
    for topic, queue in queues.items():
        queue.sort(key=lambda card: (-effective_value(card), difficulty_rank(card)))  # stable: source order
        queue.reverse()  # popped from the end
        for card in queue:
            size[topic, effective_value(card)] += 1
    taken: dict[tuple[str, int], int] = defaultdict(int)
    order: list[Card] = []
    run_topic, run = None, 0
    while queues:
        allowed = [topic for topic in queues if not (run >= max_run and topic == run_topic and len(queues) > 1)]
        best = max(effective_value(queues[topic][-1]) for topic in allowed)
        topic = min(
            (topic for topic in allowed if effective_value(queues[topic][-1]) == best),
            key=lambda topic: (Fraction(taken[topic, best], size[topic, best]), topic_rank[topic]),
        )
        order.append(queues[topic].pop())
        if not queues[topic]:
            del queues[topic]
        taken[topic, best] += 1
        run_topic, run = topic, (run + 1 if topic == run_topic else 1)
    return order


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d", "e"]), st.integers(1, 5), st.sampled_from([*DIFFICULTIES, None]),
            st.booleans(),
        ),
        max_size=150,
    ),
    st.lists(st.integers(0, 2), min_size=5, max_size=5),
    st.sampled_from([1, 2, 3, 20]),
)
def test_the_value_order_is_the_scan_it_describes(
    drawn: list[tuple[str, int, str | None, bool]], ranks: list[int], max_run: int
) -> None:
    cards = [
        Card(
            CardMeta(SourceLocation(Path(f"{topic}.md"), n + 1), f"{topic}-{n}", False, topic, difficulty, (), "",
                     retired=retired and n % 7 == 0, value=value),
            "", "", "",
        )
        for n, (topic, value, difficulty, retired) in enumerate(drawn)
    ]
    rank = dict(zip("abcde", ranks, strict=True))  # equal ranks too: then the topic met first goes
    assert [card.meta.id for card in value_order(cards, rank, max_run)] == [
        card.meta.id for card in _scanned_value_order(cards, rank, max_run)
    ]


@given(
    st.dictionaries(
        st.text(max_size=12),
        st.tuples(st.text(max_size=8), st.integers(0, MAX_TIME), st.text(max_size=8)),
        max_size=6,
    ),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
)
def test_the_lock_text_is_the_indented_json_of_the_entries(
    entries: dict[str, tuple[str, int, str]], tools: dict[str, str]
) -> None:
    """The planned entries reach the lock file as json.dumps(indent=1, sort_keys=True) would write them
    (any text: quotes, control characters, non-ASCII, empty), so a lock is the same byte for byte."""
    notes = {
        key: {"hash": digest, "modified": modified, **({"source": source} if source else {})}
        for key, (digest, modified, source) in entries.items()
    }
    data = {"version": LOCK_VERSION, "toolchain": tools, "notes": notes}
    assert lock_text(entries, tools) == json.dumps(data, indent=1, sort_keys=True) + "\n"


@given(st.text(alphabet=st.sampled_from("a<[\t\n\r\x00\x01\x08\x0b\x0c\x0e\x1f\x7f\x80é\u2028"), max_size=12))
def test_control_characters_go_and_nothing_else_does(text: str) -> None:
    """strip_control_characters removes C0 controls but tab, line feed and carriage return, and DEL,
    whether the text is ASCII (checked with bytes.translate first) or not."""
    kept = "".join(c for c in text if not (ord(c) < 0x20 and c not in "\t\n\r") and c != "\x7f")
    assert strip_control_characters(text) == kept
    assert strip_control_characters(text + "é") == kept + "é"
