"""Parse stage: a source file -> card sources (structure, options and validation, no HTML yet)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .choices import forbid_ticked_boxes, split_multiple_choice, trailing_task_list
from .cloze_checks import check_clozes
from .dialect import MAX_NESTING, child_index, deck_env, line_offset, make_markdown, token_notes, walk
from .errors import Diagnostics, SourceLocation
from .highlight import PLAIN_LANGUAGES, find_lexer, language_of
from .ids import slugify
from .media import MediaResolver, is_audio
from .options import (
    ID_PATTERN,
    SCALAR,
    check_difficulty,
    check_guid,
    check_title,
    check_value,
    is_comment,
    is_foreign_note_id,
    normalise_tags,
    normalise_topic,
    read_card_options,
    read_front_matter,
    read_lint_option,
)
from .records import DEFAULT_VALUE, CardMeta, CardSource, MediaFile, OptionSource, ParsedFile, SourceFile, first_line
from .references import split_references
from .sanitize import raw_image_sources
from .tex import math_problem


def default_topic(source: SourceFile) -> str:
    return re.sub(r"^\d+[-_. ]*", "", source.path.stem) or source.path.stem


def _inline_text(tokens: list[Token] | tuple[Token, ...]) -> str:
    parts = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif token.children:
            parts.append(_inline_text(token.children))
    return "".join(parts).strip()


def _check_fences(tokens: list[Token], source: SourceFile, diagnostics: Diagnostics) -> None:
    lines = source.text.split("\n")
    for token in tokens:
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map
        location = SourceLocation(source.path, start + 1)
        closing = re.sub(r"^[\s>]*", "", lines[end - 1]) if end - 1 > start else ""
        marker = token.markup
        if not (closing.startswith(marker) and set(closing.rstrip()) == {marker[0]}):
            diagnostics.error(
                location,
                f"code fence {marker} is never closed, so it swallows the rest of the file; "
                f"close it with a line holding {marker}",
            )
            continue
        language = language_of(token.info)
        if language not in PLAIN_LANGUAGES and find_lexer(language) is None:
            diagnostics.warning(location, f"unknown language '{language}': the code is shown without highlighting",
                                kind="unknown-language")


def _has_content(tokens: list[Token]) -> bool:
    return any(not is_comment(t) and t.type not in ("hr",) for t in tokens)


class CardBuilder:
    """Gathers one card's tokens between its heading and the next level-1 or level-2 heading."""

    def __init__(self, heading: Token, inline: Token):
        self.heading = heading
        self.inline = inline
        self.body: list[Token] = []

    @property
    def _comment_below(self) -> Token | None:
        first = self.body[0] if self.body else None
        heading_end = self.heading.map[1] if self.heading.map else None
        below = first is not None and is_comment(first) and first.map is not None and first.map[0] == heading_end
        return first if below else None

    @property
    def has_options(self) -> bool:
        """An options comment right below the heading: a card written for build_deck."""
        comment = self._comment_below
        return comment is not None and not is_foreign_note_id(comment)

    @property
    def foreign_note_id(self) -> Token | None:
        """Obsidian_to_Anki's `<!--ID: ...-->` right below the heading: not options, and not used."""
        comment = self._comment_below
        return comment if comment is not None and is_foreign_note_id(comment) else None


def _lines(tokens: list[Token]) -> tuple[int, int]:
    """The first and last line (1-based) of some block tokens."""
    return first_line(tokens[0]), max(t.map[1] for t in tokens if t.map is not None)


def _shown_lines(first: int, last: int) -> str:
    return f"line {first} is" if first >= last else f"lines {first}-{last} are"


