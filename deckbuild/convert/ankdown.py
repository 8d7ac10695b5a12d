"""ankdown: fields separated by lines holding only `%` (front, back, then tags), cards by `---`
(or `%%`). A note's identity is an MD5 of `<folder name>/<file name><card number>`, which the
converter computes the same way, so a deck that ankdown built is updated, not duplicated."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .common import (
    Conversion,
    ConvertedCard,
    ConvertedTopic,
    carry_media,
    dollar_math,
    markdown_files,
    read_text,
    tag_list,
)


def ankdown_guid(deck_folder: str, file_name: str, index: int) -> str:
    """The guid ankdown gives the index-th card (from 0) of a file: MD5 of its card id, mod 2^63."""
    digest = hashlib.md5(f"{deck_folder}/{file_name}{index}".encode()).hexdigest()  # noqa: S324 - ankdown's own
    return str(int(digest, 16) % (1 << 63))


class _FileReader:
    """One ankdown file read line by line: fields end at `%` lines, cards at `---` or `%%` lines."""

    def __init__(self, path: Path, source_root: Path, conversion: Conversion):
        self.path = path
        self.conversion = conversion
        self.deck = path.parent.name  # ankdown's deck: the name of the folder holding the file
        self.topic = ConvertedTopic(path, path.relative_to(source_root).with_suffix("").as_posix(), title=self.deck)
        self.out_name = f"{self.topic.name}.md"
        self.fields: list[tuple[int, str]] = []  # (first line, text) of the card's finished fields
        self.lines: list[str] = []  # the field being read
        self.start = 0  # its first line
        self.index = 0  # the card's number in the file, from 0

    def read(self, text: str) -> ConvertedTopic:
        for number, line in enumerate(text.split("\n"), 1):
            stripped = line.strip()
            if stripped == "%":
                self.fields.append((self.start, "".join(self.lines)))
                self.lines, self.start = [], number + 1
            elif stripped in ("---", "%%"):
                self._finish_card()
                self.lines, self.start, self.index = [], number + 1, self.index + 1
            else:
                if not self.lines:
                    self.start = number
                self.lines.append(line + "\n")
        self._finish_card()
        return self.topic

    def _finish_card(self) -> None:
        fields = self.fields
        self.fields = []
        if self.lines or not fields:
            fields.append((self.start, "".join(self.lines)))
        if not any(text.strip() for _, text in fields):
            return
        path, conversion = self.path, self.conversion
        line = next((n for n, text in fields if text.strip()), self.start)
        if len(fields) < 2 or not fields[1][1].strip():
            conversion.lose(path, line, "a card with a front and no back (build_deck cards need an answer)")
            return
        for extra_line, _ in fields[3:]:
            conversion.lose(path, extra_line, "a fourth field (ankdown drops it too)")
        front = carry_media(dollar_math(fields[0][1]), path, self.out_name, conversion, line)
        back = carry_media(dollar_math(fields[1][1]), path, self.out_name, conversion, fields[1][0])
        tags = tag_list(fields[2][1]) if len(fields) > 2 else []
        guid = ankdown_guid(self.deck, path.name, self.index)
        self.topic.cards.append(ConvertedCard(line, front, back, tags, guid))


def convert(source_root: Path) -> Conversion:
    conversion = Conversion(source_root)
    for path in markdown_files(source_root):
        topic = _FileReader(path, source_root, conversion).read(read_text(path, source_root))
        conversion.topics.append(topic)
    return conversion
