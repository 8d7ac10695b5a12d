"""Bounded work: a lexing budget per code block, worker processes that die with the build, a capped
number of processes, and a warning for images too large to sync."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from conftest import ROOT, AnkiCollection
from helpers import run_cli, time_limit
from pygments import highlight as pygments_highlight
from pygments.lexers import get_all_lexers, get_lexer_by_name
from test_fastlex import SAMPLE, code_blocks

from deckbuild import highlight

LOOPING_BLOCK = "```mcschema\n<!--\n```\n"  # Pygments' mcschema lexer yields empty tokens forever on this


def card_file(*blocks: str, prefix: str = "q") -> str:
    """Cards with the given bodies; the first body starts at line 8."""
    return "---\ndifficulty: beginner\n---\n\n" + "".join(
        f"## Question {prefix}{index}?\n<!-- id: {prefix}{index} -->\n\n{block}\n" for index, block in enumerate(blocks)
    )


def test_a_lexer_that_never_ends_falls_back_to_plain_text_with_a_warning_at_its_fence(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(card_file("Some text.\n\n" + LOOPING_BLOCK), encoding="utf-8")
    with time_limit(60):
        result = run_cli("build", "--content", content, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    assert "a.md:10: warning: the 'mcschema' highlighter gave more than 1,015 tokens for 5 characters: " \
           "the code block is shown without highlighting" in result.stderr
    anki = AnkiCollection(tmp_path / "anki")
    try:
        anki.import_package(tmp_path / "dist" / "content.apkg")
        answer = anki.notes()["q0"].fields["Answer"]
    finally:
        anki.close()
    assert '<pre class="highlight language-mcschema"><code><span class="line">&lt;!--\n</span></code></pre>' in answer


def test_a_cloze_in_a_block_over_budget_keeps_its_cloze() -> None:
    messages: list[str] = []
    html = highlight.highlight_code("{{c1::<!--}}\n", "mcschema", messages.append)
    assert html == '<pre class="highlight language-mcschema"><code><span class="line">{{c1::&lt;!--}}\n</span></code></pre>\n'
    assert len(messages) == 1 and "highlighter gave more than" in messages[0]


def test_a_block_that_takes_too_long_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highlight, "LEX_SECONDS", -1.0)  # every block is already late
    messages: list[str] = []
    html = highlight.highlight_code("x = '<b>'\n", "python", messages.append)
    assert html == '<pre class="highlight language-python"><code><span class="line">x = &#x27;&lt;b&gt;&#x27;\n</span></code></pre>\n'
    assert messages == ["the 'python' highlighter took more than -1.0 s: the code block is shown without highlighting"]


def test_the_budget_holds_in_the_parallel_workers(tmp_path: Path) -> None:
    # Enough text to render in worker processes; before the budget the build never ended.
    content = tmp_path / "content"
    content.mkdir()
    filler = "Words to render. " * 7_000
    for name in ("a", "b"):
        (content / f"{name}.md").write_text(card_file(filler + "\n\n" + LOOPING_BLOCK, prefix=name), encoding="utf-8")
    from deckbuild.workers import PARALLEL_MIN_CHARACTERS

    assert sum(len(p.read_text(encoding="utf-8")) for p in content.iterdir()) > PARALLEL_MIN_CHARACTERS
    result = subprocess.run(
        [sys.executable, str(ROOT / "build_deck.py"), "build", "--content", str(content), "--out",
         str(tmp_path / "dist"), "--jobs", "2", "--no-cache"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    for name in ("a", "b"):
        assert f"content/{name}.md:10: warning: the 'mcschema' highlighter gave more than" in result.stderr


def test_every_lexer_stays_within_the_budget_on_ordinary_text() -> None:
    # The budget must never change a normal block: a mixed sample in every lexer gives far fewer tokens.
    # (Stock lexers: fastlex gives the same tokens, and Pygments compiles each lexer class only once.)
    texts = [SAMPLE, "", "\n"]
    checked = 0
    for _name, aliases, _files, _mimes in get_all_lexers():
        if not aliases:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lexer = get_lexer_by_name(aliases[0], stripnl=False, ensurenl=False)
        for text in texts:
            with time_limit(10):
                tokens = list(highlight.lex(text, lexer))  # raises past the budget
            assert len(tokens) <= len(text) + 2, aliases[0]  # far below the budget of three per character
            checked += 1
    assert checked > 1500


def test_the_budget_changes_no_block_of_the_deck() -> None:
    formatter = highlight.LineFormatter()
    for where, language, code in code_blocks():
        if "{{c" in code:
            continue
        expected = pygments_highlight(code, highlight.find_lexer(language), formatter)
        assert f"<code>{expected}</code>" in highlight.highlight_code(code, language), where


def _children(pid: int) -> list[int]:
    """The live child processes of a process, from /proc (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if int(ppid) == pid and state != "Z":
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended, whoever reaps it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_rendering_workers_end_when_the_build_is_killed(tmp_path: Path) -> None:
    # kill -9 of the build left its ProcessPoolExecutor workers blocked on their pipes forever.
    content = tmp_path / "content"
    content.mkdir()
    block = "```python\n" + "def f(x):\n    return [i ** 2 for i in range(x) if i % 3]  # comment\n" * 40 + "```\n"
    for name in "abcdef":
        (content / f"{name}.md").write_text(card_file(*[block] * 120, prefix=name), encoding="utf-8")
    build = subprocess.Popen(
        [sys.executable, str(ROOT / "build_deck.py"), "build", "--content", str(content), "--out",
         str(tmp_path / "dist"), "--jobs", "2", "--no-cache"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
    )
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers) < 2 and build.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            workers = _children(build.pid)
        assert len(workers) == 2 and build.poll() is None, "the build did not start two workers"
        time.sleep(0.5)  # let them render
        build.kill()  # SIGKILL: no clean-up runs in the build process
        build.wait()
        deadline = time.monotonic() + 5
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not [pid for pid in workers if _alive(pid)], "workers outlived the build"
    finally:
        build.kill()
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_jobs_are_capped_at_the_cores_available(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # --jobs 1000 started one process per file (153 processes for 150 files on 2 cores).
    from concurrent.futures import ProcessPoolExecutor

    from deckbuild import workers as workers_module

    started: list[int] = []

    class CountingPool(ProcessPoolExecutor):  # the real pool, recording its size
        def __init__(self, max_workers: int, **options: object) -> None:
            started.append(max_workers)
            super().__init__(max_workers, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(workers_module, "ProcessPoolExecutor", CountingPool)
    monkeypatch.setattr(workers_module, "available_cores", lambda: 2)
    content = tmp_path / "content"
    content.mkdir()
    filler = "Words to render. " * 3_000
    for name in "abcdef":
        (content / f"{name}.md").write_text(card_file(filler, prefix=name), encoding="utf-8")
    result = run_cli("build", "--content", content, "--out", tmp_path / "dist", "--jobs", "1000", "--no-cache")
    assert result.exit_code == 0, result.output
    assert started == [2]
    assert "note: --jobs 1000 is more than the 2 cores available: rendering uses at most 2 processes" in result.stderr


def test_an_image_too_large_for_ankiweb_is_a_warning_at_its_line(tmp_path: Path) -> None:
    # Anki itself says "Files over 100MB can not be synced with AnkiWeb"; nothing warned before.
    from deckbuild.media import ANKIWEB_MEDIA_LIMIT

    content, media = tmp_path / "content", tmp_path / "media"
    content.mkdir()
    media.mkdir()
    with (media / "huge.png").open("wb") as stream:  # sparse: costs no disk until Anki copies it
        stream.write(b"\x89PNG\r\n\x1a\n")  # a PNG's first bytes: only pictures and sounds are packaged
        stream.truncate(ANKIWEB_MEDIA_LIMIT + 1)
    (media / "fits.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (content / "a.md").write_text(card_file("![a](../media/fits.png)\n", "![b](../media/huge.png)\n"), encoding="utf-8")
    result = run_cli("build", "--content", content, "--media", media, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if "AnkiWeb" in line]
    assert warned == [
        f"{(content / 'a.md').as_posix()}:13: warning: image '../media/huge.png' is 100.0 MiB: AnkiWeb does not "
        "sync media files over 100 MiB, so learners who sync will not see it; make it smaller"
    ]
    anki = AnkiCollection(tmp_path / "anki")  # Anki's own media check agrees on which file is too large
    try:
        anki.import_package(tmp_path / "dist" / "content.apkg")
        report = anki.col.media.check().report
    finally:
        anki.close()
    oversize = [line.removeprefix("Over 100MB: ") for line in report.splitlines() if line.startswith("Over 100MB: ")]
    files = [name for name in oversize if name.endswith(".png")]  # the report also has a count line
    assert len(files) == 1 and files[0].startswith("huge-")


CATASTROPHIC = """
import sys
from pygments.lexer import RegexLexer
from pygments.token import Text
from deckbuild import highlight

class Backtracking(RegexLexer):  # one regex match that takes for ever: (a+)+$ on a...ab
    tokens = {"root": [(r"(a+)+$", Text), (r".|\\n", Text)]}

highlight.LEX_SECONDS = 0.5
highlight.find_lexer = lambda language: Backtracking()
messages = []
html = highlight.highlight_code("a" * 40 + "b\\n", "slow", messages.append)
print(html, messages)
"""


def test_one_regex_match_that_never_ends_is_interrupted() -> None:
    # The time between tokens cannot stop a single backtracking match; an alarm in the main thread can.
    result = subprocess.run([sys.executable, "-c", CATASTROPHIC], capture_output=True, text=True, timeout=20, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        '<pre class="highlight language-slow"><code><span class="line">' + "a" * 40 + "b\n</span></code></pre>\n "
        "[\"the 'slow' highlighter took more than 0.5 s: the code block is shown without highlighting\"]\n"
    )
