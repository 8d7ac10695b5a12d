"""Cloze, multiple-choice, math and images, checked in a real Anki collection."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, AnkiCollection
from helpers import build_folder

KINDS = FIXTURES / "kinds"


def _without_style(html: str) -> str:
    return re.sub(r"<style>.*?</style>", "", html, flags=re.S)


def _visible_text(html: str) -> str:
    """What a reader sees: tags and the data-cloze attribute (which holds the hidden text) removed."""
    return re.sub(r"<[^>]+>", "", _without_style(html)).replace("&quot;", '"')


@pytest.fixture
def kinds(tmp_path: Path, anki: AnkiCollection) -> dict:
    shutil.copytree(KINDS, tmp_path / "kinds")
    result = build_folder(
        tmp_path / "kinds" / "content", tmp_path / "dist", "--media", tmp_path / "kinds" / "media"
    )
    assert "content.apkg: 4 notes, 7 cards" in result.stdout
    anki.import_package(tmp_path / "dist" / "content.apkg")
    return anki.notes()


def test_cloze_in_highlighted_code_hides_exactly_each_span(kinds: dict) -> None:
    note = kinds["cloze-code"]
    assert note.notetype == "Markdown cloze (build_deck)"
    assert len(note.cards) == 3
    cards = sorted(note.cards, key=lambda c: c.ord)
    hidden = ['{"a": {"b": 1}}', '["a"]["b"]', "len"]
    for card, span in zip(cards, hidden, strict=True):
        front = _visible_text(card.question)
        assert "[...]" in front
        assert front.count("[...]") == 1
        # the hidden span is gone from the front, the other spans are shown
        assert span not in front.replace("[...]", "")
        for other in hidden:
            if other != span:
                assert other in front
        assert span in _visible_text(card.answer)
        # highlighting survives inside and around the cloze
        assert '<span class="nb">print</span>' in card.question
    assert '<span class="cloze" data-ordinal="1"><span class="p">{</span>' in cards[0].answer
    assert "Complete the dictionary code" in cards[0].question  # the heading is kept as context


def test_cloze_in_prose_and_inline_code(kinds: dict) -> None:
    note = kinds["cloze-prose"]
    first, second = sorted(note.cards, key=lambda c: c.ord)
    assert "[a keyword]" in _visible_text(first.question) and "lambda" in _visible_text(first.question)
    assert "def" not in _visible_text(first.question).replace("defines", "")
    assert "[...]" in _visible_text(second.question) and "lambda" not in _visible_text(second.question)


def test_math_arrives_for_mathjax_and_prices_stay_text(kinds: dict) -> None:
    answer = kinds["math-card"].fields["Answer"]
    assert r"\(\pi r^2\)" in answer
    assert r"\[\sum_{i=1}^{n} i = \frac{n(n+1)}{2}\]" in answer
    assert "A coffee costs $3 and a cake $4: no math here." in answer
    assert "<code>$x$</code>" in answer


def test_images_are_packaged_once_under_hashed_names(kinds: dict, anki: AnkiCollection) -> None:
    answer = kinds["image-card"].fields["Answer"]
    names = re.findall(r'<img src="([^"]+)"', answer)
    assert len(names) == 2 and names[0] == names[1]
    assert re.fullmatch(r"stack-[0-9a-f]{24}\.png", names[0])
    media = Path(anki.col.media.dir())
    assert sorted(p.name for p in media.iterdir()) == [names[0]]
    check = anki.col.media.check()
    assert list(check.missing) == [] and list(check.unused) == []


def test_changed_image_gets_a_new_name(tmp_path: Path) -> None:
    shutil.copytree(KINDS, tmp_path / "kinds")
    media = tmp_path / "kinds" / "media"
    build_folder(tmp_path / "kinds" / "content", tmp_path / "v1", "--media", media)
    (media / "diagrams" / "stack.png").write_bytes((media / "diagrams" / "stack.png").read_bytes() + b"\0")
    (media / "copy-of-stack.png").unlink()
    content = tmp_path / "kinds" / "content" / "kinds.md"
    content.write_text(content.read_text().replace("../media/copy-of-stack.png", "../media/diagrams/stack.png"))
    build_folder(tmp_path / "kinds" / "content", tmp_path / "v2", "--media", media)
    import json
    import zipfile

    def names(path: Path) -> list[str]:
        return list(json.loads(zipfile.ZipFile(path).read("media")).values())

    assert names(tmp_path / "v1" / "content.apkg") != names(tmp_path / "v2" / "content.apkg")


def test_colons_and_braces_of_code_never_end_a_cloze(tmp_path: Path, anki: AnkiCollection) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(FIXTURES / "render" / "cloze-and-math.md", content)
    build_folder(content, tmp_path / "dist")
    anki.import_package(tmp_path / "dist" / "content.apkg")
    cards = sorted(anki.notes()["cloze-slice"].cards, key=lambda c: c.ord)
    assert len(cards) == 4
    slice_front, _, vector_front, hint_front = (_visible_text(c.question) for c in cards)
    assert "numbers[[...]]" in slice_front
    assert "[...] keeps its colons" in vector_front and "vector" not in vector_front
    assert "[the hint]" in hint_front
    assert "std::vector" in _visible_text(cards[2].answer)


def test_check_counts_one_card_per_cloze_number(tmp_path: Path) -> None:
    from helpers import run_cli

    shutil.copytree(KINDS, tmp_path / "kinds")
    result = run_cli("check", "--content", tmp_path / "kinds" / "content", "--media", tmp_path / "kinds" / "media")
    assert result.exit_code == 0, result.output
    assert result.stderr == "ok: 4 notes (7 cards) in 1 file(s)\n"
