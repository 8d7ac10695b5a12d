"""What every converter shares: the cards it read, the text rewrites that several tools need (math,
clozes, media), and writing the result as build_deck Markdown into the output folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = ".build-deck-convert.json"  # a dot file: the build never reads it as content

SOUND_SUFFIXES = (".mp3", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".aac", ".flac", ".spx")
CLOZE = re.compile(r"\{\{c(\d+)::")


class ConvertError(Exception):
    """Input the converter cannot read: `path:line: message`, and nothing is written."""


@dataclass
class ConvertedCard:
    line: int  # where the note starts in its source
    front: str  # Markdown; a cloze note's text holds {{cN::...}} markers
    back: str = ""  # Markdown: the answer, or a cloze note's extra text
    tags: list[str] = field(default_factory=list)
    guid: str = ""  # the other tool's note identity, when its files let us compute it
    card_id: str = ""  # an id the other tool wrote (kept when it is one of ours)


@dataclass
class ConvertedTopic:
    source: Path  # the file it came from
    name: str  # the output file, relative to the output folder, without .md
    title: str | None = None
    tags: list[str] = field(default_factory=list)
    cards: list[ConvertedCard] = field(default_factory=list)


@dataclass
class Conversion:
    """Everything one run produced: topics to write, media to copy, and what could not be carried."""

    source_root: Path
    topics: list[ConvertedTopic] = field(default_factory=list)
    media: dict[str, Path] = field(default_factory=dict)  # output name -> source file
    lost: list[str] = field(default_factory=list)  # `path:line: message` lines

    def where(self, path: Path, line: int) -> str:
        return f"{display(path, self.source_root)}:{line}"

    def lose(self, path: Path, line: int, message: str) -> None:
        self.lost.append(f"{self.where(path, line)}: not carried: {message}")

    def sorted_lost(self) -> list[str]:
        """The lines in file and line order (each tool reports as it reads)."""
        def key(text: str) -> tuple[str, int]:
            where, line = text.split(": not carried:")[0].rsplit(":", 1)
            return where, int(line)
        return sorted(self.lost, key=key)


def display(path: Path, root: Path) -> str:
    try:
        return (root.name / path.relative_to(root)).as_posix()
    except ValueError:
        return path.as_posix()


def read_text(path: Path, root: Path) -> str:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConvertError(f"{display(path, root)}:{line}: not UTF-8 text") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def markdown_files(root: Path) -> list[Path]:
    """The Markdown files below `root`, in path order, skipping hidden folders (.obsidian, .git)."""
    found = []
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in parts):
            continue
        if path.is_file() and path.suffix.lower() in (".md", ".markdown"):
            found.append(path)
    return found


# --- text rewrites -----------------------------------------------------------------------------

_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})")


def split_code(text: str) -> list[tuple[bool, str]]:
    """The text in pieces, each marked True when it is code (a fenced block or a code span), which
    no rewrite may touch."""
    pieces: list[tuple[bool, str]] = []
    prose: list[str] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            prose.append(lines[index])
            index += 1
            continue
        marker = opening.group(2)
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(marker[0] * len(marker)):
            end += 1
        if prose:
            pieces.extend(_split_spans("\n".join(prose) + "\n"))
            prose = []
        pieces.append((True, "\n".join(lines[index:end + 1]) + ("\n" if end + 1 < len(lines) else "")))
        index = end + 1
    if prose:
        pieces.extend(_split_spans("\n".join(prose)))
    return pieces


_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)


def _split_spans(text: str) -> list[tuple[bool, str]]:
    pieces, last = [], 0
    for match in _SPAN.finditer(text):
        pieces.append((False, text[last:match.start()]))
        pieces.append((True, match.group()))
        last = match.end()
    pieces.append((False, text[last:]))
    return [piece for piece in pieces if piece[1]]


def in_prose(text: str, rewrite) -> str:  # type: ignore[no-untyped-def]
    """Apply `rewrite` to the prose of `text`, leaving code exactly as it is."""
    return "".join(piece if is_code else rewrite(piece) for is_code, piece in split_code(text))


_BRACKET_DISPLAY = re.compile(r"\\\\?\[(.+?)\\\\?\]", re.S)
_BRACKET_INLINE = re.compile(r"\\\\?\((.+?)\\\\?\)", re.S)
_DOLLAR_INLINE = re.compile(r"(?<![\\$])\$(?!\$)(\s*)(.+?)(\s*)(?<![\\$])\$(?!\$)")


def dollar_math(text: str) -> str:
    """MathJax's `\\(...\\)` and `\\[...\\]` (also with doubled backslashes, as some tools need them
    in Markdown) become our `$...$` and `$$...$$`; an inline formula loses the spaces inside its
    dollars and one that starts with a digit gets `{}` first, so that it is not read as money."""

    def display_math(match: re.Match[str]) -> str:
        body = match.group(1).strip()
        return f"\n$$\n{body}\n$$\n" if "\n" in body else f"$${body}$$"

    def inline(match: re.Match[str]) -> str:
        body = match.group(1).strip()
        return "$" + ("{}" if body[:1].isdigit() else "") + body + "$"

    def tidy_dollars(match: re.Match[str]) -> str:
        body = match.group(2)
        return "$" + ("{}" if body[:1].isdigit() else "") + body + "$"

    def rewrite(prose: str) -> str:
        prose = _BRACKET_DISPLAY.sub(display_math, prose)
        prose = _BRACKET_INLINE.sub(inline, prose)
        return _DOLLAR_INLINE.sub(tidy_dollars, prose)

    return in_prose(text, rewrite)


def has_cloze(text: str) -> bool:
    return bool(CLOZE.search(text))


# --- media -------------------------------------------------------------------------------------

_IMAGE = re.compile(r"(!\[[^\]\n]*\]\()(<[^>\n]+>|[^)\s]+)((?:\s+\"[^\"\n]*\")?\))")
_HTML_SRC = re.compile(r"(<img\b[^>]*?\bsrc=[\"'])([^\"']+)([\"'])", re.I)
_SOUND = re.compile(r"\[sound:([^\]\n]+)\]")
_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)


def carry_media(text: str, source: Path, out_name: str, conversion: Conversion, line: int,
                find_by_name: bool = False) -> str:
    """Copy the images and sounds `text` refers to next to the output file (as the same path
    relative to it) and keep the references; a remote or missing file becomes a plain link and is
    reported. `find_by_name`: a bare name is looked for anywhere in the source folder (Obsidian)."""
    out_dir = Path(out_name).parent

    def place(target: str) -> str | None:
        raw = target.strip("<>")
        if _REMOTE.match(raw):
            conversion.lose(source, line, f"the remote file {raw} (cards never load from the network): kept as a link")
            return None
        found = (source.parent / raw).resolve()
        if not found.is_file() and find_by_name:
            matches = sorted(p for p in conversion.source_root.rglob(Path(raw).name) if p.is_file())
            found = matches[0].resolve() if matches else found
        root = conversion.source_root.resolve()
        if not found.is_file() or not found.is_relative_to(root):
            conversion.lose(source, line, f"the file {raw} is not in the source folder: kept as text")
            return None
        relative = found.relative_to(root)
        conversion.media[relative.as_posix()] = found
        return Path(os.path.relpath(relative, out_dir if str(out_dir) != "." else ".")).as_posix()

    def image(match: re.Match[str]) -> str:
        placed = place(match.group(2))
        if placed is None:
            return f"[{match.group(1)[2:-2] or 'image'}]({match.group(2).strip('<>')})"
        return match.group(1) + placed + match.group(3)

    def html_image(match: re.Match[str]) -> str:
        placed = place(match.group(2))
        return match.group() if placed is None else match.group(1) + placed + match.group(3)

    def sound(match: re.Match[str]) -> str:
        placed = place(match.group(1))
        return f"`{match.group()}`" if placed is None else f"[sound:{placed}]"

    def rewrite(prose: str) -> str:
        return _SOUND.sub(sound, _HTML_SRC.sub(html_image, _IMAGE.sub(image, prose)))

    return in_prose(text, rewrite)


# --- writing -----------------------------------------------------------------------------------

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HEADING_MAX = 120


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > 60:
        slug = slug[:60].rsplit("-", 1)[0]
    return slug or "card-" + hashlib.sha256(text.encode()).hexdigest()[:8]


_MEDIA_IN_LINE = re.compile(r"!\[[^\]\n]*\]\([^)\n]+\)|\[sound:[^\]\n]+\]|<img\b[^>]*>")


def _balanced(text: str) -> bool:
    return text.count("`") % 2 == 0 and text.replace("$$", "").count("$") % 2 == 0


def _cloze_heading(text: str) -> str:
    """A cloze note's heading: its first words with every cloze shown as `…` (no answer given away)."""
    masked = re.sub(r"\{\{c\d+::.*?\}\}", "…", text, flags=re.S)
    first = next((line.strip() for line in masked.split("\n") if line.strip() and not _FENCE.match(line)), "")
    first = _MEDIA_IN_LINE.sub("", re.sub(r"^(?:[#>*+-]|\d+[.)])\s+", "", first)).strip()
    words = first.split()
    short = " ".join(words[:12]) + (" …" if len(words) > 12 else "")
    if not short or not _balanced(short) or short.startswith(("<", "|", "!", "$$")):
        return ""
    return "Complete: " + short


