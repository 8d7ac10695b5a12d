"""Pygments' regex lexers, run with fewer regex attempts and exactly the same tokens.

A Pygments `RegexLexer` tries every rule of its current state, in order, at every position, until one
matches: about 28 failed `re.match` calls per token for Python code, which is most of a cold build's
time. Most rules can only match text that starts with certain characters (a comment starts with `#`,
a number with a digit, whitespace with a space). This module works out, from each rule's regular
expression, which characters it can start with, and keeps per state, for each ASCII character and
for all other characters together, the list of rules that could match there, in their original
order. The lexing loop is Pygments' own algorithm, run over that shorter list: a rule is skipped only
when it could not have matched, so the first rule that matches is the same one Pygments would pick,
and the tokens are identical.

The analysis is conservative: where it meets something it does not model before the first
consumed character (a back reference, a conditional, a construct newer than this code) or cannot
parse the pattern at all, the rule stays a candidate for every character. The tests compare our
tokens with Pygments' on the deck's code, on every Pygments regex lexer and on generated text
(tests/test_fastlex.py).

The analysis reads the parse trees of Python's private regex parser (`re._parser`), whose shape
may change in any release. It runs only on the Python versions it was checked against
(CHECKED_PYTHONS, pinned by tests/test_fastlex_switch.py); on any other version, or with the
environment variable BUILD_DECK_FASTLEX=0, lexers are left as Pygments made them, which gives the
same HTML more slowly. BUILD_DECK_FASTLEX=1 turns it on for an unchecked version, to run the tests
there before adding it.
"""

from __future__ import annotations

import array
import functools
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

from pygments.filter import apply_filters
from pygments.lexer import DelegatingLexer, Lexer, RegexLexer
from pygments.token import Error, Whitespace, _TokenType


def _private_module(name: str) -> Any:
    """A module private to the standard library (typeshed describes none of them), or None."""
    try:
        return importlib.import_module(name)
    except ImportError:  # pragma: no cover - older or other Pythons
        return None


# the regex parser is private to the standard library; without it nothing is accelerated
sre_constants = _private_module("re._constants")
sre_parser = _private_module("re._parser")

SWITCH = "BUILD_DECK_FASTLEX"  # "0": off; "1": on even on an unchecked Python; unset: on where checked
# The Python versions whose `re._parser` trees this analysis was written for and checked against.
CHECKED_PYTHONS = ((3, 11), (3, 12), (3, 13))

Rule = tuple[Callable[..., Any], Any, Any]  # (compiled pattern's match, action, new state)
CharTest = Callable[[str], bool]
ANY_CHAR: CharTest = lambda char: True  # noqa: E731


class _Unknown(Exception):
    """A regex construct the analysis does not model: the rule stays a candidate everywhere."""


_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d", "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s", "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w", "CATEGORY_NOT_WORD": r"\W",
}


def _class_item(op: Any, arg: Any) -> str:
    c = sre_constants
    if op is c.LITERAL:
        return re.escape(chr(arg))
    if op is c.RANGE:
        return f"{re.escape(chr(arg[0]))}-{re.escape(chr(arg[1]))}"
    if op is c.CATEGORY and str(arg) in _CATEGORIES:
        return _CATEGORIES[str(arg)]
    raise _Unknown(op)


def _one_char_test(op: Any, arg: Any, flags: int) -> CharTest:
    """Whether a character matches one single-character item, asked of the regex engine itself.

    The item is rebuilt as a one-character class and compiled with the pattern's flags, so case
    folding and Unicode categories behave exactly as they do in the rule.
    """
    c = sre_constants
    if op is c.LITERAL:
        body = "[" + _class_item(op, arg) + "]"
    elif op is c.NOT_LITERAL:
        body = "[^" + _class_item(c.LITERAL, arg) + "]"
    else:  # IN: a character class
        negate = bool(arg) and arg[0][0] is c.NEGATE
        items = arg[1:] if negate else arg
        body = "[" + ("^" if negate else "") + "".join(_class_item(o, a) for o, a in items) + "]"
    return re.compile(body, flags & (re.IGNORECASE | re.ASCII)).fullmatch  # type: ignore[return-value]


@functools.cache
def _ascii_with_wide_partners(last: int = 0xFFFF) -> frozenset[str]:
    """The ASCII characters that some non-ASCII character up to `last` matches when case is ignored
    (`k` and the Kelvin sign, for example), asked of the regex engine. Beyond the Basic Multilingual
    Plane no character folds to ASCII (a test checks the whole range), so the scan stops there."""
    order = "little" if sys.byteorder == "little" else "big"
    rest = array.array("I", range(128, last + 1)).tobytes().decode(f"utf-32-{order[0]}e", "surrogatepass")
    partners = {match.group() for match in re.finditer(r"[\x00-\x7f]", rest, re.IGNORECASE)}
    return frozenset(a for a in map(chr, range(128)) for w in partners if re.fullmatch(re.escape(a), w, re.IGNORECASE))


