"""The tool as a package: the wheel installs into a fresh venv under its distribution name, and
`deckbuild init` + `build` work there, away from this checkout (so the wheel must carry its style
sheets and templates). Then the workflow that init wrote runs, step by step, in another fresh venv,
as GitHub would run it on the deck repository's first push and first tag."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, AnkiCollection

pytestmark = pytest.mark.slow


def _run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, f"{command} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what ties a child to this checkout or to a fixed time."""
    drop = ("PYTHONPATH", "SOURCE_DATE_EPOCH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "GITHUB_REF_NAME", "GH_TOKEN")
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, ROOT], cwd=wheels)
    (built,) = wheels.glob("deckbuild-*.whl")
    return built


@pytest.fixture(scope="module")
def author_deck(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What an author has after `pip install deckbuild`, `deckbuild init`, one build and a commit."""
    root = tmp_path_factory.mktemp("author")
    environment = root / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "-r", ROOT / "requirements" / "build.txt"], cwd=root)
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", wheel], cwd=root)
    env = _clean_env(BUILD_DECK_CACHE_DIR=str(root / "cache"))
    command = environment / "bin" / "deckbuild"
    assert _run([command, "--version"], cwd=root, env=env).stdout == f"deckbuild, version {_wheel_version(wheel)}\n"
    assert "deckbuild" in _run([python, "-m", "deckbuild", "--help"], cwd=root, env=env).stdout

    initialised = _run([command, "init", "my-notes", "--name", "My notes"], cwd=root, env=env)
    assert "next: cd my-notes && deckbuild build" in initialised.stdout
    deck = root / "my-notes"
    built = _run([command, "build"], cwd=deck, env=env)
    assert "dist/my-notes.apkg: 1 notes, 1 cards" in built.stdout
    # the top-level command is `build` with build's options
    again = _run([command, "--content", "content", "--no-cache"], cwd=deck, env=env)
    assert "dist/my-notes.apkg: 1 notes, 1 cards" in again.stdout
    for git in (["init", "-q"], ["add", "-A"], ["-c", "user.name=a", "-c", "user.email=a@a", "commit", "-qm", "deck"]):
        _run(["git", *git], cwd=deck)
    return deck


def _wheel_version(wheel: Path) -> str:
    return wheel.name.split("-")[1]


def test_the_wheel_installs_and_starts_a_deck(wheel: Path, author_deck: Path, anki: AnkiCollection) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "deckbuild/resources/card.css" in names and "deckbuild/resources/init-workflow.yml" in names
    assert "deckbuild/__main__.py" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "deckbuild = deckbuild.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "Name: deckbuild\n" in metadata and "Description-Content-Type: text/markdown" in metadata
    assert "deckbuild init my-deck" in metadata and "](docs/" not in metadata  # the package page, absolute links

    anki.import_package(author_deck / "dist" / "my-notes.apkg")
    (note,) = anki.notes().values()
    assert note.fields["Id"] == "first-card" and 'class="highlight' in note.fields["Answer"]
    description = next(d["desc"] for d in anki.col.decks.all() if d["name"] == "My notes")
    assert "Version 0.1.0 &middot; 1 cards" in description  # the configuration's version, not "unversioned"


GH_SHIM = """#!/usr/bin/env bash
# gh for a test: records its arguments; a release exists once `release create` made it.
printf '%s\\n' "$*" >> "$GH_LOG"
case "$1 $2" in
  "release view") [ -e "$GH_STATE/$3" ] ;;
  "release create") touch "$GH_STATE/$3" ;;
  "release upload") [ -e "$GH_STATE/$3" ] ;;
  *) echo "gh shim: unexpected $*" >&2; exit 1 ;;
