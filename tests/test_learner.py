"""What a learner meets: the browser's sort column, the learning order, multiple choice that never
leaks its answer, and the topic and source shown on every card (each checked in a real Anki)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from conftest import ROOT, AnkiCollection
from helpers import build_folder, run_cli

from deckbuild.notetypes import NOTETYPES


def test_the_question_is_every_note_types_sort_field(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    build_folder(sample, tmp_path / "dist")
    anki.import_package(tmp_path / "dist" / "sample.apkg")
    imported = [c for c in NOTETYPES.values() if anki.col.models.get(c.id)]  # the kinds the sample uses
    assert len(imported) >= 2
    for contract in imported:
        assert anki.col.models.get(contract.id)["sortf"] == contract.field_names.index(contract.sort_field) != 0
    sort_column = dict(anki.col.db.all("select flds, sfld from notes"))
    assert 'What does "ab" * 2 evaluate to?' in sort_column.values()
    assert not set(sort_column.values()) & set(anki.notes())  # no id slug in the browser's first column


def test_an_old_collection_takes_the_new_sort_field_in_place(
    sample: Path, tmp_path: Path, anki: AnkiCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = tmp_path / "build_deck.lock"
    with monkeypatch.context() as old:  # the note types as they were: sorted by the Id field
        for key, contract in NOTETYPES.items():
            old.setitem(NOTETYPES, key, dataclasses.replace(contract, sort_field="Id"))
        old.setenv("SOURCE_DATE_EPOCH", "1700000000")
        build_folder(sample, tmp_path / "v1", "--lock", lock)
    anki.import_package(tmp_path / "v1" / "sample.apkg")
    names = anki.notetype_names()
    assert anki.col.models.get(NOTETYPES["basic"].id)["sortf"] == 0
    notes_before = anki.notes()

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1790000000")
    build_folder(sample, tmp_path / "v2", "--lock", lock)
    log = anki.import_package(tmp_path / "v2" / "sample.apkg").log  # Anki's default import options
    anki.reopen()
    assert not log.conflicting and not log.new and not log.missing_notetype
    assert anki.notetype_names() == names  # updated in place: no copy such as "... +"
    for contract in NOTETYPES.values():
        if anki.col.models.get(contract.id):
            assert anki.col.models.get(contract.id)["sortf"] == contract.sort_index
    notes = anki.notes()
    assert {key: note.id for key, note in notes.items()} == {key: note.id for key, note in notes_before.items()}
    assert anki.col.db.scalar("select sfld from notes where id = ?", notes["str-repeat"].id) == (
        'What does "ab" * 2 evaluate to?'
    )


@pytest.fixture(scope="module")
def flagship(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's deck, built from content/ as released."""
    out = tmp_path_factory.mktemp("flagship")
    result = run_cli("build", "--out", out, "--lock", out / "build_deck.lock")
    assert result.exit_code == 0, result.output
    return out / "python-interview-prep.apkg"


@pytest.mark.parametrize("with_scheduling", [False, True])
def test_a_new_learner_starts_with_the_highest_value_cards_of_many_topics(
    flagship: Path, tmp_path: Path, with_scheduling: bool
) -> None:
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    anki = AnkiCollection(tmp_path / "anki")
    try:
        options = ImportAnkiPackageOptions(with_scheduling=with_scheduling)  # else Anki's defaults
        anki.col.import_anki_package(ImportAnkiPackageRequest(package_path=str(flagship), options=options))
        col = anki.col
        top = col.decks.id_for_name("Python Interview Prep")
        assert [d.name for d in col.decks.all_names_and_ids()] == ["Default", "Python Interview Prep"]  # one deck
        assert col.decks.config_dict_for_deck_id(top)["new"]["perDay"] == 20  # the default options
        col.decks.select(top)
        queued = col.sched.get_queued_cards(fetch_limit=100).cards
        assert len(queued) == 20  # a day's new cards
        notes = [col.get_card(entry.card.id).note() for entry in queued]
        topics = {tag for note in notes for tag in note.tags if tag.startswith("pyprep::topic::")}
        assert len(topics) == 20  # the first day visits 20 topics, each with its first card
        if col.find_cards("tag:pyprep::core"):  # the core comes first
            assert all("pyprep::core" in note.tags for note in notes), [n["Id"] for n in notes]
    finally:
        anki.close()


