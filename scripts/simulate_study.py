"""Study a built deck day by day in a real Anki (the `anki` package) and measure what a learner meets.

The deck is imported into a fresh collection with Anki's default import and deck options, the top deck
is selected, and each simulated day every card the scheduler hands out is answered: new and learning
cards Good, review cards Good with a given probability and Again otherwise (the same pseudo-random
draws on every run). Then the collection's creation time is moved back one day, which is how Anki
itself counts days, and the next day starts.

    python scripts/simulate_study.py                 # build this repository's deck, print the plans
    python scripts/simulate_study.py --write         # ... and write the figures into the learner section
    python scripts/simulate_study.py --deck my.apkg  # a deck built elsewhere

`--write` replaces the block between the study-plan markers in deckbuild/resources/learners.md and in
README.md (which repeats the section), so the figures are re-measured after the content changes.
Tests import `study` to check the order of new cards on small decks.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DAY = 86_400
ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- study plans: measured by scripts/simulate_study.py; do not edit by hand -->"
END = "<!-- end of study plans -->"


@dataclass(frozen=True)
class NewCard:
    """A card the learner met for the first time."""

    day: int  # 1 is the first day
    note: str  # the note's Id field (the card's id in the sources)
    ord: int  # 0 for a basic card, cloze number - 1 for a cloze card
    position: int  # its `due` when it was new
    tags: tuple[str, ...]


@dataclass
class Day:
    number: int
    new: list[NewCard] = field(default_factory=list)
    reviews: int = 0  # answers to review cards (due from an earlier day)
    answers: int = 0  # every answer: new, learning steps, reviews and relearning

    @property
    def learning(self) -> int:
        return self.answers - self.reviews - len(self.new)


def study(
    package: Path,
    days: int,
    folder: Path,
    pass_rate: float = 1.0,
    new_per_day: int | None = None,
    only_tag: str | None = None,
    seed: int = 2024,
) -> list[Day]:
    """Import `package` into a new collection in `folder` and study it for `days` days.

    `new_per_day` changes the default options' new-card limit (a learner's setting; None keeps
    Anki's default); `only_tag` suspends every card without that tag first (studying a subset)."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest  # first: anki's own import order
    from anki.cards import Card
    from anki.scheduler.v3 import CardAnswer, QueuedCards

    folder.mkdir(parents=True, exist_ok=True)
    path = str(folder / "collection.anki2")
    col = Collection(path)
    draws = random.Random(seed)
    history: list[Day] = []
    try:
        request = ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions())
        col.import_anki_package(request)
        some_card = col.get_card(col.find_cards("")[0])
        top = col.decks.id_for_name(col.decks.name(some_card.did).split("::")[0])
        if new_per_day is not None:
            options = col.decks.config_dict_for_deck_id(top)
            options["new"]["perDay"] = new_per_day
            col.decks.update_config(options)
        if only_tag is not None:
            col.sched.suspend_cards(col.find_cards(f'-"tag:{only_tag}"'))
        for number in range(1, days + 1):
            col.decks.select(top)
            today = Day(number)
            while True:
                queued = col.sched.get_queued_cards(fetch_limit=1)
                if not queued.cards:
                    break
                entry = queued.cards[0]
                card = Card(col, backend_card=entry.card)
                if entry.queue == QueuedCards.NEW:
                    note = card.note()
                    today.new.append(NewCard(number, note["Id"], card.ord, card.due, tuple(note.tags)))
                    rating = CardAnswer.GOOD
                elif entry.queue == QueuedCards.REVIEW:
                    today.reviews += 1
                    rating = CardAnswer.GOOD if draws.random() < pass_rate else CardAnswer.AGAIN
                else:  # learning and relearning steps
                    rating = CardAnswer.GOOD
                card.start_timer()
                col.sched.answer_card(col.sched.build_answer(card=card, states=entry.states, rating=rating))
                today.answers += 1
            history.append(today)
            # the next day: Anki counts days from the collection's creation time, read when it opens
            col.crt = col.crt - DAY
            col.close()
            col = Collection(path)
    finally:
        col.close()
    return history


@dataclass(frozen=True)
class Plan:
    weeks: int
    what: str  # in the learner's words
    new_per_day: int | None  # None: Anki's default (20)
    only_core: bool


PLANS = (
    Plan(2, "only the core (`{namespace}::core`, see below)", 22, True),
    Plan(4, "the whole deck, in its order", None, False),
    Plan(8, "the whole deck, in its order", None, False),
)


