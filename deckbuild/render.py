"""Render stage: card sources (markdown-it tokens) -> cards with sanitised HTML parts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from .cloze import find_clozes, has_cloze, render_code_clozes
from .dialect import ENV_KEY, deck_env, make_markdown, sound_of
from .errors import Diagnostics, SourceLocation
from .highlight import highlight_code, language_of
from .lock import content_hash
from .media import is_audio
from .records import DEFAULT_VALUE, Card, CardSource, CodeBlock, FileResult, Option, ParsedFile, SourceFile
from .sanitize import sanitize_html


class DeckRenderer(RendererHTML):
    """markdown-it's HTML renderer with the deck's rules: highlighted code, MathJax delimiters and
    Anki's `[sound:]` tags.

    Its output is HTML for Anki, named apart from plain `"html"` so that plugins do not install their
    own HTML rules over these (markdown-it adds a plugin's render rule only to a renderer of the
    format the rule is written for): every token the dialect makes is rendered by a method here or
    by markdown-it's own.
    """

    __output__ = "anki-html"

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        report = deck_env(env).warn
        line = token.map[0] + 1 if token.map else 0
        warn = (lambda message: report(line, message)) if report is not None else None
        return highlight_code(token.content, language_of(token.info), warn)

    def code_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return highlight_code(tokens[idx].content, "")

    def code_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        content = tokens[idx].content
        inner = render_code_clozes(content) if has_cloze(content) else html.escape(content, quote=False)
        return f"<code>{inner}</code>"

    def math_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        # Anki's MathJax reads \(...\) and \[...\]; backslashes pass through untouched.
        return f"\\({html.escape(tokens[idx].content, quote=False)}\\)"

    def math_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return f'<div class="math">\\[{html.escape(tokens[idx].content.strip(), quote=False)}\\]</div>\n'

    def math_inline_double(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return self.math_block(tokens, idx, options, env)

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        src = str(tokens[idx].attrGet("src") or "")
        if src and is_audio(src):  # a sound file written as an image: Anki plays it
            return f"[sound:{html.escape(src)}]"
        return super().image(tokens, idx, options, env)

    def anki_sound(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        name = sound_of(tokens[idx])
        # a resolved file becomes Anki's own tag; an unresolved one was an error at its line
        return f"[sound:{html.escape(name)}]" if name else ""

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        if sound_of(tokens[idx]) is not None:  # a link to a sound file: its text, then Anki's play button
            return ""
        return self.renderToken(tokens, idx, options, env)

    def link_close(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        name = sound_of(tokens[idx])
        if name is not None:
            return f" [sound:{html.escape(name)}]" if name else ""
        return self.renderToken(tokens, idx, options, env)


def _has_raw_html(tokens: Sequence[Token]) -> bool:
    return any(
        t.type in ("html_block", "html_inline") or (t.children is not None and _has_raw_html(t.children))
        for t in tokens
    )


def _safe(html_text: str, tokens: Sequence[Token], env: dict[str, Any]) -> str:
    # Our own rendering escapes all text, only lets safe links through (dialect._validate_link) and
    # gives images their packaged names (parse._resolve_images): the allow-list sanitizer is needed
    # only where the author wrote raw HTML. It keeps only the image sources the parse stage resolved.
    return sanitize_html(html_text, deck_env(env).images) if _has_raw_html(tokens) else html_text


def _render_inline(md: MarkdownIt, tokens: Sequence[Token], env: dict[str, Any]) -> str:
    renderer = md.renderer
    if not isinstance(renderer, RendererHTML):
        raise TypeError(f"the parser's renderer is a {type(renderer).__name__}, not markdown-it's HTML renderer")
    return renderer.renderInline(list(tokens), md.options, env)


def _render_blocks(md: MarkdownIt, tokens: Sequence[Token], env: dict[str, Any]) -> str:
    if not tokens:
        return ""
    return _safe(md.renderer.render(list(tokens), md.options, env), tokens, env).strip()


def render_card(
    md: MarkdownIt, source: CardSource, source_digest: str = "", diagnostics: Diagnostics | None = None
) -> Card:
    env = source.env
    if diagnostics is not None:
        path = source.meta.location.path
        env = {**env, ENV_KEY: replace(
            deck_env(env), warn=lambda line, message: diagnostics.warning(SourceLocation(path, line), message)
        )}
    question = _safe(_render_inline(md, source.question_tokens, env), source.question_tokens, env)
    options = tuple(
        Option(html=_render_blocks(md, option.tokens, env), correct=option.correct)
        for option in source.options
    )
    return Card(
        meta=source.meta,
        question_html=question.strip(),
        context_html=_render_blocks(md, source.context_tokens, env),
        answer_html=_render_blocks(md, source.answer_tokens, env),
        options=options,
        source_digest=source_digest,
        code_blocks=_code_blocks(source),
        reference_html=_render_references(md, source, env),
        references=tuple(reference.url for reference in source.references),
    )


def _render_references(md: MarkdownIt, source: CardSource, env: dict[str, Any]) -> str:
    """The reference links as the back shows them: labelled links, separated by a middle dot."""
    links = []
    for reference in source.references:
        label = _safe(_render_inline(md, reference.label_tokens, env), reference.label_tokens, env)
        links.append(f'<a href="{html.escape(reference.url)}">{label.strip()}</a>')
    return " &middot; ".join(links)


def source_digests(source: SourceFile, cards: Sequence[CardSource]) -> list[str]:
    """Per card, a digest of its own lines (heading to the next card's heading, surrounding blank
    lines left out) and of what the file gives it: not of the HTML, which the toolchain makes."""
    lines = source.text.split("\n")
    starts = [card.meta.location.line - 1 for card in cards] + [len(lines)]
    return [
        content_hash(
            "\n".join(lines[start:end]).strip(),
            card.meta.topic, card.meta.difficulty, card.meta.tags, card.meta.retired,
            tuple(media.name for media in card.meta.media),
            # the value only when set: a card written before values existed keeps its digest
            *((card.meta.value,) if card.meta.value != DEFAULT_VALUE else ()),
        )
        for card, start, end in zip(cards, starts[:-1], starts[1:], strict=True)
    ]


def _code_blocks(source: CardSource) -> tuple[CodeBlock, ...]:
    """The card's code blocks with their source lines, for the checks that read code (lint)."""
    parts = [("context", source.context_tokens), ("answer", source.answer_tokens)]
    parts += [("option", option.tokens) for option in source.options]
    blocks = []
    for part, tokens in parts:
        for token in tokens:
            if token.type not in ("fence", "code_block") or token.map is None:
                continue
            text = token.content
            if has_cloze(text):
                clozes, _ = find_clozes(text, True)
                for cloze in reversed(clozes):
                    text = text[:cloze.start] + text[cloze.content_start:cloze.content_end] + text[cloze.end:]
            first = token.map[0] + (2 if token.type == "fence" else 1)
            language = language_of(token.info) if token.type == "fence" else ""
            blocks.append(CodeBlock(first, language, text, part))
    return tuple(blocks)


_MARKDOWN: MarkdownIt | None = None


def markdown() -> MarkdownIt:
    """One configured parser per process."""
    global _MARKDOWN
    if _MARKDOWN is None:
        _MARKDOWN = make_markdown(DeckRenderer)
    return _MARKDOWN


def render_parsed(source: SourceFile, parsed: ParsedFile, diagnostics: Diagnostics, md: MarkdownIt) -> FileResult:
    """One parsed file's cards rendered, with every message its parse and render gave (`diagnostics`).

    `md` is the parser that made `parsed`: the tokens are rendered with the same configuration."""
    digests = source_digests(source, parsed.cards)
    cards = tuple(
        render_card(md, card, digest, diagnostics) for card, digest in zip(parsed.cards, digests, strict=True)
    )
    return FileResult(source.path, parsed.topic, parsed.title, cards, tuple(diagnostics.items))
