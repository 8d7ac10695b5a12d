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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

DAY = 86_400
ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- study plans for {file}: measured by scripts/simulate_study.py; do not edit by hand -->"
END = "<!-- end of study plans -->"
README_SECTION = re.compile(r"(<!-- learner section: [^\n]*-->\n).*?(<!-- end of the learner section -->)", re.DOTALL)


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
    # anki.collection first: importing anki.cards first fails on anki's own import cycle
    # isort: off
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
    from anki.cards import Card
    # isort: on
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
    only_core: bool  # True: the core only, as many new cards a day as it takes to see it all in time


PLANS = (
    Plan(2, "only the core (`{namespace}::core`, see *The core* above)", True),
    Plan(4, "the whole deck, in its order", False),
    Plan(8, "the whole deck, in its order", False),
)
DEFAULT_NEW = 20  # Anki's default new cards a day


def new_per_day(plan: Plan, core: int) -> int | None:
    """None (Anki's default) for the whole deck; for the core, enough to meet it all in the plan."""
    if not plan.only_core:
        return None
    return max(DEFAULT_NEW, -(-core // (plan.weeks * 7)))


def _average(values: list[int]) -> str:
    return f"{sum(values) / len(values):.0f}" if values else "0"


def plan_table(
    plan: Plan, per_day: int | None, history: list[Day], namespace: str, topics: int, core: int, total: int
) -> list[str]:
    met = [card for day in history for card in day.new]
    topic_first_day: dict[str, int] = {}
    for card in met:
        for tag in card.tags:
            if tag.startswith(f"{namespace}::topic::"):
                topic_first_day.setdefault(tag, card.day)
    met_core = sum(1 for card in met if f"{namespace}::core" in card.tags)
    per_note_day = Counter((card.note, card.day) for card in met)
    together = len({note for (note, _), count in per_note_day.items() if count > 1})
    every_topic = max(topic_first_day.values()) if len(topic_first_day) == topics else None
    lines = [
        f"**{plan.weeks} weeks**: study {plan.what.format(namespace=namespace)}, "
        f"{per_day or DEFAULT_NEW} new cards a day"
        + (" (Anki's default)." if per_day is None else " (Deck options > Daily limits > New cards/day).")
        + f" You meet {len(met)} of the {total} cards, {met_core} of the {core} core cards"
        + (f", and every topic by day {every_topic}." if every_topic
           else f", and {len(topic_first_day)} of the {topics} topics.")
        + f" The busiest day has {max(day.reviews for day in history)} reviews"
        + (", and no two cards of one note come on the same day." if not together
           else f"; {together} note(s) have two cards on one day."),
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


def _flagship():
    sys.path.insert(0, str(ROOT))
    from deckbuild.config import load_config

    return load_config(pyproject=ROOT / "pyproject.toml")


def _build_flagship(scratch: Path) -> Path:
    """This repository's deck, built into `scratch` with a copy of the lock (which stays as it is)."""
    config = _flagship()
    lock = scratch / "build_deck.lock"
    scratch.mkdir(parents=True, exist_ok=True)
    if config.lock_path is not None and config.lock_path.is_file():
        shutil.copy(config.lock_path, lock)
    subprocess.run(
        [sys.executable, str(ROOT / "build_deck.py"), "build", "--out", str(scratch), "--lock", str(lock), "--quiet"],
        cwd=ROOT, check=True,
    )
    return scratch / config.decks[0].file_name


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


def measure(package: Path, namespace: str, file_name: str, pass_rate: float, scratch: Path) -> str:
    """The study-plan block: each plan studied in Anki, its figures as Markdown between the markers."""
    topics, core, total = _count(package, scratch, namespace)
    lines = [BEGIN.format(file=file_name), ""]
    for number, plan in enumerate(PLANS):
        per_day = new_per_day(plan, core)
        history = study(
            package, plan.weeks * 7, scratch / f"plan-{number}", pass_rate, per_day,
            f"{namespace}::core" if plan.only_core else None,
        )
        lines += plan_table(plan, per_day, history, namespace, topics, core, total)
    lines += [
        f"Measured in Anki's scheduler with its default options (only the new-card limit changed where "
        f"a plan says so), answering {pass_rate:.0%} of reviews Good and the rest Again.",
        "",
        END,
    ]
    return "\n".join(lines)


def write_plans(block: str, namespace: str) -> None:
    """The block into the learner section's template, then the README's copy of the section."""
    template = ROOT / "deckbuild" / "resources" / "learners.md"
    text = template.read_text(encoding="utf-8")
    begin = BEGIN.split("{file}")[0]
    start, end = text.find(begin), text.find(END)
    if start < 0 or end < 0:
        raise SystemExit(f"{template}: no study-plan markers ({begin}... {END})")
    text = text[:start] + block.replace(f"{namespace}::", "{namespace}::") + text[end + len(END):]
    template.write_text(text, encoding="utf-8")

    from deckbuild.release import learner_section

    readme = ROOT / "README.md"
    section = learner_section(_flagship().decks[0])
    heading = section.index("## For learners")
    updated, count = README_SECTION.subn(
        lambda match: match.group(1) + section[heading:] + match.group(2), readme.read_text(encoding="utf-8")
    )
    if count != 1:
        raise SystemExit(f"{readme}: no learner-section markers")
    readme.write_text(updated, encoding="utf-8")


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
            package, namespace = _build_flagship(scratch / "dist"), _flagship().decks[0].namespace
        block = measure(package, namespace, package.name, args.pass_rate, scratch)
    print(block)
    if args.write:
        write_plans(block, namespace)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
