"""The naive pipeline the benchmark compares against: markdown-it + Pygments + genanki, nothing clever.

Each card's Markdown is rendered on its own; each code block gets a fresh lexer and formatter; one
genanki package is written. Usage: python naive.py CONTENT_DIR OUT_FILE
"""

import hashlib
import sys
from pathlib import Path

import genanki  # type: ignore[import-untyped]  # genanki ships no type information
from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name


def highlight_block(code: str, lang: str, attrs: str) -> str:
    lexer = get_lexer_by_name(lang or "text")
    return highlight(code, lexer, HtmlFormatter())


def main(content: Path, out: Path) -> None:
    md = MarkdownIt("commonmark", {"highlight": highlight_block}).enable("table")
    model = genanki.Model(
        1607392319, "Naive", fields=[{"name": "Question"}, {"name": "Answer"}],
        templates=[{"name": "Card 1", "qfmt": "{{Question}}", "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}],
        css=HtmlFormatter().get_style_defs(".highlight"),  # type: ignore[no-untyped-call]  # unannotated in Pygments
    )
    deck = genanki.Deck(2059400110, "Naive")
    for path in sorted(content.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        for chunk in text.split("\n## ")[1:]:
            heading, _, body = chunk.partition("\n")
            guid = hashlib.sha256(heading.encode()).hexdigest()[:16]
            deck.add_note(genanki.Note(model=model, fields=[md.renderInline(heading), md.render(body)], guid=guid))
    genanki.Package(deck).write_to_file(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
