"""Card ids as the build derives them: a slug of the question, made distinct across the content.
Pure functions on text, below every stage: parse derives ids with them, the cross-card checks and
`add-ids` (addids.py) make repeated ones distinct the same way."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence


def slugify(text: str, max_length: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0]
    if not slug:
        slug = "card-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return slug


def distinct_derived_ids(cards: Sequence[tuple[str, bool, str]]) -> list[str]:
    """The id of each card, given as (id, id_is_derived, topic) in reading order, such that no two
    cards share one: a derived id that repeats (the "Usage" of two files) gets its topic as a
    prefix, and a number if that is taken too. Written ids, and a derived id no other card derives
    or has, stay as they are. The build and `add-ids` both use it, so that a build without ids
    already gives every card the id that `add-ids` will write."""
    taken = {card_id for card_id, derived, _ in cards if not derived}
    derived_count = Counter(card_id for card_id, derived, _ in cards if derived)
    result: list[str] = []
    for card_id, derived, topic in cards:
        if derived:
            candidate = card_id
            if candidate in taken or derived_count[candidate] > 1:
                candidate = slugify(f"{topic} {card_id}", max_length=80)
            number, base = 2, candidate
            while candidate in taken:
                candidate, number = f"{base}-{number}", number + 1
            taken.add(candidate)
            card_id = candidate
        result.append(card_id)
    return result
