"""Every code block in content/ runs and shows what it really prints.

- ```python blocks run alone in a fresh interpreter; an ```output block right after one in the same
  card is its expected standard output.
- ```pycon blocks run as doctests.
- A block whose info string says `norun: <reason>` is skipped, with that reason.
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

from deckbuild.cloze import has_cloze, strip_clozes

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

    @property
    def test_id(self) -> str:
        return f"{self.path.name}:{self.line}"


def _split_info(info: str) -> tuple[str, str | None]:
    language, _, rest = info.strip().partition(" ")
    rest = rest.strip()
    if rest.startswith("norun:"):
        return language, rest[len("norun:"):].strip() or "no reason given"
    return language, None


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
            language, reason = _split_info(token.info)
            line = token.map[0] + 1
            if language == "output":
                if previous_python is not None:
                    previous_python["expected_output"] = token.content
                    previous_python = None
                continue
            if language in ("python", "py", "python3", "pycon"):
                code = strip_clozes(token.content) if has_cloze(token.content) else token.content
                record = {
                    "path": path, "line": line, "language": language, "code": code,
                    "norun_reason": reason, "expected_output": None,
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