def _warn_outside(tokens: list[Token], source: SourceFile, diagnostics: Diagnostics) -> None:
    """Blocks after a level-1 heading that ends a card, before the next card: each run of them is
    on no card, and says so at its first line."""
    runs: list[list[Token]] = []
    for token in tokens:
        if token.map is None or is_comment(token) or token.type == "hr":
            continue
        previous = runs[-1][-1].map if runs else None
        if previous and token.map[0] <= previous[1] + 1 and token.type != "heading_open":
            runs[-1].append(token)
        else:
            runs.append([token])
    for run in runs:
        first, last = _lines(run)
        diagnostics.warning(
            SourceLocation(source.path, first),
            f"{_shown_lines(first, last)} on no card: a level-1 heading ends the card before it, only the "
            "file's first one is its title, and a card starts with a level-2 heading (## Question)",
            kind="not-on-a-card",
        )


def _warn_introduction(runs: list[list[Token]], source: SourceFile, diagnostics: Diagnostics) -> None:
    """Blocks before the file's first card (other than its title): each run of them, the text above
    the title and the text below it, is on no card and says so at its first line. HTML comments and
    `---` rules are not text."""
    lines = source.text.split("\n")
    for run in runs:
        blocks = [token for token in run if token.map is not None and not is_comment(token) and token.type != "hr"]
        if not blocks:
            continue
        first, last = _lines(blocks)
        while last > first and not lines[last - 1].strip():
            last -= 1  # a list's lines may end with a blank one
        one = first >= last
        shown = f"line {first} comes" if one else f"lines {first}-{last} come"
        diagnostics.warning(
            SourceLocation(source.path, first),
            f"{shown} before the first card and {'is' if one else 'are'} on no card (the file's introduction): "
            f"make {'it' if one else 'them'} a card, or an HTML comment if they are notes for authors",
            kind="introduction",
        )


_HTML_HEADING = re.compile(r"<h[1-2][\s>]|\bdata-question\b", re.I)


def _warn_html_heading(token: Token, card: CardBuilder | None, source: SourceFile, diagnostics: Diagnostics) -> None:
    """A question written in HTML (markdown-anki-decks' `<h2>` and `data-question` blocks) is not a
    card's heading: it is said where it ends up."""
    if token.type != "html_block" or token.map is None or is_comment(token) or not _HTML_HEADING.search(token.content):
        return
    where = (
        f"it stays in the answer of the card at line {first_line(card.heading)}" if card is not None
        else "it is in the file's introduction, which is on no card"
    )
    diagnostics.warning(
        SourceLocation(source.path, first_line(token)),
        f"a heading written in HTML is not a question: {where}; write the question as ## Question",
        kind="html-heading",
    )


def _cards_of(builder: CardBuilder, source: SourceFile, diagnostics: Diagnostics) -> list[CardBuilder]:
    """The cards one `##` heading gives. A heading not written for build_deck (no options comment)
    with nothing under it is no card; one with only deeper headings under it (md2anki's
    `## Subdeck: X`) is a section, whose `###` headings are the cards."""
    location = SourceLocation(source.path, first_line(builder.heading))
    question = _inline_text(builder.inline.children or [])
    if not builder.has_options and not _has_content(builder.body):
        diagnostics.warning(
            location,
            f"the heading '{question}' has nothing under it before the next heading, so it is not a card "
            "(and its words are on no card); write its answer under it to make it one",
            kind="empty-heading",
        )
        return []
    if not builder.has_options and builder.body[0].type == "heading_open":
        body, tag = builder.body, builder.body[0].tag
        starts = [
            i for i, token in enumerate(body) if token.type == "heading_open" and token.tag == tag and token.level == 0
        ]
        cards = []
        for start, end in zip(starts, starts[1:] + [len(body)], strict=True):
            cards.append(CardBuilder(body[start], body[start + 1]))
            cards[-1].body = body[start + 3:end]  # after heading_open, inline, heading_close
        diagnostics.warning(
            location,
            f"the heading '{question}' has no text of its own, only {'#' * int(tag[1])} headings: it is not a card "
            f"(and its words are on no card), each of its {len(cards)} {'#' * int(tag[1])} headings is",
            kind="section-heading",
        )
        return [card for sub in cards for card in _cards_of(sub, source, diagnostics)]
    for token in builder.body:
        if token.level == 0:
            _warn_html_heading(token, builder, source, diagnostics)
    return [builder]


