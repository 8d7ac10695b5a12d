"""A content-addressed cache of rendered files, so a rebuild only renders what changed.

An entry is keyed by the file's text and path, the media folder, and a fingerprint of the tool
(its own code, its style sheet, and the versions of the libraries that shape the HTML). An entry
also records the size and modification time of each image its cards use, and is ignored when one
of them changed. The cache lives in the user's cache folder (`$XDG_CACHE_HOME/build_deck`, or
`BUILD_DECK_CACHE_DIR`), is safe to delete, and is ignored when unreadable or corrupt.

Nothing read from the cache is trusted: an entry is plain JSON (never pickle, so reading it runs
no code), signed with HMAC-SHA256 under a per-user key that lives outside the cache folder
(`$XDG_STATE_HOME/build_deck/cache-key`, mode 0600 in a 0700 folder owned by the user). An entry
whose signature, shape or types do not check out (damaged, or written by someone else: a shared
cache, a CI cache restored from a pull request) is ignored, and the file is rendered again.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from .errors import Diagnostic, Severity, SourceLocation
from .records import Card, MediaFile, CodeBlock, FileResult, Option, SourceFile

CACHE_FORMAT = 3
_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "Pygments", "nh3", "PyYAML")
_KEY_BYTES = 32


MAX_ENTRY_BYTES = 64 * 1024 * 1024  # a cache entry or record larger than this is not one of ours


def _xdg_base(variable: str, *default: str) -> str:
    """An XDG base folder: the variable when it holds an absolute path (the specification says a
    relative one is invalid and is ignored, so a key never lands inside the project), else the default."""
    value = os.environ.get(variable, "")
    return value if os.path.isabs(value) else os.path.join(os.path.expanduser("~"), *default)


def default_cache_dir() -> Path:
    explicit = os.environ.get("BUILD_DECK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(_xdg_base("XDG_CACHE_HOME", ".cache")) / "build_deck"


def default_key_path() -> Path:
    """The signing key: per user, and never inside the (possibly shared or restored) cache folder."""
    return Path(_xdg_base("XDG_STATE_HOME", ".local", "state")) / "build_deck" / "cache-key"


def _owned_and_closed(info: os.stat_result) -> bool:
    """A folder this user owns and nobody else may write (Windows: private by its profile's ACL)."""
    if os.name == "nt":
        return True
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o022 == 0


def trusted_folder(root: Path, *parts: str, create: bool = False) -> Path | None:
    """`root/parts...` when the cache folder `root` and each folder below it belong to this user
    and nobody else can write them (created private when `create`); None otherwise, and then the
    cache is not used there: a folder others can write could hold links to the user's files,
    endless devices or FIFOs."""
    try:
        if create:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _owned_and_closed(os.stat(root)):  # the folder the user named may itself be a link
            return None
        folder = root
        for part in parts:
            folder = folder / part
            if create:
                try:
                    folder.mkdir(mode=0o700)
                except FileExistsError:
                    pass
            if not _owned_and_closed(os.lstat(folder)):  # below it, never a link
                return None
    except OSError:
        return None
    return folder


def read_private_file(path: Path, limit: int = MAX_ENTRY_BYTES) -> bytes | None:
    """The bytes of a regular file of this user's, opened without following a link, without
    blocking on a FIFO, and at most `limit` bytes long; None for anything else."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        if os.name != "nt" and info.st_uid != os.geteuid():
            return None
        with os.fdopen(os.dup(descriptor), "rb") as stream:
            data = stream.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return data if len(data) <= limit else None


def write_private_file(path: Path, data: bytes) -> None:
    """Write `path` atomically through a new private file in its folder: a link already at `path` is
    replaced, never followed. Raises OSError."""
    handle, name = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(name, path)
    except OSError:
        os.unlink(name)  # no stray temporary file (when the entry's path is a folder, say)
        raise


def _private(info: os.stat_result, mode: int) -> bool:
    """Owned by this user, and no permission for anyone else (a folder: 0700; a file: 0600).
    Windows has no such mode bits (its folders under the user's profile are private by ACL)."""
    if os.name == "nt":
        return True
    owner_ok = info.st_uid == os.geteuid()
    return owner_ok and stat.S_IMODE(info.st_mode) & 0o077 == 0 and stat.S_IMODE(info.st_mode) & mode == mode


def read_or_create_key(path: Path, create: bool = True) -> bytes | None:
    """The user's signing key, created on first use (when `create`); None when it is missing, or
    when the file or its folder is not private (then the cache is not used)."""
    try:
        if create:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(os.lstat(path.parent), 0o700):
            return None
        try:
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            if not create:
                return None
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=".cache-key.", suffix=".tmp")  # mode 0600
            with os.fdopen(handle, "wb") as stream:
                stream.write(secrets.token_bytes(_KEY_BYTES))
            try:
                os.link(name, path)  # never replaces a key another build made meanwhile
            except FileExistsError:
                pass
            finally:
                os.unlink(name)
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(descriptor, "rb") as stream:
            if not (stat.S_ISREG(os.fstat(stream.fileno()).st_mode) and _private(os.fstat(stream.fileno()), 0o600)):
                return None
            key = stream.read(_KEY_BYTES + 1)
    except OSError:
        return None
    return key if len(key) == _KEY_BYTES else None


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


def _media_stamps(result: FileResult) -> list[list[Any]]:
    stamps = []
    for path in sorted({media.path for card in result.cards for media in card.media}):
        info = path.stat()
        stamps.append([str(path), info.st_size, info.st_mtime_ns])
    return stamps


def _stamps_hold(stamps: list[list[Any]]) -> bool:
    for name, size, mtime in stamps:
        try:
            info = os.stat(name)
        except OSError:
            return False
        if (info.st_size, info.st_mtime_ns) != (size, mtime):
            return False
    return True


# --- plain data: FileResult <-> JSON, with every type checked on the way back -------------------


class _Invalid(ValueError):
    """A cache entry whose shape or types are wrong."""


def _location_data(location: SourceLocation) -> list[Any]:
    return [location.path, location.line]


def _card_data(card: Card) -> dict[str, Any]:
    return {
        "location": _location_data(card.location),
        "id": card.id,
        "id_is_derived": card.id_is_derived,
        "topic": card.topic,
        "difficulty": card.difficulty,
        "tags": list(card.tags),
        "question_html": card.question_html,
        "question_text": card.question_text,
        "context_html": card.context_html,
        "answer_html": card.answer_html,
        "options": [[option.html, option.correct] for option in card.options],
        "cloze_numbers": list(card.cloze_numbers),
        "media": [[media.name, str(media.path)] for media in card.media],
        "retired": card.retired,
        "source_digest": card.source_digest,
        "shuffle_options": card.shuffle_options,
        "code_blocks": [[block.line, block.language, block.text, block.part] for block in card.code_blocks],
        "lint_ignore": list(card.lint_ignore),
        "reference_html": card.reference_html,
        "references": list(card.references),
        "value": card.value,
        "guid": card.guid,
    }


def result_data(result: FileResult) -> dict[str, Any]:
    return {
        "display": result.display,
        "topic": result.topic,
        "title": result.title,
        "cards": [_card_data(card) for card in result.cards],
        "diagnostics": [
            [*_location_data(d.location), d.severity.value, d.message, d.kind] for d in result.diagnostics
        ],
    }


def _want(value: Any, kind: type | tuple[type, ...]) -> Any:
    # bool is an int in Python: an int field never accepts a bool, and the reverse
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Invalid(f"expected {kind}, got {type(value).__name__}")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if not all(isinstance(item, str) for item in _want(value, list)):
        raise _Invalid("expected a list of strings")
    return tuple(value)


def _pair(value: Any) -> list[Any]:
    if len(_want(value, list)) != 2:
        raise _Invalid("expected a pair")
    return value


def _location(value: Any) -> SourceLocation:
    path, line = _pair(value)
    return SourceLocation(_want(path, str), _want(line, int))


def _card(value: Any) -> Card:
    data = _want(value, dict)
    expected = {
        "location", "id", "id_is_derived", "topic", "difficulty", "tags", "question_html", "question_text",
        "context_html", "answer_html", "options", "cloze_numbers", "media", "retired", "source_digest",
        "shuffle_options", "code_blocks", "lint_ignore", "reference_html", "references",
        "shuffle_options", "code_blocks", "lint_ignore", "value", "guid",
    }
    if set(data) != expected:
        raise _Invalid("unexpected card keys")
    options = []
    for item in _want(data["options"], list):
        html_text, correct = _pair(item)
        options.append(Option(_want(html_text, str), _want(correct, bool)))
    media = []
    for item in _want(data["media"], list):
        name, path = _pair(item)
        media.append(MediaFile(_want(name, str), Path(_want(path, str))))
    blocks = []
    for item in _want(data["code_blocks"], list):
        if len(_want(item, list)) != 4:
            raise _Invalid("a code block has four parts")
        line, language, text, part = item
        blocks.append(CodeBlock(_want(line, int), _want(language, str), _want(text, str), _want(part, str)))
    difficulty = data["difficulty"]
    return Card(
        location=_location(data["location"]),
        id=_want(data["id"], str),
        id_is_derived=_want(data["id_is_derived"], bool),
        topic=_want(data["topic"], str),
        difficulty=None if difficulty is None else _want(difficulty, str),
        tags=_strings(data["tags"]),
        question_html=_want(data["question_html"], str),
        question_text=_want(data["question_text"], str),
        context_html=_want(data["context_html"], str),
        answer_html=_want(data["answer_html"], str),
        options=tuple(options),
        cloze_numbers=tuple(_want(n, int) for n in _want(data["cloze_numbers"], list)),
        media=tuple(media),
        retired=_want(data["retired"], bool),
        source_digest=_want(data["source_digest"], str),
        shuffle_options=_want(data["shuffle_options"], bool),
        code_blocks=tuple(blocks),
        lint_ignore=_strings(data["lint_ignore"]),
        reference_html=_want(data["reference_html"], str),
        references=_strings(data["references"]),
        value=_value(data["value"]),
        guid=_want(data["guid"], str),
    )


def _value(value: Any) -> int:
    if isinstance(value, bool) or _want(value, int) not in range(1, 6):
        raise _Invalid("a value is a whole number from 1 to 5")
    return value


def result_from_data(value: Any) -> FileResult:
    """A FileResult from plain data, or _Invalid when any field has the wrong shape or type."""
    data = _want(value, dict)
    if set(data) != {"display", "topic", "title", "cards", "diagnostics"}:
        raise _Invalid("unexpected keys")
    diagnostics = []
    for item in _want(data["diagnostics"], list):
        if len(_want(item, list)) != 5:
            raise _Invalid("a diagnostic has five parts")
        path, line, severity, message, kind = item
        diagnostics.append(Diagnostic(
            SourceLocation(_want(path, str), _want(line, int)), Severity(_want(severity, str)), _want(message, str),
            _want(kind, str),
        ))
    title = data["title"]
    return FileResult(
        display=_want(data["display"], str),
        topic=_want(data["topic"], str),
        title=None if title is None else _want(title, str),
        cards=tuple(_card(card) for card in _want(data["cards"], list)),
        diagnostics=tuple(diagnostics),
    )


def sign_record(data: Any, create: bool = True) -> str | None:
    """`data` as a signed JSON line (other cache records use it), or None without a usable key."""
    secret = read_or_create_key(default_key_path(), create)
    if secret is None:
        return None
    payload = json.dumps(data, sort_keys=True, ensure_ascii=True)
    return hmac.new(secret, payload.encode("ascii"), hashlib.sha256).hexdigest() + "\n" + payload


def read_signed_record(text: str) -> Any:
    """The data of a record `sign_record` wrote with this user's key; None for anything else."""
    secret = read_or_create_key(default_key_path(), create=False)
    signature, _, payload = text.partition("\n")
    if secret is None or not hmac.compare_digest(
        signature.encode("ascii", "replace"), hmac.new(secret, payload.encode("utf-8"), hashlib.sha256).hexdigest().encode()
    ):
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


class RenderCache:
    def __init__(self, folder: Path | None, writable: bool = True, key_path: Path | None = None):
        self.folder = folder  # None: disabled
        self.writable = writable  # `check` and `stats` read the cache but never write to it
        self._key_path = key_path
        self._secret: bytes | None | bool = False  # False: not read yet

    def _signing_key(self) -> bytes | None:
        if self._secret is False:
            # a read-only cache (`check`, `stats`) never creates a key: without one, no entry is valid
            self._secret = read_or_create_key(self._key_path or default_key_path(), create=self.writable)
        return self._secret  # type: ignore[return-value]

    def key(self, source: SourceFile, media_dir: Path, content_dir: Path | None = None) -> str:
        digest = hashlib.sha256(tool_fingerprint().encode())
        folders = (str(media_dir.absolute()), str(content_dir.absolute()) if content_dir else "")
        for part in (source.display, str(source.path.absolute()), *folders, source.text):
            digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
        return digest.hexdigest()

    def _path(self, key: str, create: bool = False) -> Path | None:
        assert self.folder is not None
        folder = trusted_folder(self.folder, "files", key[:2], create=create)
        return None if folder is None else folder / f"{key}.json"

    @staticmethod
    def _mac(secret: bytes, key: str, payload: bytes) -> str:
        return hmac.new(secret, key.encode("ascii") + b"\x00" + payload, hashlib.sha256).hexdigest()

    def get(self, key: str) -> FileResult | None:
        if self.folder is None:
            return None
        secret = self._signing_key()
        if secret is None:
            return None
        path = self._path(key)
        data = None if path is None else read_private_file(path)
        if data is None:
            return None
        try:
            signature, _, payload = data.partition(b"\n")
            if not hmac.compare_digest(signature, self._mac(secret, key, payload).encode("ascii")):
                return None  # damaged, or not written by this user's builds
            entry = _want(json.loads(payload.decode("utf-8")), dict)
            if set(entry) != {"stamps", "result"}:
                return None
            stamps = _want(entry["stamps"], list)
            for stamp in stamps:
                if len(_want(stamp, list)) != 3:
                    return None
                _want(stamp[0], str), _want(stamp[1], int), _want(stamp[2], int)
            result = result_from_data(entry["result"])
        except (OSError, ValueError, UnicodeDecodeError):  # json and _Invalid are ValueErrors
            return None  # a corrupt entry is a miss, never an error
        return result if _stamps_hold(stamps) else None

    def put(self, key: str, result: FileResult) -> None:
        if self.folder is None or not self.writable:
            return
        secret = self._signing_key()
        if secret is None:
            return
        try:
            payload = json.dumps(
                {"stamps": _media_stamps(result), "result": result_data(result)},
                ensure_ascii=True, separators=(",", ":"),
            ).encode("ascii")
            path = self._path(key, create=True)
            if path is None:
                return  # a cache folder others can write is not used
            write_private_file(path, self._mac(secret, key, payload).encode("ascii") + b"\n" + payload)
        except OSError:
            pass  # a cache that cannot be written only costs speed
