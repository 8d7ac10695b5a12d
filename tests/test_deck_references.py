"""The flagship deck's references: every card cites an authoritative place, in a well-formed link.

The hand check of a random sample of 50 links against their cards is recorded beside this test,
in `reference_sample.md` (which cards, what was checked, how).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest
from conftest import ROOT

from deckbuild.build import read_content
from deckbuild.config import load_config
from deckbuild.records import Card
from deckbuild.references import reference_problem

pytestmark = pytest.mark.deck  # about the deck's content, not the tool

# Debian's `python3.11-doc` package: the Python documentation as HTML, with the same anchors as
# docs.python.org/3 for everything that existed in 3.11. `.ci/run` installs it.
OFFLINE_DOCS = Path("/usr/share/doc/python3.11-doc/html")
# Anchors of things added after 3.11, so not in those pages: each checked by hand against the
# current documentation (the version that added it in brackets).
NEWER_THAN_311 = {
    "library/copy.html#copy.replace",  # 3.13
    "library/sys.html#sys._is_gil_enabled",  # 3.13
    "library/itertools.html#itertools.batched",  # 3.12
    "library/typing.html#typing.TypeIs",  # 3.13
    "reference/simple_stmts.html#the-type-statement",  # 3.12
}
FORMS = {
    "docs.python.org": re.compile(r"^https://docs\.python\.org/3/[\w/.-]+\.html(?:#[-\w.]+)?$"),
    "peps.python.org": re.compile(r"^https://peps\.python\.org/pep-\d{4}/(?:#[-\w.]+)?$"),
    "www.rfc-editor.org": re.compile(r"^https://www\.rfc-editor\.org/rfc/rfc\d+(?:\.html)?(?:#[-\w.]+)?$"),
    "packaging.python.org": re.compile(r"^https://packaging\.python\.org/en/latest/[\w/.-]+(?:#[-\w.]+)?$"),
}


@lru_cache(maxsize=1)
def deck_cards() -> tuple[Card, ...]:
    content = read_content(load_config(ROOT / "content", pyproject=ROOT / "pyproject.toml"), strict=False)
    return tuple(card for card in content.cards if not card.meta.retired)


def _references() -> list[tuple[Card, str]]:
    return [(card, url) for card in deck_cards() for url in card.references]


def test_at_least_95_percent_of_notes_cite_a_reference_and_the_rest_say_why() -> None:
    cards = deck_cards()
    cited = [card for card in cards if card.references]
    assert len(cited) >= 0.95 * len(cards), f"{len(cited)} of {len(cards)} cards cite a reference"
    uncited = [card.meta.id for card in cards if not card.references and "no-reference" not in card.meta.lint_ignore]
    assert uncited == [], "cards without a reference must silence no-reference with a reason"


def test_every_reference_is_a_well_formed_https_link() -> None:
    problems = []
    for card, url in _references():
        problem = reference_problem(url)
        host = re.match(r"https://([^/]+)", url)
        form = FORMS.get(host.group(1)) if host else None
        if problem or (form and not form.match(url)):
            why = problem or "not the usual form of a link to " + host.group(1)
            problems.append(f"{card.meta.location}: {url}: {why}")
    assert problems == []


def test_a_card_cites_each_link_once() -> None:
    repeated = [card.meta.id for card in deck_cards() if len(set(card.references)) != len(card.references)]
    assert repeated == []


@pytest.mark.skipif(not OFFLINE_DOCS.is_dir(), reason="needs Debian's python3.11-doc (the offline Python docs)")
def test_every_python_docs_anchor_exists() -> None:
    pages: dict[Path, str] = {}
    missing = []
    for card, url in _references():
        match = re.match(r"https://docs\.python\.org/3/([^#]+)(?:#(.+))?$", url)
        if not match:
            continue
        page, anchor = match.groups()
        if f"{page}#{anchor}" in NEWER_THAN_311:
            continue
        path = OFFLINE_DOCS / page
        if not path.is_file():
            missing.append(f"{card.meta.location}: {url}: no such page")
            continue
        text = pages.setdefault(path, path.read_text(encoding="utf-8", errors="replace"))
        if anchor and f'id="{anchor}"' not in text:
            missing.append(f"{card.meta.location}: {url}: no such anchor")
    assert missing == []


def test_the_anchors_newer_than_311_are_really_absent_from_the_311_docs() -> None:
    """The allow-list stays honest: an entry the 3.11 pages do hold is a mistake to remove."""
    if not OFFLINE_DOCS.is_dir():
        pytest.skip("needs Debian's python3.11-doc (the offline Python docs)")
    for entry in NEWER_THAN_311:
        page, anchor = entry.split("#")
        assert f'id="{anchor}"' not in (OFFLINE_DOCS / page).read_text(encoding="utf-8", errors="replace"), entry


def test_the_hand_checked_sample_names_real_cards_and_their_links() -> None:
    sample = (Path(__file__).parent / "reference_sample.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| `([a-z0-9-]+)` \| (https://\S+) \| (\w+) \|", sample, re.M)
    assert len(rows) == 50
    by_id = {card.meta.id: card for card in deck_cards()}
    for _, card_id, url, verdict in rows:
        if verdict == "deleted":  # checked, then deleted as a twin: it must really be gone
            assert card_id not in by_id, card_id
            continue
        assert card_id in by_id, card_id
        assert url in by_id[card_id].references, (card_id, url)
        assert verdict in ("backs", "fixed", "unverified"), (card_id, verdict)  # a wrong link is fixed
    assert sum(verdict == "unverified" for *_, verdict in rows) <= 3