def _split_front(front: str) -> tuple[str, str]:
    """(heading, what is shown with it): the front's first paragraph, when it is one plain line of
    text, is the heading (an image or sound in it moves below); anything else stays on the front,
    below a heading given later."""
    front = front.strip()
    first, _, rest = front.partition("\n\n")
    one_line = " ".join(line.strip() for line in first.split("\n"))
    block_start = re.match(r"^(?:[#>|<!]|\$\$|[*+-]\s|\d+[.)]\s|`{3}|~{3}|\s{4})", first)
    if one_line and not block_start and len(one_line) <= HEADING_MAX:
        media = _MEDIA_IN_LINE.findall(one_line)
        if media:
            one_line = re.sub(r"\s{2,}", " ", _MEDIA_IN_LINE.sub("", one_line)).strip()
            rest = "\n\n".join(part for part in (" ".join(media), rest.strip()) if part)
        if one_line:
            return one_line, rest.strip()
    return "", front


class _Names:
    """Ids and headings handed out so far: ids unique in the deck, headings unique in a file."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def card_id(self, wanted: str, heading: str) -> str:
        base = wanted if wanted and _ID.match(wanted) and wanted not in self.ids else _slug(heading)
        chosen, number = base, 2
        while chosen in self.ids:
            chosen, number = f"{base}-{number}", number + 1
        self.ids.add(chosen)
        return chosen


def _yaml_string(text: str) -> str:
    # a double-quoted YAML string; < and > escaped so that no `-->` can end the comment early
    return json.dumps(text, ensure_ascii=False).replace("<", "\\x3c").replace(">", "\\x3e")


def card_markdown(card: ConvertedCard, topic: ConvertedTopic, position: int, names: _Names,
                  headings: set[str]) -> str:
    cloze = has_cloze(card.front)
    if cloze:
        heading, context = _cloze_heading(card.front), card.front.strip()
    else:
        heading, context = _split_front(card.front)
    if not heading:
        heading = f"{topic.title or Path(topic.name).name}: card {position}"
    heading = heading.replace("\n", " ")
    unique, number = heading, 2
    while unique.lower() in headings:
        unique, number = f"{heading} ({number})", number + 1
    headings.add(unique.lower())
    options = [f"id: {names.card_id(card.card_id, unique)}"]
    if card.guid:
        options.append(f"guid: {_yaml_string(card.guid)}")
    if card.tags:
        options.append("tags: [" + ", ".join(_yaml_string(tag) for tag in card.tags) + "]")
    parts = [f"## {unique}\n<!-- {', '.join(options)} -->\n"]
    back = card.back.strip()
    if cloze:
        parts.append(context + ("\n\n---\n\n" + back if back else "") + "\n")
    elif context:
        parts.append(context + "\n\n---\n\n" + back + "\n")
    else:
        parts.append(back + "\n")
    return "\n".join(parts)


def topic_markdown(topic: ConvertedTopic, names: _Names) -> str:
    lines = ["---"]
    if topic.title:
        lines.append(f"title: {_yaml_string(topic.title)}")
    if topic.tags:
        lines.append("tags: [" + ", ".join(_yaml_string(tag) for tag in topic.tags) + "]")
    lines.append("---\n")
    text = "\n".join(lines) + "\n" if len(lines) > 2 else ""
    headings: set[str] = set()
    cards = [card_markdown(card, topic, n, names, headings) for n, card in enumerate(topic.cards, 1)]
    return text + "\n".join(cards)


def tag_list(text: str) -> list[str]:
    return [tag for tag in re.split(r"[,\s]+", text.strip()) if tag]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_output(out_dir: Path, source_root: Path, force: bool) -> None:
    """Refuse an output folder inside the sources (or holding them), or one that holds files this
    command did not write (unless --force)."""
    source, out = source_root.resolve(), out_dir.resolve()
    if out == source or out.is_relative_to(source) or source.is_relative_to(out):
        raise ConvertError(f"{out_dir}: error: the output folder must not be or lie inside the source folder "
                           "(the sources are never written)")
    if out.exists() and not out.is_dir():
        raise ConvertError(f"{out_dir}: error: is a file, not a folder")
    if not out.exists() or force:
        return
    written = _manifest(out)
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        name = path.relative_to(out).as_posix()
        if name == MANIFEST:
            continue
        if name not in written or written[name] != _digest(path):
            raise ConvertError(
                f"{out_dir / name}: error: the output folder holds a file that `convert` did not write "
                "(or that was edited since): choose an empty folder, or pass --force to overwrite"
            )


def _manifest(out: Path) -> dict[str, str]:
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        return {}
    return {k: v for k, v in files.items() if isinstance(k, str) and isinstance(v, str)}


def write_conversion(conversion: Conversion, out_dir: Path, tool: str) -> tuple[int, int]:
    """Write the topics and copy the media; returns (files, notes). Files a previous run wrote and
    this one does not are removed, so the folder always matches the sources."""
    out = out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    previous = _manifest(out)
    names = _Names()
    outputs: dict[str, bytes] = {}
    for topic in conversion.topics:
        if topic.cards:
            outputs[f"{topic.name}.md"] = topic_markdown(topic, names).encode("utf-8")
    for name, path in conversion.media.items():
        outputs[name] = path.read_bytes()
    for name in previous:
        if name not in outputs and (out / name).is_file():
            (out / name).unlink()
    written = {}
    for name, data in outputs.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written[name] = hashlib.sha256(data).hexdigest()
    manifest = {"tool": tool, "files": dict(sorted(written.items()))}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    notes = sum(len(topic.cards) for topic in conversion.topics)
    return sum(1 for name in outputs if name.endswith(".md")), notes


_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)


def short_clozes(text: str, pattern: re.Pattern[str], parse) -> str:  # type: ignore[no-untyped-def]
    """Rewrite a tool's short cloze syntax into Anki's `{{cN::...}}` outside code and math.
    `pattern` finds a cloze in any of the tool's forms, Anki's own included; `parse(match)` gives
    (number or None, text). Unnumbered clozes count up from the highest number seen so far in the
    note, in order, as the tools number them."""
    counter = 0

    def one(match: re.Match[str]) -> str:
        nonlocal counter
        native = CLOZE.match(match.group())
        if native:
            counter = max(counter, int(native.group(1)))
            return match.group()
        number, body = parse(match)
        if number:
            chosen = int(number)
            counter = max(counter, chosen)
        else:
            counter += 1
            chosen = counter
        return f"{{{{c{chosen}::{body}}}}}"

    def rewrite(prose: str) -> str:
        out, last = [], 0
        for math in _MATH.finditer(prose):
            out.append(pattern.sub(one, prose[last:math.start()]))
            out.append(math.group())
            last = math.end()
        out.append(pattern.sub(one, prose[last:]))
        return "".join(out)

    return in_prose(text, rewrite)
