"""A corpus of bad sources: each case gives exactly the messages in its `.expected` file.

A case is a Markdown file or a folder under fixtures/bad/; `<case>.expected` holds what `check`
prints to stderr. Adding a case means adding a file (and `pytest --update-goldens` writes its
expected output for review).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from helpers import run_cli, tree_snapshot

from deckbuild.cli import main

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


# Limits and robustness (issue 15): each guarantee of the README's "Limits" paragraph is named here.

CARD = "## {question}\n<!-- id: {id}{options} -->\n\nAnswer to {question}.\n\n"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_list_nested_ten_deep_keeps_every_later_card(tmp_path: Path, monkeypatch) -> None:
    """markdown-it's default nesting limit (20) silently dropped the rest of the file from 10 list levels."""
    items = "".join("  " * i + f"- item {i}\n" for i in range(10))
    _write(tmp_path / "content", "a.md", "---\ndifficulty: beginner\n---\n\n## Deep\n<!-- id: deep -->\n\n"
           + items + "\n" + CARD.format(question="Later card", id="later", options=""))
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "content")
    assert result.exit_code == 0, result.stderr
    assert "ok: 2 notes (2 cards)" in result.stderr


def test_topic_with_spaces_is_one_tag(tmp_path: Path, monkeypatch, anki) -> None:
    content = tmp_path / "content"
    _write(content, "my notes.md", "---\ndifficulty: beginner\n---\n\n" + CARD.format(question="From the name", id="name", options=""))
    _write(content, "front.md", "---\ndifficulty: beginner\ntopic: my  topic\n---\n\n"
           + CARD.format(question="From the front matter", id="front", options="")
           + CARD.format(question="From the options", id="option", options=', topic: "has space"'))
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--content", "content", "--out", "dist")
    assert result.exit_code == 0, result.output
    anki.import_package(tmp_path / "dist" / "content.apkg")
    notes = anki.notes()
    assert notes["name"].tags == ("content::difficulty::beginner", "content::topic::my-notes")
    assert notes["front"].tags == ("content::difficulty::beginner", "content::topic::my-topic")
    assert notes["option"].tags == ("content::difficulty::beginner", "content::topic::has-space")
    assert notes["name"].cards[0].deck == "Content"  # one deck; the topic is a tag and shown on the card
    assert '<span class="topic">my-notes</span>' in notes["name"].fields["Source"]


def test_file_name_that_is_not_utf8_is_an_error(tmp_path: Path, monkeypatch) -> None:
    content = tmp_path / "content"
    card = "---\ndifficulty: beginner\n---\n\n" + CARD.format(question="Q", id="q", options="")
    _write(content, "good.md", card.replace("Q", "Good"))
    (content / os.fsdecode(b"bad\xff.md")).write_text(card, encoding="utf-8")
    folder = content / os.fsdecode(b"\xfe\xfd")
    folder.mkdir()
    (folder / "inside.md").write_text(card.replace("Q", "Inside").replace("id: q", "id: inside"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "content")
    assert result.exit_code == 1
    assert result.stderr == (
        "content/\\xfe\\xfd/inside.md: error: file name is not valid UTF-8; rename it\n"
        "content/bad\\xff.md: error: file name is not valid UTF-8; rename it\n"
        "failed: 2 error(s), 0 warning(s)\n"
    )


def test_file_size_is_checked_before_reading(tmp_path: Path) -> None:
    """A 2 GiB (sparse) file is refused from its size, in a process allowed far less memory than that."""
    content = tmp_path / "content"
    _write(content, "a.md", "---\ndifficulty: beginner\n---\n\n" + CARD.format(question="Q", id="q", options=""))
    with (content / "huge.md").open("wb") as stream:
        stream.truncate(2 * 1024**3)
    script = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3)); "
        "from deckbuild.cli import main; sys.argv = ['build_deck', 'check', '--content', 'content']; main()"
    )
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert time.perf_counter() - started < 30
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(
        "content/huge.md:1: error: file is 2,147,483,648 bytes, over the limit of 1,048,576 bytes"
    )


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_folder_option_is_a_usage_error(value: str, tmp_path: Path, monkeypatch) -> None:
    _write(tmp_path, "a.md", "---\ndifficulty: beginner\n---\n\n" + CARD.format(question="Q", id="q", options=""))
    monkeypatch.chdir(tmp_path)
    for option in ("--content", "--out"):
        result = CliRunner().invoke(main, ["build", option, value])
        assert result.exit_code == 2
        assert "an empty path is not a folder" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.md"]