esac
"""


def _steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def _run_job(workflow: dict, job: str, deck: Path, env: dict[str, str]) -> list[str]:
    """Run a job's `run:` steps in order with bash -e, as a runner does; `uses:` steps are the
    runner's (the checkout is `deck`, the Python is the venv first on PATH). Returns their output."""
    outputs = []
    for step in _steps(workflow, job):
        if "uses" in step:
            assert step["uses"].split("@")[0] in ("actions/checkout", "actions/setup-python"), step
            continue
        step_env = {k: ("stub-token" if "${{" in str(v) else str(v)) for k, v in step.get("env", {}).items()}
        script = deck.parent / "step.sh"
        script.write_text(step["run"], encoding="utf-8")
        completed = subprocess.run(["bash", "-e", str(script)], cwd=deck, env={**env, **step_env},
                                   capture_output=True, text=True, timeout=900)
        assert completed.returncode == 0, f"{job}: {step.get('name', step['run'])} failed:\n{completed.stdout}\n{completed.stderr}"
        outputs.append(completed.stdout + completed.stderr)
    return outputs


def test_the_workflow_init_wrote_passes_on_its_first_run(wheel: Path, author_deck: Path, tmp_path: Path) -> None:
    """The generated workflow's `run:` steps, in a fresh venv that has nothing installed: it must
    install deckbuild (here from the wheel, as it would come from the package index) and the
    toolchain at the lock's versions, check, build frozen, and publish; a re-run updates the release."""
    workflow = yaml.safe_load((author_deck / ".github" / "workflows" / "deck.yml").read_text(encoding="utf-8"))
    assert list(workflow["jobs"]) == ["check", "release"]
    runner = tmp_path / "runner"
    venv.create(runner, with_pip=True)
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "gh").write_text(GH_SHIM, encoding="utf-8")
    (shims / "gh").chmod(0o755)
    (tmp_path / "releases").mkdir()
    log = tmp_path / "gh.log"
    env = _clean_env(
        PATH=f"{runner / 'bin'}{os.pathsep}{shims}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(runner),
        PIP_FIND_LINKS=str(wheel.parent), PIP_DISABLE_PIP_VERSION_CHECK="1",
        BUILD_DECK_CACHE_DIR=str(tmp_path / "cache"), RUNNER_TEMP=str(tmp_path),
        GITHUB_REF="refs/tags/v0.1.0", GITHUB_REF_NAME="v0.1.0", GH_LOG=str(log), GH_STATE=str(tmp_path / "releases"),
    )
    lock = json.loads((author_deck / "build_deck.lock").read_text(encoding="utf-8"))

    output = "\n".join(_run_job(workflow, "check", author_deck, env))
    assert "deckbuild==" + _wheel_version(wheel) in output and "Pygments==" + lock["toolchain"]["Pygments"] in output
    installed = _run([runner / "bin" / "python", "-m", "pip", "list", "--format", "json"], cwd=tmp_path, env=env)
    versions = {p["name"].lower(): p["version"] for p in json.loads(installed.stdout)}
    for package, version in lock["toolchain"].items():
        assert versions[package.lower()] == version, package  # CI renders with what the author's build used
    assert not _run(["git", "status", "--porcelain"], cwd=author_deck).stdout  # nothing changed: frozen passed

    _run_job(workflow, "release", author_deck, env)
    assert (author_deck / "dist" / "SHA256SUMS").read_text().split()[1] == "my-notes.apkg"
    calls = log.read_text().splitlines()
    assert calls[-1] == "release create v0.1.0 dist/my-notes.apkg dist/SHA256SUMS --title v0.1.0 --generate-notes"
    _run_job(workflow, "release", author_deck, env)  # a re-run of the release job
    assert log.read_text().splitlines()[-1] == "release upload v0.1.0 dist/my-notes.apkg dist/SHA256SUMS --clobber"

    wrong_tag = {**env, "GITHUB_REF": "refs/tags/v9.9.9", "GITHUB_REF_NAME": "v9.9.9"}
    with pytest.raises(AssertionError, match="tag v9.9.9 is not v0.1.0"):
        _run_job(workflow, "release", author_deck, wrong_tag)
