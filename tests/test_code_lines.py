"""Code blocks cut into one element per line (for wrapping with a hanging indent on phones): the
text is exactly the code, every line is balanced HTML, and a cloze is never cut in two."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from deckbuild.highlight import (
    DARK_STYLE,
    LIGHT_STYLE,
    MAX_HELD_INDENT,
    MAX_INDENT_CLASS,
    MIN_CONTRAST,
    _full_hex,
    contrast,
    highlight_code,
    readable,
    readable_style,
)

PIECES = list(" \t\nabc_=+-()[]{}:'\"#\\<>&") + ["def ", "    ", '"""', "\x0c"]  # sources are LF-only
CODE = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)
LINE = re.compile(r'<span class="line(?: i(\d+))?">(.*)\n</span>', re.S)
OPENER = re.compile(r'(?=<span class="line[ "])')


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth, self.lowest, self.text = 0, 0, []

    def handle_starttag(self, tag, attrs) -> None:
        if tag != "wbr":
            self.depth += 1

    def handle_endtag(self, tag) -> None:
        self.depth -= 1
        self.lowest = min(self.lowest, self.depth)

    def handle_data(self, data) -> None:
        self.text.append(data)


def _lines(block: str) -> list[tuple[int, str]]:
    inner = block[block.index("<code>") + len("<code>"):block.rindex("</code>")]
    chunks = [chunk for chunk in OPENER.split(inner) if chunk]
    matches = [LINE.fullmatch(chunk) for chunk in chunks]
    assert all(matches), chunks  # nothing but line elements
    return [(int(m.group(1) or 0), m.group(2)) for m in matches]


def _text(fragment: str) -> tuple[str, bool]:
    parser = _Balance()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.text), parser.depth == 0 and parser.lowest == 0


@given(CODE, st.sampled_from(["python", "", "javascript", "no-such-language"]))
def test_every_line_is_whole_and_the_text_is_the_code(code: str, language: str) -> None:
    lines = _lines(highlight_code(code, language))
    texts = []
    for indent, line in lines:
        text, balanced = _text(line)
        assert balanced, line
        assert "\n" not in text
        leading = len(text) - len(text.lstrip(" \t"))
        assert indent == min(len(text[:leading].expandtabs(4)), MAX_INDENT_CLASS)
        texts.append(text + "\n")
    expected = code if code.endswith("\n") else code + "\n"
    assert "".join(texts) == expected


def test_a_cloze_across_lines_stays_in_one_line_element() -> None:
    block = highlight_code("x = {{c1::[\n    1,\n]}}\ny = 2\n", "python")
    lines = _lines(block)
    assert len(lines) == 2
    assert "{{c1::" in lines[0][1] and "}}" in lines[0][1]
    assert _text(lines[1][1])[0] == "y = 2"


INDENT = re.compile(r'<span class="indent">([ \t]*)</span>')


@given(CODE, st.sampled_from(["python", "", "javascript"]))
def test_an_indentation_is_held_whole_and_nothing_else(code: str, language: str) -> None:
    """A phone never wraps inside `.indent` (card.css): it holds exactly the line's leading blanks."""
    for indent, line in _lines(highlight_code(code, language)):
        text = _text(line)[0]
        held = "".join(INDENT.findall(line))
        if indent and indent <= MAX_HELD_INDENT:
            assert held == text[: len(text) - len(text.lstrip(" \t"))]
        else:
            assert held == ""


def test_a_deep_indentation_is_not_held() -> None:
    deep = " " * (MAX_HELD_INDENT + 1) + "x\n"
    assert 'class="indent"' not in highlight_code(deep, "python")
    assert highlight_code("        x\n", "python").count('<span class="indent">        </span>') == 1


def test_colours_are_raised_to_the_minimum_contrast_and_only_when_needed() -> None:
    assert readable("#1d1d1f", "#f8f8f8") == "#1d1d1f"
    for faint, background in (("#75715e", "#272822"), ("#bbbbbb", "#f8f8f8"), ("#f8f8f8", "#ffffff")):
        raised = readable(faint, background)
        assert raised != faint and contrast(raised, background) >= MIN_CONTRAST
        assert contrast(faint, background) < MIN_CONTRAST
    # the style sheet holds no token colour below the minimum, in either theme
    for name, background in ((LIGHT_STYLE, "#f8f8f8"), (DARK_STYLE, "#272822")):
        style = readable_style(name)
        assert _full_hex(style.background_color) == background
        for _, definition in style:
            if definition["color"]:
                behind = "#" + (definition["bgcolor"] or background[1:])
                assert contrast("#" + definition["color"], behind) >= MIN_CONTRAST
