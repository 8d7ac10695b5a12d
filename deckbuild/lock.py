"""When did each note last change? The lock file remembers, so updates only touch changed notes.

Anki's importer updates an existing note only when the incoming one is newer. A note keeps the
modification time recorded here for as long as its content hash stays the same; when the content
changes it gets "now" (SOURCE_DATE_EPOCH when set). `build` rewrites the file; commit it with the
content. Deleting it makes every note look changed once (nothing is duplicated or lost).

The lock also records the toolchain that rendered the notes (our version and the libraries that
make the HTML), and per note a digest of its source, so that a build with other versions can say
how many notes change only because of the toolchain. A lock that cannot be read is an error that
says what to do: silently starting afresh would give every note a new time, and an import would
then overwrite learners' edits.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from . import __version__
from .command import command_name
from .errors import DeckError, Diagnostic, Severity, SourceLocation, display_path
from .records import BuildConfig

LOCK_VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 had no toolchain and no source digests

# Times are seconds since 1970 (SOURCE_DATE_EPOCH=0 is accepted, and note ids are kept above zero
# separately). MAX_TIME is the start of the year 2100: a later "now" is a mistake (a value in
# milliseconds, say), and Anki gives notes stamped far in the future new ids on import and resets
# their modification times in Check Database, after which no later build could look newer.
MAX_TIME = 4_102_444_800
FUTURE_TOLERANCE = 86_400  # SOURCE_DATE_EPOCH may run ahead of this machine's clock by a day at most
_EPOCH = re.compile(r"[0-9]{1,12}")

# The libraries whose versions decide the HTML of a note. The toolchain's keys are distribution
# names, so `pip install "deckbuild==0.1.0" "Pygments==2.21.0" ...` reinstalls what a lock records
# (the workflow that `init` writes does that).
TOOL = "deckbuild"
TOOLCHAIN_LIBRARIES = ("Pygments", "markdown-it-py", "mdit-py-plugins", "nh3")


class LockError(DeckError):
    """The lock file (or the build's clock) cannot be trusted; the message says what to do."""

    def __init__(self, path: Path | str, message: str):
        super().__init__([Diagnostic(SourceLocation(Path(path), 0), Severity.ERROR, message)])


def current_time() -> int:
    """"Now": SOURCE_DATE_EPOCH when set (validated: a malformed value is an error), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return int(time.time())
    if not _EPOCH.fullmatch(epoch) or int(epoch) > MAX_TIME:
        raise LockError(
            "SOURCE_DATE_EPOCH",
            f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970 (ASCII digits, at most "
            f"{MAX_TIME}), not {epoch!r}: set it to, for example, `git log -1 --format=%ct`, or unset it",
        )
    if int(epoch) > time.time() + FUTURE_TOLERANCE:
        raise LockError(
            "SOURCE_DATE_EPOCH",
            f"SOURCE_DATE_EPOCH {epoch} is later than now: Anki gives notes stamped in the future new ids "
            "on import, and Check Database resets their times; set it to a past time, for example "
            "`git log -1 --format=%ct`, or unset it",
        )
    return int(epoch)


def toolchain() -> dict[str, str]:
    """The versions that render notes: ours and the libraries' (as installed now)."""
    versions = {TOOL: __version__}
    for library in TOOLCHAIN_LIBRARIES:
        try:
            versions[library] = metadata.version(library)
        except metadata.PackageNotFoundError:  # pragma: no cover - a broken installation
            versions[library] = "missing"
    return versions


def content_hash(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def _valid_time(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"a modification time must be a number of seconds, not {value!r}")
    if value != int(value) or not 0 <= value <= MAX_TIME:
        raise ValueError(f"modification time {value!r} is out of range (0 to {MAX_TIME})")
    return int(value)


def _parse(text: str) -> tuple[dict[str, tuple[str, int, str]], dict[str, str]]:
    """Entries and toolchain of a lock file's text; ValueError says what is wrong with it."""
    if re.search(r"^(<{7}|={7}|>{7})( |$)", text, re.MULTILINE):
        raise ValueError(
            "it has merge-conflict markers; take either side (`git checkout --theirs` or `--ours`), "
            "then run build, which records every note again"
        )
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"it is not JSON ({exc})") from None
    except RecursionError:  # a lock is three levels deep: thousands of nested brackets are not one
        raise ValueError("it is not a build_deck lock (its JSON is nested too deeply)") from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise ValueError("it is not a build_deck lock (no version)")
    version = data["version"]
    if version > LOCK_VERSION:
        raise ValueError(
            f"it was written by a newer deckbuild (lock version {version}, this one reads up to "
            f"{LOCK_VERSION}): upgrade deckbuild"
        )
    if version not in READABLE_VERSIONS:
        raise ValueError(f"lock version {version} is unknown")
    notes, tools = data.get("notes"), data.get("toolchain", {})
    if not isinstance(notes, dict) or not isinstance(tools, dict):
        raise ValueError("its notes (or toolchain) are not a mapping")
    entries = {}
    for key, value in notes.items():
        if not isinstance(value, dict) or not isinstance(value.get("hash"), str):
            raise ValueError(f"entry {key!r} has no content hash")
        source = value.get("source", "")
        if not isinstance(source, str):
            raise ValueError(f"entry {key!r} has a source digest that is not text")
        try:
            entries[key] = (value["hash"], _valid_time(value.get("modified")), source)
        except ValueError as exc:
            raise ValueError(f"entry {key!r}: {exc}") from None
    return entries, {str(k): str(v) for k, v in tools.items()}


LockEntry = tuple[str, int, str]  # (content hash, modification time, source digest)


def next_entry(previous: LockEntry | None, digest: str, source: str, now: int) -> tuple[LockEntry, bool]:
    """A note's lock entry once its content hash is `digest`: the previous modification time when
    the content is the same, else a new one (`now`, and always later than the previous one). The
    flag tells a change of content whose source did not change: the toolchain's doing."""
    if previous is not None and previous[0] == digest:
        return ((digest, previous[1], source) if source and previous[2] != source else previous), False
    by_toolchain = previous is not None and bool(source) and previous[2] == source
    stamp = min(now if previous is None else max(now, previous[1] + 1), MAX_TIME)
    return (digest, stamp, source), by_toolchain


@dataclass
class ModificationLock:
    """key -> (content hash, modification time, source digest); a key is `<namespace>/<id>` or
    `notetype/<key>`. `toolchain` is what rendered the recorded hashes."""

    entries: dict[str, tuple[str, int, str]]
    now: int
    toolchain: dict[str, str] = field(default_factory=dict)
    changed_by_toolchain: int = 0  # notes whose HTML changed although their source did not
    text: str | None = None  # the file as it was read (None: there was none), so no one reads it again
    original: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # the entries as read

    @classmethod
    def read(cls, path: Path | None, now: int | None = None) -> ModificationLock:
        entries: dict[str, tuple[str, int, str]] = {}
        tools: dict[str, str] = {}
        text = None
        if path is not None and path.exists():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise LockError(path, "not a build_deck lock (not UTF-8 text): point --lock at a lock file") from None
            except OSError as exc:
                raise LockError(path, f"cannot read the lock: {exc.strerror}") from None
            try:
                entries, tools = _parse(text)
            except ValueError as exc:
                raise LockError(
                    path,
                    f"the lock cannot be used: {exc}. Nothing was written. Restore it from version control "
                    "(`git checkout -- <lock>`); deleting it instead gives every note a new modification "
                    "time, and the next import then replaces learners' edits of every note",
                ) from None
        return cls(
            entries=entries, now=current_time() if now is None else now, toolchain=tools, text=text,
            original=dict(entries),
        )

    def with_entries(self, entries: dict[str, LockEntry], changed_by_toolchain: int) -> ModificationLock:
        """The lock a build would write: these entries, the same file as read."""
        return dataclasses.replace(self, entries=dict(entries), changed_by_toolchain=changed_by_toolchain)

    def previous_keys(self) -> set[str]:
        return set(self.entries)

    def toolchain_change(self) -> str | None:
        """One sentence when the lock's notes were rendered by other versions than this build's."""
        now = toolchain()
        if not self.toolchain or self.toolchain == now:
            return None
        differences = [
            f"{name} {self.toolchain.get(name, 'unrecorded')} -> {now.get(name, 'none')}"
            for name in sorted(set(now) | set(self.toolchain))
            if self.toolchain.get(name) != now.get(name)
        ]
        if command_name() == "python build_deck.py":  # a checkout of this project: its locked requirements
            install = "pip install -r requirements/build.txt"
        else:
            install = "pip install " + " ".join(
                f'"{name}=={version}"' for name, version in sorted(self.toolchain.items()) if version != "missing"
            )
        return (
            f"the lock was rendered with other versions ({', '.join(differences)}); "
            f"{self.changed_by_toolchain} note(s) change only because of that. Install the locked "
            f"versions (`{install}`) unless this is a toolchain upgrade, which is a release of its own"
        )

    def to_text(self) -> str:
        # Entries of vanished cards stay, so that `check` keeps reporting them until they are retired.
        return lock_text(self.entries, toolchain())


def lock_text(entries: dict[str, LockEntry], tools: dict[str, str]) -> str:
    """A lock file's text: `json.dumps(data, indent=1, sort_keys=True)` of {"notes": {key: {"hash",
    "modified", "source" (when there is one)}}, "toolchain", "version"}, written out line by line here
    because json's indenting encoder runs in Python (tests/test_plan.py compares the two)."""
    quote = json.encoder.encode_basestring_ascii
    notes = []
    for key, (digest, modified, source) in sorted(entries.items()):
        tail = f',\n   "source": {quote(source)}' if source else ""
        notes.append(f'  {quote(key)}: {{\n   "hash": {quote(digest)},\n   "modified": {modified!r}{tail}\n  }}')
    tool_lines = [f"  {quote(name)}: {quote(version)}" for name, version in sorted(tools.items())]
    return (
        "{\n"
        + (' "notes": {\n' + ",\n".join(notes) + "\n },\n" if notes else ' "notes": {},\n')
        + (' "toolchain": {\n' + ",\n".join(tool_lines) + "\n },\n" if tool_lines else ' "toolchain": {},\n')
        + f' "version": {LOCK_VERSION}\n'
        + "}\n"
    )


GUARD_SUFFIX = ".build_deck-guard"


def guard_path(path: Path) -> Path:
    """The file the inter-process lock is taken on: beside the lock file, so that every build that
    shares the lock finds it, whatever its temporary folder or environment."""
    return path.parent / f".{path.name}{GUARD_SUFFIX}"


def _open_guard(guard: Path) -> int:
    """A descriptor of the guard file, created if needed (private to the user), never through a
    symbolic link, and only when it is a regular file."""
    flags = os.O_RDONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        handle = os.open(guard, flags, 0o600)
    except OSError:
        if os.path.islink(guard):
            raise LockError(
                guard, "the build's guard file is a symbolic link: remove it (a build never follows one)"
            ) from None
        raise
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise LockError(guard, "the build's guard file is not a regular file: remove it")
    return handle


@contextlib.contextmanager
def exclusive(path: Path | None, waiting: Callable[[Path], None] | None = None) -> Iterator[None]:
    """Hold an inter-process lock for a build's whole read-modify-write of the lock file, so that
    two builds sharing a lock never lose each other's entries (the second waits for the first).

    The lock is taken on a guard file beside the lock file (`.<lock name>.build_deck-guard`), which
    is there only while a build runs: it never depends on the temporary folder (builds with
    different TMPDIRs share it), it is opened without following symbolic links, and it lives in a
    folder that only those who may write the lock can write. A folder made for it is removed again
    when the build wrote nothing there. `waiting` is told when another build holds the lock."""
    if path is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no flock; concurrent builds are the user's care
        yield
        return
    guard = guard_path(path)
    created = _make_folders(guard.parent)
    try:
        while True:
            try:
                handle = _open_guard(guard)
            except PermissionError:
                # a folder this user cannot write: the lock cannot be rewritten either, so no
                # concurrent build can lose an update through this build
                yield
                return
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting is not None:
                    waiting(guard)
                fcntl.flock(handle, fcntl.LOCK_EX)
            # the holder before us removes the file before it lets go: ours must still be the one there
            try:
                now = os.lstat(guard)
            except FileNotFoundError:
                now = None
            mine = os.fstat(handle)
            if now is not None and (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
                break
            os.close(handle)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.unlink(guard)
            os.close(handle)  # closing releases the lock
    finally:
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: the build wrote nothing there


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; the ones created, outermost first."""
    missing = []
    while not folder.exists() and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    created = []
    for item in reversed(missing):
        try:
            item.mkdir()
        except FileExistsError:
            continue
        created.append(item)
    return created


def check_lock_path(config: BuildConfig) -> None:
    """The lock is written by every build: it must not be a deck, a source or a media file.
    Paths are compared resolved (`dist/../dist/x.apkg` is `dist/x.apkg`, a link is its target)."""
    if config.lock_path is None:
        return
    lock = Path(os.path.realpath(config.lock_path))
    decks = {Path(os.path.realpath(config.out_dir / spec.file_name)) for spec in config.decks}
    if lock in decks:
        raise LockError(config.lock_path, "the lock path is also a deck's output file: give --lock another file")
    for folder, what, suffixes in ((config.content_dir, "a source", {".md"}), (config.media_dir, "a media", None)):
        if Path(os.path.realpath(folder)) in lock.parents and (suffixes is None or lock.suffix.lower() in suffixes):
            raise LockError(
                config.lock_path,
                f"the lock path would be {what} file in {display_path(folder)}, and a build never changes "
                "those: give --lock a file outside it",
            )
    if lock.is_dir():
        raise LockError(config.lock_path, "the lock path is a folder: give --lock a file")


def check_frozen(config: BuildConfig, lock: ModificationLock, lock_text: str) -> None:
    path = config.lock_path
    if path is None:
        raise LockError("--frozen", "--frozen needs a lock file to compare with")
    if lock.text == lock_text:
        return
    reason = "does not exist" if lock.text is None else "would change"
    if lock.text is not None:
        before = lock.original
        changed = sorted(k for k in lock.entries if before.get(k, (None,))[0] != lock.entries[k][0])
        if changed:
            shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
            reason += f": {len(changed)} note(s) changed ({shown})"
        elif lock.toolchain_change():
            reason += ": the toolchain differs"
    raise LockError(
        path,
        f"--frozen: the lock {reason}; nothing was written. Run `{command_name()} build` and commit "
        f"{display_path(path)}",
    )
