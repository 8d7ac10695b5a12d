"""Locations are paths until they are shown: `path:line` relative to the working directory of the
moment, sorted as shown, and the render cache keyed so that a rebuild finds every file again."""

from __future__ import annotations

from pathlib import Path

import pytest

from deckbuild.build import render_files
from deckbuild.cache import RenderCache
from deckbuild.errors import Diagnostic, Diagnostics, Severity, SourceLocation
from deckbuild.load import load_sources


def test_a_location_is_shown_relative_to_the_working_directory_when_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = SourceLocation(tmp_path / "content" / "a.md", 12)
    monkeypatch.chdir(tmp_path)
    assert str(location) == "content/a.md:12"
    assert str(SourceLocation(tmp_path / "content", 0)) == "content"  # line 0: the whole file or folder
    monkeypatch.chdir(tmp_path / "..")
    assert str(location) == f"{tmp_path.name}/content/a.md:12"
    assert str(SourceLocation(Path("--name"), 0)) == "--name"  # a setting, not a file: as written


def test_diagnostics_sort_by_the_path_as_shown_then_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    diagnostics = Diagnostics()
    # given in another form than they show: absolute, relative, with a dot
    diagnostics.error(SourceLocation(tmp_path / "a" / "x.md", 10), "third")
    diagnostics.error(SourceLocation(Path("a-b") / "x.md", 1), "first")
    diagnostics.error(SourceLocation(Path("./a/x.md"), 9), "second")
    assert [str(d) for d in diagnostics.items] == [
        "a-b/x.md:1: error: first", "a/x.md:9: error: second", "a/x.md:10: error: third",
    ]
    assert str(Diagnostic(SourceLocation(Path("a\nb.md"), 1), Severity.WARNING, "m")) == "a\\nb.md:1: warning: m"


def test_a_rebuild_finds_every_file_in_the_cache_and_shows_its_locations_from_here(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sample / "01-strings.md").write_text(
        (sample / "01-strings.md").read_text(encoding="utf-8") + "\n## No difficulty here?\n\nNone.\n",
        encoding="utf-8",
    )
    media = tmp_path / "media"

    def read(cache: RenderCache) -> tuple[int, list[str]]:
        hits: list[int] = []
        sources = load_sources(sample, Diagnostics())
        results = render_files(sources, media, cache, jobs=1, progress=hits.append, content_dir=sample)
        shown = [str(card.meta.location) for result in results for card in result.cards]
        return hits[0], shown  # the first progress step counts the files found in the cache

    first_hits, first = read(RenderCache(tmp_path / "cache"))
    assert first_hits == 0 and first
    monkeypatch.chdir(sample)
    again_hits, again = read(RenderCache(tmp_path / "cache"))
    assert again_hits == len(load_sources(sample, Diagnostics())) > 0
    assert again == [location.removeprefix(f"{sample}/") for location in first]
    assert all(not location.startswith("/") for location in again)
