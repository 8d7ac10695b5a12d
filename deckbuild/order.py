"""The order of new cards: which note a learner meets first, and the position of each card.

Anki hands out new cards by position (a card's `due`): with its default options it gathers them deck
by deck (subdecks in the order of their names), and within a deck from the lowest position up, 20 a
day. So the positions this module gives are the learning order, as long as the cards share one deck.

Two orders of notes:

- `value`: by interview value, 5 (core) first. Within one value the topics take turns, each in
  proportion to its number of cards of that value, so that every topic comes up early and a large
  topic is spread over the whole band instead of bunched; within a topic beginner comes before expert
  (then source order). No topic holds more than MAX_RUN new cards in a row while another topic still
  has cards, even if that means taking a card of lower value. Retired cards come last.
- `topic`: topic after topic in the order of the files, beginner to expert within a topic.

Then each card gets its position. A note with several cards (a cloze with c1, c2, ...) would have
them all on the same day: Anki's default options do not bury new siblings. So the second card of a
note comes at least SIBLING_GAP positions (cards of the same deck) after the first, the third as much
after the second, and so on; other notes fill the gap. At up to SIBLING_GAP new cards a day no two
cards of one note are introduced on the same day, with no setting changed by the learner (only at the
very end of a deck, when nothing else is left to put between them, can siblings come closer).

Nothing here is random: the same cards give the same positions. Positions are not recorded in the lock
and do not change a note's content or modification time: adding a card moves the positions of the
cards after it, which only matters to learners who import the deck afresh.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Hashable, Sequence

from .records import DIFFICULTIES, Card

SIBLING_GAP = 30  # a day's new cards at Anki's default (20), with room for a learner who takes up to 30
MAX_RUN = 20  # at most a day's new cards (Anki's default) of one topic in a row
RETIRED_VALUE = 0  # retired cards sort below every value

_DIFFICULTY_RANK = {name: rank for rank, name in enumerate(DIFFICULTIES)}


def difficulty_rank(card: Card) -> int:
    """Beginner 0 ... expert 3; a card without a difficulty after all of them."""
    return _DIFFICULTY_RANK.get(card.meta.difficulty or "", len(DIFFICULTIES))


def effective_value(card: Card) -> int:
    return RETIRED_VALUE if card.meta.retired else card.meta.value


def topic_order(cards: Sequence[Card], topic_rank: dict[str, int]) -> list[Card]:
    """Topic after topic (in `topic_rank` order), from beginner to expert within a topic, source order
    otherwise (the sort is stable)."""
    return sorted(cards, key=lambda card: (topic_rank[card.meta.topic], difficulty_rank(card)))


def value_order(cards: Sequence[Card], topic_rank: dict[str, int], max_run: int = MAX_RUN) -> list[Card]:
    """Highest interview value first, topics interleaved within a value, beginner first within a topic.

    Each step takes the next card of the topic whose head has the highest value and, among those, the
    topic furthest behind through its cards of that value (then the lower topic rank, then the topic
    met first). That choice depends on each topic's own state only, so the topics wait in a heap and
    only the topic just taken from is ranked again: O(n log topics)."""
    queues: dict[str, list[Card]] = defaultdict(list)
    for card in cards:
        queues[card.meta.topic].append(card)
    band_size: dict[tuple[str, int], int] = defaultdict(int)
    for topic, queue in queues.items():
        # stable: source order within a value and difficulty
        queue.sort(key=lambda card: (-effective_value(card), difficulty_rank(card)))
        queue.reverse()  # popped from the end
        for card in queue:
            band_size[topic, effective_value(card)] += 1
    taken: dict[tuple[str, int], int] = defaultdict(int)
    met = {topic: number for number, topic in enumerate(queues)}

    def ranked(topic: str) -> tuple[int, float, int, int, str]:
        # How far the topic is through its cards of its head's value: the one furthest behind goes
        # next. A float quotient orders these exactly like the fractions: division is correctly
        # rounded, so equal fractions give equal floats, and two different ones with denominators
        # below 2**26 differ by far more than a float's rounding.
        value = effective_value(queues[topic][-1])
        return -value, taken[topic, value] / band_size[topic, value], topic_rank[topic], met[topic], topic

    waiting = [ranked(topic) for topic in queues]
    heapq.heapify(waiting)
    order: list[Card] = []
    run_topic, run_length = None, 0
    while waiting:
        chosen = heapq.heappop(waiting)
        if run_length >= max_run and chosen[-1] == run_topic and waiting:
            # another topic's card breaks the run, even one of lower value
            chosen = heapq.heapreplace(waiting, chosen)
        topic = chosen[-1]
        queue = queues[topic]
        card = queue.pop()
        taken[topic, -chosen[0]] += 1
        if queue:
            heapq.heappush(waiting, ranked(topic))
        order.append(card)
        run_topic, run_length = topic, (run_length + 1 if topic == run_topic else 1)
    return order


def note_order(cards: Sequence[Card], topic_rank: dict[str, int], order: str) -> list[Card]:
    if order == "topic":
        return topic_order(cards, topic_rank)
    return value_order(cards, topic_rank)


def card_positions(
    notes: Sequence[tuple[Hashable, int]], gap: int = SIBLING_GAP
) -> list[tuple[int, ...]]:
    """Each note's card positions, given the notes in learning order as (deck, number of cards).

    A note's first card takes the next free place in its deck; its later cards wait until `gap` cards
    of that deck have come since the card before. Positions count from 0 over the whole package, deck
    after deck in the order each deck first appears (Anki compares positions within a deck only)."""
    by_deck: dict[Hashable, list[int]] = {}
    for index, (deck, _) in enumerate(notes):
        by_deck.setdefault(deck, []).append(index)
    positions: list[list[int]] = [[] for _ in notes]
    next_position = 0
    for indexes in by_deck.values():
        waiting: list[tuple[int, int, int]] = []  # (first allowed place in the deck, note index, card number)
        place = 0  # cards of this deck placed so far
        pending = iter(indexes)
        following = next(pending, None)
        while following is not None or waiting:
            if waiting and (following is None or waiting[0][0] <= place):
                _, index, number = heapq.heappop(waiting)
            else:
                assert following is not None  # the loop runs while a note is waiting or one follows
                index, number = following, 0
                following = next(pending, None)
            positions[index].append(next_position)
            if number + 1 < notes[index][1]:
                heapq.heappush(waiting, (place + gap, index, number + 1))
            place += 1
            next_position += 1
    return [tuple(p) for p in positions]
