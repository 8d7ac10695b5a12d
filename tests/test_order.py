"""The order of new cards (issue 24): by interview value with the topics interleaved, beginner first
within a topic, and never two cards of one note on the same day, proven by studying day by day in a
real Anki with its default options (scripts/simulate_study.py does the studying)."""

from __future__ import annotations

import json
import sqlite3
import sys
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from helpers import build_folder, run_cli
from hypothesis import given
from hypothesis import strategies as st

from deckbuild.errors import SourceLocation
from deckbuild.order import MAX_RUN, SIBLING_GAP, card_positions, difficulty_rank, value_order
from deckbuild.records import DIFFICULTIES, Card, CardMeta

sys.path.insert(0, str(ROOT / "scripts"))
from simulate_study import study  # noqa: E402

ORDER = FIXTURES / "order"  # four topics of 36, 14, 10 and 8 notes, values 1-5, two cloze notes


def _cards(content: Path) -> dict[str, Card]:
    from deckbuild.build import read_content
    from deckbuild.config import load_config

    config = load_config(content_dir=content, pyproject=content / "no-pyproject.toml")
    return {card.meta.id: card for card in read_content(config).cards}


def _topic(tags: tuple[str, ...]) -> str:
    return next(tag.split("::")[-1] for tag in tags if "::topic::" in tag)


def _longest_run(items: list[str]) -> int:
    longest = run = 0
    for index, item in enumerate(items):
        run = run + 1 if index and items[index - 1] == item else 1
        longest = max(longest, run)
    return longest


@pytest.fixture(scope="module")
def studied(tmp_path_factory: pytest.TempPathFactory):
    """The fixture deck built with no configuration (the defaults: value order, one deck) and
    studied for five days with Anki's default options, every answer Good."""
    folder = tmp_path_factory.mktemp("order")
    build_folder(ORDER, folder / "dist", "--lock", folder / "build_deck.lock")
    return study(folder / "dist" / "order.apkg", days=5, folder=folder / "anki")


def test_every_topic_comes_on_day_one_and_the_whole_deck_in_four_days(studied) -> None:
    cards = _cards(ORDER)
    met = [card for day in studied for card in day.new]
    assert [len(day.new) for day in studied] == [20, 20, 20, 11, 0]  # Anki's default 20 a day
    assert Counter((card.note, card.ord) for card in met) == Counter(
        (card.meta.id, number - 1) for card in cards.values() for number in (card.meta.cloze_numbers or (1,))
    )
    assert {_topic(card.tags) for card in studied[0].new} == {"basics", "functions", "classes", "tools"}
    # the first four cards are one of each topic, in the order of the files
    first = sorted(studied[0].new, key=lambda card: card.position)[:4]
    assert [_topic(card.tags) for card in first] == ["basics", "functions", "classes", "tools"]


def test_highest_value_first_and_beginner_first_within_a_topic(studied) -> None:
    cards = _cards(ORDER)
    met = [card for day in studied for card in day.new]
    # Anki gathered them by position, 20 a day
    assert [card.day for card in sorted(met, key=lambda card: card.position)] == sorted(card.day for card in met)
    notes = [card for card in sorted(met, key=lambda card: card.position) if card.ord == 0]
    values = [cards[card.note].meta.value for card in notes]
    assert values == sorted(values, reverse=True) and values[0] == 5 and values[-1] == 1
    seen: dict[tuple[str, int], int] = {}
    for card in notes:
        source = cards[card.note]
        rank = difficulty_rank(source)
        assert rank >= seen.get((source.meta.topic, source.meta.value), 0), f"{card.note} comes after a harder card"
        seen[source.meta.topic, source.meta.value] = rank
    # the learner never sees one topic for more than a day's cards in a row
    assert _longest_run([_topic(card.tags) for card in met]) <= 20


def test_no_two_cards_of_one_note_are_introduced_on_the_same_day(studied) -> None:
    days = defaultdict(list)
    for day in studied:
        for card in day.new:
            days[card.note].append(card.day)
    assert days["classes-4"] == [1, 2, 4] and days["basics-9"] == [2, 3]  # c1, c2, c3 and c1, c2
    for note, when in days.items():
        assert len(when) == len(set(when)), note