def _ascii_item_is_wide(low: int, high: int, flags: int) -> bool:
    """Whether a non-ASCII character can match a literal or range of characters below 128."""
    if not flags & re.IGNORECASE or flags & re.ASCII:
        return False
    return any(low <= ord(a) <= high for a in _ascii_with_wide_partners())


def _may_match_wide(op: Any, arg: Any, flags: int) -> bool:
    """Whether a single-character item may match some character outside ASCII (when in doubt, yes)."""
    c = sre_constants
    if op is c.LITERAL:
        return arg >= 128 or _ascii_item_is_wide(arg, arg, flags)
    if op is not c.IN or (arg and arg[0][0] is c.NEGATE):
        return True  # NOT_LITERAL, a negated class
    for item_op, item_arg in arg:
        if item_op is c.LITERAL and not (item_arg >= 128 or _ascii_item_is_wide(item_arg, item_arg, flags)):
            continue
        if item_op is c.RANGE and not (item_arg[1] >= 128 or _ascii_item_is_wide(item_arg[0], item_arg[1], flags)):
            continue
        if item_op is c.CATEGORY and flags & re.ASCII and str(item_arg) in _ASCII_CATEGORIES:
            continue
        return True
    return False


_ASCII_CATEGORIES = {"CATEGORY_DIGIT", "CATEGORY_SPACE", "CATEGORY_WORD"}  # under re.ASCII these match ASCII only


def _first(items: Any, flags: int) -> tuple[list[tuple[CharTest, bool]], bool]:
    """The tests one of which the first consumed character passes, each with whether it may pass a
    non-ASCII character, and whether nothing may be consumed."""
    c = sre_constants
    tests: list[tuple[CharTest, bool]] = []
    for op, arg in items:
        if op in (c.LITERAL, c.NOT_LITERAL, c.IN):
            tests.append((_one_char_test(op, arg, flags), _may_match_wide(op, arg, flags)))
            return tests, False
        if op is c.ANY:
            tests.append((ANY_CHAR, True))
            return tests, False
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # zero width: the next item consumes the first character
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, pattern = arg
            inner, nullable = _first(pattern, (flags | add_flags) & ~del_flags)
        elif op is c.BRANCH:
            inner, nullable = [], False
            for alternative in arg[1]:
                alt_tests, alt_nullable = _first(alternative, flags)
                inner += alt_tests
                nullable = nullable or alt_nullable
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, pattern = arg
            inner, nullable = _first(pattern, flags)
            nullable = nullable or low == 0
        elif op is getattr(c, "ATOMIC_GROUP", None):
            inner, nullable = _first(arg, flags)
        else:
            raise _Unknown(op)  # back references, conditionals, anything new
        tests += inner
        if not nullable:
            return tests, False
    return tests, True


def start_info(pattern: re.Pattern[str]) -> tuple[CharTest, bool, bool]:
    """(can the pattern's match start with this character?, can it match the empty string?,
    can it start with some character outside ASCII?)."""
    if sre_parser is None or not isinstance(pattern.pattern, str):
        return ANY_CHAR, True, True
    try:
        parsed = sre_parser.parse(pattern.pattern, pattern.flags)
        tests, nullable = _first(parsed, parsed.state.flags)
    except (_Unknown, re.error, AttributeError, TypeError, ValueError):
        return ANY_CHAR, True, True
    wide = any(may_be_wide for _test, may_be_wide in tests)
    if any(test is ANY_CHAR for test, _wide in tests):
        return ANY_CHAR, nullable, wide
    return (lambda char: any(test(char) for test, _wide in tests)), nullable, wide


def start_test(pattern: re.Pattern[str]) -> tuple[CharTest, bool]:
    """(can the pattern's match start with this character?, can it match the empty string?)."""
    test, nullable, _wide = start_info(pattern)
    return test, nullable


class _State:
    """One lexer state's rules, and the rules that could match at a character: for each ASCII
    character its own list, and for every other character one shared list (the rules that may start
    with some non-ASCII character), so that text of many distinct characters costs no more than
    ASCII text and the table never grows past 130 lists."""

    __slots__ = ("rules", "tests", "by_char", "wide")

    def __init__(self, rules: list[Rule]):
        self.rules = rules
        self.tests: list[tuple[CharTest, bool, bool]] | None = None  # worked out when the state is first entered
        self.by_char: dict[str, list[Rule]] = {}  # ASCII characters and "" (the end of the text)
        self.wide: list[Rule] | None = None  # for every character outside ASCII

    def candidates(self, char: str) -> list[Rule]:
        found = self.by_char.get(char)
        if found is None:
            if self.tests is None:
                self.tests = [start_info(_pattern(rule)) for rule in self.rules]
            if char > "\x7f":
                if self.wide is None:
                    self.wide = [rule for rule, (_test, nullable, wide) in zip(self.rules, self.tests, strict=True)
                                 if nullable or wide]
                return self.wide
            found = [rule for rule, (test, nullable, _wide) in zip(self.rules, self.tests, strict=True)
                     if nullable or (char != "" and test(char))]
            self.by_char[char] = found
        return found


