"""`stats` counts cards per topic and difficulty; `watch` rebuilds on change and survives errors."""

from __future__ import annotations

import re

import json
from pathlib import Path

from helpers import run_cli, watching


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


def test_watch_rebuilds_after_a_change_and_keeps_going_after_an_error(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    with watching("--content", sample, "--out", out, cwd=tmp_path) as watch:
        watch.wait_for("watching")
        assert (out / "sample.apkg").is_file() and (out / "preview" / "index.html").is_file()
        source = sample / "01-strings.md"
        good = source.read_text(encoding="utf-8")
        source.write_text(good + "\n## Broken\n<!-- id: broken -->\n\n```python\nnever closed\n", encoding="utf-8")
        watch.wait_for("build failed; waiting for the next change")
        source.write_text(good + "\n## What is `'a' in 'abc'`?\n<!-- id: in-str -->\n\n`True`\n", encoding="utf-8")
        assert "6 cards" in watch.wait_for("built 1 deck(s), 6 cards")
        assert watch.process.poll() is None  # still watching


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
