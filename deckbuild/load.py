"""Load stage: a content folder -> decoded source files, sorted by path."""

from __future__ import annotations

import re
from pathlib import Path

from .errors import Diagnostics, SourceLocation, display_path
from .records import SourceFile

MAX_FILE_BYTES = 1024 * 1024  # a card file larger than this is almost surely a mistake
# C0 controls other than tab and line breaks: \x1f separates Anki's fields, and none belongs on a card.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith((".", "_")) for part in path.relative_to(root).parts)


def find_markdown_files(content_dir: Path) -> list[Path]:
    return sorted(
        (p for p in content_dir.rglob("*.md") if p.is_file() and not _is_hidden(p, content_dir)),
        key=lambda p: p.relative_to(content_dir).as_posix(),
    )


def decode_source(path: Path, data: bytes, diagnostics: Diagnostics) -> SourceFile | None:
    shown = display_path(path)
    if len(data) > MAX_FILE_BYTES:
        diagnostics.error(
            SourceLocation(shown, 1),
            f"file is {len(data):,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes for a card file;"
            " split it into several files",
        )
        return None
    nul = data.find(b"\x00")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        diagnostics.error(SourceLocation(shown, line), "binary file (NUL byte): not a Markdown text file")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        diagnostics.error(
            SourceLocation(shown, line),
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        )
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = CONTROL_CHARACTER.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        diagnostics.error(
            SourceLocation(shown, line),
            f"control character U+{ord(control.group()):04X} is not allowed in a card file; remove it",
        )
        return None
    if not text.strip():
        diagnostics.warning(SourceLocation(shown, 1), "empty file: no cards")
    return SourceFile(path=path, display=shown, text=text)


def load_sources(content_dir: Path, diagnostics: Diagnostics) -> list[SourceFile]:
    shown = display_path(content_dir)
    if not content_dir.is_dir():
        diagnostics.error(SourceLocation(shown, 0), "content folder not found")
        return []
    sources = []
    for path in find_markdown_files(content_dir):
        try:
            data = path.read_bytes()
        except OSError as exc:
            diagnostics.error(SourceLocation(display_path(path), 0), f"cannot read: {exc.strerror}")
            continue
        source = decode_source(path, data, diagnostics)
        if source is not None:
            sources.append(source)
    return sources
