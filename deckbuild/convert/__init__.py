"""`convert`: another tool's Markdown cards, rewritten as deckbuild's format into a new folder.

One module per tool reads its files into topics and cards (`common.ConvertedTopic`); `common`
writes them. The sources are only read. What a tool's files say that build_deck cannot carry is
reported, one `path:line: not carried: ...` line each."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from .common import Conversion, ConvertError, check_output, write_conversion

TOOLS = {
    "ankdown": "ankdown",
    "md2anki": "md2anki",
    "markdown-anki-decks": "markdown_anki_decks",
    "inka2": "inka2",
    "obsidian": "obsidian",
}


def convert(tool: str, source: Path, out: Path, force: bool = False) -> tuple[Conversion, int, int]:
    """Read `source` as `tool` writes it and write our format into `out`; returns the conversion
    (with what was not carried), the number of files written and of notes."""
    if not source.is_dir():
        raise ConvertError(f"{source}: error: not a folder")
    check_output(out, source, force)
    conversion = import_module(f".{TOOLS[tool]}", __name__).convert(source)
    files, notes = write_conversion(conversion, out, tool)
    return conversion, files, notes


__all__ = ["TOOLS", "ConvertError", "convert"]
