"""The tool as a package: the wheel installs into a fresh venv and `build-deck init` + `build` work
there, away from this checkout (so the wheel must carry its style sheets and templates)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from conftest import ROOT, AnkiCollection


def _run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, f"{command} failed:\n{completed.stdout}\n{completed.stderr}"
    return completed


def test_the_wheel_installs_and_starts_a_deck(tmp_path: Path, anki: AnkiCollection) -> None:
    wheels = tmp_path / "wheels"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", wheels, ROOT], cwd=tmp_path)
    (wheel,) = wheels.glob("build_deck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "deckbuild/resources/card.css" in names and "deckbuild/resources/init-workflow.yml" in names

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    _run([python, "-m", "pip", "install", "--quiet", "-r", ROOT / "requirements" / "build.txt"], cwd=tmp_path)
    _run([python, "-m", "pip", "install", "--quiet", "--no-deps", wheel], cwd=tmp_path)
    command = environment / "bin" / "build-deck"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SOURCE_DATE_EPOCH")}
    assert "build_deck" in _run([command, "--version"], cwd=tmp_path, env=env).stdout

    _run([command, "init", "my-notes", "--name", "My notes"], cwd=tmp_path, env=env)
    deck = tmp_path / "my-notes"
    built = _run([command, "build"], cwd=deck, env=env)
    assert "dist/my-notes.apkg: 1 notes, 1 cards" in built.stdout
    anki.import_package(deck / "dist" / "my-notes.apkg")
    (note,) = anki.notes().values()
    assert note.fields["Id"] == "first-card" and 'class="highlight' in note.fields["Answer"]
