"""The Markdown dialect: CommonMark with tables, strikethrough, task lists and dollar math,
and the rules that keep it safe and bounded (links, images, nesting, Anki's [sound:])."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.parser_inline import RuleFuncInlineType
from markdown_it.renderer import RendererHTML, RendererProtocol
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline, image
from markdown_it.token import Token
from markdown_it.utils import EnvType
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_inline_dollar
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

_SAFE_URL = re.compile(r"^(?:https?:|mailto:|[^:]*$)", re.I)  # web and mail links, or relative paths
MAX_NESTING = 100  # markdown-it's block nesting: a list level counts two, a blockquote level one
INLINE_MAX_NESTING = 20  # markdown-it's own limit for inline nesting (links in links): nothing is lost there


ENV_KEY = "deckbuild"  # the one key of markdown-it's `env` that the deck uses: a DeckEnv


@dataclass(slots=True)
class DeckEnv:
    """What the deck's markdown-it rules, the parse stage and the renderer tell each other about one
    file, kept in `env[ENV_KEY]`. Its fields are filled in while the file is parsed (hence not frozen)."""

    # the first line markdown-it would skip for nesting too deep (0-based), reported as an error
    too_deep_line: int | None = None
    # `$2x$` read as money although it looks like a formula: (id(paragraph), offset) -> paragraph
    digit_dollars: dict[tuple[int, int], str] = field(default_factory=dict)
    # raw HTML `<img src>` -> its packaged media name (the sanitizer removes every other source)
    images: dict[str, str] = field(default_factory=dict)
    # report(line, message): warnings found while rendering (a code block over its lexing budget)
    warn: Callable[[int, str], None] | None = None


def deck_env(env: EnvType) -> DeckEnv:
    """The file's DeckEnv in markdown-it's `env`, made on first use."""
    found = env.get(ENV_KEY)
    if found is None:
        found = env[ENV_KEY] = DeckEnv()
    if not isinstance(found, DeckEnv):
        raise TypeError(f"env[{ENV_KEY!r}] holds a {type(found).__name__}, not a DeckEnv")
    return found


META_KEY = "deckbuild"  # the one key of a token's `meta` that the deck uses: a TokenNotes


@dataclass(slots=True)
class TokenNotes:
    """What the parse stage notes on one token for later stages, kept in `token.meta[META_KEY]`."""

    # on `anki_sound` and on the link_open/link_close of a link to a sound file: its packaged name
    # ("" when the file was not found, which is an error at its line)
    sound: str | None = None
    # on an inline token: (id of its children list, their number, id(child) -> (index, lines before it))
    positions: tuple[int, int, dict[int, tuple[int, int]]] | None = None


def token_notes(token: Token) -> TokenNotes:
    """The deck's notes on a token, made on first use."""
    found = token.meta.get(META_KEY)
    if found is None:
        found = token.meta[META_KEY] = TokenNotes()
    if not isinstance(found, TokenNotes):
        raise TypeError(f"meta[{META_KEY!r}] of a {token.type} token holds a {type(found).__name__}")
    return found


def sound_of(token: Token) -> str | None:
    """The packaged sound a token plays (see TokenNotes.sound), without adding notes to it."""
    found = token.meta.get(META_KEY)
    return found.sound if isinstance(found, TokenNotes) else None


def _validate_link(url: str) -> bool:
    """Links and images may be web or mail addresses or relative paths: never javascript:, data: ..."""
    return bool(_SAFE_URL.match(url.strip()))


class SafeLinks(MarkdownIt):
    """The dialect's parser: links and images may be web or mail addresses or relative paths."""

    def validateLink(self, url: str) -> bool:  # markdown-it's name
        return _validate_link(url)


class AnyAddress(MarkdownIt):
    """The parser images are read with (see safe_links_plugin): any address that is not empty."""

    def validateLink(self, url: str) -> bool:  # markdown-it's name
        return bool(url)


_OPTIONS = {"html": True}