def test_the_file_system_root_is_not_a_content_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    started = time.perf_counter()
    result = run_cli("check", "--content", "/")
    assert time.perf_counter() - started < 10
    assert result.exit_code == 1
    assert result.stderr.startswith("/: error: the content folder is the root of the file system")


def test_a_folder_with_too_many_files_is_refused(tmp_path: Path, monkeypatch) -> None:
    import deckbuild.load

    monkeypatch.setattr(deckbuild.load, "MAX_FOLDER_ENTRIES", 50)
    content = tmp_path / "content"
    for n in range(60):
        _write(content / f"d{n % 3}", f"{n}.txt", "not a card")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "content")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "content: error: the content folder holds more than 50 files and folders; is it the right folder?"
    )


def _configured(tmp_path: Path, deck: str) -> None:
    _write(tmp_path, "pyproject.toml", f'[tool.build_deck]\ncontent = "content"\n\n[[tool.build_deck.decks]]\n{deck}\n')
    _write(tmp_path / "content", "a.md", "---\ndifficulty: beginner\n---\n\n" + CARD.format(question="Q", id="q", options=""))


@pytest.mark.parametrize("file_name", ["../escaped.apkg", "sub/deck.apkg", "/tmp/abs.apkg", "deck.txt", ".apkg"])
def test_a_deck_file_must_be_a_plain_name_inside_the_output_folder(file_name: str, tmp_path: Path, monkeypatch) -> None:
    _configured(tmp_path / "project", f'name = "Deck"\nfile = "{file_name}"')
    monkeypatch.chdir(tmp_path / "project")
    before = tree_snapshot(tmp_path)
    result = run_cli("build", "--out", "dist")
    assert result.exit_code == 1
    assert f"pyproject.toml:1: error: deck file '{file_name}' of deck 'Deck' must be a plain file name" in result.stderr
    assert tree_snapshot(tmp_path) == before


def test_a_deck_name_with_html_is_an_error(tmp_path: Path, monkeypatch) -> None:
    _configured(tmp_path, 'name = "Deck <img src=x onerror=alert(1)>"')
    monkeypatch.chdir(tmp_path)
    result = run_cli("check")
    assert result.exit_code == 1
    assert "pyproject.toml:1: error: deck name 'Deck <img src=x onerror=alert(1)>' holds HTML" in result.stderr


def test_cloze_check_takes_linear_time_on_a_long_paragraph() -> None:
    """1 MB of `a` code spans in one paragraph took 77 s (newlines counted from the paragraph's start each time)."""
    from markdown_it.token import Token

    from deckbuild.cloze_checks import check_clozes
    from deckbuild.errors import Diagnostics
    from deckbuild.records import SourceFile

    heading = Token("heading_open", "h2", 1, map=[0, 1])
    inline = Token("inline", "", 0, content="Q")
    text = "`a` {{c1::b}}\n" * 70_000  # 1 MB
    paragraph = Token("inline", "", 0, content=text, map=[2, 2 + text.count("\n")])
    text += "`{{c0::x}}`"
    paragraph.content = text
    diagnostics = Diagnostics()
    started = time.perf_counter()
    numbers = check_clozes(heading, inline, [paragraph], [], SourceFile(Path("a.md"), ""), diagnostics)
    assert time.perf_counter() - started < 10
    assert numbers == {0, 1}
    # the problem in the last code span is reported at its own line
    assert [str(d) for d in diagnostics.items] == ["a.md:70003: error: cloze numbers start at c1"]


def test_configured_topics_are_normalised_like_cards_topics(tmp_path: Path, monkeypatch) -> None:
    _write(tmp_path, "pyproject.toml", '[tool.build_deck]\ncontent = "content"\n\n'
           '[[tool.build_deck.decks]]\nname = "Notes"\ntopics = ["my notes"]\n')
    _write(tmp_path / "content", "my notes.md", "---\ndifficulty: beginner\n---\n\n" + CARD.format(question="Q", id="q", options=""))
    _write(tmp_path / "content", "other.md", "---\ndifficulty: beginner\n---\n\n" + CARD.format(question="R", id="r", options=""))
    monkeypatch.chdir(tmp_path)
    result = run_cli("build", "--lock", tmp_path / "deck.lock")
    assert result.exit_code == 0, result.output
    assert "dist/notes.apkg: 1 notes, 1 cards" in result.stdout
