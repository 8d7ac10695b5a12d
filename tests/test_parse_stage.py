"""The parse stage on its own: Markdown in, card sources out."""

from __future__ import annotations

from pathlib import Path

from helpers import run_cli


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
