"""What a file and a card say about themselves: front matter and card options (YAML without
aliases, typed values, the lint option), topics, titles, tags and difficulties."""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml
from markdown_it.token import Token

from .config import TAG_LIKE
from .errors import Diagnostics, SourceLocation
from .lintrules import RULES
from .records import DIFFICULTIES, SourceFile, first_line

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: same results, faster
MAX_YAML_DEPTH = 10  # front matter and card options need two levels (a list of tags)


class _StrictYamlLoader(yaml.SafeLoader):
    """The safe loader without anchors and aliases (no "billion laughs") and with bounded nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # unannotated in types-PyYAML
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


FRONT_MATTER_KEYS = ("topic", "title", "difficulty", "value", "tags")


# A front-matter key this close to one of ours is taken for a typo (an error); any other key is
# another tool's (Obsidian's aliases, a blog's date) and is ignored with a warning.
TYPO_CUTOFF = 0.75
CARD_OPTION_KEYS = ("id", "difficulty", "value", "topic", "tags", "retired", "shuffle", "lint", "guid")
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _closest(key: str, known: tuple[str, ...]) -> str:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else f" (known keys: {', '.join(known)})"


def normalise_tags(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> tuple[str, ...]:
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
        parts = tag.lower().split("::")
        if len(parts) > 2 and parts[1] in _RESERVED_TAG_KINDS:
            diagnostics.error(
                location,
                f"the tag '{tag}' looks like one the build gives (<deck>::{parts[1]}::...): set "
                f"'{_RESERVED_TAG_KINDS[parts[1]]}' in the options instead",
            )
            continue
        if tag:
            tags.append(tag)
    return tuple(tags)


# the tags the build writes itself (`<namespace>::topic::x`, ...): a card's own tags may not imitate them
_RESERVED_TAG_KINDS = {"topic": "topic:", "difficulty": "difficulty:", "status": "retired: true"}


SCALAR = (str, int, float)  # what a one-word option may be (YAML reads `2024` as a number)


def normalise_topic(
    value: Any, location: SourceLocation, diagnostics: Diagnostics, what: str = "topic"
) -> str | None:
    """A topic as one tag: whitespace becomes `-`; `::` (a level of tags and subdecks) is an error."""
    if not isinstance(value, SCALAR) or isinstance(value, bool):
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


def check_difficulty(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> str | None:
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


VALUES = range(1, 6)  # interview value: 5 core, 4 high, 3 medium, 2 low, 1 trivia


def check_value(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> int | None:
    """A card's interview value: a whole number from 1 (trivia) to 5 (core), written without quotes."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in VALUES:
        if isinstance(value, str):
            shown = f"'{value}'"
        else:
            shown = str(value).lower() if isinstance(value, bool) else str(value)
        diagnostics.error(
            location,
            f"value {shown} is not a whole number from 1 to 5 "
            "(5 core, 4 high, 3 medium, 2 low, 1 trivia; without quotes)",
        )
        return None
    return value


GUID_MAX_LENGTH = 100


def check_guid(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> str:
    """A note identity kept from another tool (`convert` writes it): printable ASCII without spaces.

    Anki matches an imported note to the one it has by this text alone, so a card that carries the
    identity another tool gave its note updates that note (and keeps its reviews)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        diagnostics.error(location, 'guid must be text in quotes, for example: guid: "f2Xk)q9#Lm"')
        return ""
    text = str(value)
    if not text or len(text) > GUID_MAX_LENGTH or not all("!" <= char <= "~" for char in text):
        diagnostics.error(
            location,
            f"guid '{text[:GUID_MAX_LENGTH]}' must be 1 to {GUID_MAX_LENGTH} printable ASCII characters "
            "without spaces (it is the note's identity in Anki)",
        )
        return ""
    return text


def _yaml_error_line(exc: yaml.YAMLError, first_line: int) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return first_line + (mark.line if mark is not None else 0)


def read_front_matter(
    token: Token, source: SourceFile, diagnostics: Diagnostics
) -> tuple[dict[str, Any], dict[str, SourceLocation]]:
    """The front matter's values, and the location of each key (for messages about its value)."""
    first_content_line = first_line(token) + 1  # the line after the opening ---
    try:
        data = _load_yaml(token.content) if token.content.strip() else {}
    except yaml.YAMLError as exc:
        line = _yaml_error_line(exc, first_content_line)
        problem = getattr(exc, "problem", None) or "cannot be read"
        if isinstance(exc, (yaml.scanner.ScannerError, yaml.parser.ParserError)):
            # not YAML at all (inka2's `---` sections): the block is ignored, the file still builds
            first = first_line(token)
            last = token.map[1] if token.map else first
            diagnostics.warning(
                SourceLocation(source.path, first),
                f"lines {first}-{last} are on no card: the block between --- lines at the top of the file is read "
                f"as front matter, but it is not YAML ({problem} at line {line}), so it is ignored",
                kind="front-matter-ignored",
            )
        else:  # anchors, aliases, nesting too deep: refused
            diagnostics.error(SourceLocation(source.path, line), f"invalid YAML in front matter: {problem}")
        return {}, {}
    if data is None:
        return {}, {}
    if not isinstance(data, dict):
        diagnostics.error(
            SourceLocation(source.path, first_content_line),
            "front matter must be a mapping of keys to values (topic: ..., difficulty: ...)",
        )
        return {}, {}
    lines = token.content.split("\n")
    key_locations = {}
    ignored = []
    for key in data:
        line = next((i for i, text in enumerate(lines) if text.startswith(f"{key}:")), 0)
        key_locations[key] = SourceLocation(source.path, first_content_line + line)
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
            f"front-matter key(s) {', '.join(ignored)} ignored (deckbuild reads {', '.join(FRONT_MATTER_KEYS)})",
            kind="ignored-key",
        )
    return data, key_locations


def read_card_options(token: Token, source: SourceFile, diagnostics: Diagnostics) -> dict[str, Any]:
    location = SourceLocation(source.path, first_line(token))
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
    return dict(data)


LINT_OPTION_EXAMPLE = 'lint: {ignore: [list-recall], why: "the order is the point"}'


def read_lint_option(value: Any, location: SourceLocation, diagnostics: Diagnostics) -> tuple[str, ...]:
    """`lint: {ignore: [rule, ...], why: "reason"}`: the rules this card silences, each with a reason."""
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


def is_comment(token: Token) -> bool:
    return token.type == "html_block" and token.content.lstrip().startswith("<!--")


# Obsidian_to_Anki writes the id Anki gave its note as `<!--ID: 1234567890-->` (upper case, digits only)
_FOREIGN_NOTE_ID = re.compile(r"<!--\s*ID:\s*\d+\s*-->")


def is_foreign_note_id(token: Token) -> bool:
    """A comment that is Obsidian_to_Anki's Anki note id, not card options."""
    return is_comment(token) and bool(_FOREIGN_NOTE_ID.fullmatch(token.content.strip()))
