"""The Pygments adapter: code -> highlighted HTML with CSS classes, and the matching style sheet."""

from __future__ import annotations

import contextlib
import functools
import html
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from pygments import format as pygments_format
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.style import Style
from pygments.styles import get_style_by_name
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

from .cloze import LINE_BREAK, emit_clozes, has_cloze, split_clozes
from .fastlex import accelerate

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

LIGHT_STYLE = "default"
DARK_STYLE = "monokai"
NIGHT_SELECTORS = (".nightMode", ".night_mode")
CODE_SELECTOR = ".highlight"

# Lexers are cached per language name and run by fastlex, which gives Pygments' tokens with fewer
# regex attempts; one formatter (LineFormatter, below) writes every block.

# The budget of one code block's lexing. A lexer gives at most one token per character and a few
# tokens that consume nothing; one that loops (Pygments' `mcschema` on `<!--` yields empty tokens
# forever) or crawls is stopped, and the block is shown as plain text with a warning at its fence.
# Every lexer of Pygments stays far below the token budget on ordinary text (tests/test_limits.py).
LEX_TOKENS_PER_CHARACTER = 3
LEX_EXTRA_TOKENS = 1_000
LEX_SECONDS = 2.0
LEX_SECONDS_PER_MIB = 10.0


class LexBudgetExceeded(Exception):
    """A code block's lexer produced too many tokens or took too long."""


def lex_budget(code: str) -> tuple[int, float]:
    """(tokens, seconds) a block of code may take to lex."""
    return (
        LEX_TOKENS_PER_CHARACTER * len(code) + LEX_EXTRA_TOKENS,
        LEX_SECONDS + LEX_SECONDS_PER_MIB * len(code) / 2**20,
    )


def lex(code: str, lexer: Lexer) -> Iterator[tuple[_TokenType, str]]:
    """The lexer's tokens for the code, raising LexBudgetExceeded past the block's budget."""
    return itertools.chain.from_iterable(_budgeted_chunks(code, lexer))


def _budgeted_chunks(code: str, lexer: Lexer) -> Iterator[list[tuple[_TokenType, str]]]:
    """The lexer's tokens 32 at a time, the budget checked before each 32: the checks cost less
    than the lexing, and no generator of ours stands between each token and its reader."""
    max_tokens, seconds = lex_budget(code)
    deadline = time.monotonic() + seconds
    tokens = lexer.get_tokens(code)
    count = 0
    while True:
        if count > max_tokens:
            raise LexBudgetExceeded(f"gave more than {max_tokens:,} tokens for {len(code):,} characters")
        if time.monotonic() > deadline:
            raise LexBudgetExceeded(f"took more than {seconds:.1f} s")
        chunk = list(itertools.islice(tokens, 32))
        yield chunk
        if len(chunk) < 32:
            return
        count += 32


