"""fastlex must give exactly Pygments' tokens: on the deck's code, on every regex lexer, on generated text."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pygments.lexer import RegexLexer
from pygments.lexers import find_lexer_class_by_name, get_all_lexers, get_lexer_by_name

from deckbuild import highlight
from deckbuild.fastlex import accelerate, start_test
from deckbuild.parse import make_markdown

from conftest import FIXTURES, ROOT


def stock_and_fast(language: str):
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
    inner = console.language_lexer
    assert "get_tokens_unprocessed" in vars(inner.root_lexer)  # the Python code after >>> prompts


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
