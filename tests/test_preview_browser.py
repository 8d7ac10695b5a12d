"""The preview site, opened in a real headless Chromium."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser import open_browser
from conftest import FIXTURES, SAMPLE
from helpers import run_cli


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A preview of a folder holding basic, multiple-choice, cloze, math and image cards."""
    root = tmp_path_factory.mktemp("preview")
    shutil.copytree(FIXTURES / "kinds", root / "kinds")
    for source in SAMPLE.rglob("*.md"):
        shutil.copy(source, root / "kinds" / "content" / source.name)
    (root / "kinds" / "content" / "wide.md").write_text(  # one code line wider than a phone's 42 columns
        "---\ndifficulty: beginner\n---\n\n# Wide\n\n## What does this long line print?\n<!-- id: wide-line -->\n\n"
        "```python\nprint(\" \".join([\"a line longer than a row\"] * 2))\n```\n\nThe sentence, twice.\n"
    )
    content, media = root / "kinds" / "content", root / "kinds" / "media"
    built = run_cli("build", "--content", content, "--media", media, "--out", root / "dist")
    assert built.exit_code == 0, built.output
    cards = int(re.search(r"(\d+) cards\n", built.stdout).group(1))
    result = run_cli("preview", "--content", content, "--media", media, "--out", root / "site")
    assert result.exit_code == 0, result.output
    return root / "site" / "content.html", cards


@pytest.fixture(scope="module")
def browser():
    with open_browser() as launched:
        yield launched


def _open(browser, page_path: Path, width: int = 1200):
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    return page, requests, errors


def test_every_built_card_is_rendered(browser, site) -> None:
    page_path, built_cards = site
    page, _, _ = _open(browser, page_path)
    assert page.locator(".preview-card").count() == built_cards == 13  # 12 of the fixtures and the wide line
    assert page.locator("#shown").inner_text() == f"{built_cards} cards"
    # each cloze card separately, with its own span hidden
    assert page.locator(".preview-card .card .cloze").count() >= 7


def test_night_mode_switch_changes_the_colours_of_code(browser, site) -> None:
    page, _, _ = _open(browser, site[0])
    keyword = page.locator(".highlight .nb").first
    background = page.locator("pre.highlight").first
    light = (keyword.evaluate("e => getComputedStyle(e).color"), background.evaluate("e => getComputedStyle(e).backgroundColor"))
    page.check("#dark")
    dark = (keyword.evaluate("e => getComputedStyle(e).color"), background.evaluate("e => getComputedStyle(e).backgroundColor"))
    assert light[0] != dark[0] and light[1] != dark[1]
    page.uncheck("#dark")
    assert keyword.evaluate("e => getComputedStyle(e).color") == light[0]


def test_no_card_overflows_a_phone_screen(browser, site) -> None:
    page, _, _ = _open(browser, site[0], width=390)
    page.check("#phone")
    for night in (False, True):
        page.set_checked("#dark", night)
        overflowing = page.evaluate(
            """() => Array.from(document.querySelectorAll('.preview-card .card, .preview-card .card *'))
                  .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1).length"""
        )
        assert overflowing == 0
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    # long code lines wrap inside their block (nothing scrolls sideways), the continuation marked
    assert not page.evaluate(
        "() => Array.from(document.querySelectorAll('pre.highlight')).some(pre => pre.scrollWidth > pre.clientWidth)"
    )
    assert page.evaluate(
        """() => Array.from(document.querySelectorAll('pre.highlight .line'))
              .some(line => parseFloat(getComputedStyle(line, '::before').height) > 0)"""
    )


def test_filters_and_search(browser, site) -> None:
    page, _, _ = _open(browser, site[0])
    page.select_option("#topic", "numbers")
    assert page.locator(".preview-card:not([hidden])").count() == 2
    page.select_option("#topic", "")
    page.select_option("#difficulty", "expert")
    assert page.locator(".preview-card:not([hidden])").count() == 1
    page.select_option("#difficulty", "")
    page.fill("#search", "fractions")
    assert page.locator(".preview-card:not([hidden])").count() == 1
    assert page.locator("#shown").inner_text() == "1 card"


def test_page_is_offline_and_error_free(browser, site) -> None:
    page, requests, errors = _open(browser, site[0])
    page.check("#dark")
    page.fill("#search", "stack")
    assert all(url.startswith("file://") for url in requests), requests
    assert errors == []
    images = page.evaluate("() => Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert images and all(images)


def _tone(path: Path) -> None:
    import math
    import wave

    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)
        sound.setframerate(8000)
        sound.writeframes(bytes(128 + int(60 * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(800)))


def test_math_is_typeset_and_sounds_play_offline_on_a_phone(browser, tmp_path: Path) -> None:
    """What Anki shows: formulas typeset (MathML made at preview time, nothing fetched), a
    [sound:] as a player of the packaged file, images shown; at a phone's width."""
    content = tmp_path / "content"
    content.mkdir()
    _tone(content / "la.wav")
    shutil.copy(FIXTURES / "kinds" / "media" / "diagrams" / "stack.png", content / "stack.png")
    (content / "notes.md").write_text(
        "---\ndifficulty: beginner\n---\n# Notes\n\n"
        "## What is the area of a circle of radius $r$?\n<!-- id: circle-area -->\n\n$$A = \\pi r^2$$\n\n"
        "## Which note is this?\n<!-- id: which-note -->\n\n[sound:la.wav] The A above middle C.\n\n"
        "## What does the stack look like?\n<!-- id: stack-look -->\n\n![a stack](stack.png)\n",
        encoding="utf-8",
    )
    result = run_cli("preview", "--content", content, "--out", tmp_path / "site")
    assert result.exit_code == 0, result.output
    page, requests, errors = _open(browser, tmp_path / "site" / "content.html", width=390)
    page.check("#phone")
    circle = page.locator(".preview-card", has_text="circle")
    assert circle.locator("math").count() >= 3  # r on the front, r and the formula on the back
    assert circle.locator("math[display=block]").count() == 1
    text = page.locator("#cards").inner_text()
    assert "\\(" not in text and "\\[" not in text and "[sound:" not in text
    audio = page.locator(".preview-card", has_text="Which note").locator("audio")
    assert audio.count() == 1  # the answer holds the sound: one player, on the back
    source = audio.first.get_attribute("src")
    assert source and (tmp_path / "site" / source).is_file()
    assert page.evaluate("() => Array.from(document.querySelectorAll('audio')).every(a => a.controls)")
    images = page.evaluate("() => Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
    assert images and all(images)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    assert all(url.startswith("file://") for url in requests), requests
    assert errors == []
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