def _pattern(rule: Rule) -> re.Pattern[str]:
    """The compiled pattern whose bound `match` method a rule holds."""
    pattern = getattr(rule[0], "__self__", None)
    assert isinstance(pattern, re.Pattern)  # _supported checked it
    return pattern


def _rules(lexer: Lexer) -> dict[str, list[Rule]]:
    """A RegexLexer's processed rules by state: Pygments sets `_tokens` on the class when its first
    lexer is made, a name its type stubs do not declare."""
    rules: dict[str, list[Rule]] = lexer._tokens  # type: ignore[attr-defined]
    return rules


def _supported(lexer: Lexer) -> bool:
    cls = type(lexer)
    return (
        sre_parser is not None
        and isinstance(lexer, RegexLexer)
        and cls.get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed
        and all(isinstance(getattr(rule[0], "__self__", None), re.Pattern) for rules in _rules(lexer).values()
                for rule in rules)
    )


def enabled() -> bool:
    """Whether `accelerate` changes lexers: BUILD_DECK_FASTLEX=0 turns it off, =1 on; unset (or any
    other value) it is on for the Python versions in CHECKED_PYTHONS."""
    setting = os.environ.get(SWITCH, "").strip()
    if sre_parser is None or setting == "0":
        return False
    return setting == "1" or sys.version_info[:2] in CHECKED_PYTHONS


def accelerate(lexer: Lexer) -> Lexer:
    """Give a plain RegexLexer the faster tokenizer (a delegating one, such as `pycon`, gets it for
    both lexers it delegates to); any other lexer, or any lexer while fastlex is off (`enabled`),
    is returned untouched."""
    if not enabled():
        return lexer
    if isinstance(lexer, DelegatingLexer):
        accelerate(lexer.root_lexer)
        accelerate(lexer.language_lexer)
        return lexer
    if not _supported(lexer):
        return lexer
    states = {name: _State(rules) for name, rules in _rules(lexer).items()}

    def get_tokens_unprocessed(text: str, stack: tuple[str, ...] = ("root",)) -> Iterator[tuple[int, Any, str]]:
        return _lex(lexer, states, text, stack, True)

    lexer.get_tokens_unprocessed = get_tokens_unprocessed  # type: ignore[method-assign]
    preprocess = getattr(lexer, "_preprocess_lexer_input", None)
    if preprocess is not None and type(lexer).get_tokens is Lexer.get_tokens:

        def get_tokens(text: str, unfiltered: bool = False) -> Iterator[tuple[Any, str]]:
            # Pygments' own get_tokens (the same preprocessing and filters), minus its generator
            # that drops each token's position: the loop gives (type, text) pairs itself
            stream: Iterator[tuple[Any, str]] = _lex(lexer, states, preprocess(text), ("root",), False)
            return stream if unfiltered else apply_filters(stream, lexer.filters, lexer)

        lexer.get_tokens = get_tokens  # type: ignore[method-assign, assignment]
    return lexer


def _lex(
    lexer: Lexer, states: dict[str, _State], text: str, stack: tuple[str, ...], positions: bool
) -> Iterator[Any]:
    """Pygments' RegexLexer loop, trying only the rules that could match at this character: tokens
    as (position, type, text) or, without `positions`, (type, text)."""
    pos = 0
    end = len(text)
    statestack = list(stack)
    state = states[statestack[-1]]
    while True:
        char = text[pos] if pos < end else ""
        for rexmatch, action, new_state in state.by_char.get(char) or state.candidates(char):
            m = rexmatch(text, pos)
            if m:
                if action is not None:
                    if type(action) is not _TokenType:
                        if positions:
                            yield from action(lexer, m)
                        else:
                            yield from _without_positions(action(lexer, m))
                    elif positions:
                        yield pos, action, m.group()
                    else:
                        yield action, m.group()
                pos = m.end()
                if new_state is not None:
                    _change_state(statestack, new_state)
                    state = states[statestack[-1]]
                break
        else:
            if pos >= end:
                break
            if text[pos] == "\n":
                statestack = ["root"]
                state = states["root"]
                yield (pos, Whitespace, "\n") if positions else (Whitespace, "\n")
            else:
                yield (pos, Error, text[pos]) if positions else (Error, text[pos])
            pos += 1


def _without_positions(tokens: Iterator[tuple[int, Any, str]]) -> Iterator[tuple[Any, str]]:
    """A callback rule's tokens (Pygments' `bygroups`, `using`) without their positions."""
    for _pos, token_type, value in tokens:
        yield token_type, value


def _change_state(statestack: list[str], new_state: Any) -> None:
    """A matched rule's state change applied to the stack, as Pygments applies it."""
    if isinstance(new_state, tuple):
        for name in new_state:
            if name == "#pop":
                if len(statestack) > 1:
                    statestack.pop()
            elif name == "#push":
                statestack.append(statestack[-1])
            else:
                statestack.append(name)
    elif isinstance(new_state, int):
        if abs(new_state) >= len(statestack):
            del statestack[1:]
        else:
            del statestack[new_state:]
    elif new_state == "#push":
        statestack.append(statestack[-1])
    else:
        raise AssertionError(f"wrong state def: {new_state!r}")
