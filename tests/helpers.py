"""Small helpers shared by the tests."""

from __future__ import annotations

import contextlib
import signal
from pathlib import Path
from typing import Iterator

from click.testing import CliRunner, Result

from deckbuild.cli import main


def run_cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def build_folder(content: Path, out: Path, *extra: str) -> Result:
    result = run_cli("build", "--content", content, "--out", out, *extra)
    assert result.exit_code == 0, result.output
    return result


def tree_snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below a folder with its bytes: to prove a failed run changed nothing."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class TimeLimitExceeded(BaseException):
    """Raised into a test that ran past its time limit (a BaseException, so no `except Exception` eats it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` (SIGALRM, main thread): a hang becomes a failure, not a stuck run."""
    def expire(signum: int, frame: object) -> None:
        raise TimeLimitExceeded(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
