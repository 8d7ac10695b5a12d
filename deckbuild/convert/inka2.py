"""inka2: notes in sections between two `---` lines, each section with `Deck:` and `Tags:` lines;
a note starts with `1.` (the question), its answer is the `>` lines below; a note without an answer
and with `{...}` is a cloze (`{text}`, `{1::text}`, `{c1::text}` or Anki's own). inka2 adds notes
through AnkiConnect and writes Anki's note id (`<!--ID:...-->`) back: that id is not the note's guid,
so the identity is not kept."""

from __future__ import annotations

import re
from pathlib import Path

from .common import (
    Conversion,
    ConvertedCard,
    ConvertedTopic,
    carry_media,
    dollar_math,
    markdown_files,
    read_text,
    short_clozes,
    tag_list,
)

SECTION = re.compile(r"^---\n(.+?)^---$", re.S | re.M)
DECK = re.compile(r"^Deck:(.*)$", re.M)
TAGS = re.compile(r"^Tags:(.*)$", re.M)
NOTE_START = re.compile(r"^\d+\.", re.M)
ID_LINE = re.compile(r"^<!--ID:\S+-->$", re.M)
SHORT_CLOZE = re.compile(r"\{\{c\d+::[\s\S]*?\}\}|\{c?(\d+)::([\s\S]*?)\}|\{()([\s\S]*?)\}")


def _inka_clozes(text: str) -> str:
    def parse(match: re.Match[str]) -> tuple[str | None, str]:
        return (match.group(1), match.group(2)) if match.group(2) is not None else (None, match.group(4))

    return short_clozes(text, SHORT_CLOZE, parse)


def convert(source_root: Path) -> Conversion:
    conversion = Conversion(source_root)
    for path in markdown_files(source_root):
        text = read_text(path, source_root)
        stem = path.relative_to(source_root).with_suffix("").as_posix()
        topics: dict[str, ConvertedTopic] = {}
        ids = 0
        for section in SECTION.finditer(text):
            body, base_line = section.group(1), text[: section.start(1)].count("\n") + 1
            deck_match = DECK.search(body)
            deck = deck_match.group(1).strip() if deck_match else "Default"
            tags_match = TAGS.search(body)
            tags = tag_list(tags_match.group(1)) if tags_match else []
            if deck not in topics:
                name = stem if not topics else f"{stem}-{len(topics) + 1}"
                topics[deck] = ConvertedTopic(path, name, deck.replace("::", " - "))
            topic = topics[deck]
            ids += len(ID_LINE.findall(body))
            starts = [m.start() for m in NOTE_START.finditer(body)]
            for position, start in enumerate(starts):
                end = starts[position + 1] if position + 1 < len(starts) else len(body)
                chunk = body[start:end]
                chunk = ID_LINE.sub("", chunk)
                line = base_line + body[:start].count("\n")
                chunk = re.sub(r"^\d+\.\s?", "", chunk, count=1)
                question_lines: list[str] = []
                answer_lines: list[str] = []
                for item in chunk.split("\n"):
                    if item.startswith(">") and (answer_lines or question_lines):
                        answer_lines.append(re.sub(r"^> ?", "", item))
                    elif answer_lines:
                        if item.strip():
                            conversion.lose(path, line, "text after a note's answer (inka2 ignores it too)")
                        break
                    else:
                        question_lines.append(item)
                question = "\n".join(question_lines).strip()
                answer = "\n".join(answer_lines).strip()
                out_name = f"{topic.name}.md"
                if not answer:
                    if "{" not in question:
                        conversion.lose(path, line, "a question with no answer and no cloze")
                        continue
                    question = _inka_clozes(question)
                front = carry_media(dollar_math(question), path, out_name, conversion, line)
                back = carry_media(dollar_math(answer), path, out_name, conversion, line)
                topic.cards.append(ConvertedCard(line, front, back, list(tags)))
        if ids:
            conversion.lose(path, 1, f"identity of {ids} note(s): inka2's <!--ID:...--> is Anki's note id, not the "
                                     "guid a deck file carries, so these notes come in as new ones")
        conversion.topics.extend(topics.values())
    return conversion
