"""`init`: start a deck repository with a configuration, a sample card, .gitignore and a workflow."""

from __future__ import annotations

import secrets
from importlib import resources
from pathlib import Path

from . import __version__
from .config import name_from_folder, slug
from .errors import DeckError, Diagnostic, Severity, SourceLocation, display_path

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


def init_deck(folder: Path, name: str | None = None) -> list[Path]:
    """Write the starting files into `folder` (created if needed); never overwrite a file."""
    name = name or name_from_folder(folder, default="My deck")
    if any(ch in name for ch in '"\\\n'):
        raise DeckError([Diagnostic(SourceLocation("--name", 0), Severity.ERROR,
                                    "a deck name cannot contain quotes, backslashes or line breaks")])
    # tool_version: the workflow installs this deckbuild until the deck's lock records the one that built it
    values = {"name": name, "file": f"{slug(name)}.apkg", "namespace": new_namespace(name), "tool_version": __version__}
    targets = {folder / target: template for target, template in TEMPLATES.items()}
    existing = [path for path in targets if path.exists()]
    if existing:
        raise DeckError([
            Diagnostic(SourceLocation(display_path(path), 0), Severity.ERROR,
                       "already exists; init writes only into a folder without these files (nothing was written)")
            for path in existing
        ])
    package = resources.files("deckbuild").joinpath("resources")
    written = []
    for path, template in targets.items():
        text = package.joinpath(template).read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{" + key + "}", value)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    (folder / "media").mkdir(exist_ok=True)
    return written
