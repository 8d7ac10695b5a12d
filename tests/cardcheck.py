"""What Anki will show: build a content folder, import the deck with the real `anki` package, and
read every card of every note (each cloze ordinal, front and back) the way MathJax and Anki read it.

The math check here is written apart from the build's own guard: it finds formulas the way
MathJax 3 does (an opener, then the matching closer at brace depth 0, in one string of text
between tags), and every formula found must pass `deckbuild.tex.math_problem`.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from conftest import AnkiCollection
from helpers import run_cli

_JOINED = ("br", "wbr")  # MathJax reads a formula across these


class _MathRuns(HTMLParser):
    """The strings of text MathJax searches for formulas (tags split them, `<br>`/`<wbr>` do not;
    `<pre>`, `<code>` and Anki's `<style>` are skipped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.runs: list[str] = [""]
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag not in _JOINED:
            self.runs.append("")
        if tag in ("pre", "code", "style", "script"):
            self.skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in _JOINED:
            self.runs.append("")
        if tag in ("pre", "code", "style", "script") and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.runs[-1] += data


def formulas(card_html: str) -> list[str]:
    """Every formula MathJax could find in the card, from each opener to its closer (or to the end
    of its string when it has none: stricter than MathJax)."""
    reader = _MathRuns()
    reader.feed(card_html)
    reader.close()
    found = []
    for run in reader.runs:
        for opener in re.finditer(r"\\[(\[]", run):
            closer = {"(": ")", "[": "]"}[run[opener.start() + 1]]
            depth, index, end = 0, opener.end(), len(run)
            while index < len(run):
                if run[index] == "\\":
                    if depth == 0 and run[index + 1:index + 2] == closer:
                        end = index
                        break
                    index += 2
                    continue
                depth += {"{": 1, "}": -1}.get(run[index], 0)
                depth = max(depth, 0)
                index += 1
            found.append(run[opener.end():end])
    return found


def math_problems(card_html: str) -> list[str]:
    from deckbuild.tex import math_problem

    return [formula for formula in formulas(card_html) if math_problem(formula) is not None]


ANKI_MARKUP = re.compile(r"\[/?(?:sound:|latex\]|\$\$?\]|anki:)", re.I)


@dataclass(frozen=True)
class Side:
    note: str
    ordinal: int
    side: str  # "front" or "back"
    html: str
    sounds: tuple[str, ...]

    def problems(self, own_sounds: set[str] = frozenset()) -> list[str]:
        body = re.sub(r"^<style>.*?</style>", "", self.html, flags=re.S)
        found = [f"MathJax would read {formula!r}" for formula in math_problems(body)]
        found += [f"plays {name}" for name in self.sounds if name not in own_sounds]
        if "class=latex" in body or 'class="latex"' in body or ANKI_MARKUP.search(body):
            found.append("Anki markup (LaTeX image or AV tag)")
        for tag in re.findall(r"<[^>]*>", body):
            if re.search(r"""^<script|\son\w+\s*=|(?:href|src)\s*=\s*["']?\s*(?:javascript|data|vbscript):""", tag, re.I):
                found.append(f"script in {tag!r}")
        return found


def every_side(anki: AnkiCollection) -> list[Side]:
    """Front and back of every card of every note, as Anki renders them."""
    sides = []
    for card_id in anki.col.find_cards(""):
        card = anki.col.get_card(card_id)
        note = card.note()["Id"]
        sides.append(Side(note, card.ord + 1, "front", card.question(),
                          tuple(tag.filename for tag in card.question_av_tags())))
        sides.append(Side(note, card.ord + 1, "back", card.answer(),
                          tuple(tag.filename for tag in card.answer_av_tags())))
    return sides


def build_cards(tmp_path: Path, anki: AnkiCollection, text: str, name: str = "a.md") -> tuple[list[Side], set[str]]:
    """Build one card file (front matter added), import it; every side and the packaged media."""
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    (tmp_path / "media").mkdir(exist_ok=True)
    (content / name).write_text(f"---\ndifficulty: beginner\n---\n{text}", encoding="utf-8")
    result = run_cli("build", "--content", content, "--media", tmp_path / "media", "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    package = tmp_path / "dist" / "content.apkg"
    anki.import_package(package)
    return every_side(anki), set(json.loads(zipfile.ZipFile(package).read("media")).values())


def build_error(tmp_path: Path, text: str) -> str:
    """Build one card file that must fail: its diagnostics (nothing may be written)."""
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    (tmp_path / "media").mkdir(exist_ok=True)
    (content / "a.md").write_text(f"---\ndifficulty: beginner\n---\n{text}", encoding="utf-8")
    result = run_cli("build", "--content", content, "--media", tmp_path / "media", "--out", tmp_path / "dist")
    assert result.exit_code == 1, result.output
    assert not (tmp_path / "dist").exists()
    return result.stderr


def unescape(text: str) -> str:
    return html.unescape(text)
