"""Every card as a phone shows it: rendered through its note type's templates, as Anki renders it,
and measured in headless Chromium 390 px wide, in light and night mode. Nothing may be wider than
its box: a code line that does not fit wraps (with a continuation mark), tables and images shrink."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest

from browser import open_browser
from conftest import FIXTURES, ROOT, SAMPLE, AnkiCollection
from helpers import run_cli

PHONE_WIDTH = 390

# For each card: the elements wider than their box, or reaching past the card's right edge.
MEASURE = """() => Array.from(document.querySelectorAll('.card')).flatMap(card => {
  const edge = card.getBoundingClientRect().right + 0.5;
  return Array.from(card.querySelectorAll('*')).filter(e =>
      (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) || e.getBoundingClientRect().right > edge)
    .map(e => card.dataset.card + ': <' + e.tagName.toLowerCase() + ' class="' + e.className + '"> '
      + e.scrollWidth + ' > ' + e.clientWidth + ': ' + e.textContent.slice(0, 60));
})"""


def _page(folder: Path, content: Path, media: Path | None = None) -> tuple[Path, int]:
    """One page holding the front and the back of every card of the content folder's decks, as a
    real Anki renders them (the `anki` package: templates, fields, clozes) with the note type's CSS."""
    args = ["build", "--out", folder / "dist", "--lock", folder / "build_deck.lock"]
    if content != ROOT / "content":
        args += ["--content", content] + (["--media", media] if media else [])
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    anki = AnkiCollection(folder / "anki")
    try:
        for package in sorted((folder / "dist").glob("*.apkg")):
            anki.import_package(package)
        col = anki.col
        styles = sorted({col.models.get(mid)["css"] for mid in col.db.list("select distinct mid from notes")})
        assert len(styles) == 1
        sides = []
        for card_id in col.find_cards(""):
            card = col.get_card(card_id)
            output = card.render_output()
            name = html.escape(f"{card.note()['Id']} c{card.ord + 1}")
            for side, body in (("front", output.question_text), ("back", output.answer_text)):
                sides.append(f'<div class="card card{card.ord + 1}" data-card="{name} {side}">{body}</div>')
        page = Path(col.media.dir()) / "cards.html"  # beside the deck's images, as in Anki
    finally:
        anki.close()
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{styles[0]}'
        "body { margin: 0; } .card { margin-bottom: 12px; }</style></head><body>"
        + "\n".join(sides) + "</body></html>",
        encoding="utf-8",
    )
    return page, len(sides)


@pytest.fixture(scope="module")
def phone():
    with open_browser() as browser:
        page = browser.new_page(viewport={"width": PHONE_WIDTH, "height": 800})
        yield page
        page.close()


def _measure(phone, page_path: Path, sides: int) -> dict[str, list[str]]:
    phone.goto(page_path.as_uri())
    phone.wait_for_load_state("load")
    assert phone.locator(".card").count() == sides
    found = {}
    for mode in ("light", "night"):
        phone.evaluate("night => document.querySelectorAll('.card').forEach(c => c.classList.toggle('nightMode', night))", mode == "night")
        assert phone.evaluate("() => document.querySelectorAll('.card.nightMode').length") == (sides if mode == "night" else 0)
        found[mode] = phone.evaluate(MEASURE)
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE_WIDTH
    return found


def test_every_card_of_the_deck_fits_a_phone(phone, tmp_path: Path) -> None:
    page, sides = _page(tmp_path, ROOT / "content")
    assert sides >= 1500  # every card of the deck, front and back
    assert _measure(phone, page, sides) == {"light": [], "night": []}
    # the long lines really wrap, each continuation row marked, at a readable size
    wrapped = phone.evaluate(
        """() => Array.from(document.querySelectorAll('pre.highlight .line')).filter(line => {
             const mark = getComputedStyle(line, '::before');
             return line.getBoundingClientRect().height > 1.5 * parseFloat(getComputedStyle(line).lineHeight)
               && parseFloat(mark.height) > 0 && mark.content.includes('\\u21aa');
           }).length"""
    )
    assert wrapped > 50
    unwrapped_mark = phone.evaluate(
        """() => { const line = Array.from(document.querySelectorAll('pre.highlight .line'))
                     .find(l => l.getBoundingClientRect().height < 1.5 * parseFloat(getComputedStyle(l).lineHeight));
                   return parseFloat(getComputedStyle(line, '::before').height); }"""
    )
    assert unwrapped_mark == 0  # a line that fits has no mark
    sizes = phone.evaluate("() => Array.from(document.querySelectorAll('pre.highlight')).map(p => parseFloat(getComputedStyle(p).fontSize))")
    assert min(sizes) >= 14


def test_tables_images_math_and_clozes_fit_a_phone(phone, tmp_path: Path) -> None:
    root = tmp_path / "kinds"
    shutil.copytree(FIXTURES / "kinds", root)
    for source in SAMPLE.rglob("*.md"):
        shutil.copy(source, root / "content" / source.name)
    wide = root / "content" / "wide.md"
    wide.write_text(
        "---\ndifficulty: beginner\n---\n\n# Wide\n\n## A wide table?\n<!-- id: wide-table -->\n\n"
        "| name | what it does |\n| --- | --- |\n| `collections.OrderedDict.move_to_end(key, last=True)` | "
        + "moves_an_existing_key_to_either_end_of_the_ordered_dictionary_without_a_space " * 2 + "|\n\n"
        "## A long line with a cloze?\n<!-- id: wide-cloze -->\n\n```python\nresult = "
        "{{c1::some_function_with_a_long_name(first_argument, second_argument, third_argument)}}\n```\n"
    )
    page, sides = _page(tmp_path, root / "content", root / "media")
    assert _measure(phone, page, sides) == {"light": [], "night": []}
    images = phone.evaluate("() => Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert images and all(images)
