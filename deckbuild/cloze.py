"""Cloze markers ({{c1::text}} and {{c1::text::hint}}): finding them, checking them, and keeping
them intact through syntax highlighting.

In prose a cloze ends at the first `}}`, as in Anki. In code (inline or fenced) a cloze ends at the
first `}}` outside brackets, so `{{c1::{"a": {"b": 1}}}}` hides the whole dict, and a `::` that
belongs to the code is never read as the start of a hint. To stop Anki from reading such `::` or
`}}` as cloze syntax, the rendered HTML separates the two characters with an empty `<wbr>`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

CLOZE_OPEN = re.compile(r"\{\{c(\d+)::")
LINE_BREAK = "\x00"  # marks a code line's end outside any cloze, where a code block may be cut into lines
MAX_CLOZE_NUMBER = 500  # one card per number: more is a typo, and Anki would make that many cards
_OPENERS, _CLOSERS = "([{", ")]}"


@dataclass(frozen=True, slots=True)
class Cloze:
    number: int
    start: int  # offset of `{{`
    content_start: int
    content_end: int
    end: int  # offset after `}}`
    hint: str | None


@dataclass(frozen=True, slots=True)
class ClozeProblem:
    offset: int
    message: str


def has_cloze(text: str) -> bool:
    return CLOZE_OPEN.search(text) is not None


def _content_end(text: str, start: int, code: bool) -> int:
    """Offset of the `}}` that closes a cloze whose content starts at `start`, or -1."""
    if not code:
        return text.find("}}", start)
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if depth == 0 and text.startswith("}}", index):
            return index
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS and depth > 0:
            depth -= 1
        index += 1
    return -1


def find_clozes(text: str, code: bool) -> tuple[list[Cloze], list[ClozeProblem]]:
    clozes, problems = [], []
    position = 0
    while (match := CLOZE_OPEN.search(text, position)) is not None:
        digits = match.group(1)
        shown = digits if len(digits) <= 12 else f"{digits[:6]}...({len(digits)} digits)"
        content_start = match.end()
        content_end = _content_end(text, content_start, code)
        if content_end == -1:
            problems.append(ClozeProblem(match.start(), f"cloze {{{{c{shown}:: is never closed with }}}}"))
            break
        body, hint = text[content_start:content_end], None
        if not code and "::" in body:
            body, hint = body.split("::", 1)
        if not code and (inner := CLOZE_OPEN.search(text, content_start, content_end)) is not None:
            problems.append(ClozeProblem(
                inner.start(),
                "a cloze inside another cloze: Anki would read both and make a card for each; "
                "end the outer cloze before the inner one starts",
            ))
        significant = digits.lstrip("0") or "0"  # Anki reads c01 as c1
        if not digits.isascii():
            problems.append(ClozeProblem(
                match.start(),
                f"cloze number c{shown} is not written with the digits 0-9: Anki would see no cloze there",
            ))
            number = 0
        elif len(significant) <= len(str(MAX_CLOZE_NUMBER)):
            number = int(significant)
        else:
            number = MAX_CLOZE_NUMBER + 1
        if not digits.isascii():
            pass  # reported above
        elif number == 0:
            problems.append(ClozeProblem(match.start(), "cloze numbers start at c1"))
        elif number > MAX_CLOZE_NUMBER:
            problems.append(
                ClozeProblem(match.start(), f"cloze number c{shown} is over the limit of c{MAX_CLOZE_NUMBER}")
            )
        if not body.strip():
            label = number if number <= MAX_CLOZE_NUMBER else shown
            problems.append(ClozeProblem(match.start(), f"cloze c{label} is empty: it would hide nothing"))
        number = number if number <= MAX_CLOZE_NUMBER else 0  # reported above: it makes no card
        clozes.append(Cloze(number, match.start(), content_start, content_end, content_end + 2, hint))
        position = content_end + 2
    problems.sort(key=lambda problem: problem.offset)  # the callers count lines along them
    return clozes, problems


def _ranges(numbers: list[int]) -> str:
    """Sorted cloze numbers with runs of three or more as ranges: `c1, c3-c5, c8, c9`."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ", ".join(
        f"c{a}" if a == b else f"c{a}, c{b}" if b == a + 1 else f"c{a}-c{b}" for a, b in runs
    )


def numbering_problem(numbers: set[int]) -> str | None:
    numbers = {n for n in numbers if 0 < n <= MAX_CLOZE_NUMBER}  # the others are reported where they are
    if not numbers:
        return None
    used = sorted(numbers)
    missing = [n for n in range(1, used[-1] + 1) if n not in numbers]
    if missing:
        return (
            f"cloze numbers skip {_ranges(missing)} (used: {_ranges(used)}); "
            "Anki would make an empty card for each gap"
        )
    return None


def _separate(text: str) -> str:
    """Escape code text for HTML inside a cloze so that Anki sees no `::` or `}}` in it."""
    escaped = html.escape(text, quote=False)
    return escaped.replace("::", ":<wbr>:").replace("}}", "}<wbr>}").replace("{{", "{<wbr>{")


def split_clozes(code: str) -> tuple[str, list[tuple[int, int, int]]]:
    """Code without its cloze markers, and the (number, start, end) ranges they hid in it."""
    clozes, _ = find_clozes(code, code=True)
    plain, ranges, last = [], [], 0
    length = 0
    for cloze in clozes:
        plain.append(code[last:cloze.start])
        length += cloze.start - last
        hidden = code[cloze.content_start:cloze.content_end]
        ranges.append((cloze.number, length, length + len(hidden)))
        plain.append(hidden)
        length += len(hidden)
        last = cloze.end
    plain.append(code[last:])
    return "".join(plain), ranges


def strip_clozes(code: str) -> str:
    """Code with its cloze markers removed and the hidden text kept: the code as it really reads."""
    return split_clozes(code)[0]


def render_code_clozes(code: str) -> str:
    """Inline code holding clozes, as HTML with the cloze markers kept whole."""
    plain, ranges = split_clozes(code)
    return "".join(f"{opener}{text}</span>" if opener else text for opener, text in emit_clozes([("", plain)], ranges))


def emit_clozes(
    tokens: list[tuple[str, str]], ranges: list[tuple[int, int, int]], line_break: str = "\n"
) -> list[tuple[str, str]]:
    """The code's runs, (the tag that opens a run's span or "", its HTML), with the cloze markers
    around exactly the hidden characters. `tokens` are (CSS class, text); the ends of lines outside
    every cloze are written as `line_break`, those inside stay newlines (a cloze reaches Anki whole)."""
    boundaries: dict[int, list[str]] = {}
    for number, start, end in ranges:
        boundaries.setdefault(start, []).append(f"{{{{c{number}::")
        boundaries.setdefault(end, []).insert(0, "}}")
    out: list[tuple[str, str]] = []
    inside = 0
    position = 0
    for css, value in tokens:
        cuts = sorted(b for b in boundaries if position < b < position + len(value))
        edges = [position, *cuts, position + len(value)]
        for left, right in zip(edges, edges[1:], strict=False):
            for marker in boundaries.get(left, []) if left == position or left in cuts else []:
                out.append(("", marker))
                inside += 1 if marker.startswith("{{") else -1
            piece = value[left - position:right - position]
            text = _separate(piece) if inside else html.escape(piece, quote=False).replace("\n", line_break)
            out.append((f'<span class="{css}">' if css else "", text))
        position += len(value)
    out += [("", marker) for marker in boundaries.get(position, [])]
    return out
