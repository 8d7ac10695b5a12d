"""Code blocks one element per line (deckbuild.highlight.LineFormatter): Pygments' own spans and
class names, each line closed and wrapped, its indentation held, without re-reading any HTML."""

from __future__ import annotations

import re

import pygments
import pytest
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from test_fastlex import SAMPLE, code_blocks

from deckbuild import highlight

# The Pygments release LineFormatter was written for: it takes the class names from the formatter's
# `_get_css_classes` and joins a line's tokens of one class into one span, as `_format_lines` does.
WRITTEN_FOR = "2.21.0"

_LINE = re.compile(r'<span class="line(?: i\d+)?">(.*?)\n</span>', re.S)
_INDENT = re.compile(r'<span class="indent">([ \t]*)</span>')


def _unwrapped(lines_html: str) -> str:
    """The formatter's output without its line elements and indentation spans."""
    lines = _LINE.findall(lines_html)
    assert "".join(f'<span class="line">{line}\n</span>' for line in lines) == re.sub(
        r'<span class="line i\d+">', '<span class="line">', lines_html
    )
    return "".join(_INDENT.sub(r"\1", line) + "\n" for line in lines)


def _samples() -> list[tuple[str, str]]:
    blocks = [(language, code) for _, language, code in code_blocks() if code and "{{c" not in code]
    return [("python", SAMPLE), ("python", "x = 1"), ("python", "\tif x:\n\t\treturn '<&>'\n\n"), *blocks]


def test_the_spans_are_pygments_own() -> None:
    mismatched = []
    for language, code in _samples():
        lexer = highlight.find_lexer(language) or get_lexer_by_name("text")
        ours = _unwrapped(pygments.highlight(code, lexer, highlight.LineFormatter()))
        if ours != pygments.highlight(code, lexer, HtmlFormatter(nowrap=True)):
            mismatched.append(language)
    assert not mismatched, (
        f"LineFormatter was written for Pygments {WRITTEN_FOR}; with Pygments {pygments.__version__} its spans "
        f"differ from HtmlFormatter's for {sorted(set(mismatched))}: check `_get_css_classes` and `_format_lines`, "
        "then update WRITTEN_FOR"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("", '<span class="line">\n</span>'),
        ("x\n", '<span class="line"><span class="n">x</span>\n</span>'),
        (
            "if x:\n    y\n",
            '<span class="line"><span class="k">if</span> <span class="n">x</span><span class="p">:</span>\n</span>'
            '<span class="line i4"><span class="indent">    </span><span class="n">y</span>\n</span>',
        ),
        (
            '"""a\n\tb"""',
            '<span class="line"><span class="sd">"""a</span>\n</span>'
            '<span class="line i4"><span class="sd"><span class="indent">\t</span>b"""</span>\n</span>',
        ),
        ("  " * 20 + "x", '<span class="line i40">' + "  " * 20 + '<span class="n">x</span>\n</span>'),
    ],
)
def test_lines_indents_and_held_indentation(code: str, expected: str) -> None:
    assert pygments.highlight(code, highlight.find_lexer("python"), highlight.LineFormatter()) == expected


def test_a_cloze_spanning_lines_stays_whole_and_other_lines_are_cut() -> None:
    html = highlight.highlight_code("a = 1\n  {{c1::b = [\n  2]}}\nc\n", "python")
    lines = html.split('<span class="line')[1:]
    assert len(lines) == 3
    assert "{{c1::" in lines[1] and "}}" in lines[1] and '<span class="w">\n</span>' in lines[1]
    assert lines[1].startswith(' i2"><span class="w"></span><span class="indent">  </span>{{c1::')


def test_plain_code_is_escaped_line_by_line() -> None:
    assert highlight.highlight_code("a<b\n  'c'\n", "") == (
        '<pre class="highlight"><code><span class="line">a&lt;b\n</span>'
        '<span class="line i2"><span class="indent">  </span>&#x27;c&#x27;\n</span></code></pre>\n'
    )


def test_the_remembered_token_texts_never_change_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """LineFormatter keeps the escaped pieces of at most ESCAPED_TOKENS token texts; forgetting them
    (here after every 3) gives the same lines as remembering them all."""
    lexer = highlight.find_lexer("python")
    expected = pygments.highlight(SAMPLE, lexer, highlight.LineFormatter())
    monkeypatch.setattr(highlight, "ESCAPED_TOKENS", 3)
    formatter = highlight.LineFormatter()
    assert pygments.highlight(SAMPLE, lexer, formatter) == expected
    assert pygments.highlight(SAMPLE, lexer, formatter) == expected  # the second time from memory
    assert len(formatter._escaped) <= 3


def test_indentation_spread_over_runs_is_held_across_them() -> None:
    runs = [('<span class="w">', "  "), ("", "\t"), ('<span class="n">', "  x")]
    assert highlight._line_element(runs) == (
        '<span class="line i6"><span class="w"><span class="indent">  </span></span><span class="indent">\t</span>'
        '<span class="n"><span class="indent">  </span>x</span>\n</span>'
    )
    assert highlight._line_element([("", "  ")]) == '<span class="line i2"><span class="indent">  </span>\n</span>'
    assert highlight._line_element([("", "")]) == '<span class="line">\n</span>'
