"""`stats` counts cards per topic and difficulty; `watch` rebuilds on change and survives errors."""

from __future__ import annotations

import contextlib
import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli, time_limit, watching


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
    # nothing is fetched: no address on the web in a source, a link or a style (lint messages may
    # quote the form of a reference, `[label](https://...)`, as text)
    assert re.search(r"""(?:src|href)\s*=\s*["']?https?:|url\(\s*["']?https?:""", page) is None


def _watch_a_change_and_an_error(sample: Path, tmp_path: Path, stop: signal.Signals) -> None:
    out = tmp_path / "dist"
    with watching("--content", sample, "--out", out, cwd=tmp_path, stop=stop) as watch:
        watch.wait_for("watching")
        assert (out / "sample.apkg").is_file() and (out / "preview" / "index.html").is_file()
        source = sample / "01-strings.md"
        good = source.read_text(encoding="utf-8")
        source.write_text(good + "\n## Broken\n<!-- id: broken -->\n\n```python\nnever closed\n", encoding="utf-8")
        watch.wait_for("build failed; waiting for the next change")
        source.write_text(good + "\n## What is `'a' in 'abc'`?\n<!-- id: in-str -->\n\n`True`\n", encoding="utf-8")
        assert "6 cards" in watch.wait_for("built 1 deck(s), 6 cards")
        assert watch.process.poll() is None  # still watching


def test_watch_rebuilds_after_a_change_and_keeps_going_after_an_error(sample: Path, tmp_path: Path) -> None:
    _watch_a_change_and_an_error(sample, tmp_path, signal.SIGINT)


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this process and so in every child it starts, as in a shell's background job."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_watch_stops_cleanly_when_the_test_run_ignores_sigint(
    sample: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    # Ctrl-C: the helper gives `watch` SIGINT back. SIGTERM: `watch` itself still ignores SIGINT and
    # stops on SIGTERM with exit code 0 (checked by `watching`); a hang is a failure, not a stuck run.
    with time_limit(150), sigint_ignored():
        _watch_a_change_and_an_error(sample, tmp_path, stop)


def test_watch_shows_lint_findings_in_the_preview(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    with watching("--content", sample, "--out", out, cwd=tmp_path) as watch:
        watch.wait_for("watching")
        source = sample / "01-strings.md"
        source.write_text(source.read_text(encoding="utf-8")
                          + "\n## Is `'a'` in `'abc'`?\n<!-- id: in-str -->\n\nYes.\n", encoding="utf-8")
        watch.wait_for("built 1 deck(s), 6 cards")
        watch.wait_for("preview:")
        page = (out / "preview" / "sample.html").read_text(encoding="utf-8")
        assert 'class="preview-lint"' in page and "lint[yes-no]" in page
