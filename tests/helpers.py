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


def _sigint_as_a_terminal_sends_it() -> None:
    """In the child before it runs: SIGINT back to its default. A test run started as a background job
    ignores SIGINT, and an ignored signal stays ignored in every child; the Ctrl-C sent to `watch`
    would then never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def watching(*args: str | Path, cwd: Path, stop: signal.Signals = signal.SIGINT) -> Iterator[Watcher]:
    """Run `watch` with these arguments; at the end send it `stop` (Ctrl-C, as a user would, or
    SIGTERM) and check that it ended cleanly. One that does not end is killed, and the test fails."""
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, str(root / "build_deck.py"), "watch", *map(str, args)],
        cwd=cwd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, 
        preexec_fn=_sigint_as_a_terminal_sends_it if stop == signal.SIGINT else None,
    )
    watcher = Watcher(process)
    try:
        yield watcher
    finally:
        process.send_signal(stop)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"watch did not stop within 30 s of {stop.name}") from None
        finally:
            watcher.reader.join(timeout=10)
            process.stderr.close()
    # Ctrl-C in the middle of a rebuild is "interrupted" (130); between rebuilds, and on SIGTERM, 0.
    assert code in ((0, 130) if stop == signal.SIGINT else (0,)), f"watch ended with {code} after {stop.name}"


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
