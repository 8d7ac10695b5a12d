"""Small helpers shared by the tests."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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


class Watcher:
    """A running `build_deck.py watch`, whose stderr lines can be waited for."""

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=lambda: [self.lines.put(line) for line in process.stderr], daemon=True)
        self.reader.start()

    def wait_for(self, text: str, seconds: float = 60) -> str:
        """Take stderr lines until one holds `text`; everything seen so far is returned."""
        seen = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(line)
            if text in line:
                return "".join(seen)
        raise AssertionError(f"watch never printed {text!r}; it printed:\n{''.join(seen)}")


@contextlib.contextmanager
def watching(*args: str | Path, cwd: Path) -> Iterator[Watcher]:
    """Run `watch` with these arguments; Ctrl-C it at the end, as a user would."""
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, str(root / "build_deck.py"), "watch", *map(str, args)],
        cwd=cwd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    watcher = Watcher(process)
    try:
        yield watcher
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        watcher.reader.join(timeout=10)
        process.stderr.close()


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