class _Outline:
    """A file's blocks by where they stand: its front matter, its title, each card's heading with
    the blocks under it, the introduction before the first card and the blocks on no card after it."""

    def __init__(self, source: SourceFile, diagnostics: Diagnostics):
        self.source = source
        self.diagnostics = diagnostics
        self.front: dict[str, Any] = {}
        self.front_lines: dict[str, SourceLocation] = {}
        self.title: str | None = None
        self.builders: list[CardBuilder] = []
        self.current: CardBuilder | None = None
        self.outside: list[Token] = []  # after the first card, blocks that belong to none (under a level-1 heading)
        self.introduction: list[list[Token]] = [[]]  # before the first card: the blocks above the title, then below it

    def read(self, tokens: list[Token]) -> None:
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.type == "front_matter":
                self.front, self.front_lines = read_front_matter(token, self.source, self.diagnostics)
            elif token.type == "heading_open" and token.level == 0 and token.tag in ("h1", "h2"):
                if token.tag == "h1":
                    self._title(token, tokens[index + 1])
                else:
                    self._card_heading(token, tokens[index + 1])
                index += 3  # heading_open, inline, heading_close
                continue
            else:
                self._block(token)
            index += 1

    def _title(self, token: Token, inline: Token) -> None:
        self.current = None
        if self.title is None:
            self.title = _inline_text(inline.children or []) or None
            location = SourceLocation(self.source.path, first_line(token))
            if self.title and not check_title(self.title, location, self.diagnostics):
                self.title = None
            self.introduction.append([])
        elif self.builders:
            self.outside.append(token)  # a second title: its words are on no card
        else:
            self.introduction[-1].append(token)  # a second title before the first card: on no card either

    def _card_heading(self, token: Token, inline: Token) -> None:
        if token.markup == "-":
            self.diagnostics.warning(
                SourceLocation(self.source.path, first_line(token)),
                "a line of text directly above --- makes a heading and so a new card; "
                "if you meant a break, leave a blank line before ---",
                kind="setext-heading",
            )
        self.current = CardBuilder(token, inline)
        self.builders.append(self.current)

    def _block(self, token: Token) -> None:
        if self.current is not None:
            self.current.body.append(token)
        elif self.builders and token.level == 0:
            self.outside.append(token)
        elif token.level == 0:
            _warn_html_heading(token, None, self.source, self.diagnostics)  # the file's introduction
            self.introduction[-1].append(token)

    def cards(self) -> list[CardBuilder]:
        """The cards, after a warning for each run of blocks that is on none."""
        if self.builders:  # a file without a card is left out whole, with a warning of its own
            _warn_introduction(self.introduction, self.source, self.diagnostics)
        _warn_outside(self.outside, self.source, self.diagnostics)
        return [card for builder in self.builders for card in _cards_of(builder, self.source, self.diagnostics)]


@dataclass(frozen=True)
class _FileSettings:
    """What the front matter (or the file's name) sets for every card of the file."""

    topic: str
    difficulty: str | None
    tags: tuple[str, ...]
    value: int
    title: str | None  # the front matter's title, which wins over a # heading


