"""The checks of a cloze card: numbering, clozes in code spans and blocks, none inside a tag."""

from __future__ import annotations

import re

from markdown_it.common.html_re import HTML_TAG_RE
from markdown_it.token import Token

from .cloze import CLOZE_OPEN, find_clozes, has_cloze, numbering_problem
from .dialect import line_offset, walk
from .errors import Diagnostics, SourceLocation
from .records import SourceFile

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)  # never reaches a card: a cloze in it is no cloze


def _without_comments(text: str) -> str:
    """The text with its HTML comments blanked out (offsets and lines kept)."""
    return _COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text) if "<!--" in text else text


def _is_comment_block(token: Token) -> bool:
    return token.type == "html_block" and not _without_comments(token.content).strip()


def check_clozes(
    heading: Token,
    inline: Token,
    text_tokens: list[Token],
    after_break: list[Token],
    source: SourceFile,
    diagnostics: Diagnostics,
) -> set[int]:
    """Cloze numbers of the card's text; every marker problem reported at its line. `heading` is the
    card's heading token and `inline` its text."""
    heading_line = (heading.map[0] if heading.map else 0) + 1
    if has_cloze(_without_comments(inline.content)):
        diagnostics.error(
            SourceLocation(source.path, heading_line),
            "clozes belong in the card's text, not in its heading (the heading is shown as context)",
        )
    for token in after_break:
        if token.map is not None and not _is_comment_block(token) and has_cloze(_without_comments(token.content)):
            diagnostics.error(
                SourceLocation(source.path, token.map[0] + 1),
                "a cloze after the --- break would never be hidden: move it before the break",
            )
    numbers: set[int] = set()
    for token in text_tokens:
        if token.map is None or _is_comment_block(token):
            continue
        first_line = token.map[0] + 1
        _check_clozes_outside_tags(token, first_line, source, diagnostics)
        if token.type in ("fence", "code_block"):
            regions = [(token.content, True, first_line + (1 if token.type == "fence" else 0))]
        elif token.type == "inline":
            prose = _without_comments(_CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), token.content))  # keep offsets
            regions = [(prose, False, first_line)]
            line, counted = first_line, 0  # newlines are counted from the previous span: linear time
            for m in _CODE_SPAN.finditer(token.content):
                line += token.content.count("\n", counted, m.start())
                counted = m.start()
                regions.append((m.group(2), True, line))
        else:
            continue
        for text, code, line in regions:
            clozes, problems = find_clozes(text, code)
            numbers.update(cloze.number for cloze in clozes)
            counted = 0
            for problem in problems:  # in the order of their offsets
                line += text.count("\n", counted, problem.offset)
                counted = problem.offset
                diagnostics.error(SourceLocation(source.path, line), problem.message)
    gap = numbering_problem(numbers)
    if gap:
        diagnostics.error(SourceLocation(source.path, heading_line), gap)
    if numbers:
        _check_cloze_text_math(text_tokens, source, diagnostics)
    return numbers


_MATH = ("math_inline", "math_inline_double")
# what Anki's cloze filter reads as cloze markup, inside a formula of the cloze text
_CLOZE_SYNTAX = re.compile(r"\{\{|\}\}|::")


def _check_cloze_text_math(text_tokens: list[Token], source: SourceFile, diagnostics: Diagnostics) -> None:
    """No cloze syntax inside a formula of a cloze card's text, and no cloze in an attribute
    that Markdown writes (an image's alt text, a link's title or address).

    Anki's cloze filter rewrites each card's text before MathJax reads it: it starts, ends or
    hides a cloze at `{{c1::`, `::` and `}}` wherever they are, and inside a formula it also
    removes every tag. A formula holding none of them reaches every card of the note as it was
    checked: nothing is left to verify per card."""
    for token in text_tokens:
        if token.map is None:
            continue
        line = token.map[0] + 1
        if token.type == "math_block":
            _report_cloze_syntax(token.content, line, source, diagnostics)
            continue
        for child in token.children or []:  # one pass, counting lines: linear in the paragraph
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type in _MATH:
                _report_cloze_syntax(child.content, line, source, diagnostics)
                line += child.content.count("\n")
            elif child.type in ("image", "link_open"):
                shown = [child.content] if child.type == "image" else []
                shown += [str(child.attrGet(name) or "") for name in ("title", "href")]
                if any(has_cloze(text) or "}}" in text or "::" in text for text in shown):
                    what = "an image's alt text or title" if child.type == "image" else "a link's title or address"
                    diagnostics.error(
                        SourceLocation(source.path, line),
                        f"a cloze marker in {what} would break the tag Markdown writes for it: "
                        "put the cloze around the image or link, or in the text",
                    )


def _report_cloze_syntax(tex: str, line: int, source: SourceFile, diagnostics: Diagnostics) -> None:
    match = _CLOZE_SYNTAX.search(tex)
    if match is None:
        return
    diagnostics.error(
        SourceLocation(source.path, line + tex.count("\n", 0, match.start())),
        f"'{match.group(0)}' inside a formula of a cloze card: Anki's cloze filter would rewrite the formula "
        "on each card; put the cloze around the whole formula ({{c1::$x$}}), and write '}}' as '} }' and "
        "'::' as ': :'",
    )


def _check_clozes_outside_tags(token: Token, first_line: int, source: SourceFile, diagnostics: Diagnostics) -> None:
    """A cloze marker inside an HTML tag (an attribute's value) would put Anki's cloze markup into
    the tag and break it: an error at its line."""
    if token.type == "html_block":
        tags = [(m.group(0), first_line + token.content.count("\n", 0, m.start()))
                for m in HTML_TAG_RE.finditer(token.content) if not m.group(0).startswith("<!--")]
    else:
        tags = [(child.content, first_line + line_offset(token, child))
                for child in walk(token.children or [])
                if child.type == "html_inline" and not child.content.startswith("<!--")]
    clozed = has_cloze(_without_comments(token.content))
    for tag, line in tags:
        if has_cloze(tag) or (clozed and ("}}" in tag or "::" in tag)):
            marker = match.start() if (match := CLOZE_OPEN.search(tag)) else min(
                offset for offset in (tag.find("}}"), tag.find("::")) if offset != -1
            )
            diagnostics.error(
                SourceLocation(source.path, line + tag.count("\n", 0, marker)),
                "a cloze marker inside an HTML tag would break the tag: put the cloze in the text, outside the tag",
            )
