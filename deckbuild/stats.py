"""`stats`: cards per topic and difficulty."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .build import read_content
from .cache import RenderCache
from .records import DIFFICULTIES, BuildConfig, Card

COLUMNS = (*DIFFICULTIES, "none")


def count_cards(cards: tuple[Card, ...] | list[Card]) -> dict[str, Any]:
    """{"topics": {topic: {difficulty: n, ..., "total": n}}, "difficulties": {...}, "total": n}.

    Counts Anki cards: a cloze note with three clozes is three cards.
    """
    table: dict[str, Counter[str]] = {}
    for card in cards:
        row = table.setdefault(card.meta.topic, Counter())
        row[card.meta.difficulty or "none"] += len(card.meta.cloze_numbers) or 1
    topics = {
        topic: {**{level: counts[level] for level in COLUMNS}, "total": sum(counts.values())}
        for topic, counts in sorted(table.items())
    }
    by_level = {level: sum(row[level] for row in topics.values()) for level in COLUMNS}
    return {"topics": topics, "difficulties": by_level, "total": sum(by_level.values())}


def content_stats(config: BuildConfig, cache: RenderCache) -> dict[str, Any]:
    """Read the content (every card checked, as a build does) and count its cards (count_cards)."""
    return count_cards(read_content(config, cache=cache).cards)


def format_table(stats: dict[str, Any]) -> str:
    width = max([len("topic"), len("total"), *(len(t) for t in stats["topics"])])
    header = f"{'topic':<{width}}" + "".join(f" {c:>12}" for c in (*COLUMNS, "total"))
    lines = [header, "-" * len(header)]
    for topic, row in stats["topics"].items():
        lines.append(f"{topic:<{width}}" + "".join(f" {row[c]:>12}" for c in (*COLUMNS, "total")))
    lines.append("-" * len(header))
    totals = stats["difficulties"]
    lines.append(f"{'total':<{width}}" + "".join(f" {totals[c]:>12}" for c in COLUMNS) + f" {stats['total']:>12}")
    return "\n".join(lines)