def _file_settings(
    front: dict[str, Any], front_lines: dict[str, SourceLocation], source: SourceFile, diagnostics: Diagnostics
) -> _FileSettings:
    file_location = SourceLocation(source.path, 1)
    topic = default_topic(source)
    if front.get("topic") not in (None, ""):
        topic = normalise_topic(front["topic"], front_lines.get("topic", file_location), diagnostics) or topic
    else:
        topic = normalise_topic(topic, file_location, diagnostics, "the topic from the file name") or "topic"
    difficulty = check_difficulty(front.get("difficulty"), front_lines.get("difficulty", file_location), diagnostics)
    tags = normalise_tags(front.get("tags"), front_lines.get("tags", file_location), diagnostics)
    value = check_value(front.get("value"), front_lines.get("value", file_location), diagnostics) or DEFAULT_VALUE
    title = None
    if isinstance(front.get("title"), (str, int, float)) and str(front["title"]).strip():
        front_title = str(front["title"]).strip()
        if check_title(front_title, front_lines.get("title", file_location), diagnostics):
            title = front_title
    return _FileSettings(topic, difficulty, tags, value, title)


def parse_source(
    source: SourceFile,
    diagnostics: Diagnostics,
    md: MarkdownIt | None = None,
    media: MediaResolver | None = None,
    keep_broken: bool = False,
) -> ParsedFile:
    """The file's cards, each checked; a card with an error is left out, unless `keep_broken`
    (for `add-ids`, which gives an id to every card it can place one under)."""
    md = md or make_markdown()
    env: dict[str, Any] = {}
    tokens = md.parse(source.text, env)
    too_deep = deck_env(env).too_deep_line
    if too_deep is not None:
        diagnostics.error(
            SourceLocation(source.path, too_deep + 1),
            f"nested too deeply (the limit is {MAX_NESTING} levels; a list level counts 2, a > quote 1): "
            "the rest of the file would be lost; flatten the lists or quotes",
        )
    _check_fences(tokens, source, diagnostics)
    _check_math(tokens, source, diagnostics)
    _warn_digit_dollars(tokens, env, source, diagnostics)

    outline = _Outline(source, diagnostics)
    outline.read(tokens)
    builders = outline.cards()
    settings = _file_settings(outline.front, outline.front_lines, source, diagnostics)
    cards = [
        card
        for builder in builders
        if (card := _finish_card(builder, source, diagnostics, settings, env, media, keep_broken))
    ]
    return ParsedFile(source=source, topic=settings.topic, title=settings.title or outline.title, cards=tuple(cards))


def _card_options(
    builder: CardBuilder, source: SourceFile, diagnostics: Diagnostics, keep_broken: bool
) -> tuple[dict[str, Any], int | None, list[Token]] | None:
    """The card's options comment read (with its line), and the blocks under it; None for
    `add-ids` when the options cannot be read."""
    body = builder.body
    if builder.has_options:
        known = len(diagnostics)
        options = read_card_options(body[0], source, diagnostics)
        if keep_broken and len(diagnostics) > known:
            return None  # add-ids writes an id only into options that can be read
        return options, first_line(body[0]), body[1:]
    if builder.foreign_note_id is not None:
        diagnostics.warning(
            SourceLocation(source.path, first_line(body[0])),
            f"{body[0].content.strip()} is another tool's Anki note id (Obsidian_to_Anki's), which this build "
            "does not use: it is ignored (`convert --from obsidian` reports it as not carried over)",
            kind="foreign-note-id",
        )
        return {}, None, body[1:]
    return {}, None, body


def _drop_closing_break(body: list[Token], source: SourceFile, diagnostics: Diagnostics) -> list[Token]:
    """The body without a last `---` that nothing follows: a divider between this card and the
    next, not the card's break."""
    last_break = next((i for i in range(len(body) - 1, -1, -1) if body[i].type == "hr" and body[i].level == 0), None)
    if last_break is None or _has_content(body[last_break + 1:]):
        return body
    diagnostics.warning(
        SourceLocation(source.path, first_line(body[last_break])),
        "nothing follows this --- in its card, so it is read as a divider and the card's answer is what "
        "stands above it; write the answer after it, or remove it",
        kind="empty-break",
    )
    return body[:last_break] + body[last_break + 1:]


