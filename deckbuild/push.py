"""`push`: hand a built package to a running Anki desktop through the AnkiConnect add-on.

Only AnkiConnect's `importPackage` action is used: Anki imports the package exactly as File >
Import would, matching notes by their identity, so nothing is duplicated against a released deck.
Never the note-adding actions, which would create notes with new identities. Made for AnkiConnect's
protocol version 6.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

PROTOCOL_VERSION = 6
TIMEOUT_SECONDS = 120  # a large deck takes Anki a while to import


class PushError(Exception):
    """One line that says what went wrong and what to do."""


def _call(url: str, action: str, **params: object) -> object:
    body = json.dumps({"action": action, "version": PROTOCOL_VERSION, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - the user's own Anki
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise PushError(f"{url} answered HTTP {exc.code}: is it AnkiConnect?") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PushError(
            f"cannot reach Anki at {url} ({reason}): start Anki desktop with the AnkiConnect add-on installed"
        ) from None
    try:
        answer = json.loads(raw)
    except ValueError:
        raise PushError(f"{url} did not answer in AnkiConnect's format: is it AnkiConnect?") from None
    if not isinstance(answer, dict) or "result" not in answer or "error" not in answer:
        raise PushError(f"{url} did not answer in AnkiConnect's format (version {PROTOCOL_VERSION}): update AnkiConnect")
    if answer["error"] is not None:
        raise PushError(f"AnkiConnect refused `{action}`: {answer['error']}")
    return answer["result"]


def push_package(package: Path, url: str) -> None:
    """Import one .apkg into the running Anki; raise PushError with one clear line otherwise."""
    version = _call(url, "version")
    if not isinstance(version, int) or version < PROTOCOL_VERSION:
        raise PushError(
            f"AnkiConnect at {url} speaks protocol {version}, and push needs {PROTOCOL_VERSION}: update the add-on"
        )
    # An absolute path: AnkiConnect reads it on this machine (relative paths would be taken from
    # Anki's media folder).
    result = _call(url, "importPackage", path=str(package.resolve()))
    if result is not True:
        raise PushError(f"AnkiConnect did not import {package.name} (it answered {result!r})")
