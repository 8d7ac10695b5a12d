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
from .config import TAG_LIKE
from .errors import Diagnostics, SourceLocation
from .highlight import find_lexer, language_of
from .media import MediaFile, MediaResolver
from .records import DIFFICULTIES, SourceFile
from .sanitize import raw_image_sources
from .tex import math_problem

FRONT_MATTER_KEYS = ("topic", "title", "difficulty", "tags")
# A front-matter key this close to one of ours is taken for a typo (an error); any other key is
# another tool's (Obsidian's aliases, a blog's date) and is ignored with a warning.
TYPO_CUTOFF = 0.75
CARD_OPTION_KEYS = ("id", "difficulty", "topic", "tags", "retired", "shuffle", "lint")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_OPTIONS = 8
MIN_OPTIONS = 2
PLAIN_LANGUAGES = ("", "text", "plain", "txt")


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same results, faster
_SAFE_URL = re.compile(r"^(?:https?:|mailto:|[^:]*$)", re.I)  # web and mail links, or relative paths
MAX_YAML_DEPTH = 10  # front matter and card options need two levels (a list of tags)
MAX_NESTING = 100  # markdown-it's block nesting: a list level counts two, a blockquote level one
INLINE_MAX_NESTING = 20  # markdown-it's own limit for inline nesting (links in links): nothing is lost there


class _StrictYamlLoader(yaml.SafeLoader):
    """The safe loader without anchors and aliases (no "billion laughs") and with bounded nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed", event.start_mark
            )
        if self._depth >= MAX_YAML_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _load_yaml(text: str) -> Any:
    # An alias needs a `*` and an anchor a `&`: text without them is read by the fast loader, and
    # anything that fails there is read again by the strict loader (whose messages are the same on
    # every machine, and which stops at aliases and at deep nesting before Python's recursion does).
    if "*" not in text and "&" not in text:
        try:
            data = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader, C or Python
        except (yaml.YAMLError, RecursionError):
            pass
        else:
            if _depth(data) <= MAX_YAML_DEPTH:
                return data
    return yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506


def _depth(data: Any) -> int:
    """How deeply lists and mappings nest in a YAML value (counted without recursion)."""
    deepest, todo = 0, [(data, 1)]
    while todo:
        value, level = todo.pop()
        deepest = max(deepest, level)
        if level > MAX_YAML_DEPTH:
            break
        if isinstance(value, dict):
            todo.extend((item, level + 1) for item in (*value.keys(), *value.values()))
        elif isinstance(value, list):
            todo.extend((item, level + 1) for item in value)
    return deepest


def _validate_link(url: str) -> bool:
    """Links and images may be web or mail addresses or relative paths: never javascript:, data: ..."""
    return bool(_SAFE_URL.match(url.strip()))


def make_markdown() -> MarkdownIt:
    """The one Markdown dialect: CommonMark plus GitHub's tables, strikethrough and task lists, and
    dollar math (`$x$`, `$$x$$`; a `$` followed by a digit or a space stays a dollar sign)."""
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING})
    md.validateLink = _validate_link
    md.block.tokenize = _report_too_deep(md.block.tokenize)  # type: ignore[method-assign]
    md.inline.parse = _inline_nesting(md.inline.parse)  # type: ignore[method-assign]
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    md.use(tasklists_plugin)
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, allow_labels=False)
    math_rule = next(rule.fn for rule in md.inline.ruler.__rules__ if rule.name == "math_inline")
    md.inline.ruler.at("math_inline", _prose_math_only(math_rule))
    image_rule = next(rule.fn for rule in md.inline.ruler.__rules__ if rule.name == "image")
    md.inline.ruler.at("image", _every_image_address(image_rule))
    md.inline.ruler.before("link", "anki_sound", _anki_sound)
    return md


def _anki_sound(state: Any, silent: bool) -> bool:
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


_TOO_DEEP = "deckbuild_too_deep"  # env key: the first line markdown-it skipped for nesting too deep


def _report_too_deep(tokenize: Any) -> Any:
    """markdown-it's block parser, noting in `env` where it would skip text nested too deeply.

    At `maxNesting` markdown-it silently drops the rest of the block, and with it every later
    card of a list item's file: the line is kept so that parsing can report it as an error.
    """

    def wrapper(state: Any, start_line: int, end_line: int, *args: Any) -> None:
        if state.level >= state.md.options.maxNesting:
            line = state.skipEmptyLines(start_line)
            if line < end_line and state.sCount[line] >= state.blkIndent:
                state.env.setdefault(_TOO_DEEP, line)
        tokenize(state, start_line, end_line, *args)

    return wrapper


def _inline_nesting(parse: Any) -> Any:
    """The inline parser with markdown-it's usual nesting limit: past it, text stays text (no loss),
    and a higher limit makes `[[[...]]]` many times slower."""

    def wrapper(src: str, md: MarkdownIt, env: Any, tokens: list[Token]) -> Any:
        md.options["maxNesting"] = INLINE_MAX_NESTING
        try:
            return parse(src, md, env, tokens)
        finally:
            md.options["maxNesting"] = MAX_NESTING

    return wrapper


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
    shuffle: bool = True  # False: the options keep their source order (`shuffle: false`)
    lint_ignore: tuple[str, ...] = ()


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
    """A list of tags, or one string of them separated by commas or spaces (`#python, #basics`);
    a leading `#` is dropped and Obsidian's nesting `a/b` becomes Anki's `a::b`."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [part for part in re.split(r"[,\s]+", value) if part]
    if not isinstance(value, list) or not all(isinstance(t, (str, int, float)) for t in value):
        diagnostics.error(location, "tags must be a list of words, for example [lists, sorting]")
        return ()
    tags = []
    for tag in value:
        tag = re.sub(r"\s+", "-", str(tag).strip()).lstrip("#")
        tag = "::".join(part for part in tag.split("/") if part)
        if tag:
            tags.append(tag)
    return tuple(tags)


