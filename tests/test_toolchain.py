"""The locked toolchain and the release steps: what CI and the release job rely on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLE
from packaging.markers import default_environment
from packaging.requirements import Requirement

REQUIREMENTS = ROOT / "requirements"


def _pinned_here(path: Path) -> dict[str, str]:
    """name -> version of a compiled requirements file, for the running Python (a universal lock
    may pin one version per range of Pythons, told apart by markers)."""
    environment = default_environment()
    chosen = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if match:
            name, version, marker = match.groups()
            if not marker or Requirement(f"x; {marker}").marker.evaluate(environment):
                chosen[name.lower().replace("_", "-")] = version
    return chosen


@pytest.mark.parametrize("lock", ["build.txt", "test.txt"])
def test_every_pin_has_hashes(lock: str) -> None:
    text = (REQUIREMENTS / lock).read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.strip())
    assert blocks and all("--hash=sha256:" in block for block in blocks if "==" in block)


def test_the_locks_satisfy_pyproject_and_agree_with_each_other() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    build, test = _pinned_here(REQUIREMENTS / "build.txt"), _pinned_here(REQUIREMENTS / "test.txt")
    for spec, lock in [(s, build) for s in project["dependencies"]] + [
        (s, test) for s in project["dependencies"] + project["optional-dependencies"]["test"]
    ]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in lock, f"{name} is in pyproject.toml but not locked"
        assert requirement.specifier.contains(lock[name]), f"{name}=={lock[name]} is outside {requirement.specifier}"
    shared = set(build) & set(test)
    assert {n: build[n] for n in shared} == {n: test[n] for n in shared}


@pytest.mark.skipif(bool(os.environ.get("BUILD_DECK_UNLOCKED")), reason="the newest-dependencies job runs unlocked on purpose")
def test_the_toolchain_that_renders_is_the_locked_one() -> None:
    """The suite runs on the locked versions (what the README installs): a drift shows here first."""
    build = _pinned_here(REQUIREMENTS / "build.txt")
    for library in ("pygments", "markdown-it-py", "mdit-py-plugins", "nh3", "genanki", "click"):
        assert metadata.version(library) == build[library], f"{library} is not the locked version"


def _release_repo(tmp_path: Path) -> Path:
    """A small project with this tool, the sample deck and a committed lock, as a release sees it."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "deckbuild", repo / "deckbuild", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "build_deck.py", repo)
    (repo / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "prepare-release", repo / "scripts")
    shutil.copytree(SAMPLE, repo / "content")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1.2.0"\n\n[tool.build_deck]\ncontent = "content"\n'
        'out = "dist"\nlock = "build_deck.lock"\n\n[[tool.build_deck.decks]]\nname = "Demo"\n'
        'file = "demo.apkg"\nnamespace = "demo"\n',
        encoding="utf-8",
    )
    (repo / ".gitignore").write_text("dist/\nrelease/\n__pycache__/\n", encoding="utf-8")
    env = _env(tmp_path)
    subprocess.run([sys.executable, "build_deck.py", "build"], cwd=repo, env=env, check=True, capture_output=True)
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v"]):
        subprocess.run(["git", *command], cwd=repo, check=True, capture_output=True)
    return repo


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    bin_dir = str(Path(sys.executable).parent)
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "BUILD_DECK_CACHE_DIR": str(tmp_path / "cache"), **extra}


def _prepare(repo: Path, tmp_path: Path, tag: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "scripts/prepare-release", tag, "release"], cwd=repo, env=_env(tmp_path, **extra),
        capture_output=True, text=True, timeout=300,
    )


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("sha256sum") is None, reason="needs git and sha256sum")
def test_release_steps_publish_checksums_and_notes(tmp_path: Path) -> None:
    repo = _release_repo(tmp_path)
    wrong = _prepare(repo, tmp_path, "v9.9.9")
    assert wrong.returncode == 1 and "does not match the project's version 1.2.0" in wrong.stderr
    done = _prepare(repo, tmp_path, "v1.2.0")
    assert done.returncode == 0, done.stderr
    release = repo / "release"
    assert (release / "assets.txt").read_text().split() == ["release/demo.apkg", "release/SHA256SUMS"]
    check = subprocess.run(["sha256sum", "--check", "SHA256SUMS"], cwd=release, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    body = (release / "body.md").read_text(encoding="utf-8")
    assert body == (release / "release-notes.md").read_text(encoding="utf-8")
    assert "### Added (5)" in body and "`str-repeat`" in body


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("sha256sum") is None, reason="needs git and sha256sum")
def test_long_release_notes_become_a_summary_and_an_attachment(tmp_path: Path) -> None:
    repo = _release_repo(tmp_path)
    done = _prepare(repo, tmp_path, "v1.2.0", RELEASE_NOTES_LIMIT="200")
    assert done.returncode == 0, done.stderr
    release = repo / "release"
    body = (release / "body.md").read_text(encoding="utf-8")
    assert "- Added: 5 card(s)" in body and "see the attached release-notes.md" in body
    assert "`str-repeat`" not in body and len(body) < len((release / "release-notes.md").read_text())
    assert (release / "assets.txt").read_text().split()[-1] == "release/release-notes.md"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_release_fails_when_the_committed_lock_is_stale(tmp_path: Path) -> None:
    repo = _release_repo(tmp_path)
    card = repo / "content" / "01-strings.md"
    card.write_text(card.read_text(encoding="utf-8").replace("repeats it.", "repeats it twice."), encoding="utf-8")
    failed = _prepare(repo, tmp_path, "v1.2.0")
    assert failed.returncode == 1
    assert "--frozen: the lock would change: 1 note(s) changed (demo/str-repeat)" in failed.stderr
    assert not list((repo / "release").glob("*.apkg")) if (repo / "release").exists() else True


def test_the_package_page_links_only_to_files_of_this_repository() -> None:
    """The package page (docs/PYPI.md) is shown away from the repository, so every link in it is
    absolute, under the project's Homepage, and names a file that exists here."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    page = ROOT / project["readme"]["file"]
    home = project["urls"]["Homepage"]
    links = re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8"))
    assert links and all(link.startswith(home) for link in links), links
    for link in [*links, *project["urls"].values()]:
        assert link.startswith(home)
        path = link.removeprefix(home).removeprefix("/blob/main/")
        if path and not path.startswith(("#", "/issues")):
            assert (ROOT / path).is_file(), link
    assert project["name"] == "deckbuild" and project["scripts"] == {"deckbuild": "deckbuild.cli:main"}


def test_the_tool_and_the_distribution_have_one_version() -> None:
    """RELEASING.md: a tag is `v` + [project] version, and `deckbuild --version` (which init pins in
    the workflows it writes) must say the same number."""
    from deckbuild import __version__

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == __version__
