"""A content-addressed cache of rendered files, so a rebuild only renders what changed.

An entry is keyed by the file's text and path, the media folder, and a fingerprint of the tool
(its own code, its style sheet, and the versions of the libraries that shape the HTML or write the
package; the package records and the up-to-date check use the same fingerprint). An entry
also records the size and modification time of each image its cards use, and is ignored when one
of them changed. The cache lives in the user's cache folder (`$XDG_CACHE_HOME/build_deck`, or
`BUILD_DECK_CACHE_DIR`), is safe to delete, and is ignored when unreadable or corrupt.

Nothing read from the cache is trusted: an entry is plain data, a line of JSON and the texts it
numbers (never pickle, so reading it runs no code), signed with HMAC-SHA256 under a per-user key
that lives outside the cache folder
(`$XDG_STATE_HOME/build_deck/cache-key`, mode 0600 in a 0700 folder owned by the user). An entry
whose signature, shape or types do not check out (damaged, or written by someone else: a shared
cache, a CI cache restored from a pull request) is ignored, and the file is rendered again.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import hmac
import itertools
import json
import os
import secrets
import sqlite3
import stat
import tempfile
import types
import typing
from collections.abc import Callable, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from .records import CardMeta, FileResult, SourceFile

CACHE_FORMAT = 5  # 4: records stored as derived from their dataclasses; 5: as lists, their texts after the JSON
# the libraries that shape a card's HTML, and the ones that write the package (genanki, and SQLite below)
_LIBRARIES = ("markdown-it-py", "mdit-py-plugins", "Pygments", "nh3", "PyYAML", "genanki")
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
    digest.update(f"sqlite={sqlite3.sqlite_version}".encode())
    return digest.hexdigest()


def _media_stamps(result: FileResult) -> list[list[Any]]:
    stamps = []
    for path in sorted({media.path for card in result.cards for media in card.meta.media}):
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


# --- plain data: records <-> JSON and text, derived from the dataclasses, every type checked on the way back ---
#
# Each record type gets an encoder and a decoder, built once from its fields' type hints: a list per
# record (its fields in their declared order), a list per tuple, its value per enumeration member.
# Strings and paths stay out of the JSON: each is added to a list of texts, stored after the JSON as
# they are, and the JSON holds its number in that list. Cards are mostly HTML, full of quotes and line
# breaks; escaped inside JSON strings, reading them back was most of the cost of a cached build. A
# field added to a record is stored and checked without any change here.


class _Invalid(ValueError):
    """A cache entry whose shape or types are wrong."""


def _card_value(value: int) -> int:
    if value not in range(1, 6):
        raise _Invalid("a value is a whole number from 1 to 5")
    return value


# checks beyond a field's type, by (record, field)
_FIELD_CHECKS: dict[tuple[type, str], Callable[[Any], Any]] = {(CardMeta, "value"): _card_value}

_Encoder = Callable[[Any, list[str]], Any]  # (value, the texts so far, added to) -> JSON data
_Decoder = Callable[[Any, Sequence[str]], Any]  # (JSON data, the entry's texts) -> value, or _Invalid


def _fields_of(cls: type) -> list[tuple[str, Any]]:
    """A record's (field name, type) pairs, its annotations resolved."""
    hints = typing.get_type_hints(cls)
    return [(field.name, hints[field.name]) for field in dataclasses.fields(cls)]


def _optional(hint: Any) -> Any | None:
    """X for `X | None`, else None."""
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        options = [option for option in typing.get_args(hint) if option is not type(None)]
        if len(options) == 1 and len(typing.get_args(hint)) == 2:
            return options[0]
        raise TypeError(f"the cache stores no union but X | None, not {hint!r}")
    return None


def _same(value: Any, texts: list[str]) -> Any:
    return value


def _text_number(value: str, texts: list[str]) -> int:
    texts.append(value)
    return len(texts) - 1


def _path_number(value: Path, texts: list[str]) -> int:
    return _text_number(str(value), texts)


def _member_value(value: enum.Enum, texts: list[str]) -> Any:
    return value.value


