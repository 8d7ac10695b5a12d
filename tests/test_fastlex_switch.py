"""fastlex's off switch, and the pin on the private regex parser it reads.

fastlex (deckbuild/fastlex.py) reads the trees of `re._parser`, which is private to CPython and may
change in any release. It runs only on the versions in `fastlex.CHECKED_PYTHONS`; elsewhere, or with
BUILD_DECK_FASTLEX=0, Pygments' own lexing loop runs. These tests check that both ways give the same
HTML, that the switch works, and that the running Python is one fastlex was checked on.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, SAMPLE
from helpers import build_folder
from pygments.lexer import RegexLexer
from pygments.lexers import PythonLexer
from test_fastlex import code_blocks

from deckbuild import fastlex, highlight

# re._constants.MAGIC of each checked version, as read from its standard library: a new MAGIC means
# new regex opcodes, which fastlex's analysis does not know.
CHECKED_MAGIC = {(3, 11): 20220615, (3, 12): 20221023, (3, 13): 20230612}
# the private modules, as fastlex imports them (typeshed describes neither)
sre_constants, sre_parser = fastlex.sre_constants, fastlex.sre_parser


@pytest.fixture
def fresh_lexers() -> Iterator[None]:
    """find_lexer keeps its lexers per process: clear them before and after a test that switches."""
    highlight.find_lexer.cache_clear()
    yield
    highlight.find_lexer.cache_clear()


def _is_accelerated(language: str) -> bool:
    lexer = highlight.find_lexer(language)
    assert isinstance(lexer, RegexLexer)
    return "get_tokens_unprocessed" in vars(lexer)


def _highlight_every_block(monkeypatch: pytest.MonkeyPatch, setting: str) -> list[str]:
    monkeypatch.setenv(fastlex.SWITCH, setting)
    highlight.find_lexer.cache_clear()
    return [highlight.highlight_code(code, language) for _where, language, code in code_blocks()]


def test_off_gives_the_same_html_for_every_code_block_of_the_deck(
    monkeypatch: pytest.MonkeyPatch, fresh_lexers: None
) -> None:
    off = _highlight_every_block(monkeypatch, "0")
    assert not _is_accelerated("python")
    on = _highlight_every_block(monkeypatch, "1")
    assert _is_accelerated("python")
    assert len(off) > 400 and sum('class="k"' in html for html in off) > 100  # highlighted, not plain text
    assert on == off


def test_a_build_with_fastlex_off_writes_the_same_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_lexers: None
) -> None:
    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    for case in sorted((FIXTURES / "render").glob("*.md")):
        shutil.copy(case, content / f"render-{case.name}")
    # and one card for every tenth code block of the deck and the fixtures, in all their languages
    blocks = [(language, code) for _where, language, code in code_blocks() if "{{" not in code and "~~~" not in code]
    cards = [f"## Code {n}?\n\n~~~{language}\n{code}~~~\n" for n, (language, code) in enumerate(blocks[::10])]
    (content / "code.md").write_text("# Code\n\n" + "\n".join(cards), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796000000")
    packages = {}
    for setting in ("0", "1"):
        monkeypatch.setenv(fastlex.SWITCH, setting)
        highlight.find_lexer.cache_clear()
        out = tmp_path / f"dist-{setting}"
        build_folder(content, out, "--no-cache", "--jobs", "1", "--lock", str(tmp_path / f"{setting}.lock"))
        (package,) = out.glob("*.apkg")
        packages[setting] = package.read_bytes()
        assert _is_accelerated("python") is (setting == "1")
    assert packages["0"] == packages["1"]


@pytest.mark.parametrize(("setting", "checked", "expected"), [
    ("", True, True),  # unset: on where checked
    ("0", True, False),
    ("", False, False),  # an unchecked version: off, Pygments' own loop runs
    ("1", False, True),  # forced on, to run the tests there before adding the version
    ("yes", False, False),  # any other value is the same as unset
])
def test_the_switch_and_an_unchecked_python(
    monkeypatch: pytest.MonkeyPatch, setting: str, checked: bool, expected: bool
) -> None:
    monkeypatch.setenv(fastlex.SWITCH, setting)
    monkeypatch.setattr(fastlex, "CHECKED_PYTHONS", (sys.version_info[:2],) if checked else ())
    assert fastlex.enabled() is expected
    python = fastlex.accelerate(PythonLexer(stripnl=False, ensurenl=False))
    assert ("get_tokens_unprocessed" in vars(python)) is expected


def test_this_python_is_one_fastlex_was_checked_on() -> None:
    version = sys.version_info[:2]
    shown = ".".join(map(str, version))
    checked = ", ".join(".".join(map(str, v)) for v in fastlex.CHECKED_PYTHONS)
    if version not in fastlex.CHECKED_PYTHONS:
        pytest.fail(
            f"fastlex reads Python's private re._parser and was checked on Python {checked} only: on {shown} "
            "builds run without it (the same HTML, more slowly). To add it, read the new re/_parser.py for "
            "changes to the trees fastlex._first reads, run tests/test_fastlex.py and this file with "
            "BUILD_DECK_FASTLEX=1, then add the version to fastlex.CHECKED_PYTHONS and CHECKED_MAGIC here"
        )
    assert set(CHECKED_MAGIC) == set(fastlex.CHECKED_PYTHONS)
    assert sre_constants.MAGIC == CHECKED_MAGIC[version], (
        f"re._constants.MAGIC changed within Python {shown}: the regex opcodes changed; check fastlex again"
    )


def _tree(pattern: str) -> list[tuple[Any, Any]]:
    return [(op, arg) for op, arg in sre_parser.parse(pattern, 0)]


def test_the_parse_trees_fastlex_reads_have_the_shape_it_was_written_for() -> None:
    # Each construct fastlex._first and _one_char_test take apart, as (opcode, argument) pairs.
    c = sre_constants
    x = [(c.LITERAL, ord("x"))]
    assert _tree("a") == [(c.LITERAL, ord("a"))]
    assert _tree("[^a]") == [(c.NOT_LITERAL, ord("a"))]
    assert _tree(".") == [(c.ANY, None)]
    assert _tree(r"[^a-z\d]") == [(c.IN, [(c.NEGATE, None), (c.RANGE, (97, 122)), (c.CATEGORY, c.CATEGORY_DIGIT)])]
    assert {str(getattr(c, name)) for name in fastlex._CATEGORIES} == set(fastlex._CATEGORIES)
    ((op, (group, add_flags, del_flags, inner)),) = _tree("(?i:x)")
    assert (op, group, add_flags, del_flags, list(inner)) == (c.SUBPATTERN, None, re.IGNORECASE, 0, x)
    ((op, (_, alternatives)),) = _tree("ax|bx")  # alternatives with no common start stay a branch
    assert op is c.BRANCH and [list(a) for a in alternatives] == [[(c.LITERAL, 97), *x], [(c.LITERAL, 98), *x]]
    for pattern, repeat in (("x*", c.MAX_REPEAT), ("x*?", c.MIN_REPEAT), ("x*+", c.POSSESSIVE_REPEAT)):
        ((op, (low, high, inner)),) = _tree(pattern)
        assert (op, low, high, list(inner)) == (repeat, 0, c.MAXREPEAT, x)
    ((op, inner),) = _tree("(?>x)")
    assert op is c.ATOMIC_GROUP and list(inner) == x
    assert [op for op, _ in _tree(r"^(?=a)(?!b)\bx")] == [c.AT, c.ASSERT, c.ASSERT_NOT, c.AT, c.LITERAL]
    assert sre_parser.parse("(?i)x", 0).state.flags & re.IGNORECASE
