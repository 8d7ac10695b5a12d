"""The command line, through click's CliRunner: exit codes and exact messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT
from helpers import build_folder, run_cli, tree_snapshot

from deckbuild import __version__


def test_version() -> None:
    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"deckbuild, version {__version__}\n"


def test_every_command_has_help() -> None:
    for command in ([], ["build"], ["check"], ["add-ids"]):
        result = run_cli(*command, "--help")
        assert result.exit_code == 0
        assert "Usage:" in result.stdout and "--help" in result.stdout


def test_usage_error_exits_2() -> None:
    result = run_cli("build", "--no-such-option")
    assert result.exit_code == 2
    assert "Error: No such option '--no-such-option'." in result.stderr


def test_build_reports_each_deck_and_total(sample: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = build_folder(sample, Path("dist"))
    lines = result.stdout.splitlines()
    assert lines[0] == "dist/sample.apkg: 5 notes, 5 cards"
    assert lines[1].startswith("built 1 deck(s), 5 cards in ") and lines[1].endswith(" s")
    # an unconfigured folder: the one note on stderr says where the notes' identity comes from
    assert result.stderr.splitlines() == [
        "sample: warning: no configuration: the deck's namespace 'sample' comes from the folder's name, so the "
        "notes of another folder with that name and the same card ids would overwrite these in Anki",
        "hint: run `python build_deck.py init` to write a configuration with a namespace of its own "
        "(or add [tool.build_deck] to pyproject.toml)",
    ]


def test_check_writes_nothing(sample: Path, tmp_path: Path, monkeypatch, private_cache: Path) -> None:
    monkeypatch.chdir(tmp_path)
    before = tree_snapshot(tmp_path)
    result = run_cli("check", "--content", sample)
    assert result.exit_code == 0
    assert result.stderr == "ok: 5 notes (5 cards) in 2 file(s)\n"
    assert tree_snapshot(tmp_path) == before
    assert tree_snapshot(private_cache) == {}  # not even the render cache


def test_missing_content_folder_is_a_content_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "nowhere")
    assert result.exit_code == 1
    assert result.stderr.startswith("nowhere: error: content folder not found\n")


def test_no_arguments_builds_the_configured_decks(tmp_path: Path) -> None:
    # A copy of the repository's configuration and content, so the real checkout is not written to.
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (project / "content").mkdir()
    for source in (ROOT / "tests" / "fixtures" / "sample").rglob("*.md"):
        (project / "content" / source.name).write_text(source.read_text())
    completed = subprocess.run(
        [sys.executable, str(ROOT / "build_deck.py")], cwd=project, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("dist/python-interview-prep.apkg: 5 notes, 5 cards\n")
    assert (project / "build_deck.lock").is_file()


def test_internal_error_asks_for_a_bug_report(sample: Path, tmp_path: Path, monkeypatch) -> None:
    import deckbuild.build

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(deckbuild.build, "plan_decks", broken)
    result = run_cli("build", "--content", sample, "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert "internal error in deckbuild" in result.stderr and "RuntimeError: boom" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run_cli("--debug", "build", "--content", sample, "--out", tmp_path / "out")
    assert "Traceback (most recent call last)" in debug.stderr


def test_add_ids_writes_only_the_missing_ids(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    original = (
        "\ufeff---\r\ndifficulty: beginner\r\n---\r\n\r\n## Has an id\r\n<!-- id: kept -->\r\n\r\nA.\r\n\r\n"
        "## Needs one\r\n\r\nB.\r\n\r\n## Has options but no id\r\n<!-- difficulty: expert -->\r\n\r\nC.\r\n"
    )
    path = content / "cards.md"
    path.write_bytes(original.encode("utf-8"))
    result = run_cli("add-ids", "--content", content)
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("added 2 id(s)\n")
    expected = original.replace(
        "## Needs one\r\n", "## Needs one\r\n<!-- id: needs-one -->\r\n"
    ).replace("<!-- difficulty: expert -->", "<!-- id: has-options-but-no-id, difficulty: expert -->")
    assert path.read_bytes() == expected.encode("utf-8")
    again = run_cli("add-ids", "--content", content)
    assert again.stdout == "added 0 id(s)\n"
    assert path.read_bytes() == expected.encode("utf-8")
    check = run_cli("check", "--content", content, "--strict")
    assert check.exit_code == 0, check.stderr


def test_build_never_changes_sources(sample: Path, tmp_path: Path) -> None:
    before = tree_snapshot(sample)
    (sample / "no-id.md").write_text("---\ndifficulty: beginner\n---\n\n## A card without id\n\nAnswer.\n")
    before = tree_snapshot(sample)
    build_folder(sample, tmp_path / "dist")
    assert tree_snapshot(sample) == before


def test_unwritable_output_is_reported_without_a_traceback(sample: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    result = run_cli("build", "--content", sample, "--out", blocker / "dist")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{blocker / 'dist'}: error: ") and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


class _Terminal:
    """A stand-in stderr that says it is a terminal and records what is written to it."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_bar_only_on_a_terminal_outside_ci(monkeypatch) -> None:
    from deckbuild import cli

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.delenv("CI", raising=False)
    with cli._progress(cli.PROGRESS_MIN_FILES) as step:
        assert step is not None
        step(cli.PROGRESS_MIN_FILES)
    assert any("rendering" in text for text in terminal.written)
    with cli._progress(cli.PROGRESS_MIN_FILES - 1) as step:
        assert step is None  # a small build finishes in a moment
    monkeypatch.setenv("CI", "true")
    with cli._progress(cli.PROGRESS_MIN_FILES) as step:
        assert step is None  # never in CI logs


