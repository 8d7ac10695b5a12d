"""Golden files: each fixtures/render/<case>.md beside the <case>.txt dump of its cards and messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckbuild.build import read_content
from deckbuild.config import load_config
from deckbuild.errors import DeckError

RENDER = Path(__file__).parent / "fixtures" / "render"
CASES = sorted(RENDER.glob("*.md"))


def dump(folder: Path) -> str:
    try:
        content = read_content(load_config(folder, pyproject=folder / "none.toml"))
    except DeckError as exc:
        return "".join(f"{d}\n" for d in exc.diagnostics)
    lines = [f"{d.severity.value}: line {d.location.line}: {d.message}" for d in content.diagnostics]
    for card in content.cards:
        meta = card.meta
        lines.append(f"== {meta.id} topic={meta.topic} difficulty={meta.difficulty} tags={list(meta.tags)}")
        lines.append(f"question: {card.question_html}")
        lines.append(f"context: {card.context_html}")
        for option in card.options:
            lines.append(f"option{'[x]' if option.correct else '[ ]'}: {option.html}")
        lines.append(f"answer: {card.answer_html}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_render_matches_golden(case: Path, tmp_path: Path, update_goldens: bool) -> None:
    folder = tmp_path / case.stem
    folder.mkdir()
    (folder / case.name).write_bytes(case.read_bytes())
    golden = case.with_suffix(".txt")
    actual = dump(folder)
    if update_goldens:
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")
