"""Parse stage: a source file -> card sources (structure, options and validation, no HTML yet)."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.common.html_re import HTML_TAG_RE
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from .cloze import CLOZE_OPEN, find_clozes, has_cloze, numbering_problem
from .errors import Diagnostics, SourceLocation
from .highlight import find_lexer, language_of
from .media import MediaFile, MediaResolver
from .records import DIFFICULTIES, SourceFile
from .sanitize import raw_image_sources
from .tex import math_problem

FRONT_MATTER_KEYS = ("topic", "difficulty", "tags")
CARD_OPTION_KEYS = ("id", "difficulty", "topic", "tags", "retired")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_OPTIONS = 8
MIN_OPTIONS = 2
PLAIN_LANGUAGES = ("", "text", "plain", "txt")


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same results, faster
_SAFE_URL = re.compile(r"^(?:https?:|mailto:|[^:]*$)", re.I)  # web and mail links, or relative paths


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader, C or Python
    except yaml.YAMLError:
        # read again with the pure-Python loader: its messages are the same on every machine
        return yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506


def _validate_link(url: str) -> bool:
    """Links and images may be web or mail addresses or relative paths: never javascript:, data: ..."""
    return bool(_SAFE_URL.match(url.strip()))


def make_markdown() -> MarkdownIt:
    """The one Markdown dialect: CommonMark plus GitHub's tables, strikethrough and task lists, and
    dollar math (`$x$`, `$$x$$`; a `$` followed by a digit or a space stays a dollar sign)."""
    md = MarkdownIt("commonmark", {"html": True})
    md.validateLink = _validate_link
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    md.use(tasklists_plugin)
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, allow_labels=False)
    math_rule = next(rule.fn for rule in md.inline.ruler.__rules__ if rule.name == "math_inline")
    md.inline.ruler.at("math_inline", _prose_math_only(math_rule))
    image_rule = next(rule.fn for rule in md.inline.ruler.__rules__ if rule.name == "image")
    md.inline.ruler.at("image", _every_image_address(image_rule))
    return md


def _every_image_address(image_rule: Any) -> Any:
    """Images keep any address (`file:`, `data:`, a name with `:`), so that the media check
    reports it at its line instead of the image staying as literal text; links keep the
    safe-link rule."""

    def rule(state: Any, silent: bool) -> bool:
        state.md.validateLink = bool
        try:
            return bool(image_rule(state, silent))
        finally:
            state.md.validateLink = _validate_link

    return rule


def _prose_math_only(math_rule: Any) -> Any:
    """Dollar math that leaves prices and code spans alone.

    `$3 and $4` is money, not a formula (an inline formula never starts with a digit), and a `$`
    inside a code span never closes a formula that began outside it.
    """

    def rule(state: Any, silent: bool) -> bool:
        start = state.pos
        if state.src[start] != "$" or state.src[start + 1:start + 2].isdigit():
            return False
        if not math_rule(state, True):
            return False
        end = state.pos
        state.pos = start
        if "`" in state.src[start:end]:
            return False
        return bool(math_rule(state, silent))

    return rule


@dataclass(frozen=True, slots=True)
class OptionSource:
    tokens: tuple[Token, ...]
    correct: bool


@dataclass(frozen=True, slots=True)
class CardSource:
    """One card's parts as markdown-it tokens, with everything the build needs to know about it."""

    location: SourceLocation
    id: str
    id_is_derived: bool
    topic: str
    difficulty: str | None
    tags: tuple[str, ...]
    retired: bool
    question_text: str
    question_tokens: tuple[Token, ...]  # the heading's inline children
    context_tokens: tuple[Token, ...]
    answer_tokens: tuple[Token, ...]
    options: tuple[OptionSource, ...]
    cloze_numbers: tuple[int, ...]  # non-empty for a cloze card
    media: tuple[MediaFile, ...]
    options_comment_line: int | None  # where the id belongs, for `add-ids`
    heading_end: int  # 0-based index of the first line after the heading
    env: dict[str, Any] = field(compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    source: SourceFile
    topic: str
    title: str | None
    cards: tuple[CardSource, ...]


def slugify(text: str, max_length: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0]
    if not slug:
        slug = "card-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return slug


def default_topic(source: SourceFile) -> str:
    return re.sub(r"^\d+[-_. ]*", "", source.path.stem) or source.path.stem


def _closest(key: str, known: tuple[str, ...]) -> str:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else f" (known keys: {', '.join(known)})"


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


def _normalise_tags(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, (str, int, float)) for t in value):
        diagnostics.error(location, "tags must be a list of words, for example [lists, sorting]")
        return ()
    tags = []
    for tag in value:
        tag = re.sub(r"\s+", "-", str(tag).strip())
        if tag:
            tags.append(tag)
    return tuple(tags)