def _card_id(
    options: dict[str, Any], question_text: str, location: SourceLocation, diagnostics: Diagnostics
) -> tuple[str, bool, bool]:
    """(the card's id, whether it is derived from the question, whether it is valid)."""
    card_id = options.get("id")
    if card_id is None:
        return slugify(question_text), True, True
    if not isinstance(card_id, SCALAR) or isinstance(card_id, bool):
        diagnostics.error(location, "id must be one word in lowercase kebab-case, for example: id: my-card")
        return str(card_id), False, False
    card_id = str(card_id)
    if not ID_PATTERN.match(card_id):
        diagnostics.error(
            location, f"id '{card_id}' is not lowercase kebab-case (letters a-z, digits and single hyphens)"
        )
        return card_id, False, False
    return card_id, False, True


@dataclass(frozen=True)
class _CardSettings:
    """A card's own options, checked, over its file's settings."""

    topic: str
    difficulty: str | None
    tags: tuple[str, ...]
    value: int
    retired: bool
    shuffle: bool
    lint_ignore: tuple[str, ...]
    guid: str
    ok: bool  # False: an option is wrong in a way that leaves the card out


def _card_settings(
    options: dict[str, Any], file: _FileSettings, location: SourceLocation, diagnostics: Diagnostics
) -> _CardSettings:
    difficulty = file.difficulty
    if "difficulty" in options:
        difficulty = check_difficulty(options["difficulty"], location, diagnostics)
    value = file.value
    if "value" in options:
        value = check_value(options["value"], location, diagnostics) or file.value
    topic = file.topic
    if options.get("topic") not in (None, ""):
        topic = normalise_topic(options["topic"], location, diagnostics) or file.topic
    tags = file.tags + normalise_tags(options.get("tags"), location, diagnostics)
    ok = True
    retired = options.get("retired", False)
    if not isinstance(retired, bool):
        diagnostics.error(location, "retired must be true or false (without quotes)")
        retired, ok = False, False
    shuffle = options.get("shuffle", True)
    if not isinstance(shuffle, bool):
        diagnostics.error(location, f"shuffle must be true or false, not '{shuffle}'")
        shuffle = True
    lint_ignore = read_lint_option(options["lint"], location, diagnostics) if "lint" in options else ()
    guid = check_guid(options["guid"], location, diagnostics) if "guid" in options else ""
    return _CardSettings(topic, difficulty, tags, value, retired, shuffle, lint_ignore, guid, ok)


@dataclass(frozen=True)
class _CardParts:
    """A card's blocks split at its `---` break: what the front shows besides the question, the
    answer, a multiple-choice card's options and a cloze card's numbers."""

    context: list[Token]
    answer: list[Token]
    choices: tuple[OptionSource, ...]
    cloze_numbers: set[int]
    has_break: bool


def _card_parts(
    builder: CardBuilder, body: list[Token], location: SourceLocation, source: SourceFile, diagnostics: Diagnostics
) -> _CardParts:
    split = next((i for i, t in enumerate(body) if t.type == "hr" and t.level == 0), None)
    context, answer = ([], body) if split is None else (body[:split], body[split + 1:])
    whole_answer = answer
    choices, answer = split_multiple_choice(answer, location, diagnostics)
    if split is not None and not choices:
        # options written before the break, the explanation after it: a multiple-choice card too
        start = trailing_task_list(context)
        if start is not None:
            choices, _ = split_multiple_choice(context[start:], location, diagnostics)
            context = context[:start] if choices else context
    cloze_text = context if split is not None else whole_answer
    after_break = whole_answer if split is not None else []
    cloze_numbers = check_clozes(builder.heading, builder.inline, cloze_text, after_break, source, diagnostics)
    # what the front shows besides the question: the part before the break, or a cloze's whole text
    forbid_ticked_boxes(context if split is not None else whole_answer if cloze_numbers else [], source, diagnostics)
    return _CardParts(context, answer, choices, cloze_numbers, split is not None)


