"""A corpus of bad sources: each case gives exactly the messages in its `.expected` file.

A case is a Markdown file or a folder under fixtures/bad/; `<case>.expected` holds what `check`
prints to stderr. Adding a case means adding a file (and `pytest --update-goldens` writes its
expected output for review).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import run_cli, tree_snapshot

BAD = Path(__file__).parent / "fixtures" / "bad"
CASES = sorted(p for p in BAD.iterdir() if p.suffix != ".expected")


def _expected(case: Path) -> Path:
    return BAD / f"{case.stem}.expected"


FAILING = [c for c in CASES if not _expected(c).exists() or "\nfailed: " in "\n" + _expected(c).read_text("utf-8")]


def _content_folder(case: Path, tmp_path: Path) -> Path:
    """The case as `content/` (and `media/`, when the case folder has one) in a fresh folder."""
    content = tmp_path / "content"
    if (case / "content").is_dir():
        shutil.copytree(case, tmp_path, dirs_exist_ok=True, symlinks=True)
    elif case.is_dir():
        shutil.copytree(case, content)
    else:
        content.mkdir()
        shutil.copy(case, content / case.name)
    return content


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_check_reports_exact_messages(case: Path, tmp_path: Path, monkeypatch, update_goldens: bool) -> None:
    _content_folder(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "content")
    expected_file = _expected(case)
    if update_goldens:
        expected_file.write_text(result.stderr, encoding="utf-8")
    expected = expected_file.read_text(encoding="utf-8")
    assert result.stderr == expected
    assert result.exit_code == (1 if "\nfailed: " in "\n" + expected else 0)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", FAILING, ids=[c.stem for c in FAILING])
def test_failed_build_leaves_output_folder_as_it_was(case: Path, tmp_path: Path, monkeypatch) -> None:
    _content_folder(case, tmp_path)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "dist"
    out.mkdir()
    (out / "old.apkg").write_bytes(b"the previous release")
    before = tree_snapshot(out)
    result = run_cli("build", "--content", "content", "--out", "dist")
    assert result.exit_code == 1
    assert tree_snapshot(out) == before
    assert result.stdout == ""


def test_strict_check_turns_warnings_into_errors(tmp_path: Path, monkeypatch) -> None:
    _content_folder(BAD / "warnings-only.md", tmp_path)
    monkeypatch.chdir(tmp_path)
    assert run_cli("check", "--content", "content").exit_code == 0
    strict = run_cli("check", "--content", "content", "--strict")
    assert strict.exit_code == 1
    assert "content/warnings-only.md:8: warning: unknown language 'pyhton'" in strict.stderr


def test_a_file_too_large_to_be_cards_names_the_limit(tmp_path: Path, monkeypatch) -> None:
    from deckbuild.load import MAX_FILE_BYTES

    content = tmp_path / "content"
    content.mkdir()
    card = "## Question {n}\n<!-- id: q{n} -->\n\nAnswer.\n\n"
    text = "---\ndifficulty: beginner\n---\n\n"
    n = 0
    while len(text) <= MAX_FILE_BYTES:
        text += card.format(n=n)
        n += 1
    (content / "huge.md").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "content")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"content/huge.md:1: error: file is {len(text):,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes"
    )
