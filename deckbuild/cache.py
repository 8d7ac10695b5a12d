"""A content-addressed cache of rendered files, so a rebuild only renders what changed.

An entry is keyed by the file's text and path, the media folder, and a fingerprint of the tool
(its own code, its style sheet, and the versions of the libraries that shape the HTML). An entry
also records the size and modification time of each image its cards use, and is ignored when one
of them changed. The cache lives in the user's cache folder (`$XDG_CACHE_HOME/build_deck`, or
`BUILD_DECK_CACHE_DIR`), is safe to delete, and is ignored when unreadable or corrupt.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from importlib import metadata, resources
from pathlib import Path

from .records import FileResult, SourceFile

CACHE_FORMAT = 1
_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "Pygments", "nh3", "PyYAML")


def default_cache_dir() -> Path:
    explicit = os.environ.get("BUILD_DECK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "build_deck"


@functools.lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    digest = hashlib.sha256(f"cache format {CACHE_FORMAT}".encode())
    package = resources.files("deckbuild")
    for name in sorted(p.name for p in package.iterdir() if p.name.endswith(".py")):
        digest.update(name.encode() + package.joinpath(name).read_bytes())
    for name in sorted(p.name for p in package.joinpath("resources").iterdir()):
        digest.update(name.encode() + package.joinpath("resources", name).read_bytes())
    for library in _LIBRARIES:
        try:
            digest.update(f"{library}={metadata.version(library)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(library.encode())
    return digest.hexdigest()


def _media_stamps(result: FileResult) -> tuple[tuple[str, int, int], ...]:
    stamps = []
    for path in sorted({media.path for card in result.cards for media in card.media}):
        stat = path.stat()
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def _stamps_hold(stamps: tuple[tuple[str, int, int], ...]) -> bool:
    for name, size, mtime in stamps:
        try:
            stat = os.stat(name)
        except OSError:
            return False
        if (stat.st_size, stat.st_mtime_ns) != (size, mtime):
            return False
    return True


class RenderCache:
    def __init__(self, folder: Path | None, writable: bool = True):
        self.folder = folder  # None: disabled
        self.writable = writable  # `check` and `stats` read the cache but never write to it

    def key(self, source: SourceFile, media_dir: Path) -> str:
        digest = hashlib.sha256(tool_fingerprint().encode())
        for part in (source.display, str(source.path.absolute()), str(media_dir.absolute()), source.text):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / "files" / key[:2] / f"{key}.pickle"

    def get(self, key: str) -> FileResult | None:
        if self.folder is None:
            return None
        try:
            with self._path(key).open("rb") as stream:
                stamps, result = pickle.load(stream)
        except FileNotFoundError:
            return None
        except Exception:  # noqa: BLE001 - a corrupt entry is a miss, never an error
            return None
        if not isinstance(result, FileResult) or not _stamps_hold(stamps):
            return None
        return result

    def put(self, key: str, result: FileResult) -> None:
        if self.folder is None or not self.writable:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                pickle.dump((_media_stamps(result), result), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(name, path)
        except OSError:
            pass  # a cache that cannot be written only costs speed
