"""Cards typeset by MathJax 3.2.2 in a real headless Chromium, configured as Anki's reviewer
configures it: the full TeX bundle with `noerrors` and `mathtools` and no `safe` extension, `\\(..\\)`
and `\\[..\\]` only, no environments outside them. Each card is put into the page with `innerHTML`
and its scripts re-created (as Anki's reviewer does), typeset, and every link MathJax made is
clicked. Nothing leaves the machine: the page and MathJax are served at http://anki.invalid/ from
`tests/mathjax/node_modules` (`npm ci --prefix tests/mathjax`, as .ci/run does) and every other
request is recorded and refused.
"""

from __future__ import annotations

import json
import mimetypes
import os
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from browser import open_browser
from cardcheck import every_side
from conftest import ROOT, AnkiCollection
from helpers import build_folder

ORIGIN = "http://anki.invalid"
MATHJAX = ROOT / "tests" / "mathjax" / "node_modules" / "mathjax" / "es5"
MATHJAX_URL = f"{ORIGIN}/_anki/js/vendor/mathjax/"
# What Anki's reviewer sets before it loads MathJax (no `safe`: \href, \style, \class, \cssId work).
CONFIG = """
window.MathJax = {
  tex: {
    displayMath: [["\\\\[", "\\\\]"]],
    processEscapes: false,
    processEnvironments: false,
    processRefs: false,
    packages: {"[+]": ["noerrors", "mathtools"]},
  },
  startup: {typeset: false},
  options: {ignoreHtmlClass: "tex2jax_ignore", processHtmlClass: "tex2jax_process"},
};
"""
PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><base href="{ORIGIN}/">
<script>{CONFIG}</script><script src="{MATHJAX_URL}tex-chtml-full.js"></script></head>
<body class="card"><div id="qa"></div></body></html>"""
SHOW = """async (html) => {
  const qa = document.getElementById("qa");
  qa.innerHTML = html;
  for (const old of qa.querySelectorAll("script")) {  // the reviewer runs a card's scripts
    const script = document.createElement("script");
    script.text = old.text;
    old.replaceWith(script);
  }
  await MathJax.startup.promise;
  await MathJax.typesetPromise([qa]);
  const inMath = (selector) => [...qa.querySelectorAll(`mjx-container ${selector}`)];
  return {
    mathLinks: inMath("a").map((a) => a.getAttribute("href")),
    mathStyles: inMath("[style]").map((e) => e.getAttribute("style")).filter((s) => /url\\(/i.test(s)),
    mathClasses: [...inMath("[class]"), ...inMath("[id]")].filter((e) => !e.tagName.startsWith("MJX-"))
      .map((e) => e.outerHTML),
    links: [...qa.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")),
    scripts: window.cardScriptRan || 0,
  };
}"""


def _mathjax_installed() -> None:
    if not (MATHJAX / "tex-chtml-full.js").is_file():
        reason = "MathJax 3.2.2 is not installed: run `npm ci --prefix tests/mathjax` (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; browser tests never skip in CI")
        pytest.skip(reason)


class Reviewer:
    """One page like Anki's reviewer; what every card shown in it did."""

    def __init__(self, browser, media: dict[str, bytes]):
        self.page = browser.new_page()
        self.media = media
        self.foreign: list[str] = []  # requests other than the page, MathJax and packaged media
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)
        self.page.goto(f"{ORIGIN}/")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _route(self, route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == ORIGIN:
            if parts.path == "/":
                return route.fulfill(status=200, content_type="text/html", body=PAGE)
            if url.startswith(MATHJAX_URL):
                file = MATHJAX / url[len(MATHJAX_URL):].split("?")[0]
                if file.is_file():
                    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                    return route.fulfill(status=200, content_type=kind, body=file.read_bytes())
            name = unquote(parts.path[1:])
            if name in self.media:
                return route.fulfill(status=200, body=self.media[name])
        self.foreign.append(url)
        route.abort()

    def show(self, card_html: str) -> dict:
        seen = self.page.evaluate(SHOW, card_html)
        for index in range(len(seen["mathLinks"])):  # click what MathJax made a link
            self.page.locator("#qa mjx-container a").nth(index).click(timeout=5000, no_wait_after=True)
        for index, href in enumerate(seen["links"]):  # and every link that is not a web or mail address
            if not href.lower().startswith(("http://", "https://", "mailto:")):
                self.page.locator("#qa a[href]").nth(index).click(timeout=5000, no_wait_after=True)
        self.page.wait_for_timeout(50)
        return seen


@pytest.fixture(scope="module")
def browser():
    _mathjax_installed()
    with open_browser() as launched:
        yield launched


def _assert_inert(reviewer: Reviewer, sides, batch: int = 40) -> None:
    """Shown `batch` sides at a time (a tag between two sides ends any formula, as between cards)."""
    for first in range(0, len(sides), batch):
        shown = sides[first:first + batch]
        where = [f"{side.note} c{side.ordinal} {side.side}" for side in shown]
        seen = reviewer.show("<hr>".join(re.sub(r"^<style>.*?</style>", "", s.html, flags=re.S) for s in shown))
        assert not (seen["mathLinks"] or seen["mathStyles"] or seen["mathClasses"] or seen["scripts"]), (where, seen)
        assert all(h.lower().startswith(("http://", "https://", "mailto:", "#")) for h in seen["links"]), seen
        assert reviewer.dialogs == [] and reviewer.foreign == [], (where, reviewer.dialogs, reviewer.foreign)


def test_the_reviewer_harness_catches_an_unsafe_card(browser) -> None:
    """Positive control: a hand-written card with what W1 put on cards is reported: the script
    link (and its dialog once clicked), the remote CSS image and the applied class."""
    reviewer = Reviewer(browser, {})
    seen = reviewer.show(
        r"<p>\(x\href{javascript:alert(1)}{click}\) \(\style{background-image:url(http://evil.invalid/t.png)}{q}\)"
        r" \(\class{cloze}{b}\)</p><script>window.cardScriptRan = 1; alert('s')</script>"
    )
    assert seen["mathLinks"] == ["javascript:alert(1)"]
    assert seen["mathStyles"] and seen["mathClasses"] and seen["scripts"] == 1
    assert set(reviewer.dialogs) == {"1", "s"}  # the link ran its script when clicked; so did the card's
    assert "http://evil.invalid/t.png" in reviewer.foreign
    # and allowed math is typeset without any of that
    quiet = Reviewer(browser, {})
    result = quiet.show(r"<p>\(\frac{a}{b} \leq \sqrt{x}\)</p>")
    assert not any(result[k] for k in ("mathLinks", "mathStyles", "mathClasses")) and quiet.foreign == []
    assert quiet.page.locator("#qa mjx-container").count() == 1


def test_w1_payload_cards_run_no_script_in_the_reviewer(browser, tmp_path: Path, anki: AnkiCollection) -> None:
    from cardcheck import build_cards
    from test_cloze_safety import W1_CONTENT, W1_TAGS, W1_VARIANTS

    sides, _ = build_cards(tmp_path, anki, W1_TAGS + "\n" + W1_CONTENT + "\n" + W1_VARIANTS)
    _assert_inert(Reviewer(browser, {}), sides)


@pytest.mark.deck
def test_every_card_of_the_deck_runs_no_script_and_requests_only_its_media(
    browser, tmp_path: Path, anki: AnkiCollection
) -> None:
    build_folder(ROOT / "content", tmp_path / "dist", "--media", ROOT / "media", "--lock", tmp_path / "deck.lock")
    (package,) = (tmp_path / "dist").glob("*.apkg")
    with zipfile.ZipFile(package) as archive:
        names = json.loads(archive.read("media"))
        media = {name: archive.read(number) for number, name in names.items()}
    anki.import_package(package)
    _assert_inert(Reviewer(browser, media), every_side(anki))
