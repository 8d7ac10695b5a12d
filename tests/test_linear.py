"""Every input is linear in time and memory (security audit 2026-12-07: X1, X4, X21 and B9).

Each stage runs on inputs of growing size (n, then 4n) and the growth is checked, never an absolute
time: a linear stage takes about 4 times as long and as much memory on 4 times the input, a
quadratic one 16 times. The bound is 8 (time: the best of three runs, and one more try when the
machine was busy). Speed targets live in benchmarks/bench.py.
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from deckbuild.errors import Diagnostics, SourceLocation
from deckbuild.lint import lint_cards
from deckbuild.lock import ModificationLock
from deckbuild.parse import parse_source
from deckbuild.records import Card, CardMeta, SourceFile

pytestmark = pytest.mark.slow

GROWTH_LIMIT = 8.0  # for 4 times the input: linear is 4, quadratic 16


def _cost(stage: Callable[[Any], object], data: Any) -> tuple[float, int]:
    """Best time of three runs, and the peak memory the stage allocates."""
    times = []
    for _ in range(3):
        gc.collect()
        started = time.perf_counter()
        stage(data)
        times.append(time.perf_counter() - started)
    gc.collect()
    tracemalloc.start()
    try:
        stage(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return min(times), peak


def assert_linear(stage: Callable[[Any], object], make: Callable[[int], Any], n: int) -> None:
    small, large = make(n), make(4 * n)
    for _attempt in range(2):  # a busy machine can slow one run: measure once more before failing
        (t1, m1), (t4, m4) = _cost(stage, small), _cost(stage, large)
        if t4 / t1 < GROWTH_LIMIT and m4 / max(m1, 1) < GROWTH_LIMIT:
            return
    raise AssertionError(
        f"4x the input took {t4 / t1:.1f}x the time ({t1:.3f} s -> {t4:.3f} s) and "
        f"{m4 / max(m1, 1):.1f}x the memory ({m1} -> {m4} bytes): growth is not linear"
    )


# --- parse (X1, B9) --------------------------------------------------------------------------------


def _parse(text: str) -> None:
    diagnostics = Diagnostics()
    parse_source(SourceFile(Path("a.md"), text), diagnostics)


def _card_file(paragraph: str) -> str:
    return "## Q\n<!-- id: q -->\n\n" + paragraph + "\n"


PARAGRAPHS = {
    # repro inline-quadratic: many inline tokens in one paragraph (each asked its line number)
    "emphasis": lambda n: _card_file("w *a* " * n),
    "code spans with clozes": lambda n: _card_file("".join(
        f"w`a` {'{{c1::x}} ' if i % 50 == 0 else ''}" for i in range(n))),
    "html tags": lambda n: _card_file("w <b>a</b> " * n),
    "math": lambda n: _card_file("w $a$ " * n),
    "links to sounds": lambda n: _card_file("w [a](s.mp3) " * n),
    "line breaks": lambda n: _card_file("w *a*\n" * n),
}


@pytest.mark.parametrize("make", PARAGRAPHS.values(), ids=PARAGRAPHS.keys())
def test_parsing_a_long_paragraph_is_linear(make: Callable[[int], str]) -> None:
    assert_linear(_parse, make, 2_000)


# --- lint (X4) -------------------------------------------------------------------------------------


def _cards(words: list[list[str]]) -> list[Card]:
    return [
        Card(CardMeta(location=SourceLocation(Path("a.md"), number + 1), id=f"c{number}", id_is_derived=False, topic="t",
                      difficulty=None, tags=(), question_text=" ".join(chosen)),
             question_html=f"<p>{' '.join(chosen)}</p>", context_html="", answer_html="<p>yes</p>")
        for number, chosen in enumerate(words)
    ]


def _word(number: int) -> str:
    return "w" + "".join(chr(ord("a") + int(digit)) for digit in str(number))


def spread_evenly(n: int) -> list[Card]:
    """Repro lint-near-duplicate-memory: 10 words of a 200-word vocabulary each, every word on 5 %
    of the cards, so none is dropped as common by the share alone."""
    return _cards([[_word((card * 7 + k * 20 + card // 20) % 200) for k in range(10)] for card in range(n)])


def crowded_words(n: int) -> list[Card]:
    """Every word on as many cards as the vocabulary keeps (50: the worst case for the index), and
    two cards share few of them."""
    groups = n // 50
    return _cards([[_word(k * 10**6 + ((card % 50) * k + card // 50) % groups) for k in range(10)]
                   for card in range(n)])


def twins(n: int) -> list[Card]:
    """Pairs of identical cards: the findings themselves grow with the deck, linearly."""
    return _cards([[_word(card // 2 * 10 + k) for k in range(10)] for card in range(n)])


@pytest.mark.parametrize("make", [spread_evenly, crowded_words, twins])
def test_the_near_duplicate_lint_is_linear(make: Callable[[int], list[Card]]) -> None:
    assert_linear(lambda cards: lint_cards(cards, rules=("near-duplicate",)), make, 1_000)


def test_the_lint_still_finds_twins() -> None:
    report = lint_cards(twins(400), rules=("near-duplicate",))
    assert len(report.findings) == 200


# --- lock reading (X21, B11, B24) --------------------------------------------------------------------


def _lock_text(n: int) -> str:
    notes = {f"deck/card-{i}": {"hash": f"{i:032x}", "modified": 1_700_000_000 + i, "source": f"{i:032x}"}
             for i in range(n)}
    return json.dumps({"version": 2, "toolchain": {}, "notes": notes}, indent=1)


def test_reading_the_lock_is_linear(tmp_path: Path) -> None:
    def read(text: str) -> None:
        path = tmp_path / "build_deck.lock"
        path.write_text(text, encoding="utf-8")
        ModificationLock.read(path, now=0)

    assert_linear(read, _lock_text, 3_000)
