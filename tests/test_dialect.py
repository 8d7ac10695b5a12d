"""The Markdown dialect's extension points (deckbuild.dialect): plugins and rules added through
markdown-it's public API, one typed object in `env`, and the one step that still leans on how
markdown-it-py's image rule works, pinned to the version it was written for."""

from __future__ import annotations

import inspect

import markdown_it
import pytest
from markdown_it import MarkdownIt
from markdown_it.rules_inline import image

from deckbuild.dialect import (
    ENV_KEY,
    INLINE_MAX_NESTING,
    MAX_NESTING,
    META_KEY,
    DeckEnv,
    deck_env,
    make_markdown,
    sound_of,
    token_notes,
    walk,
)
from deckbuild.render import markdown

# The markdown-it-py release that dialect._every_image_address was written for: its image rule
# asks `state.md.validateLink` about the address, so the rule runs with the parse state pointing
# at a parser that accepts every address.
WRITTEN_FOR = "4.3.0"


def _children(text: str) -> list[str]:
    tokens = make_markdown().parse(text, {})
    return [token.type for token in walk(tokens) if token.type not in ("paragraph_open", "paragraph_close", "inline")]


def test_the_image_rule_still_asks_the_parse_states_parser() -> None:
    source = inspect.getsource(image)
    assert "state.md.validateLink(" in source, (
        f"dialect._every_image_address was written for markdown-it-py {WRITTEN_FOR}, whose image rule asks "
        f"state.md.validateLink; markdown-it-py {markdown_it.__version__}'s does not: check the image rule "
        "(an image must keep any address, a link must not) and update WRITTEN_FOR"
    )


def test_an_image_keeps_any_address_and_a_link_after_it_stays_safe() -> None:
    """The image is read with the any-address parser; the link after it in the same paragraph with
    the safe one again (the parse state is given back its own parser)."""
    md = make_markdown()
    tokens = md.parse("![a](data:image/png;base64,AAAA) then [b](javascript:alert(1)) end\n", {})
    children = tokens[1].children or []
    assert [c.type for c in children] == ["image", "text"]
    assert children[0].attrGet("src") == "data:image/png;base64,AAAA"
    assert "[b](javascript:alert(1))" in children[1].content
    assert md.validateLink("javascript:alert(1)") is False  # the shared parser was never changed


@pytest.mark.parametrize("address", ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd"])
def test_links_keep_the_safe_link_rule(address: str) -> None:
    assert "link_open" not in _children(f"[x]({address})\n")
    assert "link_open" in _children("[x](https://example.org/a) [y](../b.md) [z](mailto:a@b.c)\n")


def test_inline_nesting_past_the_limit_stays_text_and_no_option_is_rewritten() -> None:
    md = make_markdown()
    before = dict(md.options)
    deep = "[" * (INLINE_MAX_NESTING + 10) + "x" + "]" * (INLINE_MAX_NESTING + 10)
    html = md.render(f"{deep} and *after*\n")
    assert deep in html and "<em>after</em>" in html
    assert dict(md.options) == before


def test_the_inline_parser_runs_with_markdown_its_inline_limit() -> None:
    """markdown-it reads a link wrongly when exactly limit + 1 brackets open it: the dialect's inline
    text shows that quirk at the inline limit, not at the block limit, so the inline limit is the one
    in force (the block parser's own limit is MAX_NESTING + 1)."""
    text = "[" * (INLINE_MAX_NESTING + 1) + "foo]()"
    at_inline_limit = MarkdownIt("commonmark", {"maxNesting": INLINE_MAX_NESTING}).renderInline(text)
    at_block_limit = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING + 1}).renderInline(text)
    assert at_inline_limit != at_block_limit
    assert make_markdown().renderInline(text) == at_inline_limit


def test_a_block_nested_too_deeply_is_noted_at_its_first_line() -> None:
    depth = MAX_NESTING // 2 + 2  # a list level counts two
    text = "".join("  " * i + f"- item {i}\n" for i in range(depth)) + "\nafter\n"
    env: dict[str, object] = {}
    make_markdown().parse(text, env)
    # item k's text is parsed at level 2k + 2: item 49's, on line 49, is the first at the limit
    assert deck_env(env).too_deep_line == MAX_NESTING // 2 - 1
    shallow: dict[str, object] = {}
    make_markdown().parse("".join("  " * i + f"- item {i}\n" for i in range(depth - 4)), shallow)
    assert deck_env(shallow).too_deep_line is None


def test_digit_dollars_are_noted_in_the_typed_env() -> None:
    env: dict[str, object] = {}
    tokens = make_markdown().parse("It costs $2x$ and $3 or $4.\n", env)
    paragraph = tokens[1].content
    assert list(deck_env(env).digit_dollars.values()) == [paragraph]
    assert [offset for _, offset in deck_env(env).digit_dollars] == [paragraph.index("$2x$")]


def test_env_and_meta_each_hold_one_typed_object() -> None:
    env: dict[str, object] = {ENV_KEY: "not a DeckEnv"}
    with pytest.raises(TypeError, match="not a DeckEnv"):
        deck_env(env)
    fresh: dict[str, object] = {}
    assert isinstance(deck_env(fresh), DeckEnv) and deck_env(fresh) is fresh[ENV_KEY]
    token = make_markdown().parse("[sound:a.mp3]\n", {})[1].children[0]  # type: ignore[index]
    assert token.type == "anki_sound" and sound_of(token) is None and not token.meta
    token_notes(token).sound = "a.mp3"
    assert sound_of(token) == "a.mp3" and list(token.meta) == [META_KEY]


def test_the_renderers_rules_are_not_replaced_by_the_plugins() -> None:
    """dollarmath adds its own HTML rules for math tokens; the deck's renderer keeps its own."""
    html = markdown().render("$x^2$ and \\(y\\)\n\n$$\nz\n$$\n")
    assert html == '<p>\\(x^2\\) and \\(y\\)</p>\n<div class="math">\\[z\\]</div>\n'


def test_an_image_keeps_any_address_whatever_its_description_holds() -> None:
    """The description is read with markdown-it's rules, the image rule among them; the old global
    swap of validateLink was undone by that inner call, so `![a: b](data:x)` stayed literal text."""
    assert _children("![a: b!](data:x) and ![c](javascript:y)\n") == ["image", "text", "text", "image", "text"]
