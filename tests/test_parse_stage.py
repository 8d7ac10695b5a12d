"""The parse stage on its own: Markdown in, card sources out.

Golden files: each `fixtures/parse/<case>.md` is parsed alone, and what the parse stage gives (the
file's topic and title, every field of every card source, and the messages) is compared with
`fixtures/parse/<case>.json` beside it. A new case is a new `.md` file. After a deliberate change, or
for a new case, regenerate the JSON files with `pytest tests/test_parse_stage.py --update-goldens`
and read their diff before committing them.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import shutil
from pathlib import Path, PurePath
from typing import Any

import pytest
from helpers import run_cli
from markdown_it.token import Token

from deckbuild.errors import Diagnostics
from deckbuild.load import load_sources
from deckbuild.parse import parse_source

PARSE = Path(__file__).parent / "fixtures" / "parse"
CASES = sorted(PARSE.glob("*.md"))


def _token(token: Token) -> str:
    """One token as a line: its type, a fence's info string, and its text."""
    head = f"{token.type} {token.info}" if token.info else token.type
    return f"{head}: {token.content}" if token.content else head


def plain(value: Any) -> Any:
    """A parse record as JSON data, derived from its dataclass fields: every field that is part of
    the record's value (the markdown-it `env` is not) and its tokens one line each."""
    if isinstance(value, Token):
        return _token(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, (tuple, list)):
        return [plain(item) for item in value]
    if isinstance(value, PurePath):
        return value.name  # a path of this machine: only its name is the case's
    if isinstance(value, enum.Enum):
        return value.value
    return value


def dump(folder: Path) -> str:
    diagnostics = Diagnostics()
    (source,) = load_sources(folder, diagnostics)
    parsed = parse_source(source, diagnostics)
    record = {f.name: plain(getattr(parsed, f.name)) for f in dataclasses.fields(parsed) if f.name != "source"}
    record["messages"] = [
        f"{d.severity.value}: line {d.location.line}: {d.message}" for d in diagnostics.items
    ]
    return json.dumps(record, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_parse_matches_golden(case: Path, tmp_path: Path, update_goldens: bool) -> None:
    folder = tmp_path / case.stem
    folder.mkdir()
    shutil.copy(case, folder / case.name)
    golden = case.with_suffix(".json")
    actual = dump(folder)
    if update_goldens:
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file for {case.name}: run pytest {__file__} --update-goldens"
    assert actual == golden.read_text(encoding="utf-8")


def test_add_ids_reports_an_id_that_is_a_list_and_still_gives_the_other_cards_theirs(tmp_path: Path) -> None:
    # An id written as a list is an error at its line; add-ids used to stop with an internal error
    # (the list reached the set of ids taken).
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(
        "# T\n\n## Q one?\n<!-- id: [a, b] -->\n\nAnswer.\n\n## Q two?\n\nAnswer two.\n", encoding="utf-8"
    )
    result = run_cli("add-ids", "--content", content)
    assert result.exit_code == 0, result.output
    assert f"{content / 'a.md'}:4: error: id must be one word in lowercase kebab-case" in result.stderr
    assert "added 1 id(s)" in result.output
    assert "## Q two?\n<!-- id: q-two -->\n" in (content / "a.md").read_text(encoding="utf-8")
    assert "<!-- id: [a, b] -->" in (content / "a.md").read_text(encoding="utf-8")