@contextlib.contextmanager
def _interrupt_after(seconds: float) -> Iterator[None]:
    """Raise LexBudgetExceeded after `seconds`, even inside one regex match that backtracks for ever
    (the regex engine checks for signals). Only in the main thread, where signals are delivered, and
    only when nothing else uses SIGALRM; elsewhere `lex` checks the time between tokens."""
    if (
        seconds <= 0  # already spent: `lex` stops at the first token
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise LexBudgetExceeded(f"took more than {seconds:.1f} s")

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


# Info strings that other Markdown renderers highlight but Pygments knows by another name (or only
# as a file extension): Node's docs write `mjs` and `cjs`, inka2's READMEs `commandline`.
LANGUAGE_ALIASES = {
    "mjs": "javascript", "cjs": "javascript", "node": "javascript", "jsonc": "json5",
    "commandline": "console", "cmd": "batch", "svg": "xml", "dotenv": "bash", "env": "bash",
}
# Info strings that mean "no highlighting": shown as plain text without a warning.
PLAIN_LANGUAGES = ("", "text", "plain", "txt", "plaintext", "none", "nohighlight", "csv", "tsv")


@functools.cache
def find_lexer(language: str) -> Lexer | None:
    """The lexer for a fence's language, or None when Pygments knows no such language."""
    if not language:
        return None
    try:
        lexer = get_lexer_by_name(LANGUAGE_ALIASES.get(language, language), stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
    return accelerate(lexer)


# MyST's code directives name the language in their argument: ```{code-block} python
_CODE_DIRECTIVES = ("{code-block}", "{code}", "{sourcecode}", "{code-cell}")


def language_of(info: str) -> str:
    """The language named by a fence's info string: its first word, read through the braces other
    tools put around it (md2anki's `{=cpp}`, Pandoc's `{.python}`, MyST's `{code-block} python`)."""
    words = info.strip().lower().split()
    if not words:
        return ""
    if words[0] in _CODE_DIRECTIVES:
        return words[1] if len(words) > 1 else ""
    first = words[0]
    if first.startswith("{") and first.endswith("}") and len(first) > 2 and first[1] in "=.":
        return first[2:-1].split(",")[0].strip()
    return first


MAX_INDENT_CLASS = 40  # indentation classes i1..i40: the hanging indent of deeper lines stops there
MAX_HELD_INDENT = 32  # an indentation this deep at most never wraps (a phone's row holds 40 columns)
TAB_WIDTH = 4

# A piece of a line of code: the tag that opens its span ("" for bare text) and its HTML-escaped text.
Run = tuple[str, str]


def _line_element(runs: list[Run]) -> str:
    """One line of a code block as a block of its own, so that a line too long for the screen wraps
    with a hanging indent below its own indentation (card.css draws the continuation mark).

    Its indentation goes into `<span class="indent">` elements (one per run it spans), which card.css
    does not let wrap: a phone then wraps the line at a space between its words, never right after
    its indentation, which would leave a blank row above the line's text."""
    held = 0  # the runs that hold nothing but indentation
    for _, piece in runs:
        if piece.lstrip(" \t"):
            break
        held += 1
    indentation = "".join([piece for _, piece in runs[:held]])
    if held < len(runs):
        piece = runs[held][1]
        indentation += piece[: len(piece) - len(piece.lstrip(" \t"))]
    if not indentation:
        return f'<span class="line">{_runs_html(runs)}\n</span>'
    indent = min(len(indentation.expandtabs(TAB_WIDTH)), MAX_INDENT_CLASS)
    if indent <= MAX_HELD_INDENT:
        runs = [(opener, _held(piece)) for opener, piece in runs[: held + 1]] + runs[held + 1:]
    return f'<span class="line i{indent}">{_runs_html(runs)}\n</span>'


def _held(piece: str) -> str:
    """A piece of a line with its leading indentation in a span that does not wrap."""
    rest = piece.lstrip(" \t")
    return f'<span class="indent">{piece[: len(piece) - len(rest)]}</span>{rest}' if len(rest) < len(piece) else piece


def _runs_html(runs: list[Run]) -> str:
    return "".join([f"{opener}{piece}</span>" if opener else piece for opener, piece in runs])


def wrap_lines(lines: list[list[Run]]) -> str:
    """Every line of a code block as an element of its own (see _line_element); the empty line after
    the block's last newline is none."""
    if len(lines) > 1 and not any(piece for _, piece in lines[-1]):
        lines = lines[:-1]
    return "".join(_line_element(line) for line in lines)


def _plain_lines(code: str) -> list[list[Run]]:
    return [[("", line)] for line in html.escape(code).split("\n")]


def _cut_lines(runs: list[Run], line_break: str) -> list[list[Run]]:
    """Runs cut into lines at `line_break`: a run that holds one ends on its line and goes on, in a
    span of the same class, on the next."""
    lines: list[list[Run]] = [[]]
    for opener, text in runs:
        for number, piece in enumerate(text.split(line_break)):
            if number:
                lines.append([])
            lines[-1].append((opener, piece))
    return lines


ESCAPED_TOKENS = 4096  # distinct token texts whose escaped pieces LineFormatter keeps at a time

if TYPE_CHECKING:
    _HtmlFormatter = HtmlFormatter[str]
else:
    _HtmlFormatter = HtmlFormatter


class LineFormatter(_HtmlFormatter):
    """Pygments' HTML formatter writing each line of code as an element of its own (see
    _line_element), from the tokens themselves: Pygments' class names and its spans, one per run of
    tokens of one class, closed at the end of each line as Pygments closes them."""

    def __init__(self) -> None:
        super().__init__(nowrap=True)
        self._openers: dict[_TokenType, str] = {}
        self._escaped: dict[str, tuple[str, ...]] = {}

    def _opener(self, token_type: _TokenType) -> str:
        opener = self._openers.get(token_type)
        if opener is None:
            # Pygments' own class names (as its style sheets use them); the stubs leave this method out
            css = self._get_css_classes(token_type)  # type: ignore[attr-defined]
            opener = self._openers[token_type] = f'<span class="{css}">' if css else ""
        return opener

    def lines(self, tokensource: Iterable[tuple[_TokenType, str]]) -> list[list[Run]]:
        """The tokens as lines of runs: empty tokens left out, neighbours of one class joined."""
        lines: list[list[Run]] = [[]]
        line = lines[0]
        openers = self._openers
        escaped = self._escaped
        for token_type, value in tokensource:
            opener = openers.get(token_type)
            if opener is None:
                opener = self._opener(token_type)
            pieces = escaped.get(value)
            if pieces is None:
                pieces = self._escape(value)
            if len(pieces) == 1:  # most tokens: no line break
                piece = pieces[0]
                if not piece:
                    continue
                if line and line[-1][0] == opener:
                    line[-1] = (opener, line[-1][1] + piece)
                else:
                    line.append((opener, piece))
                continue
            for number, piece in enumerate(pieces):
                if number:
                    line = []
                    lines.append(line)
                if piece:
                    if line and line[-1][0] == opener:
                        line[-1] = (opener, line[-1][1] + piece)
                    else:
                        line.append((opener, piece))
        return lines

    def _escape(self, value: str) -> tuple[str, ...]:
        """A token's text HTML-escaped and cut at its line breaks; remembered for the next
        ESCAPED_TOKENS distinct texts (names, operators and indentation repeat), then forgotten."""
        pieces = tuple(html.escape(value, quote=False).split("\n"))
        if len(self._escaped) >= ESCAPED_TOKENS:
            self._escaped.clear()
        self._escaped[value] = pieces
        return pieces

    def format_unencoded(self, tokensource: Iterable[tuple[_TokenType, str]], outfile: SupportsWrite[str]) -> None:
        outfile.write(wrap_lines(self.lines(tokensource)))


_FORMATTER = LineFormatter()


def _css_class(token_type: _TokenType) -> str:
    """The class of the nearest standard type (Token itself, the root, is one)."""
    current: _TokenType | None = token_type
    while current is not None and current not in STANDARD_TYPES:
        current = current.parent
    return STANDARD_TYPES[current] if current is not None else ""


def highlight_code_clozes(code: str, lexer: Lexer | None, line_break: str = "\n") -> list[Run]:
    """A code block's highlighted runs with its clozes around exactly the hidden characters; the
    ends of lines outside every cloze are written as `line_break`."""
    plain, ranges = split_clozes(code)
    tokens = [("", plain)] if lexer is None else [(_css_class(t), v) for t, v in lex(plain, lexer)]
    return emit_clozes(tokens, ranges, line_break)


def highlight_code(code: str, language: str, warn: Callable[[str], None] | None = None) -> str:
    """A complete `<pre>` element for a code block, one element per line (see wrap_lines); unknown
    languages come out as escaped text, and so does a block whose lexing goes over its budget
    (`warn` is told why)."""
    lexer = find_lexer(language)
    css_language = html.escape(language, quote=True)
    clozed = has_cloze(code)

    def with_clozes(cloze_lexer: Lexer | None) -> str:
        # lines are cut only outside clozes: a cloze must reach Anki in one piece
        return wrap_lines(_cut_lines(highlight_code_clozes(code, cloze_lexer, line_break=LINE_BREAK), LINE_BREAK))

    try:
        if lexer is None and not clozed:
            inner = wrap_lines(_plain_lines(code))
        else:
            with _interrupt_after(lex_budget(code)[1]):
                if clozed or lexer is None:
                    inner = with_clozes(lexer)
                else:
                    inner = pygments_format(lex(code, lexer), _FORMATTER)
    except LexBudgetExceeded as exc:
        if warn is not None:
            warn(f"the '{language}' highlighter {exc}: the code block is shown without highlighting")
        inner = with_clozes(None) if clozed else wrap_lines(_plain_lines(code))
    lang_class = f" language-{css_language}" if language else ""
    return f'<pre class="highlight{lang_class}"><code>{inner}</code></pre>\n'


def line_css() -> str:
    """The hanging indent of each indentation class (see wrap_lines)."""
    return "".join(f".highlight .line.i{n} {{ --indent: {n}; }}\n" for n in range(1, MAX_INDENT_CLASS + 1))


MIN_CONTRAST = 4.5  # WCAG AA for text: every token's colour against the code's background


def _luminance(color: str) -> float:
    """WCAG relative luminance of a `#rrggbb` colour."""
    channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two `#rrggbb` colours (1 to 21)."""
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _full_hex(color: str) -> str:
    color = color.lstrip("#")
    return "#" + (color * 2 if len(color) == 1 else "".join(c * 2 for c in color) if len(color) == 3 else color).lower()


def readable(color: str, background: str) -> str:
    """The colour, mixed towards black (on a light background) or white (on a dark one) just enough
    to reach MIN_CONTRAST against the background; unchanged when it already does."""
    color, background = _full_hex(color), _full_hex(background)
    target = (0, 0, 0) if _luminance(background) > 0.18 else (255, 255, 255)
    start = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
    for step in range(65):
        mixed = "#" + "".join(f"{round(c + (t - c) * step / 64):02x}" for c, t in zip(start, target, strict=True))
        if contrast(mixed, background) >= MIN_CONTRAST:
            return mixed
    return mixed


def readable_style(name: str) -> type[Style]:
    """The Pygments style with every token colour raised to MIN_CONTRAST against the code's background
    (or the token's own background): some themes draw comments, output or whitespace too faintly."""
    base = get_style_by_name(name)
    changed = {}
    for ttype, definition in base:
        if not definition["color"]:
            continue
        background = "#" + (definition["bgcolor"] or base.background_color.lstrip("#"))
        color = readable("#" + definition["color"], background)
        if color != _full_hex(definition["color"]):
            changed[ttype] = f"{base.styles.get(ttype, '')} {color}".strip()
    return type(f"Readable{base.__name__}", (base,), {"styles": {**base.styles, **changed}})


def style_sheet() -> str:
    """Light theme for code, and the dark theme under Anki's night-mode classes; every token readable."""
    # the stubs leave get_style_defs unannotated
    light = HtmlFormatter(style=readable_style(LIGHT_STYLE)).get_style_defs(CODE_SELECTOR)  # type: ignore[no-untyped-call]
    dark_prefixes = [f"{night} {CODE_SELECTOR}" for night in NIGHT_SELECTORS]
    dark = HtmlFormatter(style=readable_style(DARK_STYLE)).get_style_defs(dark_prefixes)  # type: ignore[no-untyped-call]
    return (
        f"/* code: light ({LIGHT_STYLE}) */\n{light}\n/* code: night mode ({DARK_STYLE}) */\n{dark}\n"
        f"/* code: hanging indents */\n{line_css()}"
    )