def _finish_card(
    builder: CardBuilder,
    source: SourceFile,
    diagnostics: Diagnostics,
    file: _FileSettings,
    env: dict[str, Any],
    media: MediaResolver | None,
    keep_broken: bool = False,
) -> CardSource | None:
    assert builder.heading.map is not None
    heading_line = builder.heading.map[0] + 1
    location = SourceLocation(source.path, heading_line)
    question_text = _inline_text(builder.inline.children or [])
    ok = True
    if not question_text:
        diagnostics.error(location, "heading has no text: a card's heading is its question")
        ok = False

    read = _card_options(builder, source, diagnostics, keep_broken)
    if read is None:
        return None
    options, options_line, body = read
    body = _drop_closing_break(body, source, diagnostics)
    body, references = split_references(body, source.path, diagnostics)

    options_location = SourceLocation(source.path, options_line or heading_line)
    card_id, id_is_derived, id_ok = _card_id(options, question_text, options_location, diagnostics)
    settings = _card_settings(options, file, options_location, diagnostics)
    ok = ok and id_ok and settings.ok

    parts = _card_parts(builder, body, location, source, diagnostics)
    context, answer, choices, cloze_numbers = parts.context, parts.answer, parts.choices, parts.cloze_numbers
    if cloze_numbers and choices:
        diagnostics.error(location, "a card is either a cloze or a multiple-choice card, not both")
        ok = False
    if not settings.retired and not choices and not cloze_numbers and not _has_content(answer):
        where = "after the --- break" if parts.has_break else "under the heading"
        diagnostics.error(location, f"card has no answer: write the answer {where}")
        ok = False
    images = _resolve_images(
        [builder.inline, *context, *answer, *(t for o in choices for t in o.tokens)], source, diagnostics, media, env
    )
    if not (ok or keep_broken and question_text):
        return None
    meta = CardMeta(
        location=location,
        id=card_id,
        id_is_derived=id_is_derived,
        topic=settings.topic,
        difficulty=settings.difficulty,
        tags=settings.tags,
        question_text=question_text,
        retired=settings.retired,
        cloze_numbers=tuple(sorted(cloze_numbers)),
        media=images,
        shuffle_options=settings.shuffle,
        lint_ignore=settings.lint_ignore,
        value=settings.value,
        guid=settings.guid,
    )
    return CardSource(
        meta=meta,
        question_tokens=tuple(builder.inline.children or ()),
        context_tokens=tuple(context),
        answer_tokens=tuple(answer),
        options=choices,
        options_comment_line=options_line,
        heading_end=builder.heading.map[1],
        env=env,
        references=references,
    )


# The inline tokens that can name an image or a sound (raw HTML, `[sound:]`, a link, an image).
_MAY_HOLD_MEDIA = frozenset({"html_inline", "anki_sound", "link_open", "image"})