def _check_difficulty(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> str | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    if text not in DIFFICULTIES:
        diagnostics.error(
            location, f"unknown difficulty '{value}': use one of {', '.join(DIFFICULTIES)}"
            + (_closest(text, DIFFICULTIES) if difflib.get_close_matches(text, DIFFICULTIES, 1) else "")
        )
        return None
    return text


def _yaml_error_line(exc: yaml.YAMLError, first_line: int) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return first_line + (mark.line if mark is not None else 0)


def _read_front_matter(
    token: Token, source: SourceFile, diagnostics: Diagnostics
) -> tuple[dict[str, Any], dict[str, SourceLocation]]:
    """The front matter's values, and the location of each key (for messages about its value)."""
    first_content_line = token.map[0] + 2  # the line after the opening ---
    try:
        data = _load_yaml(token.content) if token.content.strip() else {}
    except yaml.YAMLError as exc:
        line = _yaml_error_line(exc, first_content_line)
        problem = getattr(exc, "problem", None) or "cannot be read"
        diagnostics.error(SourceLocation(source.display, line), f"invalid YAML in front matter: {problem}")
        return {}, {}
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        diagnostics.error(
            SourceLocation(source.display, first_content_line),
            "front matter must be a mapping of keys to values (topic: ..., difficulty: ...)",
        )
        return {}, {}
    lines = token.content.split("\n")
    key_locations = {}
    for key in data:
        line = next((i for i, text in enumerate(lines) if text.startswith(f"{key}:")), 0)
        key_locations[key] = SourceLocation(source.display, first_content_line + line)
        if key not in FRONT_MATTER_KEYS:
            diagnostics.error(
                key_locations[key], f"unknown front-matter key '{key}'" + _closest(str(key), FRONT_MATTER_KEYS)
            )
    return data, key_locations


def _read_card_options(token: Token, source: SourceFile, diagnostics: Diagnostics) -> dict[str, Any]:
    location = SourceLocation(source.display, token.map[0] + 1)
    body = token.content.strip()
    body = body[len("<!--"):]
    body = body[: body.rfind("-->")] if "-->" in body else body
    try:
        data = _load_yaml("{" + body.strip() + "}")
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "cannot be read"
        diagnostics.error(
            location,
            f"card options cannot be read ({problem}); write them as <!-- id: my-card, difficulty: beginner -->",
        )
        return {}
    for key in data:
        if key not in CARD_OPTION_KEYS:
            diagnostics.error(location, f"unknown card option '{key}'" + _closest(str(key), CARD_OPTION_KEYS))
    return data


def _is_comment(token: Token) -> bool:
    return token.type == "html_block" and token.content.lstrip().startswith("<!--")


def _check_fences(tokens: list[Token], source: SourceFile, diagnostics: Diagnostics) -> None:
    lines = source.text.split("\n")
    for token in tokens:
        if token.type != "fence" or token.map is None:
            continue
        start, end = token.map
        location = SourceLocation(source.display, start + 1)
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
            diagnostics.warning(location, f"unknown language '{language}': the code is shown without highlighting")


def _split_multiple_choice(
    answer: list[Token], location: SourceLocation, diagnostics: Diagnostics
) -> tuple[tuple[OptionSource, ...], list[Token]]:
    """A task list at the start of the answer makes a multiple-choice card: (options, explanation)."""
    if not answer or answer[0].type != "bullet_list_open" or answer[0].attrGet("class") != "contains-task-list":
        return (), answer
    depth, end = 0, 0
    for end, token in enumerate(answer):
        depth += token.nesting
        if depth == 0:
            break
    items, options_location = [], SourceLocation(location.path, answer[0].map[0] + 1)
    current: list[Token] | None = None
    for token in answer[1:end]:
        if token.type == "list_item_open" and token.level == answer[0].level + 1:
            current = []
            items.append((token, current))
        elif token.type == "list_item_close" and token.level == answer[0].level + 1:
            current = None
        elif current is not None:
            current.append(token)
    options = []
    for item_open, body in items:
        if item_open.attrGet("class") != "task-list-item":
            diagnostics.error(
                SourceLocation(location.path, item_open.map[0] + 1),
                "every option of a multiple-choice card needs a box: - [ ] wrong or - [x] right",
            )
            continue
        inline = next(t for t in body if t.type == "inline")
        checkbox = inline.children[0]
        correct = 'checked="checked"' in checkbox.content
        inline.children = inline.children[1:]
        if inline.children and inline.children[0].type == "text":
            inline.children[0].content = inline.children[0].content.lstrip()
        options.append(OptionSource(tokens=tuple(body), correct=correct))
    if not MIN_OPTIONS <= len(items) <= MAX_OPTIONS:
        diagnostics.error(
            options_location,
            f"a multiple-choice card has {MIN_OPTIONS} to {MAX_OPTIONS} options; this one has {len(items)}",
        )
    elif options and not any(option.correct for option in options):
        diagnostics.error(options_location, "no option is marked correct: mark the right one with - [x]")
    return tuple(options), answer[end + 1:]


def _has_content(tokens: list[Token]) -> bool:
    return any(not _is_comment(t) and t.type not in ("hr",) for t in tokens)


class _CardBuilder:
    """Gathers one card's tokens between its heading and the next level-1 or level-2 heading."""

    def __init__(self, heading: Token, inline: Token):
        self.heading = heading
        self.inline = inline
        self.body: list[Token] = []


def parse_source(
    source: SourceFile,
    diagnostics: Diagnostics,
    md: MarkdownIt | None = None,
    media: MediaResolver | None = None,
) -> ParsedFile:
    md = md or make_markdown()
    env: dict[str, Any] = {}
    tokens = md.parse(source.text, env)
    _check_fences(tokens, source, diagnostics)
    _check_math(tokens, source, diagnostics)

    front: dict[str, Any] = {}
    front_lines: dict[str, SourceLocation] = {}
    title: str | None = None
    builders: list[_CardBuilder] = []
    current: _CardBuilder | None = None
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "front_matter":
            front, front_lines = _read_front_matter(token, source, diagnostics)
        elif token.type == "heading_open" and token.level == 0 and token.tag in ("h1", "h2"):
            inline = tokens[index + 1]
            if token.tag == "h1":
                current = None
                if title is None:
                    title = _inline_text(inline.children or []) or None
            else:
                if token.markup == "-":
                    diagnostics.warning(
                        SourceLocation(source.display, token.map[0] + 1),
                        "a line of text directly above --- makes a heading and so a new card; "
                        "if you meant a break, leave a blank line before ---",
                    )
                current = _CardBuilder(token, inline)
                builders.append(current)
            index += 3  # heading_open, inline, heading_close
            continue
        elif current is not None:
            current.body.append(token)
        index += 1

    file_location = SourceLocation(source.display, 1)
    topic = str(front.get("topic") or default_topic(source)).strip()
    file_difficulty = _check_difficulty(
        front.get("difficulty"), front_lines.get("difficulty", file_location), diagnostics
    )
    file_tags = _normalise_tags(front.get("tags"), front_lines.get("tags", file_location), diagnostics)
    cards = [
        card
        for builder in builders
        if (card := _finish_card(builder, source, diagnostics, topic, file_difficulty, file_tags, env, media))
    ]
    return ParsedFile(source=source, topic=topic, title=title, cards=tuple(cards))


def _finish_card(
    builder: _CardBuilder,
    source: SourceFile,
    diagnostics: Diagnostics,
    topic: str,
    file_difficulty: str | None,
    file_tags: tuple[str, ...],
    env: dict[str, Any],
    media: MediaResolver | None,
) -> CardSource | None:
    heading_line = builder.heading.map[0] + 1
    location = SourceLocation(source.display, heading_line)
    question_text = _inline_text(builder.inline.children or [])
    ok = True
    if not question_text:
        diagnostics.error(location, "heading has no text: a card's heading is its question")
        ok = False

    body = builder.body
    options: dict[str, Any] = {}
    options_line: int | None = None
    if body and _is_comment(body[0]) and body[0].map[0] == builder.heading.map[1]:
        options_line = body[0].map[0] + 1
        options = _read_card_options(body[0], source, diagnostics)
        body = body[1:]

    options_location = SourceLocation(source.display, options_line or heading_line)
    card_id = options.get("id")
    id_is_derived = card_id is None
    if card_id is None:
        card_id = slugify(question_text)
    else:
        card_id = str(card_id)
        if not ID_PATTERN.match(card_id):
            diagnostics.error(
                options_location,
                f"id '{card_id}' is not lowercase kebab-case (letters a-z, digits and single hyphens)",
            )
            ok = False

    difficulty = file_difficulty
    if "difficulty" in options:
        difficulty = _check_difficulty(options["difficulty"], options_location, diagnostics)
    card_topic = str(options.get("topic") or topic).strip()
    tags = file_tags + _normalise_tags(options.get("tags"), options_location, diagnostics)
    retired = bool(options.get("retired", False))

    split = next((i for i, t in enumerate(body) if t.type == "hr" and t.level == 0), None)
    context, answer = ([], body) if split is None else (body[:split], body[split + 1:])
    whole_answer = answer
    choices, answer = _split_multiple_choice(answer, location, diagnostics)
    cloze_text = context if split is not None else whole_answer
    after_break = whole_answer if split is not None else []
    cloze_numbers = _check_clozes(builder, cloze_text, after_break, source, diagnostics)
    if cloze_numbers and choices:
        diagnostics.error(location, "a card is either a cloze or a multiple-choice card, not both")
        ok = False
    if not retired and not choices and not cloze_numbers and not _has_content(answer):
        where = "after the --- break" if split is not None else "under the heading"
        diagnostics.error(location, f"card has no answer: write the answer {where}")
        ok = False
    images = _resolve_images(
        [builder.inline, *context, *answer, *(t for o in choices for t in o.tokens)], source, diagnostics, media, env
    )
    if not ok:
        return None
    return CardSource(
        location=location,
        id=card_id,
        id_is_derived=id_is_derived,
        topic=card_topic,
        difficulty=difficulty,
        tags=tags,
        retired=retired,
        question_text=question_text,
        question_tokens=tuple(builder.inline.children or ()),
        context_tokens=tuple(context),
        answer_tokens=tuple(answer),
        options=choices,
        cloze_numbers=tuple(sorted(cloze_numbers)),
        media=images,
        options_comment_line=options_line,
        heading_end=builder.heading.map[1],
        env=env,
    )


_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)


