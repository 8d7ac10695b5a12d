"""markdown-anki-decks: `# Deck title` (or the file's name), `## Question` with the answer below
it, or an HTML element with a `data-question` attribute. Its guid is genanki's hash of the question's
HTML and the deck's id, which the converter computes again for `##` questions."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path
from typing import Any

import yaml

from ..package import note_guid
from ..render import markdown
from .common import (
    Conversion,
    ConvertedCard,
    ConvertedTopic,
    carry_media,
    dollar_math,
    markdown_files,
    read_text,
)

H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$")
H2 = re.compile(r"^##\s+(.+?)(?:\s+#+)?\s*$")
HTML_QUESTION = re.compile(r"^<(\w+)\b([^>]*\bdata-question\b[^>]*)>(.*)$")
HTML_H2 = re.compile(r"^<h2\b([^>]*)>(.*)$", re.I)


def integer_hash(text: str) -> int:
    """markdown-anki-decks' deck id: SHA-256 of the title, mod 2^31."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % (1 << 31)


def question_html(text: str) -> str:
    """The `<h2>` markdown-anki-decks hashes, as Python-Markdown writes it for the usual inline
    Markdown (text, code spans, emphasis, links): markdown-it renders it, quotes left unescaped."""
    inline: str = markdown().renderInline(text).replace("&quot;", '"')
    return f"<h2>{inline}</h2>"


def question_guid(text: str, deck_title: str) -> str:
    # genanki's guid_for, which note_guid is, joins the text of its values: the deck id as a number
    # and as digits give the same guid
    return note_guid(question_html(text), str(integer_hash(deck_title)))


def _front_matter(text: str, path: Path, conversion: Conversion) -> tuple[dict[str, Any], str, int]:
    if not text.startswith("---\n"):
        return {}, text, 0
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text, 0
    try:
        data = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError:
        data = {}
    skipped = text[: end + 4].count("\n") + 1
    if isinstance(data, dict) and "css" in data:
        conversion.lose(path, 2, "the css front-matter key (the deck's own style is used)")
    return data if isinstance(data, dict) else {}, text[end + 4:].lstrip("\n"), skipped


def convert(source_root: Path) -> Conversion:
    conversion = Conversion(source_root)
    for path in markdown_files(source_root):
        _, body, offset = _front_matter(read_text(path, source_root), path, conversion)
        lines = body.split("\n")
        title = next((m.group(1) for line in lines if (m := H1.match(line))), path.stem)
        topic = ConvertedTopic(path, path.relative_to(source_root).with_suffix("").as_posix(), title)
        out_name = f"{topic.name}.md"
        questions: list[tuple[int, str, bool, list[str]]] = []  # line, question, from ##, answer lines
        in_fence, index = "", 0
        while index < len(lines):
            line, number = lines[index], index + 1 + offset
            fence = re.match(r"^\s*(`{3,}|~{3,})", line)
            if fence and (not in_fence or fence.group(1).startswith(in_fence)):
                in_fence = "" if in_fence else fence.group(1)
            h2 = None if in_fence or fence else H2.match(line)
            element = None if in_fence or fence else (HTML_QUESTION.match(line) or HTML_H2.match(line))
            if h2:
                questions.append((number, h2.group(1), True, []))
            elif element:
                name = element.group(1) if element.re is HTML_QUESTION else "h2"
                closing = f"</{name}>"
                inner = [element.group(element.re.groups)]
                while closing not in inner[-1] and index + 1 < len(lines):
                    index += 1
                    inner.append(lines[index])
                inner[-1] = inner[-1].split(closing)[0]
                conversion.lose(path, number, "identity: an HTML question's guid hashes its HTML, which is not "
                                               "reproduced (the card is carried)")
                questions.append((number, "\n".join(inner).strip(), False, []))
            elif questions and not H1.match(line):
                questions[-1][3].append(line)
            index += 1
        for number, question, plain, answer in questions:
            guid = question_guid(question, title) if plain else ""
            front = carry_media(dollar_math(html.unescape(question) if not plain else question), path, out_name,
                                conversion, number)
            back = carry_media(dollar_math("\n".join(answer)), path, out_name, conversion, number)
            if not back.strip() and "{{c" not in front:
                conversion.lose(path, number, "a question with no answer")
                continue
            topic.cards.append(ConvertedCard(number, front, back, [], guid))
        conversion.topics.append(topic)
    return conversion