def _resolve_images(
    tokens: list[Token],
    source: SourceFile,
    diagnostics: Diagnostics,
    media: MediaResolver | None,
    env: dict[str, Any],
) -> tuple[MediaFile, ...]:
    """Check every image, Markdown or raw HTML, and point it at its packaged name.

    A Markdown image gets the name in its token; a raw `<img src>` is mapped to it in
    the file's `DeckEnv.images`, which the sanitizer applies (it removes every unmapped source)."""
    found: list[MediaFile] = []
    images = deck_env(env).images
    line = 1
    for token in tokens:
        if token.map is not None:
            line = token.map[0] + 1
        raw = [(token.content, line)] if token.type == "html_block" else []
        for child in walk(token.children or []):
            if child.type not in _MAY_HOLD_MEDIA:
                continue
            where = line + line_offset(token, child)
            if child.type == "html_inline":
                raw.append((child.content, where))
            if child.type == "anki_sound":
                sound = _resolve_image(child.content, where, source, diagnostics, media)
                token_notes(child).sound = sound.name if sound else ""
                found += [sound] if sound else []
                continue
            href = str(child.attrGet("href") or "") if child.type == "link_open" else ""
            if href and is_audio(href) and ":" not in href and not href.startswith("#"):
                # a link to a sound file: Anki plays it after the link's text
                sound = _resolve_image(href, where, source, diagnostics, media)
                _mark_link_as_sound(token, child, sound.name if sound else "")
                found += [sound] if sound else []
                continue
            if child.type != "image":
                continue
            resolved = _resolve_image(str(child.attrGet("src") or ""), where, source, diagnostics, media)
            child.attrSet("src", resolved.name if resolved else "")
            found += [resolved] if resolved else []
        for fragment, fragment_line in raw:
            for src in raw_image_sources(fragment):
                offset = fragment.find(src.strip())
                where = fragment_line + (fragment.count("\n", 0, offset) if offset > 0 else 0)
                resolved = _resolve_image(src, where, source, diagnostics, media)
                if resolved is not None:
                    images[src] = resolved.name
                    found.append(resolved)
    images.update((media_file.name, media_file.name) for media_file in found)
    return tuple(dict.fromkeys(found))


def _mark_link_as_sound(inline: Token, link_open: Token, name: str) -> None:
    """Mark a link and its closing token: the renderer writes the text, then `[sound:name]`."""
    token_notes(link_open).sound = name
    siblings = inline.children or []
    index = child_index(inline, link_open)
    if index is None:  # inside an image's description: find it among the tokens that hold it
        holder = next((t for t in walk(siblings) if any(c is link_open for c in t.children or ())), None)
        siblings = (holder.children or []) if holder is not None else []
        index = next((i for i, t in enumerate(siblings) if t is link_open), len(siblings))
    depth = 0
    for later in siblings[index + 1:]:
        if later.type == "link_open":
            depth += 1
        elif later.type == "link_close":
            if depth == 0:
                token_notes(later).sound = name
                return
            depth -= 1


def _resolve_image(
    src: str, line: int, source: SourceFile, diagnostics: Diagnostics, media: MediaResolver | None
) -> MediaFile | None:
    if media is None:
        return None
    return media.resolve(src, source.path, SourceLocation(source.path, line), diagnostics)


def _check_math(tokens: list[Token], source: SourceFile, diagnostics: Diagnostics) -> None:
    """Every formula uses only allowed TeX commands (deckbuild.tex); a problem is an error at its line."""
    line = 1
    for token in tokens:
        if token.map is not None:
            line = token.map[0] + 1
        math = [(token, line)] if token.type == "math_block" else []
        math += [(child, line + line_offset(token, child)) for child in token.children or []
                 if child.type in ("math_inline", "math_inline_double")]
        for item, item_line in math:
            problem = math_problem(item.content)
            if problem is not None:
                offset, message = problem
                where = item_line + item.content.count("\n", 0, offset)
                diagnostics.error(SourceLocation(source.path, where), message)




def _warn_digit_dollars(tokens: list[Token], env: dict[str, Any], source: SourceFile, diagnostics: Diagnostics) -> None:
    """`$2x$` stays text with its dollars (a `$` before a digit is money): where it reads as a formula,
    a warning at its line says so."""
    found = deck_env(env).digit_dollars
    if not found:
        return
    line = 1
    for token in tokens:
        if token.map is not None:
            line = token.map[0] + 1
        if token.type != "inline":
            continue
        for start in sorted(offset for (key, offset), text in found.items() if text is token.content):
            written = re.match(r"\$[^$]*\$", token.content[start:]).group()  # type: ignore[union-attr]
            diagnostics.warning(
                SourceLocation(source.path, line + token.content.count("\n", 0, start)),
                f"{written} is shown as text, dollars and all: a $ followed by a digit is money, not math; "
                f"write \\({written[1:-1]}\\) for a formula",
                kind="digit-dollar",
            )
