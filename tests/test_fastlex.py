"""fastlex must give exactly Pygments' tokens: on the deck's code, on every regex lexer, on generated text."""

from __future__ import annotations

import re
import sys
import warnings

import pytest
from conftest import FIXTURES, ROOT
from hypothesis import given
from hypothesis import strategies as st
from pygments.lexer import DelegatingLexer, Lexer, RegexLexer
from pygments.lexers import find_lexer_class_by_name, get_all_lexers, get_lexer_by_name

from deckbuild import fastlex, highlight
from deckbuild.dialect import make_markdown
from deckbuild.fastlex import accelerate, start_info, start_test


def stock_and_fast(language: str) -> tuple[Lexer, Lexer]:
    stock = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    fast = accelerate(get_lexer_by_name(language, stripnl=False, ensurenl=False))
    return stock, fast


def code_blocks() -> list[tuple[str, str, str]]:
    """(where, language, code) for every fenced block of the deck and the test fixtures."""
    md = make_markdown()
    blocks = []
    for path in sorted([*ROOT.joinpath("content").rglob("*.md"), *FIXTURES.rglob("*.md")]):
        for token in md.parse(path.read_text(encoding="utf-8-sig", errors="replace")):
            if token.type == "fence" and token.map:
                language = highlight.language_of(token.info)
                if highlight.find_lexer(language) is not None:
                    blocks.append((f"{path.relative_to(ROOT)}:{token.map[0] + 1}", language, token.content))
    return blocks


def test_every_code_block_of_the_deck_gets_pygments_tokens() -> None:
    blocks = code_blocks()
    languages = {language for _, language, _ in blocks}
    assert len(blocks) > 400 and {"python", "pycon"} <= languages
    lexers = {language: stock_and_fast(language) for language in languages}
    for where, language, code in blocks:
        stock, fast = lexers[language]
        assert list(fast.get_tokens(code)) == list(stock.get_tokens(code)), where


def test_the_lexers_the_build_uses_are_accelerated() -> None:
    # The speed comes from the replaced tokenizer; this fails if find_lexer stops installing it.
    python = highlight.find_lexer("python")
    assert "get_tokens_unprocessed" in vars(python)
    console = highlight.find_lexer("pycon")
    assert isinstance(console, DelegatingLexer) and isinstance(console.language_lexer, DelegatingLexer)
    assert "get_tokens_unprocessed" in vars(console.language_lexer.root_lexer)  # the Python code after >>> prompts


SAMPLE = r'''#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Doc string with 'quotes' and \"escapes\"."""
from __future__ import annotations
import os, sys as system
@decorator(arg=1)
async def f(x: int = 0x1F, *args, **kw) -> list[str]:
    """Doc."""
    y = rb'\d+' + f"{x!r:>10} {{literal}}" + u'text' + B"bytes"
    match y:
        case [1, *rest] if rest: pass
        case _: ...
    return [i ** 2 for i in range(10) if i % 3 != 0] or None  # comment é ß Σ 日本
class C(Base, metaclass=Meta): __slots__ = ('a',); value = 1_000.5e-3j
<html><body class="x">&amp; <!-- c --> <script>var x = 1e3; /* y */ if (a<b) {}</script></body></html>
#include <stdio.h>
int main(void) { printf("%d\n", 0x1F); return 0; } // done
{"a": [1, 2.5, true, null], "b": "\u00e9"}
$ echo "$HOME" | grep -i 'x' && ls -la ~/ 2>&1 >/dev/null  # comment
SELECT * FROM t WHERE a = 'b' AND c >= 3; -- sql
key = "value"  ; ini
[section]
- item: yes
  other: [1, 2]
---
\begin{document} $x^2$ \end{document}
	tab	and trailing space 
'''


def regex_lexer_names() -> list[str]:
    names = []
    for _name, aliases, _files, _mimes in get_all_lexers():
        if aliases and issubclass(find_lexer_class_by_name(aliases[0]), RegexLexer):
            names.append(aliases[0])
    return names


def test_every_pygments_regex_lexer_gives_its_own_tokens_on_a_mixed_sample() -> None:
    compared = 0
    for alias in regex_lexer_names():
        cls = find_lexer_class_by_name(alias)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stock, fast = cls(), accelerate(cls())
        if "get_tokens_unprocessed" not in vars(fast):
            continue  # a lexer with its own loop is left to Pygments
        expected = list(stock.get_tokens(SAMPLE))
        assert list(fast.get_tokens(SAMPLE)) == expected, alias
        text = stock._preprocess_lexer_input(SAMPLE)
        assert list(fast.get_tokens_unprocessed(text)) == list(stock.get_tokens_unprocessed(text)), alias
        compared += 1
    assert compared > 400  # Pygments 2.20 has about 500 plain regex lexers


CODE_PIECES = st.sampled_from([
    " ", "  ", "\t", "\n", "\\", "\\\n", "#", "# c\n", "'", '"', "'''", '"""', "f'", 'rb"', "{", "}", "{{",
    "(", ")", "[", "]", ":", "=", "==", "->", "*", "**", "@", ".", ",", ";", "0", "0x1F", "1_0.5e-3j",
    "def ", "class ", "async ", "await ", "lambda", "import ", "from ", "match ", "case ", "if", "else",
    "self", "print", "__init__", "None", "é", "日本", ">>> ", "... ", "Traceback (most recent call last):\n",
    '  File "x.py", line 1, in <module>\n', "ValueError: bad\n", "$ ", "<b>", "</b>", "&amp;", "--", "/*", "*/",
])


