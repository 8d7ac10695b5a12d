"""Notes people already have: every file accounted for, add-ids that always succeeds, and
messages summarised for people (with --quiet and --verbose)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from helpers import run_cli

from deckbuild.addids import FileOutcome, FileStatus, add_missing_ids
from deckbuild.config import load_config


def _docs_folder(root: Path, files: int = 5) -> Path:
    """A folder like a package's docs: the same headings in every file, no ids, no difficulty."""
    notes = root / "notes"
    notes.mkdir()
    for number in range(1, files + 1):
        (notes / f"tool-{number}.md").write_text(
            f"# Tool {number}\n\n## Usage\n\nRun tool {number}.\n\n## Installation\n\n`pip install tool{number}`\n",
            encoding="utf-8",
        )
    return notes


def test_a_file_without_cards_is_named_and_strict_makes_it_an_error(tmp_path: Path) -> None:
    notes = _docs_folder(tmp_path, files=1)
    (notes / "readme.md").write_text("Just prose, no question.\n", encoding="utf-8")
    result = run_cli("check", "--content", notes)
    assert result.exit_code == 0
    assert f"{notes / 'readme.md'}:1: warning: no cards in this file: a card starts with a level-2 heading" in result.stderr
    strict = run_cli("check", "--content", notes, "--strict")
    assert strict.exit_code == 1 and f"{notes / 'readme.md'}:1: warning: no cards in this file" in strict.stderr
    # check writes nothing anyway; under --strict the last line names the warnings that became errors
    assert strict.stderr.endswith(
        "failed under --strict: its 5 warning(s) count as errors "
        "(files without a card: 1; cards without a difficulty: 2; cards without an id: 2)\n"
    ), strict.stderr
    build = run_cli("build", "--strict", "--content", notes, "--out", tmp_path / "dist")
    assert build.exit_code == 1 and build.stderr.endswith("cards without an id: 2); nothing was written\n")
    assert not (tmp_path / "dist").exists()


def test_add_ids_gives_repeated_headings_distinct_ids_and_changes_nothing_else(tmp_path: Path) -> None:
    notes = _docs_folder(tmp_path)
    before = {p.name: p.read_text(encoding="utf-8") for p in notes.glob("*.md")}
    built = run_cli("build", "--content", notes, "--out", tmp_path / "dist")
    assert built.exit_code == 0 and "this card gets 'tool-1-usage', the id `add-ids` writes for it" in built.stderr
    result = run_cli("add-ids", "--content", notes)
    assert result.exit_code == 0, result.output
    assert "added 10 id(s)" in result.stdout
    ids = []
    for name, text in before.items():
        after = (notes / name).read_text(encoding="utf-8")
        added = [line for line in difflib.ndiff(text.splitlines(), after.splitlines()) if line[:1] in "+-"]
        assert all(re.fullmatch(r"\+ <!-- id: [a-z0-9-]+ -->", line) for line in added), added
        ids += re.findall(r"<!-- id: ([a-z0-9-]+) -->", after)
    assert len(ids) == len(set(ids)) == 10
    assert "tool-1-usage" in ids and "tool-2-usage" in ids
    assert run_cli("build", "--content", notes, "--out", tmp_path / "dist").exit_code == 0


def test_add_missing_ids_returns_what_it_did_file_by_file_without_the_command_line(tmp_path: Path) -> None:
    notes = _docs_folder(tmp_path, files=2)
    (notes / "broken.md").write_text("## Broken\n<!-- difficulty: [ -->\n\nAnswer.\n", encoding="utf-8")
    told: list[FileOutcome] = []
    outcome = add_missing_ids(load_config(notes), on_file=told.append)
    assert list(outcome.files) == told  # each file's outcome as soon as it is known, in the same order
    by_name = {file.path.name: file for file in outcome.files}
    assert by_name["tool-1.md"] == FileOutcome(notes / "tool-1.md", FileStatus.WRITTEN, 2)
    assert outcome.added == 4 and outcome.skipped == 0
    assert outcome.errors == 1 and "broken.md" in str(outcome.diagnostics[0].location)
    again = add_missing_ids(load_config(notes))
    assert again.added == 0 and all(file.status is FileStatus.WRITTEN for file in again.files)


