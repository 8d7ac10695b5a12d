"""Checks across all cards of a content folder (after each file has been parsed and rendered)."""

from __future__ import annotations

import dataclasses

from .errors import Diagnostics, SourceLocation
from .ids import distinct_derived_ids
from .lock import ModificationLock
from .records import BuildConfig, Card


def with_distinct_ids(cards: list[Card], diagnostics: Diagnostics) -> list[Card]:
    """The cards, each one without an id given the id `add-ids` would write for it: a question that
    repeats gets a distinct one (with its topic), and a warning says so."""
    ids = distinct_derived_ids([(card.meta.id, card.meta.id_is_derived, card.meta.topic) for card in cards])
    holders: dict[str, list[Card]] = {}  # the first two cards of each id, as written or derived
    for card in cards:
        if len(same := holders.setdefault(card.meta.id, [])) < 2:
            same.append(card)
    result = []
    for card, card_id in zip(cards, ids, strict=True):
        if card_id != card.meta.id:
            same = holders[card.meta.id]
            other = next(c for c in same + [card] if c is not card) if len(same) > 1 else card
            also = "used" if not other.meta.id_is_derived else "derived"
            diagnostics.warning(
                card.meta.location,
                f"the id '{card.meta.id}' derived from this question is also {also} "
                f"by the card at {other.meta.location}: this card gets '{card_id}', the id `add-ids` writes for it",
                kind="repeated-question",
            )
            card = dataclasses.replace(card, meta=dataclasses.replace(card.meta, id=card_id))
        result.append(card)
    return result


def check_cards(cards: list[Card], diagnostics: Diagnostics) -> None:
    """Unique ids (an error), no question asked twice, an id and a difficulty for every card (warnings)."""
    by_id: dict[str, Card] = {}
    by_question: dict[tuple[str, str, str], Card] = {}
    by_guid: dict[str, Card] = {}
    for card in cards:
        if card.meta.guid and (holder := by_guid.setdefault(card.meta.guid, card)) is not card:
            diagnostics.error(
                card.meta.location,
                f"duplicate guid '{card.meta.guid}': already used by the card at {holder.meta.location}",
            )
        first = by_id.setdefault(card.meta.id, card)
        if first is not card:
            kind = "derived id" if card.meta.id_is_derived else "id"
            fix = "; `add-ids` gives repeated questions distinct ids" if card.meta.id_is_derived else ""
            diagnostics.error(
                card.meta.location,
                f"duplicate {kind} '{card.meta.id}': already used by the card at {first.meta.location}{fix}",
            )
        # a question may repeat in another topic: the card shows its topic's title above it
        first_question = by_question.setdefault((card.meta.topic, *card.duplicate_key), card)
        if first_question is not card and first_question.meta.id != card.meta.id:
            # two notes that differ only in their answers: a warning (an error under --strict)
            diagnostics.warning(
                card.meta.location,
                f"duplicate question: the card at {first_question.meta.location} asks the same; both are built",
                kind="repeated-question",
            )
        if card.meta.id_is_derived:
            diagnostics.warning(
                card.meta.location,
                f"card has no id; using '{card.meta.id}' derived from its question, so rewording it will lose "
                "its review history",
                kind="missing-id",
            )
        if card.meta.difficulty is None:
            diagnostics.warning(
                card.meta.location,
                "card has no difficulty: set `difficulty:` in the front matter or the card's options",
                kind="missing-difficulty",
            )


def check_vanished(
    config: BuildConfig, lock: ModificationLock, cards: list[Card], diagnostics: Diagnostics
) -> None:
    """An id the previous build packaged must be retired, not deleted: Anki never deletes notes."""
    if config.lock_path is None:  # no lock, so nothing was built before
        return
    present = {card.meta.id for card in cards}
    previous = sorted(lock.previous_keys())
    for spec in config.decks:
        prefix = f"{spec.namespace}/"
        for key in previous:
            if key.startswith(prefix) and key[len(prefix):] not in present:
                diagnostics.warning(
                    SourceLocation(config.lock_path, 0),
                    f"card '{key[len(prefix):]}' of deck '{spec.name}' was built before but is gone from the "
                    "sources; keep it with `retired: true` in its options so that users' copies are marked",
                )
