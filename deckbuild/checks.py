"""Checks across all cards of a content folder (after each file has been parsed and rendered)."""

from __future__ import annotations

from .errors import Diagnostics
from .records import Card


def check_cards(cards: list[Card], diagnostics: Diagnostics) -> None:
    """Unique ids, no question asked twice, an id and a difficulty for every card."""
    by_id: dict[str, Card] = {}
    by_question: dict[tuple[str, str, str], Card] = {}
    by_guid: dict[str, Card] = {}
    for card in cards:
        if card.guid and (holder := by_guid.setdefault(card.guid, card)) is not card:
            diagnostics.error(card.location, f"duplicate guid '{card.guid}': already used by the card at {holder.location}")
        first = by_id.setdefault(card.id, card)
        if first is not card:
            kind = "derived id" if card.id_is_derived else "id"
            fix = "; `add-ids` gives repeated questions distinct ids" if card.id_is_derived else ""
            diagnostics.error(
                card.location, f"duplicate {kind} '{card.id}': already used by the card at {first.location}{fix}"
            )
        # a question may repeat in another topic: the card shows its topic's title above it
        first_question = by_question.setdefault((card.topic, *card.duplicate_key), card)
        if first_question is not card and first_question.id != card.id:
            diagnostics.error(card.location, f"duplicate question: the card at {first_question.location} asks the same")
        if card.id_is_derived:
            diagnostics.warning(
                card.location,
                f"card has no id; using '{card.id}' derived from its question, so rewording it will lose "
                "its review history",
                kind="missing-id",
            )
        if card.difficulty is None:
            diagnostics.warning(
                card.location, "card has no difficulty: set `difficulty:` in the front matter or the card's options",
                kind="missing-difficulty",
            )