def test_a_question_may_repeat_in_another_topic_but_in_the_same_only_with_a_warning(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    card = "## Usage\n<!-- id: {} -->\n\nRun it.\n\n"
    (notes / "a.md").write_text(card.format("a-usage"), encoding="utf-8")
    (notes / "b.md").write_text(card.format("b-usage"), encoding="utf-8")
    assert run_cli("check", "--content", notes).exit_code == 0
    (notes / "a.md").write_text(card.format("a-usage") + card.format("a-usage-again"), encoding="utf-8")
    result = run_cli("check", "--content", notes)
    assert result.exit_code == 0 and f"{notes / 'a.md'}:6: warning: duplicate question: the card at" in result.stderr
    strict = run_cli("check", "--content", notes, "--strict")
    assert strict.exit_code == 1 and "duplicate question" in strict.stderr


def test_repeated_warnings_are_summarised_with_the_command_that_fixes_them(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "facts.md").write_text(
        "---\ndifficulty: beginner\n---\n\n" + "".join(f"## Fact {n}?\n\nAnswer {n}.\n\n" for n in range(10)),
        encoding="utf-8",
    )
    result = run_cli("check", "--content", notes)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert sum("card has no id" in line for line in lines) == 3
    assert "... and 7 more cards without an id (10 in all; --verbose shows every one)" in lines
    assert f"hint: run `python build_deck.py add-ids --content {notes}` to write ids into the sources (it changes nothing else)" in lines
    verbose = run_cli("check", "--content", notes, "--verbose").stderr.splitlines()
    assert sum("card has no id" in line for line in verbose) == 10
    quiet = run_cli("check", "--content", notes, "--quiet")
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr and "hint" not in quiet.stderr


def test_two_folders_with_the_same_name_never_share_notes(tmp_path: Path, monkeypatch, anki) -> None:
    """`init` gives each deck a namespace with a random part: two `notes` decks whose cards share
    ids both arrive in Anki, where folder-name namespaces made one overwrite the other."""
    decks = []
    for owner in ("alice", "bob"):
        root = tmp_path / owner / "notes"
        assert run_cli("init", root).exit_code == 0
        monkeypatch.chdir(root)
        result = run_cli("build")
        assert result.exit_code == 0, result.output
        assert "no configuration" not in result.stderr
        decks.append(root / "dist" / "notes.apkg")
    namespaces = {re.search(r'namespace = "([^"]+)"', (d.parent.parent / "pyproject.toml").read_text()).group(1)
                  for d in decks}
    assert len(namespaces) == 2 and all(re.fullmatch(r"notes-[0-9a-f]{8}", n) for n in namespaces)
    for deck in decks:
        anki.import_package(deck)
    assert len(anki.col.find_notes("")) == 2  # both "first-card" notes, neither overwritten


def test_init_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'mine'\n", encoding="utf-8")
    result = run_cli("init", tmp_path)
    assert result.exit_code == 1 and "pyproject.toml: error: already exists" in result.stderr
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == "[project]\nname = 'mine'\n"
    assert not (tmp_path / "content").exists()


def test_front_matter_of_other_tools_is_read_not_refused(tmp_path: Path, anki) -> None:
    notes = tmp_path / "vault"
    notes.mkdir()
    (notes / "python.md").write_text(
        "---\ntitle: Python basics\ndate: 2024-01-02\naliases: [py]\ndraft: false\n"
        "tags: \"#lang/python, #basics\"\ndifficulty: beginner\n---\n\n"
        "## What does `len('ab')` give?\n<!-- id: len-str -->\n\n`2`\n",
        encoding="utf-8",
    )
    result = run_cli("build", "--content", notes, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    assert f"{notes / 'python.md'}:3: warning: front-matter key(s) date, aliases, draft ignored" in result.stderr
    anki.import_package(tmp_path / "dist" / "vault.apkg")
    (note,) = anki.notes().values()
    assert {"lang::python", "basics"} <= set(note.tags)
    assert note.cards[0].deck == "Vault"  # one deck: the title names the topic shown on the card
    assert '<span class="topic">Python basics</span>' in note.fields["Source"]
    strict = run_cli("check", "--content", notes, "--strict")
    assert strict.exit_code == 1 and "date, aliases, draft ignored" in strict.stderr


def test_a_misspelt_key_of_ours_still_gets_its_did_you_mean(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("---\ndificulty: beginner\ntag: [x]\n---\n\n## Q?\n<!-- id: q -->\n\nA.\n",
                                encoding="utf-8")
    result = run_cli("check", "--content", notes)
    assert result.exit_code == 1
    assert "unknown front-matter key 'dificulty'; did you mean 'difficulty'?" in result.stderr
    assert "unknown front-matter key 'tag'; did you mean 'tags'?" in result.stderr


def _write_wav(path: Path) -> None:
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 800)


def test_images_and_sounds_beside_the_notes_are_packaged_and_played(tmp_path: Path, anki) -> None:
    notes = tmp_path / "notes"
    _write_wav(notes / "audio" / "hello.wav")
    (notes / "diagram.png").write_bytes((Path(__file__).parent.parent / "docs" / "screenshots" / "code-card-light.png").read_bytes())
    (notes / "a.md").write_text(
        "---\ndifficulty: beginner\n---\n\n## How is it said?\n<!-- id: said -->\n\n"
        "![](audio/hello.wav)\n\n---\n\n[sound:audio/hello.wav] `[sound:not-played.mp3]` [say it](audio/hello.wav)\n\n"
        "![a diagram](diagram.png)\n",
        encoding="utf-8",
    )
    result = run_cli("build", "--content", notes, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    anki.import_package(tmp_path / "dist" / "notes.apkg")
    (card_id,) = anki.col.find_cards("")
    card = anki.col.get_card(card_id)
    played = [tag.filename for tag in card.question_av_tags()]
    assert len(played) == 1 and played[0].startswith("hello-") and played[0].endswith(".wav")
    # [sound:...] and a link to the file, both written on the back
    assert [tag.filename for tag in card.answer_av_tags()] == played * 2
    assert "say it" in card.answer()
    assert "[sound:not-played.mp3]" in card.answer().replace("&#91;", "[")  # code shows it as text
    media = Path(anki.col.media.dir())
    assert (media / played[0]).is_file() and any(p.name.startswith("diagram-") for p in media.iterdir())


def test_missing_and_outside_files_get_different_messages(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    _write_wav(tmp_path / "elsewhere" / "x.wav")
    (notes / "a.md").write_text(
        "## Q?\n<!-- id: q, difficulty: beginner -->\n\n![](gone.png)\n\n[sound:../elsewhere/x.wav]\n",
        encoding="utf-8",
    )
    result = run_cli("check", "--content", notes)
    assert result.exit_code == 1
    assert f"a.md:4: error: image 'gone.png' not found: there is no {notes / 'gone.png'}" in result.stderr
    assert ("a.md:6: error: sound '../elsewhere/x.wav' is outside the folders cards may use "
            f"(media/ or {notes}/): move it there, or name its folder with --media") in result.stderr
    named = run_cli("check", "--content", notes, "--media", tmp_path / "elsewhere")
    assert "sound '../elsewhere/x.wav'" not in named.stderr and "gone.png" in named.stderr


def test_wide_code_warnings_are_summarised_too(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    wide = "\n".join(f"value_{n} = 'a string that is long enough to pass sixty columns wide'" for n in range(5))
    (notes / "a.md").write_text(
        f"## Q?\n<!-- id: q, difficulty: beginner -->\n\n```python\n{wide}\n```\n\n---\n\nAnswer.\n", encoding="utf-8"
    )
    lines = run_cli("check", "--content", notes).stderr.splitlines()
    assert sum("[wide-code]" in line for line in lines) == 3
    assert "... and 2 more code lines wider than the phone width (5 in all; --verbose shows every one)" in lines


def test_unknown_languages_and_setext_headings_are_summarised_too(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    blocks = "".join(f"```mjs{n}\nlet x = {n}\n```\n\n" for n in range(5))
    setext = "".join(f"Text {n}\n---\n\nBody.\n\n" for n in range(5))
    (notes / "a.md").write_text(f"## Q?\n<!-- id: q, difficulty: beginner -->\n\n{blocks}{setext}", encoding="utf-8")
    lines = run_cli("check", "--content", notes).stderr.splitlines()
    assert sum("warning: unknown language" in line for line in lines) == 3
    assert "... and 2 more code blocks in an unknown language (5 in all; --verbose shows every one)" in lines
    assert sum("makes a heading and so a new card" in line for line in lines) == 3
    assert "... and 2 more lines of text above --- read as headings (5 in all; --verbose shows every one)" in lines
