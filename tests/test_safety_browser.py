"""What a card asks the network for, seen by a real headless Chromium.

Anki shows a card as a page at `http://127.0.0.1:<port>/`, and media files are fetched from the same
address. Here every request of the page is intercepted (nothing leaves the machine): the card itself
is served at http://anki.invalid/, and every other request is recorded and refused.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from browser import open_browser
from conftest import AnkiCollection

ORIGIN = "http://anki.invalid"


@pytest.fixture(scope="module")
def browser():
    with open_browser() as launched:
        yield launched


def _requests_of(browser, card_html: str) -> list[str]:
    """Every URL the page asks for, other than the card itself."""
    page = browser.new_page()
    requested: list[str] = []

    def handle(route) -> None:
        if route.request.url == f"{ORIGIN}/":
            route.fulfill(status=200, content_type="text/html", body=f"<!doctype html><body>{card_html}</body>")
        else:
            requested.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    page.goto(f"{ORIGIN}/")
    page.wait_for_load_state("load")
    page.close()
    return requested


def test_protocol_relative_and_backslash_images_load_nothing(browser) -> None:
    """V1: sources the review showed Chromium fetching from another host are gone after sanitising."""
    from deckbuild.sanitize import sanitize_html

    raw = '<img src="//evil.example/t.png"> <img src="/\\evil.example/b.png"> <img src=" //evil.example/s.png">'
    assert _requests_of(browser, sanitize_html(raw)) == []


def test_corpus_cards_request_only_their_packaged_media(browser, tmp_path: Path, anki: AnkiCollection) -> None:
    from test_safety import import_payload_deck

    media_names = import_payload_deck(tmp_path, anki)
    pages = []
    for card_id in anki.col.find_cards(""):
        card = anki.col.get_card(card_id)
        pages += [card.question(), card.answer()]
    requested = _requests_of(browser, "<hr>".join(pages))
    for url in requested:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == ORIGIN and unquote(parts.path[1:]) in media_names, url
