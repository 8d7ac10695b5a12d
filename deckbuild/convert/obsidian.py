"""Obsidian_to_Anki: notes between `START` and `END` lines (the note type first, then the fields,
`Back:` and the like starting each field after the first), inline notes `STARTI [Type] ... ENDI`,
`TARGET DECK` and `FILE TAGS` for the file, `Tags:` for a note, clozes in Anki's syntax, in its
curly syntax (`{text}`, `{2:text}`, `{c2:text}`, `{2|text}`) or as highlights (`==text==`).
It adds notes through AnkiConnect and writes Anki's note id (`<!--ID: ...-->`) back into the file:
that id is not the note's guid, so the identity is not kept."""

from __future__ import annotations

import re
from pathlib import Path

from .common import (
    SOUND_SUFFIXES, Conversion, ConvertedCard, ConvertedTopic, carry_media, dollar_math, in_prose, markdown_files,
    read_text, short_clozes, tag_list,
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


def convert(source_root: Path) -> Conversion:
    conversion = Conversion(source_root)
    for path in markdown_files(source_root):
        text = read_text(path, source_root)
        lines = text.split("\n")
        relative = path.relative_to(source_root).with_suffix("").as_posix()
        topic = ConvertedTopic(path, relative, path.stem)
        out_name = f"{topic.name}.md"
        ids = 0

        def add(line: int, kind: str, body: list[str], own_tags: list[str]) -> None:
            kind_key = kind.strip().lower()
            fields = _fields(body)
            front = fields[0][1]
            rest = fields[1:]
            if kind_key == "cloze":
                front = _curly(front, highlights=True)
            elif kind_key in REVERSED_TYPES:
                conversion.lose(path, line, f"the reverse card of '{kind.strip()}': carried as a basic card")
            elif kind_key not in BASIC_TYPES:
                conversion.lose(path, line, f"the note type '{kind.strip()}': its first field is the question, "
                                            "the other fields the answer")
            back = "\n\n".join(value for _, value in rest)
            front, back = _marks(_obsidian_markdown(front)), _marks(_obsidian_markdown(back))
            front = carry_media(dollar_math(front), path, out_name, conversion, line, find_by_name=True)
            back = carry_media(dollar_math(back), path, out_name, conversion, line, find_by_name=True)
            if not back.strip() and "{{c" not in front:
                conversion.lose(path, line, "a note with no answer")
                return
            topic.cards.append(ConvertedCard(line, front, back, own_tags))

        index = 0
        while index < len(lines):
            line = lines[index]
            stripped = line.strip()
            if stripped.startswith("TARGET DECK"):
                value = stripped[len("TARGET DECK"):].lstrip(":").strip()
                if not value and index + 1 < len(lines):
                    index += 1
                    value = lines[index].strip()
                topic.title = value.replace("::", " - ") or topic.title
            elif stripped.startswith("FILE TAGS"):
                value = stripped[len("FILE TAGS"):].lstrip(":").strip()
                if not value and index + 1 < len(lines):
                    index += 1
                    value = lines[index].strip()
                topic.tags = tag_list(value)
            elif stripped == "START" and index + 1 < len(lines):
                start, kind, body, tags = index + 1, lines[index + 1], [], []
                index += 2
                while index < len(lines) and lines[index].strip() != "END":
                    if ID_COMMENT.match(lines[index]):
                        ids += 1
                    elif lines[index].startswith("Tags: "):
                        tags = tag_list(lines[index][len("Tags: "):])
                    else:
                        body.append(lines[index])
                    index += 1
                add(start, kind, body, tags)
            elif "STARTI" in line:
                for match in INLINE.finditer(line):
                    ids += "ID:" in match.group()
                    content = match.group(2)
                    tags = []
                    if " Tags: " in content:
                        content, _, tag_text = content.partition(" Tags: ")
                        tags = tag_list(tag_text)
                    add(index + 1, match.group(1), re.sub(r"\s(Back|Back Extra|Extra):\s", r"\n\1: ", content).split("\n"),
                        tags)
            elif CARD_MARKER.match(line):
                conversion.lose(path, index + 1, "a <!-- CARD --> marker (a custom-regex note style, which the "
                                                 "converter does not read)")
            index += 1
        if ids:
            conversion.lose(path, 1, f"identity of {ids} note(s): Obsidian_to_Anki's <!--ID: ...--> is Anki's note "
                                     "id, not the guid a deck file carries, so these notes come in as new ones")
        conversion.topics.append(topic)
    return conversion