def _check_clozes(
    builder: _CardBuilder,
    text_tokens: list[Token],
    after_break: list[Token],
    source: SourceFile,
    diagnostics: Diagnostics,
) -> set[int]:
    """Cloze numbers of the card's text; every marker problem reported at its line."""
    heading_line = builder.heading.map[0] + 1
    if has_cloze(builder.inline.content):
        diagnostics.error(
            SourceLocation(source.display, heading_line),
            "clozes belong in the card's text, not in its heading (the heading is shown as context)",
        )
    for token in after_break:
        if token.map is not None and has_cloze(token.content):
            diagnostics.error(
                SourceLocation(source.display, token.map[0] + 1),
                "a cloze after the --- break would never be hidden: move it before the break",
            )
    numbers: set[int] = set()
    for token in text_tokens:
        if token.map is None:
            continue
        first_line = token.map[0] + 1
        _check_clozes_outside_tags(token, first_line, source, diagnostics)
        if token.type in ("fence", "code_block"):
            regions = [(token.content, True, first_line + (1 if token.type == "fence" else 0))]
        elif token.type == "inline":
            prose = _CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), token.content)  # keep offsets
            regions = [(prose, False, first_line)]
            regions += [(m.group(2), True, first_line + token.content.count("\n", 0, m.start()))
                        for m in _CODE_SPAN.finditer(token.content)]
        else:
            continue
        for text, code, line in regions:
            clozes, problems = find_clozes(text, code)
            numbers.update(cloze.number for cloze in clozes)
            for problem in problems:
                where = line + text.count("\n", 0, problem.offset)
                diagnostics.error(SourceLocation(source.display, where), problem.message)
    gap = numbering_problem(numbers)
    if gap:
        diagnostics.error(SourceLocation(source.display, heading_line), gap)
    return numbers