def _average(values: list[int]) -> str:
    return f"{sum(values) / len(values):.0f}" if values else "0"


def plan_table(plan: Plan, history: list[Day], namespace: str, topics: int, core: int, total: int) -> list[str]:
    met = [card for day in history for card in day.new]
    topic_first_day: dict[str, int] = {}
    for card in met:
        for tag in card.tags:
            if tag.startswith(f"{namespace}::topic::"):
                topic_first_day.setdefault(tag, card.day)
    met_core = sum(1 for card in met if f"{namespace}::core" in card.tags)
    every_topic = max(topic_first_day.values()) if len(topic_first_day) == topics else None
    lines = [
        f"**{plan.weeks} weeks**: study {plan.what.format(namespace=namespace)}, "
        f"{plan.new_per_day or 20} new cards a day"
        + (" (Anki's default)." if plan.new_per_day is None else " (set it in the deck's options).")
        + f" You meet {len(met)} of the {total} cards, {met_core} of the {core} core cards"
        + (f", and every topic by day {every_topic}." if every_topic else f", and {len(topic_first_day)} of the {topics} topics."),
        "",
        "| week | new cards a day | reviews a day | answers a day, learning steps included |",
        "| --- | ---: | ---: | ---: |",
    ]
    for week in range(plan.weeks):
        days = history[week * 7:(week + 1) * 7]
        lines.append(
            f"| {week + 1} | {_average([len(d.new) for d in days])} | {_average([d.reviews for d in days])} "
            f"| {_average([d.answers for d in days])} |"
        )
    lines.append("")
    return lines


def _build_flagship(scratch: Path) -> tuple[Path, str]:
    """This repository's deck, built into `scratch` with a copy of the lock (which stays as it is)."""
    sys.path.insert(0, str(ROOT))
    from deckbuild.config import load_config

    config = load_config(pyproject=ROOT / "pyproject.toml")
    spec = config.decks[0]
    lock = scratch / "build_deck.lock"
    if config.lock_path is not None and config.lock_path.is_file():
        shutil.copy(config.lock_path, lock)
    subprocess.run(
        [sys.executable, str(ROOT / "build_deck.py"), "build", "--out", str(scratch), "--lock", str(lock), "--quiet"],
        cwd=ROOT, check=True,
    )
    return scratch / spec.file_name, spec.namespace


def _count(package: Path, scratch: Path, namespace: str) -> tuple[int, int, int]:
    """Topics, core cards and cards of a package, read from a collection it was imported into."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    col = Collection(str(scratch / "count.anki2"))
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions()))
        topics = {tag for tag in col.tags.all() if tag.startswith(f"{namespace}::topic::")}
        return len(topics), len(col.find_cards(f'"tag:{namespace}::core"')), len(col.find_cards(""))
    finally:
        col.close()


def write_block(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"{path}: no study-plan markers ({BEGIN} ... {END})")
    path.write_text(pattern.sub(lambda _: block, text, count=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deck", type=Path, help="a built .apkg (default: build this repository's deck)")
    parser.add_argument("--namespace", default="pyprep", help="the deck's tag namespace (with --deck)")
    parser.add_argument("--pass-rate", type=float, default=0.9, help="share of reviews answered Good (default 0.9)")
    parser.add_argument("--write", action="store_true", help="write the figures into learners.md and README.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="simulate-study-") as name:
        scratch = Path(name)
        if args.deck:
            package, namespace = args.deck, args.namespace
        else:
            package, namespace = _build_flagship(scratch / "dist")
        topics, core, total = _count(package, scratch, namespace)
        lines = [BEGIN, ""]
        for number, plan in enumerate(PLANS):
            history = study(
                package, plan.weeks * 7, scratch / f"plan-{number}", args.pass_rate, plan.new_per_day,
                f"{namespace}::core" if plan.only_core else None,
            )
            lines += plan_table(plan, history, namespace, topics, core, total)
        lines.append(
            f"Measured in Anki's scheduler with its default options, answering {args.pass_rate:.0%} of reviews "
            "Good and the rest Again (`scripts/simulate_study.py`)."
        )
        lines += ["", END]
    block = "\n".join(lines)
    print(block)
    if args.write:
        for path in (ROOT / "deckbuild" / "resources" / "learners.md", ROOT / "README.md"):
            write_block(path, block.replace(f"{namespace}::", "{namespace}::") if path.name == "learners.md" else block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
