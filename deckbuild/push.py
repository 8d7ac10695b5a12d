"""`push`: hand a built package to a running Anki desktop through the AnkiConnect add-on.

Only AnkiConnect's `importPackage` action is used: Anki imports the package exactly as File >
Import would, matching notes by their identity, so nothing is duplicated against a released deck.
Never the note-adding actions, which would create notes with new identities. Made for AnkiConnect's
protocol version 6.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from .build import build
from .cache import RenderCache
from .errors import Diagnostic
from .records import BuildConfig, DeckResult

PROTOCOL_VERSION = 6
TIMEOUT_SECONDS = 120  # a large deck takes Anki a while to import: the whole answer's deadline
MAX_ANSWER_BYTES = 1024 * 1024  # AnkiConnect answers these two actions in a few bytes
_SHOWN_LENGTH = 300
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown(value: object) -> str:
    """Text from the server as it is printed: control characters (terminal escapes, line breaks
    that could fake a line of our own) written as \\xNN, and cut to a few hundred characters."""
    text = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    return text if len(text) <= _SHOWN_LENGTH else text[:_SHOWN_LENGTH] + "..."


def _read_answer(response: object, url: str) -> bytes:
    """The body, at most MAX_ANSWER_BYTES, within TIMEOUT_SECONDS in all (not per read)."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise PushError(f"{url} did not finish answering in {TIMEOUT_SECONDS} s: is it AnkiConnect?")
        chunk = response.read1(65536)  # type: ignore[attr-defined]
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise PushError(f"{url} answered with over {MAX_ANSWER_BYTES:,} bytes: is it AnkiConnect?")
        chunks.append(chunk)


class PushError(Exception):
    """One line that says what went wrong and what to do."""


def _call(url: str, action: str, **params: object) -> object:
    body = json.dumps({"action": action, "version": PROTOCOL_VERSION, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - the user's own Anki
            raw = _read_answer(response, url)
    except PushError:
        raise
    except urllib.error.HTTPError as exc:
        raise PushError(f"{url} answered HTTP {exc.code}: is it AnkiConnect?") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        reason = shown(getattr(exc, "reason", exc))
        raise PushError(
            f"cannot reach Anki at {url} ({reason}): start Anki desktop with the AnkiConnect add-on installed"
        ) from None
    try:
        answer = json.loads(raw)
    except (ValueError, RecursionError):
        raise PushError(f"{url} did not answer in AnkiConnect's format: is it AnkiConnect?") from None
    if not isinstance(answer, dict) or "result" not in answer or "error" not in answer:
        raise PushError(
            f"{url} did not answer in AnkiConnect's format (version {PROTOCOL_VERSION}): update AnkiConnect"
        )
    if answer["error"] is not None:
        raise PushError(f"AnkiConnect refused `{action}`: {shown(answer['error'])}")
    return answer["result"]


def push_package(package: Path, url: str) -> None:
    """Import one .apkg into the running Anki; raise PushError with one clear line otherwise."""
    version = _call(url, "version")
    if not isinstance(version, int) or version < PROTOCOL_VERSION:
        raise PushError(
            f"AnkiConnect at {url} speaks protocol {shown(version)}, "
            f"and push needs {PROTOCOL_VERSION}: update the add-on"
        )
    # An absolute path: AnkiConnect reads it on this machine (relative paths would be taken from
    # Anki's media folder).
    result = _call(url, "importPackage", path=str(package.resolve()))
    if result is not True:
        raise PushError(f"AnkiConnect did not import {package.name} (it answered {shown(repr(result))})")


def build_and_push(
    config: BuildConfig,
    cache: RenderCache,
    url: str,
    show: Callable[[Iterable[Diagnostic]], None],
    on_pushed: Callable[[DeckResult], None],
) -> str | None:
    """Build every deck, `show` the build's diagnostics, then import the decks into Anki one by one,
    telling `on_pushed` of each. Returns the error of the first import that failed (the decks after it
    are not pushed), or None when every deck was imported."""
    report = build(config, cache=cache, reuse=True)
    show(report.diagnostics)
    for deck in report.decks:
        try:
            push_package(deck.path, url)
        except PushError as exc:
            return str(exc)
        on_pushed(deck)
    return None