def make_markdown(renderer_cls: Callable[[MarkdownIt], RendererProtocol] = RendererHTML) -> MarkdownIt:
    """The one Markdown dialect: CommonMark plus GitHub's tables, strikethrough and task lists, and
    dollar math (`$x$`, `$$x$$`; a `$` followed by a digit or a space stays a dollar sign).
    The render stage gives its renderer class; parsing alone needs none."""
    # markdown-it's own nesting limit sits one level past the dialect's, which nesting_plugin reports
    md = SafeLinks("commonmark", {**_OPTIONS, "maxNesting": MAX_NESTING + 1}, renderer_cls=renderer_cls)
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    md.use(tasklists_plugin)
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, allow_labels=False)
    md.use(safe_links_plugin)
    md.use(prose_math_plugin)
    md.use(nesting_plugin)
    return md


def _inline_parser(md: MarkdownIt, parser_cls: type[MarkdownIt]) -> MarkdownIt:
    """A parser for inline text that shares `md`'s inline rules, with markdown-it's usual inline
    nesting limit and the link rule of `parser_cls`. markdown-it's inline parser reads both from the
    MarkdownIt it is given to parse with."""
    inline = parser_cls("commonmark", {**_OPTIONS, "maxNesting": INLINE_MAX_NESTING})
    inline.inline = md.inline
    return inline


def safe_links_plugin(md: MarkdownIt) -> None:
    """Links may be web or mail addresses or relative paths; images keep any address (`file:`,
    `data:`, a name with `:`), so that the media check reports it at its line instead of the image
    staying as literal text. (Links are checked by SafeLinks.validateLink, the dialect's parser.)"""
    md.inline.ruler.at("image", _every_image_address(image, _inline_parser(md, AnyAddress)))
    md.inline.ruler.before("link", "anki_sound", _anki_sound)


def prose_math_plugin(md: MarkdownIt) -> None:
    """Dollar math that leaves prices and code spans alone, and Anki's `\\(...\\)` and `\\[...\\]`."""
    md.inline.ruler.at("math_inline", _prose_math_only(math_inline_dollar(False, False, False)))
    md.inline.ruler.before("escape", "math_backslash", _backslash_math)


def nesting_plugin(md: MarkdownIt) -> None:
    """Nesting limits: blocks nested too deeply are an error (markdown-it would drop the rest of
    the block silently), inline nesting past markdown-it's usual limit stays text (no loss; a
    higher limit makes `[[[...]]]` many times slower)."""
    first = md.block.ruler.get_all_rules()[0]
    md.block.ruler.before(first, "deck_too_deep", _too_deep)
    md.core.ruler.at("inline", _parse_inlines(_inline_parser(md, type(md))))


_BACKSLASH_MATH = {"(": ("\\)", "math_inline"), "[": ("\\]", "math_inline_double")}


def _backslash_math(state: StateInline, silent: bool) -> bool:
    """`\\(...\\)` and `\\[...\\]`, the delimiters Anki's MathJax reads (and ankdown's notes use): the
    same formula tokens as `$...$` and `$$...$$`, so they pass the same checks and render the same,
    where Markdown would take each backslash for an escape and leave "(...)" in the text.

    Without its closing delimiter in the paragraph it stays an escape (`\\[sound:x.mp3]` is text), and
    like dollar math it never holds a backtick, so a code span is never cut."""
    src, start = state.src, state.pos
    kind = _BACKSLASH_MATH.get(src[start + 1:start + 2]) if src.startswith("\\", start) else None
    if kind is None:
        return False
    closer, token_type = kind
    index = start + 2
    while index < state.posMax:
        if src.startswith(closer, index):
            break
        index += 2 if src[index] == "\\" else 1
    else:
        return False
    content = src[start + 2:index]
    if not content.strip() or "`" in content:
        return False
    if not silent:
        token = state.push(token_type, "math", 0)
        token.content = content
        token.markup = src[start:start + 2]
    state.pos = index + 2
    return True


def _anki_sound(state: StateInline, silent: bool) -> bool:
    """Anki's own `[sound:file.mp3]` written in a card: a sound to package (or an error when the
    file is missing), never text that Anki would read as a tag of its own."""
    if not state.src.startswith("[sound:", state.pos):
        return False
    end = state.src.find("]", state.pos)
    if end < 0 or "\n" in state.src[state.pos:end]:
        return False
    if not silent:
        token = state.push("anki_sound", "", 0)
        token.content = state.src[state.pos + len("[sound:"):end]
    state.pos = end + 1
    return True