@functools.cache
def _encoder(hint: Any) -> _Encoder:
    """How a value of type `hint` becomes plain JSON data (its strings added to the texts)."""
    inner = _optional(hint)
    if inner is not None:
        encode = _encoder(inner)
        return lambda value, texts: None if value is None else encode(value, texts)
    if typing.get_origin(hint) is tuple:
        item = _encoder(typing.get_args(hint)[0])
        if item is _same:
            return lambda value, texts: list(value)
        return lambda value, texts: [item(part, texts) for part in value]
    if dataclasses.is_dataclass(hint):
        fields = [(name, _encoder(kind)) for name, kind in _fields_of(hint)]  # type: ignore[arg-type]
        return lambda value, texts: [encode(getattr(value, name), texts) for name, encode in fields]
    if hint is str:
        return _text_number
    if hint is Path:
        return _path_number
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _member_value
    if hint in (int, bool, float):
        return _same
    raise TypeError(f"the cache cannot store a {hint!r}")


def _want(value: Any, kind: type | tuple[type, ...]) -> Any:
    # bool is an int in Python: an int field never accepts a bool, and the reverse
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _Invalid(f"expected {kind}, got {type(value).__name__}")
    return value


def _text(data: Any, texts: Sequence[str]) -> str:
    if type(data) is not int or not 0 <= data < len(texts):
        raise _Invalid("a string is stored as the number of a text")
    return texts[data]


def _text_tuple(data: Any, texts: Sequence[str]) -> tuple[str, ...]:
    if type(data) is not list:
        raise _Invalid("expected a list of texts")
    return tuple([_text(part, texts) for part in data]) if data else ()


def _path(data: Any, texts: Sequence[str]) -> Path:
    return _path_of(_text(data, texts))


@functools.lru_cache(maxsize=4096)
def _path_of(text: str) -> Path:
    """One Path for the many cards of a file (a Path is immutable; building one is not cheap)."""
    return Path(text)


def _plain(kind: type) -> _Decoder:
    def plain(data: Any, texts: Sequence[str]) -> Any:
        if type(data) is not kind:  # so an int field refuses a bool, and the reverse
            raise _Invalid(f"expected a {kind.__name__}")
        return data

    return plain


def _plain_tuple(kind: type, data: Any, texts: Sequence[str]) -> tuple[Any, ...]:
    if type(data) is not list or any(type(part) is not kind for part in data):
        raise _Invalid(f"expected a list of {kind.__name__}")
    return tuple(data)


def _float(data: Any, texts: Sequence[str]) -> float:
    if type(data) not in (int, float):
        raise _Invalid("expected a number")
    return float(data)


@functools.cache
def _decoder(hint: Any) -> _Decoder:
    """How plain JSON data (and the entry's texts) becomes a value of type `hint`, or _Invalid for any
    other shape: a record with a field missing or one it does not have is refused, never given a default."""
    inner = _optional(hint)
    if inner is not None:
        decode = _decoder(inner)
        return lambda data, texts: None if data is None else decode(data, texts)
    if typing.get_origin(hint) is tuple:
        item, rest = typing.get_args(hint)
        assert rest is Ellipsis, f"the cache stores tuple[X, ...] only, not {hint!r}"
        if item is str:
            return _text_tuple
        if item in (int, bool):
            return functools.partial(_plain_tuple, item)
        decode = _decoder(item)

        def items(data: Any, texts: Sequence[str]) -> tuple[Any, ...]:
            if type(data) is not list:
                raise _Invalid("expected a list")
            return tuple([decode(part, texts) for part in data]) if data else ()

        return items
    if dataclasses.is_dataclass(hint):
        return _record_decoder(hint)  # type: ignore[arg-type]
    if hint is str:
        return _text
    if hint is Path:
        return _path
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        members = {member.value: member for member in hint}

        def member(data: Any, texts: Sequence[str]) -> Any:
            try:
                return members[data]
            except (KeyError, TypeError):
                raise _Invalid(f"not a {hint.__name__}") from None

        return member
    if hint is float:
        return _float
    if hint in (int, bool):
        return _plain(hint)
    raise TypeError(f"the cache cannot read a {hint!r}")


