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

from deckbuild.lint import RULES

PHONE_WIDTH = 390
READABLE_CODE_PX = 14  # the code's font size on a 390-px phone, at least

# Every code box: its font size and the columns of its font that fit in it.
# A code box's font size and how many columns of its font fit inside its padding (a JS function).
MEASURE = """function measure(pre) {
  const probe = document.createElement('span');
  probe.style.whiteSpace = 'pre';
  probe.textContent = 'x'.repeat(100);
  pre.querySelector('code').appendChild(probe);
  const column = probe.getBoundingClientRect().width / 100;
  probe.remove();
  const style = getComputedStyle(pre);
  const inside = pre.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return [parseFloat(style.fontSize), Math.floor(inside / column + 0.001), column];
}"""

COLUMNS = "() => { " + MEASURE + """
  return Array.from(document.querySelectorAll('pre.highlight')).map(pre => measure(pre).slice(0, 2));
}"""

# How every code line that wraps is cut into rows on screen (each character's row from its box),
# and the faults: a row with nothing but blanks, or a cut between two letters or digits of a word
# (a run without spaces) that a row could hold whole, i.e. one not longer than a continuation row.
ROWS = "() => { " + MEASURE + r"""
  const faults = [], cuts = [];
  for (const pre of document.querySelectorAll('pre.highlight')) {
    const [, columns, column] = measure(pre);
    for (const line of pre.querySelectorAll('.line')) {
      if (line.getBoundingClientRect().height < 1.5 * parseFloat(getComputedStyle(line).lineHeight)) continue;
      const rows = [];
      const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.data.length; i++) {
          if (node.data[i] === '\n') continue;
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + 1);
          const box = Array.from(range.getClientRects()).find(r => r.width > 0) || range.getBoundingClientRect();
          const top = Math.round(box.top);
          if (!rows.length || rows[rows.length - 1].top !== top) rows.push({top, text: ''});
          rows[rows.length - 1].text += node.data[i];
        }
      }
      const text = rows.map(r => r.text).join('');
      const where = (line.closest('[data-card]') || {dataset: {}}).dataset.card + ': ' + text;
      const room = columns - (text.length - text.trimStart().length) - 2;
      rows.forEach((row, k) => {
        if (!row.text.trim()) faults.push(where + ' (a blank row)');
        if (!k) return;
        const before = rows[k - 1].text, after = row.text;
        cuts.push(before.slice(-12) + ' / ' + after.slice(0, 12));
        if (/\w$/.test(before) && /^\w/.test(after)) {
          const word = before.match(/\S+$/)[0] + after.match(/^\S+/)[0];
          if (word.length <= room) faults.push(where + ` (cut inside ${word}, ${word.length} columns; a row holds ${room})`);
        }
      });
    }
  }
  return {faults, cuts};
}"""

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


@pytest.mark.deck
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
    boxes = phone.evaluate(COLUMNS)
    assert min(size for size, _ in boxes) >= READABLE_CODE_PX
    assert min(columns for _, columns in boxes) >= RULES["wide-code"].default  # the lint rule's limit fits
    rows = phone.evaluate(ROWS)
    assert rows["faults"] == []
    assert len(rows["cuts"]) > 50


def _code_page(folder: Path, blocks: list[str]) -> Path:
    from deckbuild.highlight import highlight_code
    from deckbuild.notetypes import card_css

    page = folder / "code.html"
    cards = "".join(f'<div class="card" data-card="block {n}">{highlight_code(code, "python")}</div>' for n, code in enumerate(blocks))
    page.write_text('<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
                    f'initial-scale=1"><style>{card_css()} body {{ margin: 0; }}</style></head><body>{cards}</body></html>',
                    encoding="utf-8")
    return page


