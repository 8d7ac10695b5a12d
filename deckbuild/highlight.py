"""The Pygments adapter: code -> highlighted HTML with CSS classes, and the matching style sheet."""

from __future__ import annotations

import functools
import html

from pygments import highlight as pygments_highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .fastlex import accelerate

LIGHT_STYLE = "default"
DARK_STYLE = "monokai"
NIGHT_SELECTORS = (".nightMode", ".night_mode")
CODE_SELECTOR = ".highlight"

# One formatter for every block; lexers are cached per language name and run by fastlex, which
# gives Pygments' tokens with fewer regex attempts.
_FORMATTER = HtmlFormatter(nowrap=True)


@functools.lru_cache(maxsize=None)
def find_lexer(language: str) -> Lexer | None:
    """The lexer for a fence's language, or None when Pygments knows no such language."""
    if not language:
        return None
    try:
        lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
    return accelerate(lexer)


def language_of(info: str) -> str:
    """The language named by a fence's info string: its first word."""
    return info.strip().split(maxsplit=1)[0].lower() if info.strip() else ""


def highlight_code(code: str, language: str) -> str:
    """A complete `<pre>` element for a code block; unknown languages come out as escaped text."""
    from .cloze import has_cloze, highlight_code_clozes  # only cloze cards need it

    lexer = find_lexer(language)
    css_language = html.escape(language, quote=True)
    if has_cloze(code):
        inner = highlight_code_clozes(code, lexer)
    elif lexer is None:
        inner = html.escape(code)
    else:
        inner = pygments_highlight(code, lexer, _FORMATTER)
    lang_class = f" language-{css_language}" if language else ""
    return f'<pre class="highlight{lang_class}"><code>{inner}</code></pre>\n'


def style_sheet() -> str:
    """Light theme for code, and the dark theme under Anki's night-mode classes."""
    light = HtmlFormatter(style=LIGHT_STYLE).get_style_defs(CODE_SELECTOR)
    dark_prefixes = [f"{night} {CODE_SELECTOR}" for night in NIGHT_SELECTORS]
    dark = HtmlFormatter(style=DARK_STYLE).get_style_defs(dark_prefixes)
    return f"/* code: light ({LIGHT_STYLE}) */\n{light}\n/* code: night mode ({DARK_STYLE}) */\n{dark}\n"
