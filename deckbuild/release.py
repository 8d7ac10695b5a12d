"""Release notes: which cards were added, changed and retired since the previous release's lock."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .build import read_content
from .lock import ModificationLock
from .plan import plan_decks
from .records import BuildConfig, Content, DeckSpec


@dataclass(frozen=True, slots=True)
class DeckChanges:
    deck: str
    added: tuple[str, ...]
    changed: tuple[str, ...]
    retired: tuple[str, ...]


def release_notes(config: BuildConfig, previous_lock: Path, summary: bool = False) -> str:
    """What `release-notes` prints: the content read and checked as a build reads it, compared with
    the previous release's lock, and the notes of that comparison (see format_notes)."""
    changes = compare_with(config, read_content(config), previous_lock)
    return format_notes(config.version, changes, config.decks, summary=summary)


def compare_with(config: BuildConfig, content: Content, previous_lock: Path) -> list[DeckChanges]:
    lock = ModificationLock.read(previous_lock, now=0)
    before = lock.original
    questions = {card.meta.id: card for card in content.cards}
    changes = []
    planned = plan_decks(content, config, before, lock.now)
    for spec, plan in zip(config.decks, planned.plans, strict=True):
        added: list[str] = []
        changed: list[str] = []
        retired: list[str] = []
        for note in plan.notes:
            card_id = note.card_id
            key = f"{spec.namespace}/{card_id}"
            line = f"`{card_id}`: {inert_markdown(questions[card_id].meta.question_text)}"
            if key not in before:
                (retired if questions[card_id].meta.retired else added).append(line)
            elif before[key][0] != planned.lock_entries[key][0]:
                (retired if questions[card_id].meta.retired else changed).append(line)
        changes.append(DeckChanges(spec.name, tuple(added), tuple(changed), tuple(retired)))
    return changes


ORDER_PARAGRAPHS = {
    ("value", False): (
        "The deck arrives as **{deck}**, one deck. Study it: with Anki's default options it hands out 20 "
        "new cards a day in the deck's order. The cards asked most in interviews come first, and the "
        "topics take turns, so that every topic comes up in the first days and no topic fills more "
        "than about a day's new cards in a row; within a topic beginner cards come before advanced "
        "ones. The cards of one note (the gaps of one cloze) are never introduced on the same day."
    ),
    ("value", True): (
        "The deck arrives as **{deck}** with one subdeck per topic. Study the top deck: with Anki's "
        "default options it hands out 20 new cards a day, subdeck by subdeck in the order of their "
        "names; within a subdeck the cards asked most in interviews come first, beginner before "
        "advanced. The cards of one note (the gaps of one cloze) are never introduced on the same day."
    ),
    ("topic", False): (
        "The deck arrives as **{deck}**, one deck. Study it: with Anki's default options it hands out 20 "
        "new cards a day, topic after topic in the order the topics build on each other, and from "
        "beginner to expert within a topic."
    ),
    ("topic", True): (
        "The deck arrives as **{deck}** with one subdeck per topic, numbered in the order the topics "
        "build on each other. Study the top deck: with Anki's default options it hands out 20 new "
        "cards a day, starting with the beginner cards of the first topic and moving from beginner to "
        "expert within a topic before the next one."
    ),
}
_PLANS = re.compile(r"<!-- study plans for (\S+):.*?<!-- end of study plans -->\n\n", re.DOTALL)
def inert_markdown(text: str) -> str:
    """Card text for a Markdown page (a release body) that shows it as it is: one line, in a code
    span long enough to hold any backticks of the text. No heading, link, image, HTML or @mention
    can start inside it."""
    line = " ".join(re.sub("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]", " ", text).split())
    fence = "`" * (max((len(run) for run in re.findall("`+", line)), default=0) + 1)
    padding = " " if line.startswith("`") or line.endswith("`") or not line.strip() else ""
    return f"{fence}{padding}{line}{padding}{fence}"


def learner_section(spec: DeckSpec) -> str:
    """How to download, import, study and update a deck, in a learner's words: the README holds the
    section for this repository's deck, and every release's notes repeat it. The study plans were
    measured on one deck (scripts/simulate_study.py) and are left out of any other deck's section."""
    template = resources.files("deckbuild").joinpath("resources", "learners.md").read_text(encoding="utf-8")
    template = _PLANS.sub(lambda match: match.group(0) if match.group(1) == spec.file_name else "", template)
    paragraph = textwrap.fill(ORDER_PARAGRAPHS[spec.order, spec.subdecks], width=100, break_on_hyphens=False)
    template = template.replace("{order}", paragraph)
    for name, value in (("{deck}", spec.name), ("{file}", spec.file_name), ("{namespace}", spec.namespace)):
        template = template.replace(name, value)
    return template


def format_notes(
    version: str, changes: list[DeckChanges], decks: tuple[DeckSpec, ...] = (), summary: bool = False
) -> str:
    """The notes, then the learners' section of each deck; with `summary`, only the counts (for a
    page that cannot hold every card)."""
    lines = [f"# Release {version}", ""]
    for deck in changes:
        lines += [f"## {deck.deck}", ""]
        for title, items in (("Added", deck.added), ("Changed", deck.changed), ("Retired", deck.retired)):
            if summary:
                lines.append(f"- {title}: {len(items)} card(s)")
                continue
            lines.append(f"### {title} ({len(items)})")
            lines.append("")
            lines += [f"- {item}" for item in items] or ["- none"]
            lines.append("")
        if summary:
            lines.append("")
    for spec in decks:
        lines += [learner_section(spec)]
    return "\n".join(lines)