def test_a_phone_shows_code_lines_of_the_lint_limit_whole_and_wraps_longer_ones_between_words(phone, tmp_path: Path) -> None:
    limit = int(RULES["wide-code"].default)
    fits = "x = " + "a" * (limit - 4)
    blocks = [
        fits + "\n" + fits + "b\n",
        # the LRU cache's line: a long first word after deep indentation (it used to leave a blank row)
        "class LRU:\n    def put(self, key, value):\n        if len(self.data) > self.capacity:\n"
        "            self.data.popitem(last=False)  # the least recently used\n"
        "            self.data_of_the_cache.popitem_least_recently_used(last=False)\n",
        "def before(a, b):\n    return 'a before b' if a.less_than(b) else True\n",
        "value = " + "w" * (limit + 10) + " + 1\n",
    ]
    phone.goto(_code_page(tmp_path, blocks).as_uri())
    boxes = phone.evaluate(COLUMNS)
    assert all(size >= READABLE_CODE_PX and columns >= limit for size, columns in boxes), boxes
    heights = phone.evaluate("() => Array.from(document.querySelectorAll('.line')).map(l => "
                             "Math.round(l.getBoundingClientRect().height / parseFloat(getComputedStyle(l).lineHeight)))")
    assert heights[:2] == [1, 2]  # a line of `limit` columns fits, one more column wraps
    rows = phone.evaluate(ROWS)
    assert rows["faults"] == []
    assert "w / wwwww" in " | ".join(rows["cuts"])  # a word longer than a row is cut where the row ends
    assert any(cut.endswith(" / True") or cut.endswith(" / else True") for cut in rows["cuts"]), rows["cuts"]


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


# Every colour of the card CSS against what is behind it, as Chromium computes both: the token
# classes of the code themes, a cloze inside code, the continuation arrow, inline code chips.
CONTRASTS = r"""() => {
  const rgba = text => { const v = text.match(/[\d.]+/g).map(Number); return v.length > 3 ? v : [...v, 1]; };
  const over = (top, below) => top.slice(0, 3).map((c, i) => c * top[3] + below[i] * (1 - top[3]));
  const background = element => {  // the colour behind an element: every background on the way up, blended
    const layers = [];
    for (let e = element; e; e = e.parentElement) layers.push(rgba(getComputedStyle(e).backgroundColor));
    return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255]);
  };
  const luminance = rgb => { const [r, g, b] = rgb.map(c => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; });
                             return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const text = (element, pseudo) => { const bg = background(element); return ratio(over(rgba(getComputedStyle(element, pseudo).color), bg), bg); };
  const result = {};
  for (const span of document.querySelectorAll('#tokens span[class]:not(.line)')) result['.' + span.className] = text(span);
  result['cloze in code'] = text(document.querySelector('pre .cloze'));
  result['continuation arrow'] = text(document.querySelector('#tokens .line'), '::before');
  const chip = document.querySelector('p > code');
  result['inline code'] = text(chip);
  result['inline code chip on the card'] = ratio(background(chip), background(chip.parentElement));
  return result;
}"""
TOKEN_CLASSES = r"""() => Array.from(new Set(Array.from(document.styleSheets).flatMap(sheet => Array.from(sheet.cssRules))
  .filter(rule => rule.style && rule.style.color)
  .flatMap(rule => rule.selectorText.split(',').map(s => s.trim().match(/^(?:\.night_?[mM]ode )?\.highlight \.([\w-]+)$/))
  .filter(Boolean).map(m => m[1]))))"""


def test_every_colour_of_code_is_readable_in_light_and_night_mode(phone, tmp_path: Path) -> None:
    from deckbuild.notetypes import card_css

    page = tmp_path / "colours.html"
    page.write_text(f'<!doctype html><meta charset="utf-8"><style>{card_css()}</style><div class="card">'
                    '<p>Call <code>len(items)</code> first.</p><pre class="highlight" id="tokens"><code></code></pre>'
                    '<pre class="highlight"><code><span class="line">x = <span class="cloze">[...]</span>\n</span></code></pre></div>')
    phone.goto(page.as_uri())
    classes = phone.evaluate(TOKEN_CLASSES)
    assert {"c", "go", "gp", "gt", "w", "s2", "k", "err"} <= set(classes)  # comments, output, prompts, ...
    phone.evaluate("""classes => document.querySelector('#tokens code').innerHTML = '<span class="line">'
      + classes.map(c => `<span class="${c}">x </span>`).join('') + 'and a line long enough to wrap '.repeat(3) + '\\n</span>'""", classes)
    minimum = {}
    for mode in ("light", "night"):
        phone.evaluate("night => document.querySelector('.card').classList.toggle('nightMode', night)", mode == "night")
        ratios = phone.evaluate(CONTRASTS)
        assert len(ratios) == len(classes) + 4
        chip = ratios.pop("inline code chip on the card")
        assert chip >= 1.2, f"{mode}: inline code hardly stands out from the card ({chip:.2f}:1)"
        low = {name: round(value, 2) for name, value in ratios.items() if value < 4.5}
        assert not low, f"{mode}: below 4.5:1: {low}"
        minimum[mode] = min(ratios.values())
    print(f"lowest contrast: light {minimum['light']:.2f}:1, night {minimum['night']:.2f}:1")