def _check_clozes_outside_tags(token: Token, first_line: int, source: SourceFile, diagnostics: Diagnostics) -> None:
    """A cloze marker inside an HTML tag (an attribute's value) would put Anki's cloze markup into
    the tag and break it: an error at its line."""
    if token.type == "html_block":
        tags = [(m.group(0), first_line + token.content.count("\n", 0, m.start()))
                for m in HTML_TAG_RE.finditer(token.content)]
    else:
        tags = [(child.content, first_line + _line_offset(token, child))
                for child in _walk(token.children or []) if child.type == "html_inline"]
    clozed = has_cloze(token.content)
    for tag, line in tags:
        if has_cloze(tag) or (clozed and "}}" in tag):
            marker = match.start() if (match := CLOZE_OPEN.search(tag)) else tag.find("}}")
            diagnostics.error(
                SourceLocation(source.display, line + tag.count("\n", 0, marker)),
                "a cloze marker inside an HTML tag would break the tag: put the cloze in the text, outside the tag",
            )


def _resolve_images(
    tokens: list[Token],
    source: SourceFile,
    diagnostics: Diagnostics,
    media: MediaResolver | None,
    env: dict[str, Any],
) -> tuple[MediaFile, ...]:
    """Check every image, Markdown or raw HTML, and point it at its packaged name.

    A Markdown image gets the name in its token; a raw `<img src>` is mapped to it in
    `env["deckbuild_images"]`, which the sanitizer applies (it removes every unmapped source)."""
    found: list[MediaFile] = []
    images: dict[str, str] = env.setdefault("deckbuild_images", {})
    line = 1
    for token in tokens:
        if token.map is not None:
            line = token.map[0] + 1
        raw = [(token.content, line)] if token.type == "html_block" else []
        for child in _walk(token.children or []):
            where = line + _line_offset(token, child)
            if child.type == "html_inline":
                raw.append((child.content, where))
            if child.type != "image":
                continue
            resolved = _resolve_image(str(child.attrGet("src") or ""), where, source, diagnostics, media)
            child.attrSet("src", resolved.name if resolved else "")
            found += [resolved] if resolved else []
        for fragment, first_line in raw:
            for src in raw_image_sources(fragment):
                offset = fragment.find(src.strip())
                where = first_line + (fragment.count("\n", 0, offset) if offset > 0 else 0)
                resolved = _resolve_image(src, where, source, diagnostics, media)
                if resolved is not None:
                    images[src] = resolved.name
                    found.append(resolved)
    images.update((media_file.name, media_file.name) for media_file in found)
    return tuple(dict.fromkeys(found))