_SCALAR = (str, int, float)  # what a one-word option may be (YAML reads `2024` as a number)


def normalise_topic(
    value: Any, location: SourceLocation, diagnostics: Diagnostics, what: str = "topic"
) -> str | None:
    """A topic as one tag: whitespace becomes `-`; `::` (a level of tags and subdecks) is an error."""
    if not isinstance(value, _SCALAR) or isinstance(value, bool):
        diagnostics.error(location, f"{what} must be a single word or phrase, for example: topic: sorting")
        return None
    text = str(value).strip()
    tag = TAG_LIKE.search(text)
    if tag:
        diagnostics.error(location, f"{what} holds HTML ({tag.group()}); a topic is plain text")
        return None
    if "::" in text:
        diagnostics.error(
            location,
            f"{what} '{text}' holds '::', which Anki reads as a level of tags and subdecks; "
            "use another separator, such as '-'",
        )
        return None
    return re.sub(r"\s+", "-", text)


def check_title(text: str, location: SourceLocation, diagnostics: Diagnostics, what: str = "title") -> bool:
    """A deck or subdeck name is plain text on one level: no `::` and nothing that reads as HTML."""
    if "::" in text:
        diagnostics.error(
            location, f"the {what} '{text}' holds '::', which Anki reads as a subdeck; use another separator"
        )
        return False
    tag = TAG_LIKE.search(text)
    if tag:
        diagnostics.error(location, f"the {what} holds HTML ({tag.group()}); a deck name is plain text")
        return False
    return True


