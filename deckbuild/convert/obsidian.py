"""Obsidian_to_Anki: notes between `START` and `END` lines (the note type first, then the fields,
`Back:` and the like starting each field after the first), inline notes `STARTI [Type] ... ENDI`,
`TARGET DECK` and `FILE TAGS` for the file, `Tags:` for a note, clozes in Anki's syntax, in its
curly syntax (`{text}`, `{2:text}`, `{c2:text}`, `{2|text}`) or as highlights (`==text==`).
It adds notes through AnkiConnect and writes Anki's note id (`<!--ID: ...-->`) back into the file:
that id is not the note's guid, so the identity is not kept."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from .common import (
    SOUND_SUFFIXES,
    Conversion,
    ConvertedCard,
    ConvertedTopic,
    carry_media,
    dollar_math,
    in_prose,
    markdown_files,
    read_text,
    short_clozes,
    tag_list,
)

ID_COMMENT = re.compile(r"^\s*<!--\s*ID:\s*\d+\s*-->\s*$")
CARD_MARKER = re.compile(r"^\s*<!--\s*CARD\s*-->\s*$")
INLINE = re.compile(r"STARTI\s*\[([^\]]+)\]\s*(.*?)\s*(?:<!--\s*ID:\s*\d+\s*-->\s*)?ENDI")
FIELD = re.compile(r"^(Front|Back|Text|Back Extra|Extra):\s?(.*)$")
CURLY = re.compile(r"\{\{c\d+::[\s\S]*?\}\}|(?<!\{)\{(?:c?(\d+)[:|])?(?!\{)([^\n{}]+?)\}(?!\})")
HIGHLIGHT = re.compile(r"==(?=\S)(.+?)(?<=\S)==")
EMBED = re.compile(r"!\[\[([^\]|#\n]+)(?:[|#][^\]\n]*)?\]\]")
WIKILINK = re.compile(r"(?<!!)\[\[([^\]|\n]+?)(?:\|([^\]\n]+))?\]\]")
BASIC_TYPES = {"basic", "basic (type in the answer)"}
REVERSED_TYPES = {"basic (and reversed card)", "basic (optional reversed card)"}


def _obsidian_markdown(text: str) -> str:
    """Obsidian's embeds and links as plain Markdown: `![[a.png]]` an image, `![[a.mp3]]` a sound,
    `[[Page|label]]` its label."""

    def embed(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.lower().endswith(SOUND_SUFFIXES):
            return f"[sound:{name}]"
        return f"![]({name.replace(' ', '%20')})" if " " not in name else f"![](<{name}>)"

    def rewrite(prose: str) -> str:
        prose = EMBED.sub(embed, prose)
        return WIKILINK.sub(lambda m: m.group(2) or m.group(1), prose)

    return in_prose(text, rewrite)


def _curly(text: str, highlights: bool) -> str:
    if highlights:
        text = in_prose(text, lambda prose: HIGHLIGHT.sub(lambda m: "{" + m.group(1) + "}", prose))
    return short_clozes(text, CURLY, lambda m: (m.group(1), m.group(2)))


def _marks(text: str) -> str:
    return in_prose(text, lambda prose: HIGHLIGHT.sub(r"<mark>\1</mark>", prose))


def _fields(lines: list[str]) -> list[tuple[str, str]]:
    """The note's fields: the first needs no prefix (`Front:` or `Text:` may stand before it), each
    later one starts with its name (`Back:`, `Back Extra:`, `Extra:`)."""
    fields: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        match = FIELD.match(line)
        first_is_empty = len(fields) == 1 and not any(text.strip() for text in fields[0][1])
        if match and match.group(1) in ("Front", "Text") and first_is_empty:
            fields[0] = (match.group(1), [match.group(2)])
        elif match and match.group(1) not in ("Front", "Text") and not first_is_empty:
            fields.append((match.group(1), [match.group(2)]))
        else:
            fields[-1][1].append(line)
    return [(name, "\n".join(body).strip()) for name, body in fields]


def _note_front_back(kind: str, body: list[str], lose: Callable[[str], None]) -> tuple[str, str]:
    """A note's first field and the others joined as the answer, in Markdown; what its note type
    says that a card cannot carry goes to `lose`."""
    kind_key = kind.strip().lower()
    fields = _fields(body)
    front = fields[0][1]
    if kind_key == "cloze":
        front = _curly(front, highlights=True)
    elif kind_key in REVERSED_TYPES:
        lose(f"the reverse card of '{kind.strip()}': carried as a basic card")
    elif kind_key not in BASIC_TYPES:
        lose(f"the note type '{kind.strip()}': its first field is the question, the other fields the answer")
    back = "\n\n".join(value for _, value in fields[1:])
    return _marks(_obsidian_markdown(front)), _marks(_obsidian_markdown(back))


class _FileReader:
    """One Obsidian file read line by line: file settings, `START`...`END` blocks and inline notes."""

    def __init__(self, path: Path, source_root: Path, conversion: Conversion):
        self.path = path
        self.conversion = conversion
        self.lines = read_text(path, source_root).split("\n")
        relative = path.relative_to(source_root).with_suffix("").as_posix()
        self.topic = ConvertedTopic(path, relative, path.stem)
        self.out_name = f"{self.topic.name}.md"
        self.ids = 0  # Obsidian_to_Anki's note ids met, which are not carried
        self.index = 0

    def read(self) -> ConvertedTopic:
        while self.index < len(self.lines):
            line = self.lines[self.index]
            stripped = line.strip()
            if stripped.startswith("TARGET DECK"):
                self.topic.title = self._setting("TARGET DECK").replace("::", " - ") or self.topic.title
            elif stripped.startswith("FILE TAGS"):
                self.topic.tags = tag_list(self._setting("FILE TAGS"))
            elif stripped == "START" and self.index + 1 < len(self.lines):
                self._block()
            elif "STARTI" in line:
                self._inline_notes(line)
            elif CARD_MARKER.match(line):
                self.conversion.lose(self.path, self.index + 1, "a <!-- CARD --> marker (a custom-regex note style, "
                                                                "which the converter does not read)")
            self.index += 1
        if self.ids:
            self.conversion.lose(self.path, 1, f"identity of {self.ids} note(s): Obsidian_to_Anki's <!--ID: ...--> is "
                                               "Anki's note id, not the guid a deck file carries, so these notes come "
                                               "in as new ones")
        return self.topic

    def _setting(self, keyword: str) -> str:
        """The value after `TARGET DECK` or `FILE TAGS`, on its line or, when that is empty, the next."""
        value = self.lines[self.index].strip()[len(keyword):].lstrip(":").strip()
        if not value and self.index + 1 < len(self.lines):
            self.index += 1
            value = self.lines[self.index].strip()
        return value

    def _block(self) -> None:
        """A `START` line, the note type, the fields up to `END`."""
        start, kind = self.index + 1, self.lines[self.index + 1]
        body: list[str] = []
        tags: list[str] = []
        self.index += 2
        while self.index < len(self.lines) and self.lines[self.index].strip() != "END":
            line = self.lines[self.index]
            if ID_COMMENT.match(line):
                self.ids += 1
            elif line.startswith("Tags: "):
                tags = tag_list(line[len("Tags: "):])
            else:
                body.append(line)
            self.index += 1
        self._add(start, kind, body, tags)

    def _inline_notes(self, line: str) -> None:
        for match in INLINE.finditer(line):
            self.ids += "ID:" in match.group()
            content = match.group(2)
            tags: list[str] = []
            if " Tags: " in content:
                content, _, tag_text = content.partition(" Tags: ")
                tags = tag_list(tag_text)
            fields = re.sub(r"\s(Back|Back Extra|Extra):\s", r"\n\1: ", content).split("\n")
            self._add(self.index + 1, match.group(1), fields, tags)

    def _add(self, line: int, kind: str, body: list[str], own_tags: list[str]) -> None:
        path, conversion = self.path, self.conversion
        front, back = _note_front_back(kind, body, lambda message: conversion.lose(path, line, message))
        front = carry_media(dollar_math(front), path, self.out_name, conversion, line, find_by_name=True)
        back = carry_media(dollar_math(back), path, self.out_name, conversion, line, find_by_name=True)
        if not back.strip() and "{{c" not in front:
            conversion.lose(path, line, "a note with no answer")
            return
        self.topic.cards.append(ConvertedCard(line, front, back, own_tags))


def convert(source_root: Path) -> Conversion:
    conversion = Conversion(source_root)
    for path in markdown_files(source_root):
        conversion.topics.append(_FileReader(path, source_root, conversion).read())
    return conversion
