"""The lint rules' registry: names, default thresholds, and how a configured `LintSettings` reads.

Kept apart from the rules themselves (lint.py) so that the configuration and the card options can
check a rule's name and value without depending on the quality linter."""

from __future__ import annotations

from dataclasses import dataclass

from .records import LintSettings


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    default: float | None  # the threshold; None for a rule that is only on or off
    unit: str  # what the threshold counts, for error messages
    on_by_default: bool = True  # False: only where the configuration switches it on (`name = true`)


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule("long-answer", 60, "words"),
        Rule("list-recall", 4, "items"),
        Rule("two-questions", None, ""),
        Rule("yes-no", None, ""),
        Rule("near-duplicate", 0.5, "similarity"),
        Rule("wide-code", 42, "columns"),
        Rule("wide-answer-code", 60, "columns"),
        Rule("long-code", 12, "lines"),
        Rule("choice-position", 1.5, "times chance"),
        Rule("choice-length", 1.5, "times chance"),
        Rule("answer-in-question", None, ""),
        Rule("no-reference", None, "", on_by_default=False),
    )
}

# The rules `check` reports as warnings even without --lint: they concern what the learner sees
# (code cut off on a phone) or the deck as a whole (a quiz that can be answered by position).
CHECK_RULES = ("wide-code", "choice-position", "choice-length")

def validate_setting(name: str, value: object) -> str | None:
    """Why a `[tool.build_deck.lint]` value is wrong, or None when it is right."""
    rule = RULES[name]
    if isinstance(value, bool):
        return None
    if rule.default is None:
        return f"lint rule '{name}' is switched with true or false"
    if not isinstance(value, (int, float)) or value <= 0:
        default = format_number(rule.default)
        return f"lint rule '{name}' takes a positive number ({rule.unit}, default {default}) or false"
    if name == "near-duplicate" and value > 1:
        return "lint rule 'near-duplicate' takes a similarity between 0 and 1 (default 0.5) or false"
    return None


def format_number(value: float) -> str:
    return f"{value:g}"


def _configured(settings: LintSettings | None, rule: str) -> bool | float:
    value = dict(settings.values).get(rule) if settings is not None else None
    return RULES[rule].on_by_default if value is None else value


def rule_on(settings: LintSettings | None, rule: str) -> bool:
    """Whether the rule runs: switched on by the configuration, or on by default and not switched off."""
    return _configured(settings, rule) is not False


def rule_threshold(settings: LintSettings | None, rule: str) -> float:
    """The rule's threshold: the configured number, or its default."""
    value = _configured(settings, rule)
    default = RULES[rule].default
    threshold = default if isinstance(value, bool) else float(value)
    assert threshold is not None, rule
    return threshold
