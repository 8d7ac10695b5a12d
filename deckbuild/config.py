"""Deck configuration: the `[tool.build_deck]` table of pyproject.toml, or one deck for any folder."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import urllib.parse
from pathlib import Path
from typing import Any

from .errors import DeckError, Diagnostic, Diagnostics, Severity, SourceLocation, display_path
from .lintrules import RULES, validate_setting
from .records import DIFFICULTIES, BuildConfig, DeckSpec, LintSettings

DEFAULT_CONTENT = Path("content")
DEFAULT_MEDIA = Path("media")
DEFAULT_OUT = Path("dist")
LOCK_NAME = "build_deck.lock"
DECK_KEYS = (
    "name", "file", "namespace", "description", "topics", "difficulties", "order", "subdecks", "shuffle_options",
    "source_url",
)
ORDERS = ("value", "topic")  # new cards by interview value with topics interleaved, or topic by topic
TABLE_KEYS = ("content", "media", "out", "lock", "version", "decks", "lint")


_PLAIN_FILE_NAME = re.compile(r"^[^/\\\x00-\x1f]+\.apkg$")  # no folder, no control characters
TAG_LIKE = re.compile(r"</?[A-Za-z!][^>]*>")  # what a browser would read as an HTML tag or comment


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "deck"


def name_from_folder(folder: Path, default: str = "Deck") -> str:
    """A deck name from a folder's name: `my_notes` -> `My notes`."""
    return re.sub(r"[-_]+", " ", folder.resolve().name).strip().capitalize() or default


def _default_deck(content_dir: Path) -> DeckSpec:
    folder = content_dir.resolve().name or "deck"
    name = name_from_folder(content_dir)
    return DeckSpec(
        name=name,
        file_name=f"{slug(folder)}.apkg",
        namespace=slug(name),
        description=f"Cards built from the Markdown files in {folder}/.",
        unconfigured=True,
    )


def _config_error(pyproject: Path, message: str, table: str = "", key: str = "") -> DeckError:
    """An error at the line of `key` in `[tool.build_deck<table>]`, or at the table's first line."""
    line = 1
    try:
        lines = pyproject.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    header = f"[tool.build_deck{table}]" if table else ("[tool.build_deck", "[[tool.build_deck")
    start = next((n for n, text in enumerate(lines, 1) if text.strip().startswith(header)), 0)
    line = start or line
    if start and key:
        for number, text in enumerate(lines[start:], start + 1):
            if text.strip().startswith("["):
                break
            if text.strip().split("=")[0].strip().strip('"') == key:
                line = number
                break
    return DeckError([Diagnostic(SourceLocation(pyproject, line), Severity.ERROR, message)])


def _deck_key_error(pyproject: Path, deck: str, key: str, message: str) -> DeckError:
    """An error at the line of `key` in the `[[tool.build_deck.decks]]` entry named `deck`."""
    try:
        lines = pyproject.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    entry = None
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if stripped.startswith("["):
            entry = number if stripped.replace(" ", "") == "[[tool.build_deck.decks]]" else None
            continue
        if entry is None or "=" not in stripped:
            continue
        try:
            found = tomllib.loads(stripped)  # one `key = value` line is a TOML document of its own
        except tomllib.TOMLDecodeError:
            continue
        if found.get("name", deck) != deck:
            entry = None  # another deck's entry
        elif key in found:
            return DeckError([Diagnostic(SourceLocation(pyproject, number), Severity.ERROR, message)])
    return _config_error(pyproject, message)


def _read_deck(raw: Any, pyproject: Path) -> DeckSpec:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise _config_error(pyproject, "every [[tool.build_deck.decks]] entry needs a name")
    unknown = sorted(set(raw) - set(DECK_KEYS))
    if unknown:
        raise _config_error(pyproject, f"unknown deck key '{unknown[0]}' (known: {', '.join(DECK_KEYS)})")
    difficulties = tuple(raw.get("difficulties", ()))
    bad = [d for d in difficulties if d not in DIFFICULTIES]
    if bad:
        raise _config_error(pyproject, f"unknown difficulty '{bad[0]}' in deck '{raw['name']}'")
    name = str(raw["name"])
    if TAG_LIKE.search(name):
        raise _config_error(pyproject, f"deck name '{name}' holds HTML; a deck name is plain text")
    file_name = str(raw.get("file") or f"{slug(name)}.apkg")
    if not _PLAIN_FILE_NAME.match(file_name) or file_name.strip(".") == "apkg":
        raise _config_error(
            pyproject,
            f"deck file '{file_name}' of deck '{name}' must be a plain file name ending in .apkg, "
            "with no folder: decks are written into the output folder",
        )
    order = raw.get("order", "value")
    if order not in ORDERS:
        raise _deck_key_error(
            pyproject, name, "order",
            f"order of deck '{name}' must be \"value\" (new cards by interview value, topics interleaved) or "
            f"\"topic\" (topic by topic), not {order!r}",
        )
    # One deck by default for the value order: Anki gathers new cards subdeck by subdeck, which would
    # undo the interleaving. The topic order keeps its subdecks, one per topic.
    subdecks = raw.get("subdecks", order == "topic")
    if not isinstance(subdecks, bool):
        raise _deck_key_error(pyproject, name, "subdecks", f"subdecks of deck '{name}' must be true or false")
    shuffle = raw.get("shuffle_options", True)
    if not isinstance(shuffle, bool):
        raise _config_error(pyproject, f"shuffle_options of deck '{name}' must be true or false")
    return DeckSpec(
        name=name,
        file_name=file_name,
        namespace=slug(str(raw.get("namespace") or name)),
        description=str(raw.get("description", "")),
        topics=tuple(re.sub(r"\s+", "-", str(t).strip()) for t in raw.get("topics", ())),  # as cards' topics
        difficulties=difficulties,
        order=order,
        subdecks=subdecks,
        shuffle_options=shuffle,
        source_url=_source_url(raw.get("source_url", ""), name, pyproject),
    )