def _check_difficulty(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        diagnostics.error(location, f"difficulty must be one word: one of {', '.join(DIFFICULTIES)}")
        return None
    text = value.strip().lower()
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
    ignored = []
    for key in data:
        line = next((i for i, text in enumerate(lines) if text.startswith(f"{key}:")), 0)
        key_locations[key] = SourceLocation(source.display, first_content_line + line)
        if key in FRONT_MATTER_KEYS:
            continue
        if difflib.get_close_matches(str(key), FRONT_MATTER_KEYS, n=1, cutoff=TYPO_CUTOFF):
            diagnostics.error(
                key_locations[key], f"unknown front-matter key '{key}'" + _closest(str(key), FRONT_MATTER_KEYS)
            )
        else:
            ignored.append(str(key))
    if ignored:
        diagnostics.warning(
            key_locations[ignored[0]],
            f"front-matter key(s) {', '.join(ignored)} ignored (build_deck reads {', '.join(FRONT_MATTER_KEYS)})",
            kind="ignored-key",
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


def _trailing_task_list(tokens: list[Token]) -> int | None:
    """Where a task list that ends `tokens` (a card's front) starts, if one does."""
    end = len(tokens)
    while end and _is_comment(tokens[end - 1]):
        end -= 1
    if not end or tokens[end - 1].type != "bullet_list_close" or tokens[end - 1].level != 0:
        return None
    start = max(i for i in range(end) if tokens[i].type == "bullet_list_open" and tokens[i].level == 0)
    return start if tokens[start].attrGet("class") == "contains-task-list" else None


def _is_ticked(token: Token) -> bool:
    first = token.children[0] if token.type == "inline" and token.children else None
    return (
        first is not None and first.type == "html_inline" and "task-list-item-checkbox" in first.content
        and 'checked="checked"' in first.content
    )


def _forbid_ticked_boxes(front: list[Token], source: SourceFile, diagnostics: Diagnostics) -> None:
    """A ticked box on a card's front shows the answer before the learner has given it."""
    for token in front:
        if token.map is not None and _is_ticked(token):
            diagnostics.error(
                SourceLocation(source.display, token.map[0] + 1),
                "a ticked box here is shown on the card's front and gives the answer away: make the task "
                "list the card's options (right before the --- break, or right after the heading) or move "
                "it after the break",
            )


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
    if _TOO_DEEP in env:
        diagnostics.error(
            SourceLocation(source.display, env.pop(_TOO_DEEP) + 1),
            f"nested too deeply (the limit is {MAX_NESTING} levels; a list level counts 2, a > quote 1): "
            "the rest of the file would be lost; flatten the lists or quotes",
        )
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
                    if title and not check_title(title, SourceLocation(source.display, token.map[0] + 1), diagnostics):
                        title = None
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
    topic = default_topic(source)
    if front.get("topic") not in (None, ""):
        topic = normalise_topic(front["topic"], front_lines.get("topic", file_location), diagnostics) or topic
    else:
        topic = normalise_topic(topic, file_location, diagnostics, "the topic from the file name") or "topic"
    file_difficulty = _check_difficulty(
        front.get("difficulty"), front_lines.get("difficulty", file_location), diagnostics
    )
    file_tags = _normalise_tags(front.get("tags"), front_lines.get("tags", file_location), diagnostics)
    if isinstance(front.get("title"), (str, int, float)) and str(front["title"]).strip():
        title = str(front["title"]).strip()  # the front matter's title wins over a # heading
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
    elif not isinstance(card_id, _SCALAR) or isinstance(card_id, bool):
        diagnostics.error(options_location, "id must be one word in lowercase kebab-case, for example: id: my-card")
        ok = False
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
    card_topic = topic
    if options.get("topic") not in (None, ""):
        card_topic = normalise_topic(options["topic"], options_location, diagnostics) or topic
    tags = file_tags + _normalise_tags(options.get("tags"), options_location, diagnostics)
    retired = options.get("retired", False)
    if not isinstance(retired, bool):
        diagnostics.error(options_location, "retired must be true or false (without quotes)")
        retired, ok = False, False
    shuffle = options.get("shuffle", True)
    if not isinstance(shuffle, bool):
        diagnostics.error(options_location, f"shuffle must be true or false, not '{shuffle}'")
        shuffle = True
    lint_ignore = _read_lint_option(options["lint"], options_location, diagnostics) if "lint" in options else ()

    split = next((i for i, t in enumerate(body) if t.type == "hr" and t.level == 0), None)
    context, answer = ([], body) if split is None else (body[:split], body[split + 1:])
    whole_answer = answer
    choices, answer = _split_multiple_choice(answer, location, diagnostics)
    if split is not None and not choices:
        # options written before the break, the explanation after it: a multiple-choice card too
        start = _trailing_task_list(context)
        if start is not None:
            choices, _ = _split_multiple_choice(context[start:], location, diagnostics)
            context = context[:start]
    cloze_text = context if split is not None else whole_answer
    after_break = whole_answer if split is not None else []
    cloze_numbers = _check_clozes(builder, cloze_text, after_break, source, diagnostics)
    # what the front shows besides the question: the part before the break, or a cloze's whole text
    _forbid_ticked_boxes(context if split is not None else whole_answer if cloze_numbers else [], source, diagnostics)
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
        shuffle=shuffle,
        lint_ignore=lint_ignore,
    )


LINT_OPTION_EXAMPLE = 'lint: {ignore: [list-recall], why: "the order is the point"}'


def _read_lint_option(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> tuple[str, ...]:
    """`lint: {ignore: [rule, ...], why: "reason"}`: the rules this card silences, each with a reason."""
    from .lint import RULES  # the rule names only; lint reads rendered cards and never parses

    if not isinstance(value, dict) or set(value) - {"ignore", "why"} or "ignore" not in value:
        diagnostics.error(location, f"the lint option is written as {LINT_OPTION_EXAMPLE}")
        return ()
    ignore = value["ignore"]
    ignore = [ignore] if isinstance(ignore, str) else ignore
    if not isinstance(ignore, list) or not ignore or not all(isinstance(rule, str) for rule in ignore):
        diagnostics.error(location, f"lint ignore takes a list of rule names: {LINT_OPTION_EXAMPLE}")
        return ()
    why = value.get("why")
    if not isinstance(why, str) or not why.strip():
        diagnostics.error(location, f"a silenced lint rule needs a reason: {LINT_OPTION_EXAMPLE}")
        return ()
    known = tuple(RULES)
    for rule in ignore:
        if rule not in RULES:
            match = difflib.get_close_matches(rule, known, n=1, cutoff=0.6)
            hint = f"; did you mean '{match[0]}'?" if match else f" (rules: {', '.join(known)})"
            diagnostics.error(location, f"unknown lint rule '{rule}'{hint}")
    return tuple(dict.fromkeys(rule for rule in ignore if rule in RULES))


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
                diagnostics.error(SourceLocation(source.display, line), problem.message)
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
            if child.type == "anki_sound":
                sound = _resolve_image(child.content, where, source, diagnostics, media)
                child.meta["packaged"] = sound.name if sound else ""
                found += [sound] if sound else []
                continue
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
