"""md2anki: `# Deck (deck id)`, `## Question (note id)` with an optional `---` between a long
question and its answer, `## Subdeck: Name (id)` whose questions are one level deeper, tags in
`` `{=:a,b:=}` ``. md2anki gives a note the id in its heading as its guid, so the converter keeps it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .common import (
    Conversion,
    ConvertedCard,
    ConvertedTopic,
    carry_media,
    dollar_math,
    in_prose,
    markdown_files,
    read_text,
)

HEADING = re.compile(r"^(#+)\s+(.+?)\s*$")
DECK_ID = re.compile(r"^(.+?)(?:\s+\((\d+)\))?$")
NOTE_ID = re.compile(r"^(.+?)(?:\s+\(([^()\s]+?)\))?$")
SUBDECK = "Subdeck: "
TAGS = re.compile(r"`\{=:\s*(.*?)\s*:=\}`")
MODEL = re.compile(r"`\{=<\s*(\S+?)\s*>=\}`")
EVALUATED_FENCE = re.compile(r"^(\s*(?:`{3,}|~{3,}))\{=(\w+)\}(.*)$", re.M)
EVALUATED_SPAN = re.compile(r"(`[^`\n]+`)\{=?([^}\n]+)\}")
IMAGE_SIZE = re.compile(r"(!\[[^\]\n]*\]\([^)\n]+\))\{[^}\n]*\}")
LANGUAGES = {"py": "python", "js": "javascript", "ts": "typescript", "sh": "bash"}


@dataclass
class _Note:
    line: int
    question: str
    guid: str | None
    body: list[str] = field(default_factory=list)


@dataclass
class _Deck:
    name: str  # a subdeck's name follows its parent's: "Parent - Child"
    depth: int  # its heading's level
    line: int
    notes: list[_Note] = field(default_factory=list)
    description: list[str] = field(default_factory=list)  # text before its first question


def _clean(text: str, path: Path, line: int, conversion: Conversion, tags: list[str]) -> str:
    def tag(match: re.Match[str]) -> str:
        tags.extend(t.strip() for t in match.group(1).split(",") if t.strip())
        return ""

    def model(match: re.Match[str]) -> str:
        conversion.lose(path, line, f"the card type override {match.group(1)} (the kind follows from the card)")
        return ""

    def evaluated(match: re.Match[str]) -> str:
        conversion.lose(path, line,
                        f"code evaluation of a {match.group(2)} block: shown as code, its output is not made")
        return match.group(1) + LANGUAGES.get(match.group(2), match.group(2)) + match.group(3)

    def sized(match: re.Match[str]) -> str:
        conversion.lose(path, line, "an image's width/height: the image is shown at its own size")
        return match.group(1)

    text = EVALUATED_FENCE.sub(evaluated, text)
    text = TAGS.sub(tag, MODEL.sub(model, text))
    return in_prose(text, lambda prose: IMAGE_SIZE.sub(sized, prose))


class _FileReader:
    """One md2anki file read line by line into decks, each with its notes."""

    def __init__(self, path: Path, conversion: Conversion):
        self.path = path
        self.conversion = conversion
        self.decks: list[_Deck] = []
        self.note: _Note | None = None
        self.in_fence = ""

    def read(self, text: str) -> list[_Deck]:
        for number, line in enumerate(text.split("\n"), 1):
            fence = re.match(r"^\s*(`{3,}|~{3,})", line)
            if fence and (not self.in_fence or fence.group(1).startswith(self.in_fence)):
                self.in_fence = "" if self.in_fence else fence.group(1)
            heading = None if self.in_fence or fence else HEADING.match(line)
            if heading and self._heading(number, len(heading.group(1)), heading.group(2)):
                continue
            if self.note is not None:
                self.note.body.append(line)
            elif self.decks:
                self.decks[-1].description.append(line)
        return self.decks

    def _heading(self, number: int, depth: int, text: str) -> bool:
        """Start a deck, a subdeck or a note at a heading; False for a heading that starts none,
        which stays text."""
        if not self.decks:
            self.decks.append(_Deck(_deck_name(text), depth, number))
            self.note = None
            return True
        if text.startswith(SUBDECK):
            name = _deck_name(text[len(SUBDECK):])
            parents = [d for d in self.decks if d.depth < depth]
            full = " - ".join([parents[-1].name, name]) if parents else name
            if depth > self.decks[0].depth + 1:
                self.conversion.lose(self.path, number,
                                     f"the nesting of subdeck '{name}': it becomes a topic of its own")
            self.decks.append(_Deck(full, depth, number))
            self.note = None
            return True
        owner = next((d for d in reversed(self.decks) if d.depth == depth - 1), None)
        if owner is None:
            return False
        match = NOTE_ID.match(text)
        assert match is not None  # the pattern matches any heading text (never empty)
        self.note = _Note(number, match.group(1), match.group(2))
        owner.notes.append(self.note)
        return True


def _deck_name(text: str) -> str:
    match = DECK_ID.match(text)
    assert match is not None  # the pattern matches any heading text
    return match.group(1)


def _topic(deck: _Deck, index: int, several: bool, path: Path, stem: str, conversion: Conversion) -> ConvertedTopic:
    file_tags: list[str] = []
    if "\n".join(deck.description).strip():
        _clean("\n".join(deck.description), path, deck.line, conversion, file_tags)
        conversion.lose(path, deck.line + 1, "the deck description (text before the first question)")
    own = deck.name.rsplit(" - ", 1)[-1]
    slug = re.sub(r"[^a-z0-9]+", "-", own.lower()).strip("-") or str(index)
    topic = ConvertedTopic(path, stem if not several or index == 0 else f"{stem}-{slug}", deck.name, file_tags)
    for note in deck.notes:
        card = _card(note, path, f"{topic.name}.md", conversion)
        if card is not None:
            topic.cards.append(card)
    return topic


def _card(note: _Note, path: Path, out_name: str, conversion: Conversion) -> ConvertedCard | None:
    tags: list[str] = []
    body = "\n".join(note.body)
    question_body, separator, answer = body.partition("\n---\n")
    if not separator:
        question_body, answer = "", body
    front = _clean(note.question + "\n\n" + question_body.strip(), path, note.line, conversion, tags)
    back = _clean(answer, path, note.line, conversion, tags)
    front = carry_media(dollar_math(front), path, out_name, conversion, note.line)
    back = carry_media(dollar_math(back), path, out_name, conversion, note.line)
    if note.guid is None:
        conversion.lose(path, note.line, "identity: the question has no (id), so md2anki gave it a random one")
    if not back.strip() and "{{c" not in front:
        conversion.lose(path, note.line, "a question with no answer")
        return None
    return ConvertedCard(note.line, front, back, tags, note.guid or "", (note.guid or "").lower())


def convert(source_root: Path) -> Conversion:
    conversion = Conversion(source_root)
    for path in markdown_files(source_root):
        stem = path.relative_to(source_root).with_suffix("").as_posix()
        decks = _FileReader(path, conversion).read(read_text(path, source_root))
        for index, deck in enumerate(decks):
            conversion.topics.append(_topic(deck, index, len(decks) > 1, path, stem, conversion))
    return conversion