@pytest.mark.parametrize("language", ["python", "pycon", "pytb", "bash", "toml", "sql", "html", "javascript", "ini"])
@given(pieces=st.lists(CODE_PIECES | st.text(max_size=3), max_size=60))
def test_generated_code_gets_pygments_tokens(language: str, pieces: list[str]) -> None:
    text = "".join(pieces)
    stock, fast = stock_and_fast(language)
    assert list(fast.get_tokens(text)) == list(stock.get_tokens(text))


@pytest.mark.parametrize(
    ("pattern", "can_start", "cannot_start", "nullable"),
    [
        (r"#.*$", "#", "a \n", False),
        (r"[^\S\n]+", " \t", "\nx", False),
        (r"(?i)(rb|br|r)(')", "rRbB", "'x", False),  # case-insensitive letters, as the engine folds them
        (r"(?<!\.)(print|len)\b", "pl", ".x", False),  # lookbehind consumes nothing
        (r"\d(?:_?\d)*", "07٣", "a_", False),  # Unicode digits count, as in the rule
        (r"x*\b", "", "", True),  # may match nothing: a candidate everywhere
    ],
)
def test_start_characters_of_a_rule(pattern: str, can_start: str, cannot_start: str, nullable: bool) -> None:
    test, is_nullable = start_test(re.compile(pattern, re.MULTILINE))
    assert is_nullable is nullable
    for char in can_start:
        assert test(char), char
    for char in cannot_start:
        assert not test(char), char


def test_a_back_reference_before_the_first_character_makes_a_rule_a_candidate_everywhere() -> None:
    test, nullable = start_test(re.compile(r"(x)?\1y"))  # the analysis does not model back references
    assert nullable and test("z") and test("y")
    test, nullable = start_test(re.compile(r"(['\"])\w*\1"))  # here the quote comes first
    assert not nullable and test("'") and not test("z")


# including the case partners of i, s and k
WIDE_CHARACTERS = "\u00a0é\u00df\u0130\u0131\u017f\u03a3\u0663\u2028\u212a日\U00020000\U0010fffd"


def test_a_rule_that_can_start_with_a_non_ascii_character_is_a_candidate_for_every_one() -> None:
    # Every character outside ASCII shares one candidate list (the rules marked wide): a rule left out
    # of it must not be able to start with any such character, or tokens would differ from Pygments'.
    checked = 0
    for alias in regex_lexer_names():
        cls = find_lexer_class_by_name(alias)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lexer = cls()
        for rules in fastlex._rules(lexer).values():
            for rule in rules:
                pattern = getattr(rule[0], "__self__", None)
                if pattern is None:
                    continue
                test, _nullable, wide = start_info(pattern)
                if not wide:
                    assert not any(test(char) for char in WIDE_CHARACTERS), (alias, pattern.pattern)
                    checked += 1
    assert checked > 5000


@pytest.mark.parametrize(
    ("pattern", "wide"),
    [
        (r"k", False), (r"(?i)k", True), (r"(?ia)k", False), (r"(?i)[a-h]", False), (r"(?i)[a-j]", True),
        (r"[a-z_]\w*", False), (r"\w", True), (r"(?a)\w", False), (r"(?a)\W", True), (r"[^x]", True),
        (r"é", True), (r".", True), (r"\s+", True), (r"[0-9]", False),
    ],
)
def test_which_rules_may_start_outside_ascii(pattern: str, wide: bool) -> None:
    assert start_info(re.compile(pattern))[2] is wide


def test_text_of_many_distinct_characters_keeps_the_candidate_table_small() -> None:
    # The table once grew by one list per distinct character, computed with every rule's test: 200,000
    # distinct characters took five times as long as in Pygments.
    python = accelerate(get_lexer_by_name("python", stripnl=False, ensurenl=False))
    text = ("x = '" + "".join(chr(0x20000 + i) for i in range(20_000)) + "'  # "
            + "".join(map(chr, range(0x4E00, 0x6000))))
    stock = get_lexer_by_name("python", stripnl=False, ensurenl=False)
    assert list(python.get_tokens(text)) == list(stock.get_tokens(text))
    states = python.get_tokens_unprocessed.__closure__
    assert states is not None
    tables = [cell.cell_contents for cell in states if isinstance(cell.cell_contents, dict)]
    sizes = [len(state.by_char) for table in tables for state in table.values()]
    assert sizes and max(sizes) <= 129  # the ASCII characters and the end of the text


def test_no_character_beyond_the_basic_plane_folds_to_ascii() -> None:
    # fastlex scans only the Basic Multilingual Plane for case partners of ASCII characters.
    bmp = fastlex._ascii_with_wide_partners()
    assert fastlex._ascii_with_wide_partners(sys.maxunicode) == bmp and {"k", "s"} <= bmp  # the Kelvin sign, long s
