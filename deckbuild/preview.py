"""`preview`: a static site showing every card's front and back as Anki would, readable offline.

Each deck gets a page; every card is rendered through its note type's own templates and CSS (each
cloze card separately). The page's own script (inline: nothing is loaded from anywhere) filters by
topic and difficulty, searches, switches Anki's night mode and narrows the view to a phone's width.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .notetypes import NOTETYPES, card_css
from .records import DeckPlan
from .templates import render_template

_TAG = re.compile(r"<[^>]+>")
_CODE = re.compile(r"(<pre\b.*?</pre>|<code\b.*?</code>)", re.S)
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_SOUND = re.compile(r"\[sound:([^\]\s\"'<>]+)\]")


def as_anki_shows(card_html: str) -> str:
    """What Anki's reviewer makes of a side, for the page: each formula typeset (MathML, made here,
    so the page loads nothing) and each `[sound:...]` a player of the file copied beside the page.
    Code is left as it is, as Anki leaves it."""
    from latex2mathml.converter import convert

    def formula(match: re.Match[str]) -> str:
        tex, display = (match.group(1), "inline") if match.group(1) is not None else (match.group(2), "block")
        try:
            return convert(html.unescape(tex).strip(), display=display)
        except Exception:  # noqa: BLE001 - a formula the converter cannot read stays as Anki's source text
            return match.group()

    def sound(match: re.Match[str]) -> str:
        name = html.escape(match.group(1), quote=True)
        return f'<audio controls preload="none" src="{name}" title="{name}"></audio>'

    pieces = _CODE.split(card_html)
    for index in range(0, len(pieces), 2):  # the even pieces are outside code
        pieces[index] = _SOUND.sub(sound, _MATH.sub(formula, pieces[index]))
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class PreviewCard:
    card_id: str
    ordinal: int
    topic: str
    difficulty: str
    deck: str
    front: str
    back: str
    search_text: str
    lint: tuple[str, ...] = ()  # the card's lint findings, as `check --lint` prints them


def _tag_value(tags: tuple[str, ...], namespace: str, kind: str) -> str:
    prefix = f"{namespace}::{kind}::"
    return next((tag[len(prefix):] for tag in tags if tag.startswith(prefix)), "none")


def preview_cards(plan: DeckPlan, lint: Mapping[str, Sequence[object]] | None = None) -> list[PreviewCard]:
    """Each card of the deck as Anki shows it; `lint` maps a card's id to its findings."""
    cards = []
    for note in plan.notes:
        contract = NOTETYPES[note.notetype]
        fields = dict(zip(contract.field_names, note.fields, strict=True))
        _, _, front_template, back_template = contract.templates[0]
        for ordinal in note.card_ords:
            number = ordinal + 1 if contract.is_cloze else 0
            front = render_template(front_template, fields, cloze=number)
            back = render_template(back_template, fields, front_side=front, cloze=number, back=True)
            text = " ".join(fields.values())
            cards.append(PreviewCard(
                card_id=fields["Id"] + (f" (c{number})" if number else ""),
                ordinal=ordinal,
                topic=_tag_value(note.tags, plan.spec.namespace, "topic"),
                difficulty=_tag_value(note.tags, plan.spec.namespace, "difficulty"),
                deck=note.deck_name,
                front=as_anki_shows(front),
                back=as_anki_shows(back),
                search_text=_plain(text).lower(),
                lint=tuple(str(finding) for finding in (lint or {}).get(fields["Id"], ())),
            ))
    return cards


def _plain(text: str) -> str:
    return html.unescape(_TAG.sub(" ", text))


def _asset(name: str) -> str:
    return resources.files("deckbuild").joinpath("resources", name).read_text(encoding="utf-8")


def _options(values: Sequence[str], everything: str) -> str:
    items = [f'<option value="">{everything}</option>']
    items += [f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values]
    return "".join(items)


def deck_page(plan: DeckPlan, cards: list[PreviewCard]) -> str:
    topics = sorted({c.topic for c in cards})
    present = {c.difficulty for c in cards}
    levels = [d for d in ("beginner", "intermediate", "advanced", "expert", "none") if d in present]
    linted = sum(1 for c in cards if c.lint)
    articles = []
    for card in cards:
        articles.append(
            f'<article class="preview-card" data-topic="{html.escape(card.topic)}" '
            f'data-difficulty="{html.escape(card.difficulty)}" data-text="{html.escape(card.search_text)}" '
            f'data-lint="{len(card.lint)}">'
            f'<p class="preview-meta"><code>{html.escape(card.card_id)}</code> &middot; {html.escape(card.deck)} '
            f'&middot; {html.escape(card.difficulty)}</p>{_lint_list(card.lint)}'
            f'<div class="sides"><section class="side"><h3>Front</h3><div class="card">{card.front}</div></section>'
            f'<section class="side"><h3>Back</h3><div class="card">{card.back}</div></section></div></article>'
        )
    title = html.escape(plan.spec.name)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}: preview</title>
<style>
{card_css()}
{_asset("preview.css")}
</style>
</head>
<body>
<header class="toolbar">
  <a href="index.html">All decks</a>
  <h1>{title}</h1>
  <input type="search" id="search" placeholder="Search cards" aria-label="Search cards">
  <select id="topic" aria-label="Topic">{_options(topics, "All topics")}</select>
  <select id="difficulty" aria-label="Difficulty">{_options(levels, "All difficulties")}</select>
  <label><input type="checkbox" id="dark"> Night mode</label>
  <label><input type="checkbox" id="phone"> Phone width</label>
  <label><input type="checkbox" id="lint-only"> Only cards with lint findings ({linted})</label>
  <span id="shown">{len(cards)} cards</span>
</header>
<main id="cards">
{chr(10).join(articles)}
</main>
<script>
{_asset("preview.js")}
</script>
</body>
</html>
"""


def _lint_list(findings: tuple[str, ...]) -> str:
    if not findings:
        return ""
    items = "".join(f"<li>{html.escape(finding)}</li>" for finding in findings)
    return f'<ul class="preview-lint" aria-label="Lint findings">{items}</ul>'


def index_page(entries: list[tuple[str, str, int, str]]) -> str:
    rows = "".join(
        f'<li><a href="{html.escape(page)}">{html.escape(name)}</a> &middot; {count} cards'
        f'<p>{description}</p></li>'
        for name, page, count, description in entries
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Deck preview</title>
<style>
{_asset("preview.css")}
</style>
</head>
<body>
<header class="toolbar"><h1>Decks</h1></header>
<main><ul class="decks">{rows}</ul></main>
</body>
</html>
"""


def write_preview(
    plans: list[DeckPlan], out_dir: Path, lint: Mapping[str, Sequence[object]] | None = None
) -> tuple[Path, int]:
    """Write the site; returns the index page and the number of cards shown.

    `lint` maps card ids to their lint findings, shown on the cards they concern."""
    out_dir.mkdir(parents=True, exist_ok=True)
    entries, total = [], 0
    for plan in plans:
        cards = preview_cards(plan, lint)
        page = Path(plan.spec.file_name).with_suffix(".html").name
        (out_dir / page).write_text(deck_page(plan, cards), encoding="utf-8")
        for media in plan.media:
            shutil.copyfile(media.path, out_dir / media.name)
        entries.append((plan.spec.name, page, len(cards), plan.description))
        total += len(cards)
    index = out_dir / "index.html"
    index.write_text(index_page(entries), encoding="utf-8")
    (out_dir / "cards.json").write_text(json.dumps({"cards": total}) + "\n", encoding="utf-8")
    return index, total