def test_value_five_cards_carry_the_core_tag(studied) -> None:
    cards = _cards(ORDER)
    core = {card.note for day in studied for card in day.new if "order::core" in card.tags}
    assert core == {card.meta.id for card in cards.values() if card.meta.value == 5}
    assert len(core) == 17


def _package_cards(package: Path) -> list[tuple[str, str, int, int]]:
    """(deck name, note id field, ord, due) of every card in a built package."""
    with zipfile.ZipFile(package) as archive:
        database = package.parent / "collection.sqlite"
        database.write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(database)
    try:
        decks = {int(key): deck["name"] for key, deck in json.loads(connection.execute("select decks from col").fetchone()[0]).items()}
        rows = connection.execute(
            "select cards.did, notes.flds, cards.ord, cards.due from cards join notes on notes.id = cards.nid"
        ).fetchall()
    finally:
        connection.close()
    return [(decks[did], fields.split("\x1f")[0], ordinal, due) for did, fields, ordinal, due in rows]


def _configured(tmp_path: Path, options: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[tool.build_deck]\n\n[[tool.build_deck.decks]]\nname = "Fixture"\nnamespace = "fixture"\n{options}\n'
    )
    import shutil

    shutil.copytree(ORDER, project / "content")
    return project


def test_with_subdecks_siblings_are_apart_within_their_subdeck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _configured(tmp_path, 'order = "value"\nsubdecks = true')
    monkeypatch.chdir(project)
    assert run_cli("build").exit_code == 0
    rows = _package_cards(project / "dist" / "fixture.apkg")
    assert {deck for deck, *_ in rows} == {"Fixture::01 Basics", "Fixture::02 Functions", "Fixture::03 Classes", "Fixture::04 Tools"}
    by_deck = defaultdict(list)
    for deck, note, ordinal, _due in sorted(rows, key=lambda row: row[3]):
        by_deck[deck].append((note, ordinal))
    classes = by_deck["Fixture::03 Classes"]  # 12 cards: the gap cannot hold, so the siblings go last
    places = [index for index, (note, _) in enumerate(classes) if note == "classes-4"]
    assert places[0] == 0 and places[1:] == [10, 11]
    basics = by_deck["Fixture::01 Basics"]  # 37 cards: c2 waits as long as it can
    places = [index for index, (note, _) in enumerate(basics) if note == "basics-9"]
    assert places == [9, 36]


def test_the_topic_order_goes_topic_by_topic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _configured(tmp_path, 'order = "topic"')
    monkeypatch.chdir(project)
    assert run_cli("build").exit_code == 0
    rows = sorted(_package_cards(project / "dist" / "fixture.apkg"), key=lambda row: row[3])
    assert len({deck for deck, *_ in rows}) == 4  # subdecks by default with the topic order
    cards = _cards(ORDER)
    topics = [cards[note].meta.topic for _, note, ordinal, _ in rows if ordinal == 0]
    assert topics == sorted(topics, key=["basics", "functions", "classes", "tools"].index)


@pytest.mark.parametrize("bad", ['"random"', "3", '"Value"'])
def test_an_unknown_order_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    project = _configured(tmp_path, f"order = {bad}")
    monkeypatch.chdir(project)
    result = run_cli("check")
    assert result.exit_code == 1
    assert "pyproject.toml:6: error: order of deck 'Fixture' must be \"value\"" in result.stderr
    assert "Traceback" not in result.output


def test_adding_a_card_changes_no_other_note(tmp_path: Path) -> None:
    content = tmp_path / "content"
    import shutil

    shutil.copytree(ORDER, content)
    lock = tmp_path / "build_deck.lock"
    build_folder(content, tmp_path / "v1", "--lock", lock)
    before = json.loads(lock.read_text())["notes"]
    rows_before = {(note, ordinal) for _, note, ordinal, _ in _package_cards(tmp_path / "v1" / "content.apkg")}
    topic = content / "02-functions.md"
    topic.write_text(topic.read_text() + "\n## A new core card?\n<!-- id: functions-new, value: 5 -->\n\nYes.\n")
    build_folder(content, tmp_path / "v2", "--lock", lock)
    after = json.loads(lock.read_text())["notes"]
    assert set(after) - set(before) == {"content/functions-new"}
    assert {key: after[key] for key in before} == before  # positions are not part of any note
    rows = _package_cards(tmp_path / "v2" / "content.apkg")
    assert {(note, ordinal) for _, note, ordinal, _ in rows} - rows_before == {("functions-new", 0)}
    first_day = sorted(rows, key=lambda row: row[3])[:20]
    assert ("functions-new", 0) in {(note, ordinal) for _, note, ordinal, _ in first_day}