def _record_decoder(cls: type) -> _Decoder:
    texts_at: list[int] = []  # str fields: the number of a text
    plain_at: list[tuple[int, type]] = []  # int and bool fields: JSON gives exactly these types
    converted_at: list[tuple[int, _Decoder]] = []
    fields = _fields_of(cls)
    for index, (name, kind) in enumerate(fields):
        check = _FIELD_CHECKS.get((cls, name))
        if kind is str and check is None:
            texts_at.append(index)
        elif kind in (int, bool) and check is None:
            plain_at.append((index, kind))
        else:
            decode = _decoder(kind)
            converted_at.append((index, decode if check is None else functools.partial(_then, decode, check)))
    count = len(fields)

    def record(data: Any, texts: Sequence[str]) -> Any:
        if type(data) is not list or len(data) != count:
            raise _Invalid(f"a {cls.__name__} with other fields than its own")
        values = data.copy()
        for index in texts_at:  # the commonest fields, read here rather than through _text
            number = values[index]
            if type(number) is not int or not 0 <= number < len(texts):
                raise _Invalid(f"{cls.__name__}.{fields[index][0]} is not the number of a text")
            values[index] = texts[number]
        for index, kind in plain_at:
            if type(values[index]) is not kind:  # so an int field refuses a bool, and the reverse
                raise _Invalid(f"{cls.__name__}.{fields[index][0]} is not a {kind.__name__}")
        for index, decode in converted_at:
            values[index] = decode(values[index], texts)
        return cls(*values)

    return record


def _then(decode: _Decoder, check: Callable[[Any], Any], data: Any, texts: Sequence[str]) -> Any:
    return check(decode(data, texts))


def result_data(result: FileResult) -> tuple[Any, list[str]]:
    """A file's result as plain JSON data, and the texts its numbers stand for."""
    texts: list[str] = []
    data = _encoder(FileResult)(result, texts)
    return data, texts


def result_from_data(data: Any, texts: Sequence[str]) -> FileResult:
    """A FileResult from plain data and its texts, or _Invalid when any part has the wrong shape or type."""
    return _decoder(FileResult)(data, texts)  # type: ignore[no-any-return]


def entry_payload(result: FileResult, stamps: list[list[Any]]) -> bytes:
    """A cache entry's bytes (before its signature): one line of JSON with the media stamps, the
    result and the texts' lengths, then the texts, one after the other, as UTF-8."""
    data, texts = result_data(result)
    head = json.dumps(
        {"stamps": stamps, "lengths": [len(text) for text in texts], "result": data},
        ensure_ascii=True, separators=(",", ":"),
    )
    return head.encode("ascii") + b"\n" + "".join(texts).encode("utf-8", "surrogatepass")


def entry_from_payload(payload: bytes) -> tuple[FileResult, list[list[Any]]]:
    """The result and media stamps of a cache entry's bytes; ValueError (or _Invalid) for anything else."""
    head, _, body = payload.partition(b"\n")
    entry = _want(json.loads(head.decode("ascii")), dict)
    if entry.keys() != {"stamps", "lengths", "result"}:
        raise _Invalid("not a cache entry")
    stamps = _want(entry["stamps"], list)
    for stamp in stamps:
        if len(_want(stamp, list)) != 3:
            raise _Invalid("a media stamp is (path, size, time)")
        _want(stamp[0], str), _want(stamp[1], int), _want(stamp[2], int)
    lengths = _want(entry["lengths"], list)
    if lengths and (set(map(type, lengths)) != {int} or min(lengths) < 0):
        raise _Invalid("a text's length is a whole number")
    text = body.decode("utf-8", "surrogatepass")
    if sum(lengths) != len(text):
        raise _Invalid("the texts are not as long as recorded")
    ends = list(itertools.accumulate(lengths))
    texts = [text[end - length:end] for end, length in zip(ends, lengths, strict=True)]
    return result_from_data(entry["result"], texts), stamps


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
    if secret is None:
        return None
    signature, _, payload = text.partition("\n")
    expected = hmac.new(secret, payload.encode("utf-8"), hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(signature.encode("ascii", "replace"), expected):
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
        for part in (str(source.path), str(source.path.absolute()), *folders, source.text):
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
            result, stamps = entry_from_payload(payload)
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
            payload = entry_payload(result, _media_stamps(result))
            path = self._path(key, create=True)
            if path is None:
                return  # a cache folder others can write is not used
            write_private_file(path, self._mac(secret, key, payload).encode("ascii") + b"\n" + payload)
        except OSError:
            pass  # a cache that cannot be written only costs speed
