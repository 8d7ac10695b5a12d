"""Images and sounds: `![alt](path)` (or `[sound:path]`) relative to the Markdown file, inside the
content folder or the media folder, packaged under content-hashed names so that a changed file is
never skipped by Anki's importer."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from .errors import Diagnostics, SourceLocation, display_path
from .records import MediaFile

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

# Anki's media sync skips larger files ("Files over 100MB can not be synced with AnkiWeb", and its media
# check lists them): MAX_INDIVIDUAL_MEDIA_FILE_SIZE = 100 * 1024 * 1024 in Anki's sync code.
ANKIWEB_MEDIA_LIMIT = 100 * 2**20
# Files Anki plays with [sound:...] rather than shows: `![](x.mp3)` or `[sound:x.mp3]` in a card.
AUDIO_SUFFIXES = frozenset({".mp3", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".aac", ".flac", ".spx"})


# What a card may package, by suffix and by the file's first bytes: pictures and sounds, never a
# page, a script or SVG (a document that can run script when opened from a card's link or the preview).
def _is_iso_media(head: bytes, brands: tuple[bytes, ...]) -> bool:
    return head[4:8] == b"ftyp" and (not brands or head[8:12] in brands)


_SIGNATURES: dict[str, Callable[[bytes], bool]] = {  # suffix -> test of the first 16 bytes
    ".png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    ".jpg": lambda h: h.startswith(b"\xff\xd8\xff"),
    ".jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    ".gif": lambda h: h.startswith((b"GIF87a", b"GIF89a")),
    ".webp": lambda h: h.startswith(b"RIFF") and h[8:12] == b"WEBP",
    ".avif": lambda h: _is_iso_media(h, (b"avif", b"avis")),
    ".mp3": lambda h: h.startswith(b"ID3") or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xE0 == 0xE0),
    ".ogg": lambda h: h.startswith(b"OggS"),
    ".oga": lambda h: h.startswith(b"OggS"),
    ".opus": lambda h: h.startswith(b"OggS"),
    ".spx": lambda h: h.startswith(b"OggS"),
    ".wav": lambda h: h.startswith(b"RIFF") and h[8:12] == b"WAVE",
    ".m4a": lambda h: _is_iso_media(h, ()),
    ".aac": lambda h: h.startswith(b"ADIF") or (len(h) > 1 and h[0] == 0xFF and h[1] & 0xF6 == 0xF0),
    ".flac": lambda h: h.startswith(b"fLaC"),
}


def media_type_problem(path: Path, suffix: str) -> str | None:
    """Why a file may not be packaged as a picture or sound, or None: its suffix must be one of
    ours and its first bytes those of that format (so a page renamed `x.png` is refused too)."""
    test = _SIGNATURES.get(suffix.lower())
    if test is None:
        kinds = " ".join(sorted(_SIGNATURES))
        return f"is not a picture or sound file Anki shows or plays (the suffixes allowed: {kinds})"
    with path.open("rb") as stream:
        head = stream.read(16)
    if not test(head):
        return f"does not hold {suffix.lower()[1:].upper()} data (its first bytes are not that format's)"
    return None


def is_audio(name: str) -> bool:
    return Path(name).suffix.lower() in AUDIO_SUFFIXES


@dataclass
class MediaResolver:
    """Checks image and sound references and gives each file its packaged name (one per content).
    A referenced file may lie anywhere inside the media folder or the content folder."""

    media_dir: Path
    content_dir: Path | None = None
    by_path: dict[Path, MediaFile] = field(default_factory=dict)
    by_digest: dict[str, MediaFile] = field(default_factory=dict)
    by_name: dict[str, Path] = field(default_factory=dict)

    def _roots(self) -> list[Path]:
        return [self.media_dir] + ([self.content_dir] if self.content_dir is not None else [])

    def resolve(
        self, src: str, markdown_file: Path, location: SourceLocation, diagnostics: Diagnostics
    ) -> MediaFile | None:
        shown_media = display_path(self.media_dir)
        reference = unquote(src.strip())
        what = "sound" if is_audio(reference) else "image"
        if not reference:
            diagnostics.error(location, f"{what} has no path")
            return None
        if _SCHEME.match(reference) or reference.startswith(("//", "/\\", "\\")):
            diagnostics.error(
                location,
                f"{what} '{reference}' is not a local file: cards never load anything from the network; "
                f"put the file in {shown_media}/",
            )
            return None
        if reference.startswith("/") or Path(reference).is_absolute():
            diagnostics.error(
                location, f"{what} path '{reference}' is absolute: write it relative to the Markdown file"
            )
            return None
        if ":" in reference:
            diagnostics.error(location, f"{what} '{reference}' has a ':' in its name: rename the file without it")
            return None
        literal = (markdown_file.parent / reference).absolute()
        literal_normal = Path(*_normalise(literal.parts))
        roots = self._roots()
        inside = [root for root in roots
                  if literal_normal.is_relative_to(root.resolve()) or _is_inside_lexically(literal_normal, root)]
        folders = " or ".join(f"{display_path(root)}/" for root in roots)
        if not inside:
            diagnostics.error(
                location,
                f"{what} '{reference}' is outside the folders cards may use ({folders}): move it there, or "
                f"name its folder with --media",
            )
            return None
        if not literal.exists():
            diagnostics.error(location, f"{what} '{reference}' not found: there is no {display_path(literal_normal)}")
            return None
        real = literal.resolve()
        if not any(real.is_relative_to(root.resolve()) for root in roots):
            diagnostics.error(
                location, f"{what} '{reference}' is a symbolic link that leads outside {folders}"
            )
            return None
        if not real.is_file():
            diagnostics.error(location, f"{what} '{reference}' is not a file")
            return None
        known = self.by_path.get(real)
        if known is not None:
            return known
        problem = media_type_problem(real, real.suffix)  # the suffix the packaged name keeps
        if problem is not None:
            diagnostics.error(location, f"{what} '{reference}' {problem}")
            return None
        size = real.stat().st_size
        if size > ANKIWEB_MEDIA_LIMIT:
            diagnostics.warning(
                location,
                f"{what} '{reference}' is {size / 2**20:.1f} MiB: AnkiWeb does not sync media files over "
                f"{ANKIWEB_MEDIA_LIMIT // 2**20} MiB, so learners who sync will not see it; make it smaller",
            )
        with real.open("rb") as stream:  # in chunks: a large image is not held in memory to be hashed
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        first = self.by_digest.get(digest)
        if first is None:
            name = packaged_name(real, digest)
            other = self.by_name.setdefault(name, real)
            if other != real:  # the same name for other bytes: never silently show another file
                diagnostics.error(location, f"{what} '{reference}' would be packaged under the name of "
                                  f"{display_path(other)}, which holds other bytes: rename one of them")
                return None
            media = self.by_digest[digest] = MediaFile(name, real)
        else:
            media = MediaFile(first.name, real)  # identical bytes: packaged once, under the first name
        self.by_path[real] = media
        return media


HASH_LENGTH = 24  # hex digits of the content's SHA-256 in a packaged name: 96 bits, no collision in practice
# Anki cuts media names longer than 120 bytes (keeping the suffix), which would cut off the hash:
# packaged names stay well under that.
MAX_NAME_BYTES = 100


def packaged_name(path: Path, digest: str) -> str:
    """`<stem>-<hash><suffix>` made of letters, digits, `_`, `-` and `.` only: a name that means the
    same as a file name and as a URL path (no `#`, `%`, `?`, `:`, quotes or spaces), so it is
    written into `src` as it is. A long stem is shortened (at a character boundary) so that the
    whole name, hash included, stays under `MAX_NAME_BYTES` of UTF-8."""
    stem = re.sub(r"[^\w.-]", "_", unicodedata.normalize("NFC", path.stem))
    suffix = re.sub(r"[^\w.]", "_", unicodedata.normalize("NFC", path.suffix.lower()))
    tail = f"-{digest[:HASH_LENGTH]}{suffix}"
    room = MAX_NAME_BYTES - len(tail.encode())
    stem = stem.encode()[:max(room, 0)].decode(errors="ignore")
    return f"{stem}{tail}"


def report_unused_media(media_dir: Path, used: set[Path], diagnostics: Diagnostics) -> None:
    """Warn about files in the media folder that no card uses (`used` holds resolved paths)."""
    if not media_dir.is_dir():
        return
    root = media_dir.resolve()
    for path in sorted(media_dir.rglob("*")):
        relative = path.relative_to(media_dir)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            real = path.resolve()
            if real not in used and real.is_relative_to(root):
                diagnostics.warning(SourceLocation(path, 0), "media file is not used by any card")


def _normalise(parts: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            if len(out) > 1:
                out.pop()
        elif part != ".":
            out.append(part)
    return out


def _is_inside_lexically(path: Path, media_dir: Path) -> bool:
    return path.is_relative_to(Path(*_normalise(media_dir.absolute().parts)))
