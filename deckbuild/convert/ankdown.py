"""ankdown: fields separated by lines holding only `%` (front, back, then tags), cards by `---`
(or `%%`). A note's identity is an MD5 of `<folder name>/<file name><card number>`, which the
converter computes the same way, so a deck that ankdown built is updated, not duplicated."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .common import (
    Conversion, ConvertedCard, ConvertedTopic, carry_media, dollar_math, markdown_files, read_text, tag_list,
)


def ankdown_guid(deck_folder: str, file_name: str, index: int) -> str:
    """The guid ankdown gives the index-th card (from 0) of a file: MD5 of its card id, mod 2^63."""
    digest = hashlib.md5(f"{deck_folder}/{file_name}{index}".encode()).hexdigest()  # noqa: S324 - ankdown's own
    return str(int(digest, 16) % (1 << 63))


def convert(source_root: Path) -> Conversion:
    conversion = Conversion(source_root)
    for path in markdown_files(source_root):
        relative = path.relative_to(source_root)
        deck = path.parent.name  # ankdown's deck: the name of the folder holding the file
        topic = ConvertedTopic(path, relative.with_suffix("").as_posix(), title=deck)
        out_name = f"{topic.name}.md"
        fields: list[tuple[int, str]] = []
        lines: list[str] = []
        start = index = 0

        def finish_card() -> None:
            nonlocal fields
            if lines or not fields:
                fields.append((start, "".join(lines)))
            if not any(text.strip() for _, text in fields):
                fields = []
                return
            line = next((n for n, text in fields if text.strip()), start)
            if len(fields) < 2 or not fields[1][1].strip():
                conversion.lose(path, line, "a card with a front and no back (build_deck cards need an answer)")
            else:
                for extra_line, _ in fields[3:]:
                    conversion.lose(path, extra_line, "a fourth field (ankdown drops it too)")
                front = carry_media(dollar_math(fields[0][1]), path, out_name, conversion, line)
                back = carry_media(dollar_math(fields[1][1]), path, out_name, conversion, fields[1][0])
                tags = tag_list(fields[2][1]) if len(fields) > 2 else []
                topic.cards.append(ConvertedCard(line, front, back, tags, ankdown_guid(deck, path.name, index)))
            fields = []

        for number, line in enumerate(read_text(path, source_root).split("\n"), 1):
            stripped = line.strip()
            if stripped == "%":
                fields.append((start, "".join(lines)))
                lines, start = [], number + 1
            elif stripped in ("---", "%%"):
                finish_card()
                lines, start, index = [], number + 1, index + 1
            else:
                if not lines:
                    start = number
                lines.append(line + "\n")
        finish_card()
        conversion.topics.append(topic)
    return conversion
