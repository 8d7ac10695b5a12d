"""`init`: start a deck repository with a configuration, a sample card, .gitignore and a workflow."""

from __future__ import annotations

import os
import re
import secrets
from importlib import resources
from pathlib import Path

from . import __version__
from .config import TAG_LIKE, name_from_folder, slug
from .errors import DeckError, Diagnostic, Severity, SourceLocation

# target path inside the new folder -> template in deckbuild/resources
TEMPLATES = {
    "pyproject.toml": "init-pyproject.toml",
    "content/01-first-steps.md": "init-card.md",
    ".gitignore": "init-gitignore",
    ".github/workflows/deck.yml": "init-workflow.yml",
}


def new_namespace(name: str) -> str:
    """The deck's slug and a random part: no other deck, even one with the same name, shares it."""
    return f"{slug(name)[:40].strip('-')}-{secrets.token_hex(4)}"


_PLACEHOLDER = re.compile(r"\{(name|file|namespace|tool_version)\}")


def _name_problem(name: str) -> str | None:
    if re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", name):
        return "a deck name cannot contain line breaks or other control characters"
    if any(ch in name for ch in '"\\'):
        return "a deck name cannot contain quotes or backslashes"
    if "{" in name or "}" in name:
        return "a deck name cannot contain { or }"
    if TAG_LIKE.search(name):
        return "a deck name is plain text: it cannot hold HTML tags"
    if not name.strip():
        return "a deck name cannot be empty"
    return None


def init_deck(folder: Path, name: str | None = None) -> list[Path]:
    """Write the starting files into `folder` (created if needed); never overwrite a file, and
    never write through a symbolic link (even one pointing nowhere)."""
    name = name or name_from_folder(folder, default="My deck")
    problem = _name_problem(name)
    if problem:
        raise DeckError([Diagnostic(SourceLocation(Path("--name"), 0), Severity.ERROR, problem)])
    # tool_version: the workflow installs this deckbuild until the deck's lock records the one that built it
    values = {"name": name, "file": f"{slug(name)}.apkg", "namespace": new_namespace(name), "tool_version": __version__}
    targets = {folder / target: template for target, template in TEMPLATES.items()}
    in_the_way = set()
    for path in [*targets, folder / "media"]:
        for item in (path, *path.relative_to(folder).parents):
            candidate = folder / item if item != Path(".") else None
            if candidate is not None and candidate.is_symlink():
                in_the_way.add(candidate)
        if os.path.lexists(path) and path.name != "media":
            in_the_way.add(path)
    if in_the_way:
        raise DeckError([
            Diagnostic(SourceLocation(path, 0), Severity.ERROR,
                       "is a symbolic link; init writes only real files and folders (nothing was written)"
                       if path.is_symlink() else
                       "already exists; init writes only into a folder without these files (nothing was written)")
            for path in sorted(in_the_way)
        ])
    package = resources.files("deckbuild").joinpath("resources")
    written = []
    for path, template in targets.items():
        text = package.joinpath(template).read_text(encoding="utf-8")
        text = _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)  # one pass: values are never re-read
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as stream:  # exclusive: never an existing file or link
            stream.write(text)
        written.append(path)
    (folder / "media").mkdir(exist_ok=True)
    return written
