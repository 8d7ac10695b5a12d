"""The code checkers, run as part of the suite so that CI and a contributor's `pytest` both run them.

ruff checks the rules chosen in pyproject.toml ([tool.ruff]; among them McCabe complexity at most
15 per function) and mypy checks the package under `--strict` ([tool.mypy]). A finding fails the test
and its output is the failure message, `path:line: what is wrong`, as each tool prints it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What ruff looks at: the tool, its entry script, the maintainers' scripts and the benchmark.
RUFF_PATHS = ["deckbuild", "build_deck.py", "scripts", "benchmarks", "tests"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-fix", "--output-format", "concise", *RUFF_PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing() -> None:
    result = _run("mypy")    # files, strictness and the Python version come from pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