def _card(number: int, difficulty: str) -> str:
    return f"## Question {number}?\n<!-- id: q{number}, difficulty: {difficulty} -->\n\nAnswer {number}.\n\n"


def test_the_topic_order_comes_topic_by_topic_from_beginner_to_expert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    content = project / "content"
    content.mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.build_deck]\n\n[[tool.build_deck.decks]]\nname = "Notes"\nnamespace = "notes"\norder = "topic"\n'
    )
    levels = ["expert", "beginner", "advanced", "intermediate", "beginner"]
    (content / "01-zebras.md").write_text("# Zebras\n\n" + "".join(_card(n, d) for n, d in enumerate(levels)))
    (content / "02-ants.md").write_text("# Ants\n\n" + "".join(_card(10 + n, d) for n, d in enumerate(levels[:3])))
    monkeypatch.chdir(project)
    assert run_cli("build").exit_code == 0
    anki = AnkiCollection(tmp_path / "anki")
    try:
        anki.import_package(project / "dist" / "notes.apkg")
        col = anki.col
        col.decks.select(col.decks.id_for_name("Notes"))
        queue = [col.get_card(entry.card.id) for entry in col.sched.get_queued_cards(fetch_limit=20).cards]
        order = [(col.decks.name(card.did), card.note()["Id"]) for card in queue]
    finally:
        anki.close()
    assert order == [
        ("Notes::01 Zebras", "q1"), ("Notes::01 Zebras", "q4"), ("Notes::01 Zebras", "q3"),
        ("Notes::01 Zebras", "q2"), ("Notes::01 Zebras", "q0"),
        ("Notes::02 Ants", "q11"), ("Notes::02 Ants", "q12"), ("Notes::02 Ants", "q10"),
    ]


QUIZ = """---
difficulty: beginner
---

# Quiz

## Which of these is mutable?
<!-- id: mutable-quiz -->

- [ ] `tuple`
- [x] `list`
- [ ] `str`
- [ ] `frozenset`

---

A list can change after it is made.

## Pick the last letter
<!-- id: order-matters, shuffle: false -->

- [ ] a
- [ ] b
- [x] c

c comes last.
"""


def _project(tmp_path: Path, deck_options: str) -> Path:
    """A project with a configured deck holding QUIZ plus more quiz cards, ready for `build`."""
    project = tmp_path / "project"
    (project / "content").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        f'[tool.build_deck]\n\n[[tool.build_deck.decks]]\nname = "Quiz deck"\nnamespace = "quiz"\n{deck_options}\n'
    )
    many = "".join(
        f"\n## Question {n}?\n<!-- id: many-{n} -->\n\n- [x] right {n}\n- [ ] wrong {n}\n- [ ] also wrong {n}\n"
        for n in range(12)
    )
    (project / "content" / "01-quiz.md").write_text(QUIZ + many)
    return project


def _build_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> AnkiCollection:
    monkeypatch.chdir(project)
    result = run_cli("build")
    assert result.exit_code == 0, result.output
    anki = AnkiCollection(project / "anki")
    anki.import_package(project / "dist" / "quiz-deck.apkg")
    return anki


def _options(html: str) -> list[str]:
    return re.findall(r"<li[^>]*>(.*?)</li>", html)


def test_options_before_the_break_make_a_card_whose_front_never_shows_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    anki = _build_project(_project(tmp_path, ""), monkeypatch)
    try:
        note = anki.notes()["mutable-quiz"]
        assert note.notetype == "Multiple choice (build_deck)"
        (card,) = note.cards
        front = card.question.split("</style>")[-1]
        assert "checked" not in front and "correct" not in front and "A list can change" not in front
        assert sorted(_options(note.fields["Options"])) == sorted(
            ["<code>tuple</code>", "<code>list</code>", "<code>str</code>", "<code>frozenset</code>"]
        )
        assert '<li class="correct"><code>list</code></li>' in card.answer and "A list can change" in card.answer
    finally:
        anki.close()