def _too_deep(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """At the dialect's nesting limit, the rest of the block is skipped as markdown-it would skip
    it, and its first line is noted in the file's DeckEnv: parsing reports it as an error, since
    it would take every later card of the file with it."""
    if state.level < MAX_NESTING:
        return False
    if not silent:
        deck = deck_env(state.env)
        if deck.too_deep_line is None:
            deck.too_deep_line = start_line
        state.line = end_line
    return True


def _parse_inlines(parser: MarkdownIt) -> Callable[[StateCore], None]:
    """markdown-it's core `inline` rule, run with the parser of inline text (see _inline_parser)."""

    def rule(state: StateCore) -> None:
        for token in state.tokens:
            if token.type == "inline":
                if token.children is None:
                    token.children = []
                parser.inline.parse(token.content, parser, state.env, token.children)

    return rule


def _every_image_address(image_rule: RuleFuncInlineType, parser: MarkdownIt) -> RuleFuncInlineType:
    """markdown-it's image rule, run with a parser that accepts every address.

    This one step is not an extension point of markdown-it-py: the rule asks `state.md.validateLink`,
    so the parse state points at the other parser while the rule runs (the shared parser is left
    alone). tests/test_dialect.py pins it to the markdown-it-py version it was written for."""

    def rule(state: StateInline, silent: bool) -> bool:
        own = state.md
        state.md = parser
        try:
            return image_rule(state, silent)
        finally:
            state.md = own

    return rule


# a `$...$` pair on one line that starts with a digit yet reads as a formula: a letter, `\`, `^` or `_`
# right after the digits, no space right inside the dollars, and no digit after the closing one
_DIGIT_FORMULA = re.compile(r"\$\d+(?:\.\d+)?[A-Za-z\\^_][^$\n`]*(?<!\s)\$(?!\d)")


def _prose_math_only(math_rule: RuleFuncInlineType) -> RuleFuncInlineType:
    """Dollar math that leaves prices and code spans alone.

    `$3 and $4` is money, not a formula (an inline formula never starts with a digit), and a `$`
    inside a code span never closes a formula that began outside it.
    """

    def rule(state: StateInline, silent: bool) -> bool:
        start = state.pos
        if state.src[start] != "$":
            return False
        if state.src[start + 1:start + 2].isdigit():
            if _DIGIT_FORMULA.match(state.src, start):
                deck_env(state.env).digit_dollars[(id(state.src), start)] = state.src
            return False
        if not math_rule(state, True):
            return False
        end = state.pos
        state.pos = start
        if "`" in state.src[start:end]:
            return False
        return bool(math_rule(state, silent))

    return rule


def walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from walk(token.children)


def line_offset(inline: Token, image: Token) -> int:
    """Lines between the start of a paragraph and a child token in it (markdown-it maps blocks only)."""
    return _position(inline, image)[1]


def child_index(inline: Token, child: Token) -> int | None:
    """The place of a direct child in its paragraph's children (None for a nested token), in
    constant time after the first question about the paragraph."""
    return _position(inline, child)[0]


def _position(inline: Token, image: Token) -> tuple[int | None, int]:
    """A direct child's index and line offset in its paragraph ((None, 0) for a nested token).

    The offsets of all the paragraph's children are counted once and kept in the token's meta, so
    asking for each child of a long paragraph stays linear (counting afresh each time was quadratic)."""
    children = inline.children or []
    notes = token_notes(inline)
    cached = notes.positions
    offsets = cached[2] if cached is not None and cached[:2] == (id(children), len(children)) else None
    entry = offsets.get(id(image)) if offsets is not None else None
    if offsets is None or (entry is not None and children[entry[0]] is not image):
        offsets = {}
        offset = 0
        for index, child in enumerate(children):
            offsets[id(child)] = (index, offset)
            if child.type in ("softbreak", "hardbreak"):
                offset += 1
        notes.positions = (id(children), len(children), offsets)
        entry = offsets.get(id(image))
    return (None, 0) if entry is None else entry
