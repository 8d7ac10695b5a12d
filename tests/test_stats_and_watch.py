"""`stats` counts cards per topic and difficulty; `watch` rebuilds on change and survives errors."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import ROOT
from helpers import run_cli


def test_stats_json_counts_cards_per_topic_and_difficulty(sample: Path) -> None:
    result = run_cli("stats", "--content", sample, "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["total"] == 5
    assert stats["topics"]["strings"] == {
        "beginner": 2, "intermediate": 1, "advanced": 0, "expert": 0, "none": 0, "total": 3,
    }
    assert stats["difficulties"]["expert"] == 1


def test_stats_table_has_a_row_per_topic_and_totals(sample: Path) -> None:
    lines = run_cli("stats", "--content", sample).stdout.splitlines()
    assert lines[0].split() == ["topic", "beginner", "intermediate", "advanced", "expert", "none", "total"]
    assert lines[2].split() == ["numbers", "0", "0", "1", "1", "0", "2"]
    assert lines[-1].split() == ["total", "2", "1", "1", "1", "0", "5"]


def test_preview_command_reports_the_site(sample: Path, tmp_path: Path) -> None:
    result = run_cli("preview", "--content", sample, "--out", tmp_path / "site")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("index.html: 5 cards in 1 deck(s)\n")
    page = (tmp_path / "site" / "sample.html").read_text(encoding="utf-8")
    assert page.count('class="preview-card"') == 5
    assert "http://" not in page and "https://" not in page.replace("https://example", "")


def _wait_for(lines: "queue.Queue[str]", text: str, seconds: float = 60) -> str:
    """Take the watcher's stderr lines until `text` appears (a reader thread fills the queue)."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"watch never printed {text!r}; it printed:\n{''.join(seen)}")


def test_watch_rebuilds_after_a_change_and_keeps_going_after_an_error(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "build_deck.py"), "watch", "--content", str(sample), "--out", str(out)],
        cwd=tmp_path, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True)
    reader.start()
    try:
        _wait_for(lines, "watching")
        assert (out / "sample.apkg").is_file() and (out / "preview" / "index.html").is_file()
        source = sample / "01-strings.md"
        good = source.read_text(encoding="utf-8")
        source.write_text(good + "\n## Broken\n<!-- id: broken -->\n\n```python\nnever closed\n", encoding="utf-8")
        _wait_for(lines, "build failed; waiting for the next change")
        source.write_text(good + "\n## What is `'a' in 'abc'`?\n<!-- id: in-str -->\n\n`True`\n", encoding="utf-8")
        assert "6 cards" in _wait_for(lines, "built 1 deck(s), 6 cards")
        assert process.poll() is None  # still watching
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        reader.join(timeout=10)
        process.stderr.close()
