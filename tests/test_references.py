"""A card's closing `Reference:` line: its own field, shown on the back in real Anki, https only."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, AnkiCollection
from helpers import build_folder, run_cli, tree_snapshot

from deckbuild.references import reference_problem

REFERENCES = FIXTURES / "references"


@pytest.fixture
def imported(tmp_path: Path, anki: AnkiCollection) -> dict:
    shutil.copytree(REFERENCES, tmp_path / "refs")
    result = build_folder(tmp_path / "refs" / "content", tmp_path / "dist")
    assert "content.apkg: 4 notes, 4 cards" in result.stdout
    anki.import_package(tmp_path / "dist" / "content.apkg")
    return anki.notes()


def test_a_basic_card_shows_its_reference_on_the_back_only(imported: dict) -> None:
    note = imported["wraps-copies"]
    link = '<a href="https://docs.python.org/3/library/functools.html#functools.wraps"><code>functools.wraps</code></a>'
    assert note.fields["Reference"] == link
    assert "Reference:" not in note.fields["Answer"] and "docs.python.org" not in note.fields["Answer"]
    (card,) = note.cards
    assert link in card.answer and 'class="reference"' in card.answer
    assert "docs.python.org" not in card.question


def test_several_links_keep_their_order_and_labels(imported: dict) -> None:
    note = imported["dependency-groups"]
    assert note.notetype == "Multiple choice (build_deck)"
    assert note.fields["Reference"] == (
        '<a href="https://peps.python.org/pep-0735/">PEP 735</a> &middot; '
        '<a href="https://packaging.python.org/en/latest/specifications/dependency-groups/">Dependency groups</a>'
    )
    assert "PEP 735" not in note.fields["Explanation"]
    assert "never published" in note.fields["Explanation"]


def test_a_cloze_card_keeps_its_reference_out_of_the_cloze_text(imported: dict) -> None:
    note = imported["casefold-call"]
    assert note.notetype == "Markdown cloze (build_deck)"
    assert "stdtypes" not in note.fields["Text"] + note.fields["Extra"]
    assert 'href="https://docs.python.org/3/library/stdtypes.html#str.casefold"' in note.fields["Reference"]
    (card,) = note.cards
    assert "str.casefold</a>" in card.answer and "str.casefold</a>" not in card.question


def test_a_card_without_a_reference_shows_no_reference_block(imported: dict) -> None:
    note = imported["no-reference"]
    assert note.fields["Reference"] == ""
    assert 'class="reference"' not in note.cards[0].answer


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Reference: [docs](http://docs.python.org/3/)", "a reference must be an https:// address"),
        ("Reference: [docs](javascript:alert(1))", "a Reference: line holds only links"),
        ("Reference: see the docs", "a Reference: line holds only links"),
        ("Reference: [docs](https://docs.python.org/3/) and more words", "a Reference: line holds only links"),
        ("Reference: [](https://docs.python.org/3/)", "has no label"),
        ("Reference: [docs](https://localhost/x)", "a reference needs a host name"),
        ("Reference: [{{c1::docs}}](https://docs.python.org/3/)", "a cloze marker in a reference's label"),
        ("Reference:", "needs at least one link"),
    ],
)
def test_a_bad_reference_line_is_an_error_at_its_line(tmp_path: Path, line: str, message: str) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(f"---\ndifficulty: beginner\n---\n\n## Q?\n\nAnswer.\n\n{line}\n", encoding="utf-8")
    before = tree_snapshot(tmp_path / "dist")
    result = run_cli("build", "--content", content, "--out", tmp_path / "dist")
    assert result.exit_code == 1, result.output
    assert "a.md:9: " in result.output and message in result.output
    assert "Traceback" not in result.output
    assert tree_snapshot(tmp_path / "dist") == before


def test_a_reference_line_that_is_not_last_stays_answer_text_with_a_warning(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(
        "---\ndifficulty: beginner\n---\n\n## Q?\n\nReference: [docs](https://docs.python.org/3/)\n\nMore answer.\n",
        encoding="utf-8",
    )
    result = run_cli("check", "--content", content)
    assert result.exit_code == 0, result.output
    assert "a.md:7: warning: a Reference: line counts only as the last paragraph" in result.output


@pytest.mark.parametrize(
    "url",
    ["https://docs.python.org/3/library/re.html#re.fullmatch", "https://peps.python.org/pep-0008/",
     "https://www.rfc-editor.org/rfc/rfc9110#section-9.2.2"],
)
def test_good_addresses_pass(url: str) -> None:
    assert reference_problem(url) is None


@pytest.mark.parametrize(
    "url", ["http://example.org/", "https:///path", "https://user:pw@example.org/", "ftp://example.org/x",
            "https://exa mple.org/", "//example.org/x", "https://example/x"],
)
def test_bad_addresses_fail(url: str) -> None:
    assert reference_problem(url) is not None


def _fixture_cards() -> list:
    from deckbuild.build import process_file
    from deckbuild.records import SourceFile

    path = REFERENCES / "content" / "refs.md"
    result = process_file(SourceFile(path, path.read_text(encoding="utf-8")), REFERENCES / "media")
    return list(result.cards)


def test_the_no_reference_rule_names_only_the_cards_without_one_when_switched_on() -> None:
    from deckbuild.lint import LintSettings, lint_cards

    cards = _fixture_cards()
    report = lint_cards(cards, LintSettings.from_values({"no-reference": True}), rules=("no-reference",))
    assert [(f.location.line, f.cards) for f in report.findings] == [(34, ("no-reference",))]
    assert "Reference: [label](https://...)" in report.findings[0].message


def test_the_no_reference_rule_is_off_unless_the_configuration_asks_for_it() -> None:
    from deckbuild.lint import LintSettings, lint_cards

    assert lint_cards(_fixture_cards(), LintSettings.from_values({}), rules=("no-reference",)).findings == ()
    assert lint_cards(_fixture_cards(), LintSettings(), rules=("no-reference",)).findings == ()
