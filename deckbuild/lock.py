"""When did each note last change? The lock file remembers, so updates only touch changed notes.

Anki's importer updates an existing note only when the incoming one is newer. A note keeps the
modification time recorded here for as long as its content hash stays the same; when the content
changes it gets "now" (SOURCE_DATE_EPOCH when set). `build` rewrites the file; commit it with the
content. Deleting it makes every note look changed once (nothing is duplicated or lost).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

LOCK_VERSION = 1


def current_time() -> int:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return int(epoch)
    return int(time.time())


def content_hash(*parts: object) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(repr(part).encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


@dataclass
class ModificationLock:
    """key -> (content hash, modification time); a key is `<namespace>/<id>` or `notetype/<key>`."""

    entries: dict[str, tuple[str, int]]
    now: int

    @classmethod
    def read(cls, path: Path | None, now: int | None = None) -> "ModificationLock":
        entries: dict[str, tuple[str, int]] = {}
        if path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("version") == LOCK_VERSION:
                    entries = {k: (str(v["hash"]), int(v["modified"])) for k, v in data["notes"].items()}
            except (ValueError, KeyError, TypeError, AttributeError):
                entries = {}  # a damaged lock only costs one update of every note
        return cls(entries=entries, now=current_time() if now is None else now)

    def modified(self, key: str, digest: str) -> int:
        """The note's modification time, recording a new one when its content changed."""
        previous = self.entries.get(key)
        if previous is not None and previous[0] == digest:
            return previous[1]
        stamp = self.now if previous is None else max(self.now, previous[1] + 1)
        self.entries[key] = (digest, stamp)
        return stamp

    def previous_keys(self) -> set[str]:
        return set(self.entries)

    def to_text(self) -> str:
        # Entries of vanished cards stay, so that `check` keeps reporting them until they are retired.
        notes = {k: {"hash": h, "modified": m} for k, (h, m) in sorted(self.entries.items())}
        return json.dumps({"version": LOCK_VERSION, "notes": notes}, indent=1, sort_keys=True) + "\n"
