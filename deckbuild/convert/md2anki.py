"""md2anki: `# Deck (deck id)`, `## Question (note id)` with an optional `---` between a long
question and its answer, `## Subdeck: Name (id)` whose questions are one level deeper, tags in
`` `{=:a,b:=}` ``. md2anki gives a note the id in its heading as its guid, so the converter keeps it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .common import (
    Conversion, ConvertedCard, ConvertedTopic, carry_media, dollar_math, in_prose, markdown_files, read_text,
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


def _clean(text: str, path: Path, line: int, conversion: Conversion, tags: list[str]) -> str:
    def tag(match: re.Match[str]) -> str:
        tags.extend(t.strip() for t in match.group(1).split(",") if t.strip())
        return ""

    def model(match: re.Match[str]) -> str:
        conversion.lose(path, line, f"the card type override {match.group(1)} (the kind follows from the card)")
        return ""

    def evaluated(match: re.Match[str]) -> str:
        conversion.lose(path, line, f"code evaluation of a {match.group(2)} block: shown as code, its output is not made")
        return match.group(1) + LANGUAGES.get(match.group(2), match.group(2)) + match.group(3)

    def sized(match: re.Match[str]) -> str:
        conversion.lose(path, line, "an image's width/height: the image is shown at its own size")
        return match.group(1)

    text = EVALUATED_FENCE.sub(evaluated, text)
    text = TAGS.sub(tag, MODEL.sub(model, text))
    return in_prose(text, lambda prose: IMAGE_SIZE.sub(sized, prose))


def convert(source_root: Path) -> Conversion:
    conversion = Conversion(source_root)
    for path in markdown_files(source_root):
        stem = path.relative_to(source_root).with_suffix("").as_posix()
        decks: list[tuple[str, int, list[_Note], list[str], int]] = []  # name, depth, notes, tags, line
        note: _Note | None = None
        in_fence = ""
        for number, line in enumerate(read_text(path, source_root).split("\n"), 1):
            fence = re.match(r"^\s*(`{3,}|~{3,})", line)
            if fence and (not in_fence or fence.group(1).startswith(in_fence)):
                in_fence = "" if in_fence else fence.group(1)
            heading = None if in_fence or fence else HEADING.match(line)
            if heading:
                depth, text = len(heading.group(1)), heading.group(2)
                if not decks:
                    name = DECK_ID.match(text).group(1)
                    decks.append((name, depth, [], [], number))
                    note = None
                    continue
                current = decks[-1]
                if text.startswith(SUBDECK):
                    name = DECK_ID.match(text[len(SUBDECK):]).group(1)
                    parents = [d for d in decks if d[1] < depth]
                    full = " - ".join([parents[-1][0], name]) if parents else name
                    if depth > decks[0][1] + 1:
                        conversion.lose(path, number, f"the nesting of subdeck '{name}': it becomes a topic of its own")
                    decks.append((full, depth, [], [], number))
                    note = None
                    continue
                owner = next((d for d in reversed(decks) if d[1] == depth - 1), None)
                if owner is not None:
                    match = NOTE_ID.match(text)
                    note = _Note(number, match.group(1), match.group(2))
                    owner[2].append(note)
                    continue
            if note is not None:
                note.body.append(line)
            elif decks:
                decks[-1][3].append(line)
        several = len(decks) > 1
        for index, (name, _, notes, description, line) in enumerate(decks):
            file_tags: list[str] = []
            if "\n".join(description).strip():
                _clean("\n".join(description), path, line, conversion, file_tags)
                conversion.lose(path, line + 1, "the deck description (text before the first question)")
            own = name.rsplit(" - ", 1)[-1]
            slug = re.sub(r"[^a-z0-9]+", "-", own.lower()).strip("-") or str(index)
            topic = ConvertedTopic(path, stem if not several or index == 0 else f"{stem}-{slug}", name, file_tags)
            out_name = f"{topic.name}.md"
            for item in notes:
                tags: list[str] = []
                body = "\n".join(item.body)
                question_body, separator, answer = body.partition("\n---\n")
                if not separator:
                    question_body, answer = "", body
                front = _clean(item.question + "\n\n" + question_body.strip(), path, item.line, conversion, tags)
                back = _clean(answer, path, item.line, conversion, tags)
                front = carry_media(dollar_math(front), path, out_name, conversion, item.line)
                back = carry_media(dollar_math(back), path, out_name, conversion, item.line)
                if item.guid is None:
                    conversion.lose(path, item.line, "identity: the question has no (id), so md2anki gave it a random one")
                if not back.strip() and "{{c" not in front:
                    conversion.lose(path, item.line, "a question with no answer")
                    continue
                topic.cards.append(ConvertedCard(item.line, front, back, tags, item.guid or "",
                                                 (item.guid or "").lower()))
            conversion.topics.append(topic)
    return conversion