def _source_url(value: Any, deck: str, pyproject: Path) -> str:
    """A link template for each card's file: a web address (http or https) holding `{path}`."""
    if value == "":
        return ""
    parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or "{path}" not in value:
        raise _config_error(
            pyproject,
            f"source_url of deck '{deck}' must be an http:// or https:// address holding {{path}}, for example "
            '"https://github.com/owner/repo/blob/main/{path}"',
        )
    return str(value)


def _read_lint(raw: Any, pyproject: Path) -> LintSettings:
    """`[tool.build_deck.lint]`: each rule `false` (off), `true` (its default) or a threshold."""
    if not isinstance(raw, dict):
        raise _config_error(pyproject, "[tool.build_deck.lint] must be a table of rule = threshold")
    for name, value in raw.items():
        if name not in RULES:
            raise _config_error(
                pyproject, f"unknown lint rule '{name}' in [tool.build_deck.lint]" + _closest(name, tuple(RULES)),
                ".lint", name,
            )
        problem = validate_setting(name, value)
        if problem:
            raise _config_error(pyproject, problem, ".lint", name)
    return LintSettings.from_values(raw)


def _closest(key: str, known: tuple[str, ...]) -> str:
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else f" (known: {', '.join(known)})"


def _inside_project(value: Any, key: str, root: Path, pyproject: Path) -> None:
    """A folder or file named in pyproject.toml stays inside the project (the folder holding it),
    links resolved: a configuration (a pull request, say) must not make the build read or write
    anything else. A path given on the command line is the user's own choice and is not checked."""
    if not isinstance(value, str) or not value.strip():
        raise _config_error(pyproject, f"[tool.build_deck] {key} must be a path (text) inside the project", "", key)
    project = Path(os.path.realpath(root))
    target = Path(os.path.realpath(root / value))
    if Path(value).is_absolute() or not (target == project or project in target.parents):
        raise _config_error(
            pyproject,
            f"[tool.build_deck] {key} = {value!r} is outside the project ({display_path(root) or '.'}): "
            f"configured paths stay inside it; give a path outside on the command line (--{key}) instead",
            "", key,
        )
    if key in ("out", "lock") and target == project:
        raise _config_error(pyproject, f"[tool.build_deck] {key} cannot be the project folder itself", "", key)


def load_config(
    content_dir: Path | None = None,
    media_dir: Path | None = None,
    out_dir: Path | None = None,
    pyproject: Path = Path("pyproject.toml"),
    lock_path: Path | None = None,
) -> BuildConfig:
    """The configured decks when building the configured content folder; else one deck for the folder."""
    table: dict[str, Any] = {}
    version = "unversioned"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DeckError(
                [Diagnostic(SourceLocation(pyproject, 0), Severity.ERROR, f"invalid TOML: {exc}")]
            ) from None
        table = data.get("tool", {}).get("build_deck", {})
        version = str(data.get("project", {}).get("version", version))
    unknown = sorted(set(table) - set(TABLE_KEYS))
    if unknown:
        known = ", ".join(TABLE_KEYS)
        raise _config_error(pyproject, f"unknown key '{unknown[0]}' in [tool.build_deck] (known: {known})")
    if "version" in table:  # the decks' own version (a deck repository has no [project]); shown in each description
        version = table["version"]
        if not isinstance(version, str) or not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,63}", version):
            raise _config_error(
                pyproject, f"version must be a string such as \"0.1.0\" (letters, digits, . + -), not {version!r}",
                key="version",
            )

    root = pyproject.parent
    for key in ("content", "media", "out", "lock"):
        if key in table:
            _inside_project(table[key], key, root, pyproject)
    configured_content = root / table.get("content", str(DEFAULT_CONTENT))
    content = content_dir or configured_content
    uses_config = bool(table.get("decks")) and content.resolve() == configured_content.resolve()
    media = media_dir or (root / table.get("media", str(DEFAULT_MEDIA)) if uses_config else DEFAULT_MEDIA)
    out = out_dir or (root / table.get("out", str(DEFAULT_OUT)) if uses_config else DEFAULT_OUT)
    if uses_config:
        decks = tuple(_read_deck(raw, pyproject) for raw in table["decks"])
        lock_path = lock_path or root / table.get("lock", LOCK_NAME)
    else:
        decks = (_default_deck(content),)
        lock_path = lock_path or out / LOCK_NAME
    names = [d.file_name for d in decks]
    if len(set(names)) != len(names):
        raise _config_error(pyproject, "two decks write the same file")
    lint = _read_lint(table["lint"], pyproject) if "lint" in table else None
    return BuildConfig(
        content_dir=content, media_dir=media, out_dir=out, decks=decks, version=version, lock_path=lock_path,
        lint=lint,
    )


__all__ = ["load_config", "slug", "Diagnostics"]


def namespace_notes(config: BuildConfig) -> tuple[Diagnostic, ...]:
    """A deck built without configuration is told, once, where its notes' identity comes from
    (about the set-up, not the content: --strict does not make it an error)."""
    notes = Diagnostics()
    for spec in config.decks:
        if spec.unconfigured:
            notes.warning(
                SourceLocation(config.content_dir, 0),
                f"no configuration: the deck's namespace '{spec.namespace}' comes from the folder's name, so the "
                "notes of another folder with that name and the same card ids would overwrite these in Anki",
                kind="namespace",
            )
    return tuple(notes.items)
