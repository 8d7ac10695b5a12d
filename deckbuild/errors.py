"""One family of errors: every problem in the content knows its `path:line`."""

from __future__ import annotations

import enum
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path


class Severity(enum.Enum):
    WARNING = "warning"
    ERROR = "error"


@functools.total_ordering
@dataclass(frozen=True, slots=True)
class SourceLocation:
    """Where a problem is: a path as the build was given it, and a line (1-based; 0 stands for the file
    or folder as a whole). Kept as a path through every stage; written as `path:line` only when shown,
    relative to the working directory then. A setting that is not a file (`--name`, an environment
    variable) is given as a relative path of its name, which shows as written."""

    path: Path
    line: int

    def __str__(self) -> str:
        shown = shown_path(self.path)
        return f"{shown}:{self.line}" if self.line else shown

    def __lt__(self, other: SourceLocation) -> bool:
        # in the order the user reads them: by the path as shown, then by line
        return (shown_path(self.path), self.line) < (shown_path(other.path), other.line)


@dataclass(frozen=True, slots=True, order=True)
class Diagnostic:
    location: SourceLocation
    severity: Severity = field(compare=False)
    message: str = field(compare=True)
    kind: str = field(default="", compare=False)  # names a warning that may repeat, so it can be summarised

    def __str__(self) -> str:
        return printable(f"{self.location}: {self.severity.value}: {self.message}")


class DeckError(Exception):
    """Problems in the content (or its configuration) that stop a build."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class Diagnostics:
    """Collects every problem of a run so that all are reported at once."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def error(self, location: SourceLocation, message: str) -> None:
        self._items.append(Diagnostic(location, Severity.ERROR, message))

    def warning(self, location: SourceLocation, message: str, kind: str = "") -> None:
        self._items.append(Diagnostic(location, Severity.WARNING, message, kind))

    def extend(self, items: Diagnostics | tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
        self._items.extend(items._items if isinstance(items, Diagnostics) else items)

    def __len__(self) -> int:
        return len(self._items)

    @property
    def items(self) -> list[Diagnostic]:
        return sorted(self._items)

    def has_errors(self, strict: bool = False) -> bool:
        return any(d.severity is Severity.ERROR or strict for d in self._items)

    def raise_if_errors(self, strict: bool = False) -> None:
        if self.has_errors(strict):
            raise DeckError(self.items)


def display_path(path: Path, root: Path | None = None) -> str:
    """A path as the user should see it: relative to the working directory when it can be."""
    base = root or Path.cwd()
    try:
        return path.absolute().relative_to(base.absolute()).as_posix()
    except ValueError:
        return path.as_posix()


def shown_path(path: Path) -> str:
    """A path as messages show it (display_path), with any byte of its name that is not UTF-8 written
    as \\xNN. Remembered per working directory: sorting many diagnostics asks for the same few files."""
    return _shown_path(path, os.getcwd())


@functools.lru_cache(maxsize=8192)
def _shown_path(path: Path, cwd: str) -> str:
    return os.fsencode(display_path(path, Path(cwd))).decode("utf-8", "backslashreplace")


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """One line of text with every control character (C0, DEL, C1, the Unicode line and paragraph
    separators) written as an escape such as `\\x1b` or `\\n`: a file's text quoted in a diagnostic
    can neither drive the terminal nor start a line of its own (a CI workflow command)."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group(0))[1:-1], text)