def test_a_missing_dependency_says_what_to_install(sample: Path, tmp_path: Path) -> None:
    """A Python without the libraries gets an instruction, not an "internal error, report a bug"."""
    code = (
        "import sys; sys.modules['markdown_it'] = None\n"  # as if it were not installed
        "from deckbuild.cli import main\n"
        f"main(['check', '--content', {str(sample)!r}])\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2, completed.stderr
    assert "the library 'markdown_it' that deckbuild needs is not installed" in completed.stderr
    assert "pip install -r requirements/build.txt" in completed.stderr
    assert "internal error" not in completed.stderr and "Traceback" not in completed.stderr


def test_build_options_work_without_the_word_build(sample: Path, tmp_path: Path) -> None:
    """The program with no command is `build`, options included (`--content X` = `build --content X`)."""
    result = run_cli("--content", sample, "--out", tmp_path / "out", "--lock", tmp_path / "lock", "-q")
    assert result.exit_code == 0, result.output
    assert "sample.apkg: 5 notes, 5 cards" in result.stdout and (tmp_path / "out" / "sample.apkg").is_file()
    assert "warning" not in result.stderr  # -q went to build too
    debug = run_cli("--debug", "--content", sample, "--out", tmp_path / "out", "--lock", tmp_path / "lock")
    assert debug.exit_code == 0 and "(unchanged)" in debug.stdout
    typo = run_cli("--contnet", sample)
    assert typo.exit_code == 2 and "No such option '--contnet'. Did you mean '--content'?" in typo.stderr
    assert "deckbuild" in run_cli("--help").stdout  # the program's own options stay its own


def test_messages_suggest_the_command_the_user_ran(monkeypatch) -> None:
    from deckbuild import command

    for argv0, expected in [("/venv/bin/deckbuild", "deckbuild"), ("/site/deckbuild/__main__.py", "python -m deckbuild"),
                            ("build_deck.py", "python build_deck.py")]:
        monkeypatch.setattr(sys, "argv", [argv0])
        assert command.command_name() == expected


def test_a_version_in_the_configuration_is_shown_and_checked(tmp_path: Path, monkeypatch) -> None:
    project = tmp_path / "deck"
    assert run_cli("init", project).exit_code == 0
    monkeypatch.chdir(project)
    from deckbuild.config import load_config

    assert load_config().version == "0.1.0"
    config = project / "pyproject.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('version = "0.1.0"', "version = 1.0"), encoding="utf-8")
    result = run_cli("check")
    assert result.exit_code == 1
    assert 'pyproject.toml:7: error: version must be a string such as "0.1.0"' in result.stderr
