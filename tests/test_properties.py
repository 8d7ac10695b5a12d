"""Property tests: whatever Markdown (or bytes) an author writes, the build either makes a deck that
imports into Anki or reports content errors as `path:line`; it never fails otherwise and never
leaves a partial file behind."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from conftest import AnkiCollection
from deckbuild.parse import slugify
from helpers import run_cli

# a diagnostic, or one of the two lines that follow repeated ones: a summary and a hint
DIAGNOSTIC = re.compile(r"^(?:.+?(?::\d+)?: (?:error|warning): .+|\.\.\. and \d+ more .+|hint: .+)$")
WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
SAFE_WORDS = st.from_regex(r"[A-Za-z0-9 `*_<>&\[\]()!-]{0,30}", fullmatch=True)


@st.composite
def markdown_files(draw) -> str:
    parts = []
    if draw(st.booleans()):
        key = draw(st.sampled_from(["topic", "difficulty", "tags", "difficulty", "topc"]))
        value = draw(st.sampled_from(["beginner", "expert", "hard", "[a, b]", "[unclosed", "x: y: z", "t"]))
        parts.append(f"---\n{key}: {value}\n---\n")
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["card", "card", "title", "fence", "unclosed", "break", "options", "tasks", "text", "html"]))
        text = draw(SAFE_WORDS)
        if kind == "card":
            parts.append(f"## {text}\n")
        elif kind == "title":
            parts.append(f"# {text}\n")
        elif kind == "fence":
            parts.append(f"```{draw(st.sampled_from(['python', 'pycon', 'nolang', '']))}\n{text}\n```\n")
        elif kind == "unclosed":
            parts.append(f"~~~python\n{text}\n")
        elif kind == "break":
            parts.append("\n---\n")
        elif kind == "options":
            parts.append(f"<!-- id: {draw(st.sampled_from(['a', 'b', 'Bad_Id', 'x-1']))}, "
                         f"difficulty: {draw(st.sampled_from(['beginner', 'nope']))} -->\n")
        elif kind == "tasks":
            for _ in range(draw(st.integers(0, 9))):
                parts.append(f"- [{draw(st.sampled_from([' ', 'x']))}] {text}\n")
        elif kind == "html":
            parts.append(f"<{draw(st.sampled_from(['script', 'b', 'div onclick=x']))}>{text}\n")
        else:
            parts.append(f"{draw(WORDS)}\n")
        parts.append("\n")
    return "".join(parts)


def _check_run(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        content = root / "content"
        content.mkdir()
        for name, data in files.items():
            (content / name).write_bytes(data)
        out = root / "dist"
        result = run_cli("build", "--content", content, "--out", out)
        assert result.exit_code in (0, 1), result.output
        for line in result.stderr.splitlines()[:-1] if result.exit_code else result.stderr.splitlines():
            assert DIAGNOSTIC.match(line), line
        leftovers = sorted(p.name for p in out.iterdir()) if out.exists() else []
        if result.exit_code == 1:
            assert leftovers == [] and result.stderr.splitlines()[-1].startswith("failed: ")
            return
        assert leftovers == ["build_deck.lock", "content.apkg"]
        anki = AnkiCollection(root / "anki")
        try:
            anki.import_package(out / "content.apkg")
            assert len(anki.notes()) >= 1
        finally:
            anki.close()


@given(st.lists(markdown_files(), min_size=1, max_size=3))
def test_generated_markdown_builds_or_reports(texts: list[str]) -> None:
    _check_run({f"{i}.md": text.encode("utf-8") for i, text in enumerate(texts)})


@given(st.binary(max_size=200), st.sampled_from([b"", b"\xef\xbb\xbf", b"## Q\n<!-- id: q -->\n\n"]))
def test_random_bytes_build_or_report(data: bytes, prefix: bytes) -> None:
    _check_run({"random.md": prefix + data})


@given(st.text(max_size=80))
def test_derived_ids_are_valid_kebab_case(text: str) -> None:
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slugify(text))


@given(st.text(alphabet=" \t", min_size=0, max_size=3), st.text(alphabet=" \t", min_size=0, max_size=3))
def test_identity_never_depends_on_whitespace_around_the_question(left: str, right: str) -> None:
    assert slugify(f"{left}What is a list?{right}") == slugify("What is a list?")
