"""Every code block in content/ runs and shows what it really prints.

- ```python blocks run alone in a fresh interpreter; an ```output block right after one in the same
  card is its expected standard output.
- ```pycon blocks run as doctests.
- A block whose info string says `norun: <reason>` is skipped, with that reason.
- A version qualifier after the language, `py>=3.13` or `py<3.13` (any PEP 440 specifier set, e.g.
  `py>=3.11,<3.13`), limits a block to those Pythons: a ```python or ```pycon block is skipped on
  the others, and of several ```output blocks after one ```python block each Python compares the one
  that names it (or the one without a qualifier). A card that teaches a version difference shows one
  output per version, and the suite, run on each supported Python, checks each.
- Cloze markers in a block are removed first: the code runs as it reads with every cloze revealed.
"""

from __future__ import annotations

import doctest
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin
from packaging.specifiers import SpecifierSet

from deckbuild.cloze import has_cloze, strip_clozes

pytestmark = pytest.mark.deck  # about the deck's content, not the tool

CONTENT = Path(__file__).resolve().parent.parent / "content"
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class CodeBlock:
    path: Path
    line: int
    language: str
    code: str
    norun_reason: str | None
    expected_output: str | None
    pythons: str = ""  # a specifier set such as ">=3.13"; empty: every Python

    @property
    def runs_here(self) -> bool:
        return runs_on_this_python(self.pythons)

    @property
    def test_id(self) -> str:
        return f"{self.path.name}:{self.line}"


PYTHON_HERE = ".".join(map(str, sys.version_info[:3]))


def runs_on_this_python(pythons: str) -> bool:
    return not pythons or PYTHON_HERE in SpecifierSet(pythons)


def _split_info(info: str) -> tuple[str, str | None, str]:
    """`python py>=3.12 norun: why` -> ("python", "why", ">=3.12")."""
    language, _, rest = info.strip().partition(" ")
    rest = rest.strip()
    pythons = ""
    if rest.startswith("py") and rest[2:3] in "<>=!~":
        pythons, _, rest = rest[2:].partition(" ")
        SpecifierSet(pythons)  # a typo is an error here, not a silently skipped block
        rest = rest.strip()
    if rest.startswith("norun:"):
        return language, rest[len("norun:"):].strip() or "no reason given", pythons
    return language, None, pythons


def collect_blocks(content: Path = CONTENT) -> list[CodeBlock]:
    md = MarkdownIt("commonmark").use(front_matter_plugin)
    blocks: list[CodeBlock] = []
    for path in sorted(content.rglob("*.md")):
        text = path.read_text(encoding="utf-8-sig")
        tokens = md.parse(text)
        previous_python: dict | None = None
        for token in tokens:
            if token.type == "heading_open" and token.tag in ("h1", "h2"):
                previous_python = None  # a new card: outputs never pair across cards
            if token.type != "fence":
                continue
            language, reason, pythons = _split_info(token.info)
            line = token.map[0] + 1
            if language == "output":
                # one output per Python: keep reading outputs until a block of another kind
                if previous_python is not None and runs_on_this_python(pythons):
                    previous_python["expected_output"] = token.content
                if not pythons:
                    previous_python = None
                continue
            if language in ("python", "py", "python3", "pycon"):
                code = strip_clozes(token.content) if has_cloze(token.content) else token.content
                record = {
                    "path": path, "line": line, "language": language, "code": code,
                    "norun_reason": reason, "expected_output": None, "pythons": pythons,
                }
                blocks.append(record)  # type: ignore[arg-type]
                previous_python = record if language != "pycon" else None
            else:
                previous_python = None
    return [CodeBlock(**b) for b in blocks]  # type: ignore[arg-type]


BLOCKS = collect_blocks() if CONTENT.is_dir() else []


def test_content_has_code_blocks() -> None:
    assert BLOCKS, f"no python or pycon blocks found under {CONTENT}"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.test_id for b in BLOCKS])
def test_code_block_runs(block: CodeBlock) -> None:
    if block.norun_reason is not None:
        pytest.skip(f"{block.test_id}: marked norun: {block.norun_reason}")
    if not block.runs_here:
        pytest.skip(f"{block.test_id}: for Python {block.pythons}, this is {PYTHON_HERE}")
    where = f"{block.path}:{block.line}"
    if block.language == "pycon":
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.code, {"__name__": "__main__"}, where, str(block.path), block.line)
        assert test.examples, f"{where}: pycon block has no >>> example"
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        output: list[str] = []
        runner.run(test, out=output.append)
        assert runner.failures == 0, f"{where}: doctest failed\n" + "".join(output)
        return
    result = subprocess.run(
        [sys.executable, "-c", block.code],
        capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, f"{where}: exited {result.returncode}\n{result.stderr}"
    if block.expected_output is not None:
        assert result.stdout == block.expected_output, (
            f"{where}: printed\n{result.stdout!r}\nbut the card shows\n{block.expected_output!r}"
        )


def test_version_qualifiers_pick_this_pythons_block(tmp_path: Path) -> None:
    here = sys.version_info
    this, later = f"{here.major}.{here.minor}", f"{here.major}.{here.minor + 1}"
    (tmp_path / "a.md").write_text(
        "## Q\n\n```python\nprint(1)\n```\n\n"
        f"```output py<{this}\nolder\n```\n\n```output py>={this},<{later}\nthis one\n```\n\n"
        f"```output py>={later}\nnewer\n```\n\n"
        f"```python py>={later}\nprint(2)\n```\n\n```output\nunqualified\n```\n\n```output\nnot paired\n```\n",
        encoding="utf-8",
    )
    first, second = collect_blocks(tmp_path)
    assert (first.expected_output, first.runs_here) == ("this one\n", True)
    assert (second.expected_output, second.pythons, second.runs_here) == ("unqualified\n", f">={later}", False)
    with pytest.raises(ValueError):
        _split_info("python py>=3.1x")