# The ordering itself, on made-up cards


def _card(topic: str, number: int, value: int = 3, difficulty: str | None = "beginner", retired: bool = False) -> Card:
    meta = CardMeta(
        location=SourceLocation(Path(f"{topic}.md"), number + 1), id=f"{topic}-{number}", id_is_derived=False, topic=topic,
        difficulty=difficulty, tags=(), question_text="", retired=retired, value=value,
    )
    return Card(meta, question_html="", context_html="", answer_html="")


def test_a_topic_alone_at_the_top_gives_way_after_a_days_cards() -> None:
    cards = [_card("big", n, value=5) for n in range(50)] + [_card("small", n, value=2) for n in range(2)]
    order = value_order(cards, {"big": 0, "small": 1})
    topics = [card.meta.topic for card in order]
    assert MAX_RUN == 20
    # the last ten have nothing else left to break them
    assert topics == ["big"] * 20 + ["small"] + ["big"] * 20 + ["small"] + ["big"] * 10


def test_retired_cards_come_last_and_a_card_without_difficulty_last_in_its_band() -> None:
    cards = [_card("a", 0, value=5, retired=True), _card("a", 1, value=1), _card("a", 2, value=3, difficulty=None),
             _card("a", 3, value=3, difficulty="expert")]
    assert [card.meta.id for card in value_order(cards, {"a": 0})] == ["a-3", "a-2", "a-1", "a-0"]


topics = st.sampled_from(["t0", "t1", "t2", "t3"])
cards_strategy = st.lists(
    st.tuples(topics, st.integers(1, 5), st.sampled_from([*DIFFICULTIES, None])), min_size=1, max_size=120
)


@given(cards_strategy)
def test_value_order_properties(drawn: list[tuple[str, int, str | None]]) -> None:
    cards = [_card(topic, n, value, difficulty) for n, (topic, value, difficulty) in enumerate(drawn)]
    rank = {"t0": 0, "t1": 1, "t2": 2, "t3": 3}
    order = value_order(cards, rank)
    assert sorted(card.meta.id for card in order) == sorted(card.meta.id for card in cards)
    assert value_order(list(cards), rank) == order  # deterministic
    for topic in rank:  # each topic in its own order: value, then beginner to expert, then source order
        mine = [card for card in order if card.meta.topic == topic]
        assert mine == sorted(mine, key=lambda card: (-card.meta.value, difficulty_rank(card), card.meta.location.line))
    run = 0
    for index, card in enumerate(order):
        run = run + 1 if index and order[index - 1].meta.topic == card.meta.topic else 1
        # a card of higher value comes later only when a run of one topic had to be broken
        if any(other.meta.value > card.meta.value for other in order[index + 1:]):
            window = {c.meta.topic for c in order[index - MAX_RUN:index]} if index >= MAX_RUN else set()
            assert len(window) == 1 and card.meta.topic not in window
        if run > MAX_RUN:  # a longer run only when no other topic was left
            assert len({c.meta.topic for c in order[index - run + 1 + MAX_RUN:]}) == 1


@given(st.lists(st.tuples(st.sampled_from("ab"), st.integers(1, 4)), min_size=1, max_size=150))
def test_card_positions_keep_siblings_a_gap_apart(notes: list[tuple[str, int]]) -> None:
    positions = card_positions(notes)
    flat = sorted(p for note in positions for p in note)
    assert flat == list(range(sum(count for _, count in notes)))
    assert [len(p) for p in positions] == [count for _, count in notes]
    for deck in "ab":
        in_deck = sorted(p for (d, _), note in zip(notes, positions, strict=True) for p in note if d == deck)
        place = {position: index for index, position in enumerate(in_deck)}
        firsts = [place[note[0]] for (d, _), note in zip(notes, positions, strict=True) if d == deck]
        for (d, _), note in zip(notes, positions, strict=True):
            if d != deck:
                continue
            places = [place[p] for p in note]
            assert places == sorted(places)
            for earlier, later in zip(places, places[1:], strict=False):
                # a day's cards or more apart, unless every other note of the deck had come already
                assert later - earlier >= SIBLING_GAP or later > max(firsts)