def test_options_are_shuffled_by_card_id_unless_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    anki = _build_project(_project(tmp_path / "on", ""), monkeypatch)
    try:
        notes = anki.notes()
        firsts = [_options(notes[f"many-{n}"].fields["Options"])[0] for n in range(12)]
        positions = {_options(notes[f"many-{n}"].fields["Marked"]).index(f"right {n}") for n in range(12)}
        assert len(positions) > 1 and any(not first.startswith("right") for first in firsts)  # not source order
        assert _options(notes["order-matters"].fields["Options"]) == ["a", "b", "c"]  # `shuffle: false`
        shuffled = {n: _options(notes[f"many-{n}"].fields["Options"]) for n in range(12)}
    finally:
        anki.close()

    # the order depends on the card's id only: another card added above it changes nothing
    project = _project(tmp_path / "again", "")
    quiz = project / "content" / "01-quiz.md"
    quiz.write_text(quiz.read_text().replace("# Quiz\n", "# Quiz\n\n## New?\n<!-- id: new -->\n\n- [ ] x\n- [x] y\n"))
    anki = _build_project(project, monkeypatch)
    try:
        assert {n: _options(anki.notes()[f"many-{n}"].fields["Options"]) for n in range(12)} == shuffled
    finally:
        anki.close()

    anki = _build_project(_project(tmp_path / "off", "shuffle_options = false"), monkeypatch)
    try:
        for n in range(12):
            assert _options(anki.notes()[f"many-{n}"].fields["Options"]) == [f"right {n}", f"wrong {n}", f"also wrong {n}"]
    finally:
        anki.close()


def test_every_card_shows_its_topic_and_links_to_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deckbuild.sanitize import sanitize_html

    template = 'source_url = "https://github.com/o/r/blob/main/{path}"'
    anki = _build_project(_project(tmp_path, template), monkeypatch)
    try:
        for note in anki.notes().values():
            (card,) = note.cards
            front = card.question.split("</style>")[-1]
            assert '<div class="topic-line"><span class="topic">Quiz</span>' in front
            assert front.index('class="topic-line"') < front.index('class="question"')
            link = '<a href="https://github.com/o/r/blob/main/content/01-quiz.md">content/01-quiz.md</a>'
            assert link in card.answer.split('<div class="source">')[1]
            assert sanitize_html(note.fields["Source"]) == note.fields["Source"]  # passes the safety policy
    finally:
        anki.close()


@pytest.mark.parametrize("bad", ['"javascript:alert(1)//{path}"', '"https://example.com/no-placeholder"', '"ftp://x/{path}"', "3"])
def test_a_source_link_must_be_a_web_address_with_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    project = _project(tmp_path, f"source_url = {bad}")
    monkeypatch.chdir(project)
    result = run_cli("check")
    assert result.exit_code == 1
    assert "pyproject.toml:1: error: source_url of deck 'Quiz deck' must be an http:// or https:// address" in result.stderr


def test_the_readme_holds_the_learner_section_the_release_notes_repeat(sample: Path, tmp_path: Path) -> None:
    from deckbuild.config import load_config
    from deckbuild.release import learner_section

    section = learner_section(load_config(pyproject=ROOT / "pyproject.toml").decks[0])
    assert section in (ROOT / "README.md").read_text(encoding="utf-8")
    for words in ("releases/latest/download/python-interview-prep.apkg", "AnkiDroid", "AnkiMobile", "If newer",
                  "Merge notetypes", "25.02", "Always", "tag:pyprep::status::retired", "Toggle Suspend",
                  "one deck", "tag:pyprep::topic::asyncio", "-tag:pyprep::core`", "**2 weeks**", "**8 weeks**"):
        assert words in section
    assert "{" not in section  # every placeholder filled

    previous = tmp_path / "v1.lock"
    build_folder(sample, tmp_path / "v1", "--lock", previous)
    notes = run_cli("release-notes", "--content", sample, "--previous-lock", previous)
    assert notes.exit_code == 0, notes.output
    assert notes.stdout.index("### Retired") < notes.stdout.index("## For learners: installing and updating Sample")
    assert "`sample.apkg`](../../releases/latest/download/sample.apkg)" in notes.stdout
    assert "tag:sample::status::retired" in notes.stdout and "tag:sample::core" in notes.stdout
    assert "**2 weeks**" not in notes.stdout  # the plans were measured on this repository's deck only