def _resolve_image(
    src: str, line: int, source: SourceFile, diagnostics: Diagnostics, media: MediaResolver | None
) -> MediaFile | None:
    if media is None:
        return None
    return media.resolve(src, source.path, SourceLocation(source.display, line), diagnostics)


def _check_math(tokens: list[Token], source: SourceFile, diagnostics: Diagnostics) -> None:
    """Every formula uses only allowed TeX commands (deckbuild.tex); a problem is an error at its line."""
    line = 1
    for token in tokens:
        if token.map is not None:
            line = token.map[0] + 1
        math = [(token, line)] if token.type == "math_block" else []
        math += [(child, line + _line_offset(token, child)) for child in token.children or []
                 if child.type in ("math_inline", "math_inline_double")]
        for item, first_line in math:
            problem = math_problem(item.content)
            if problem is not None:
                offset, message = problem
                where = first_line + item.content.count("\n", 0, offset)
                diagnostics.error(SourceLocation(source.display, where), message)


def _walk(tokens: list[Token]):
    for token in tokens:
        yield token
        if token.children:
            yield from _walk(token.children)


def _line_offset(inline: Token, image: Token) -> int:
    """Lines between the start of a paragraph and an image in it (markdown-it maps blocks only)."""
    offset = 0
    for child in inline.children or []:
        if child is image:
            return offset
        if child.type in ("softbreak", "hardbreak"):
            offset += 1
    return 0
