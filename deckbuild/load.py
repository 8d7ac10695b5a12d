"""Load stage: a content folder -> decoded source files, sorted by path."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import Diagnostics, SourceLocation
from .records import SourceFile

MAX_FILE_BYTES = 1024 * 1024  # a card file larger than this is almost surely a mistake
MAX_FOLDER_ENTRIES = 100_000  # files and folders a content folder may hold: more is the wrong folder
# C0 controls other than tab and line breaks: \x1f separates Anki's fields, and none belongs on a card.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


MARKDOWN_LOOKALIKES = (".md", ".markdown", ".mdown", ".mkd", ".mkdn")  # in any case; only `.md` is read


def walk(content_dir: Path, lookalikes: list[Path] | None = None) -> tuple[list[Path], bool]:
    """The visible `.md` files below a folder, and whether the walk stopped at MAX_FOLDER_ENTRIES.

    Hidden files and folders (`.x`, `_x`) are skipped without being entered; symbolic links to
    folders are not followed. Visible Markdown files with another ending (`.MD`, `.markdown`) are
    added to `lookalikes`, so that the build can say it does not read them.
    """
    found: list[Path] = []
    seen = 0
    for folder, folders, files in os.walk(content_dir):
        folders[:] = [name for name in folders if not _is_hidden(name)]
        seen += len(folders) + len(files)
        if seen > MAX_FOLDER_ENTRIES:
            return found, True
        found.extend(Path(folder, name) for name in files if name.endswith(".md") and not _is_hidden(name))
        if lookalikes is not None:
            lookalikes.extend(
                Path(folder, name) for name in files
                if name.lower().endswith(MARKDOWN_LOOKALIKES) and not name.endswith(".md") and not _is_hidden(name)
            )
    found = [path for path in found if path.is_file()]
    found.sort(key=lambda p: p.relative_to(content_dir).as_posix())
    return found, False


def find_markdown_files(content_dir: Path) -> list[Path]:
    return walk(content_dir)[0]


def _refuse(path: Path, content_dir: Path) -> str | None:
    """Why a found file may not be read as a card file, or None."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return "file name is not valid UTF-8; rename it"
    if not path.resolve().is_relative_to(content_dir.resolve()):
        return "symbolic link to a file outside the content folder: it is not read"
    return None


def _too_large(size: int) -> str:
    return (
        f"file is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes for a card file;"
        " split it into several files"
    )


def decode_source(path: Path, data: bytes, diagnostics: Diagnostics) -> SourceFile | None:
    if len(data) > MAX_FILE_BYTES:
        diagnostics.error(SourceLocation(path, 1), _too_large(len(data)))
        return None
    nul = data.find(b"\x00")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        diagnostics.error(SourceLocation(path, line), "binary file (NUL byte): not a Markdown text file")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        diagnostics.error(
            SourceLocation(path, line),
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
        )
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = CONTROL_CHARACTER.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        diagnostics.error(
            SourceLocation(path, line),
            f"control character U+{ord(control.group()):04X} is not allowed in a card file; remove it",
        )
        return None
    if not text.strip():
        diagnostics.warning(SourceLocation(path, 1), "empty file: no cards")
    return SourceFile(path=path, text=text)


def load_sources(content_dir: Path, diagnostics: Diagnostics) -> list[SourceFile]:
    if not content_dir.is_dir():
        diagnostics.error(SourceLocation(content_dir, 0), "content folder not found")
        return []
    if content_dir.resolve().parent == content_dir.resolve():
        diagnostics.error(
            SourceLocation(content_dir, 0), "the content folder is the root of the file system; give a folder of cards"
        )
        return []
    lookalikes: list[Path] = []
    paths, too_many = walk(content_dir, lookalikes)
    for path in sorted(lookalikes):
        diagnostics.warning(
            SourceLocation(path, 0),
            "not read: card files end in .md (lowercase); rename it if it holds cards",
        )
    if too_many:
        diagnostics.error(
            SourceLocation(content_dir, 0),
            f"the content folder holds more than {MAX_FOLDER_ENTRIES:,} files and folders; is it the right folder?",
        )
        return []
    sources = []
    for path in paths:
        refused = _refuse(path, content_dir)
        if refused:
            diagnostics.error(SourceLocation(path, 0), refused)
            continue
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:  # checked before reading: a huge file costs nothing
                diagnostics.error(SourceLocation(path, 1), _too_large(size))
                continue
            with path.open("rb") as stream:
                data = stream.read(MAX_FILE_BYTES + 1)  # a file that grew since is still caught
        except OSError as exc:
            diagnostics.error(SourceLocation(path, 0), f"cannot read: {exc.strerror}")
            continue
        source = decode_source(path, data, diagnostics)
        if source is not None:
            sources.append(source)
    return sources
