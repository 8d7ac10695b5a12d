"""The card-quality linter: golden cases per rule, silences, configuration, the CLI and its speed.

Each rule has a folder under fixtures/lint/<rule>/. A case is a Markdown file (or a folder of them,
for rules across files) named `bad-*` (its cards must trigger the rule) or `good-*` (they must
not). `bad-<case>.expected` holds the exact findings of that rule, as `check --lint` prints them;
a `good-*` case must give none. Adding a case means adding a file (`pytest --update-goldens` writes
the expected findings of a new bad case, for review).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from helpers import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import markdown_files

from deckbuild.lint import RULES, LintSettings, display_width, lint_cards

ROOT = Path(__file__).parent.parent
LINT = Path(__file__).parent / "fixtures" / "lint"
CASES = sorted(p for p in LINT.glob("*/*") if p.suffix != ".expected")


def _lint_case(case: Path, tmp_path: Path, monkeypatch, *extra: str):
    content = tmp_path / "content"
    tmp_path.mkdir(parents=True, exist_ok=True)
    if case.is_dir():
        shutil.copytree(case, content)
    else:
        content.mkdir()
        shutil.copy(case, content / case.name)
    rule = RULES.get(case.parent.name)
    if rule is not None and not rule.on_by_default:  # a rule that only a configuration switches on
        (tmp_path / "pyproject.toml").write_text(f"[tool.build_deck.lint]\n{case.parent.name} = true\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return run_cli("check", "--content", "content", "--lint", *extra)


def test_every_rule_has_cases_that_must_and_must_not_trigger() -> None:
    assert sorted(p.name for p in LINT.iterdir()) == sorted(RULES)
    for rule in RULES:
        names = [p.name for p in (LINT / rule).iterdir() if p.suffix != ".expected"]
        assert any(n.startswith("bad-") for n in names), rule
        assert any(n.startswith("good-") for n in names), rule
        assert all(n.startswith(("bad-", "good-")) for n in names), names


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.stem}" for c in CASES])
def test_rule_finds_exactly_what_its_case_expects(case: Path, tmp_path: Path, monkeypatch, update_goldens: bool) -> None:
    rule = case.parent.name
    result = _lint_case(case, tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output  # findings never fail a check without --strict
    assert "error:" not in result.stderr, result.stderr  # the case itself is valid content
    found = "".join(line + "\n" for line in result.stdout.splitlines() if f": lint[{rule}]: " in line)
    if case.name.startswith("good-"):
        assert found == "", f"{rule} must not trigger on {case.name}:\n{found}"
        return
    expected_file = case.parent / f"{case.stem}.expected"
    if update_goldens:
        expected_file.write_text(found, encoding="utf-8")
    assert found, f"{rule} must trigger on {case.name}"
    assert found == expected_file.read_text(encoding="utf-8")


def test_findings_are_sorted_and_summarised_by_rule(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(LINT / "yes-no" / "bad-after-a-setup.md", folder / "b.md")
    shutil.copy(LINT / "two-questions" / "bad-and-why.md", folder / "a.md")
    result = _lint_case(folder, tmp_path, monkeypatch)
    assert result.stdout == (
        "content/a.md:7: lint[two-questions]: the question asks two things ('and why' starts a second question): "
        "ask each on a card of its own\n"
        "content/b.md:7: lint[yes-no]: the question can be answered by yes or no, so half of the guesses are "
        "right: ask what happens, which one, or why instead\n"
        "content/b.md:12: lint[yes-no]: the question can be answered by yes or no, so half of the guesses are "
        "right: ask what happens, which one, or why instead\n"
        "lint: 3 finding(s), 0 silenced\n"
        "  two-questions        1\n"
        "  yes-no               2\n"
    )
    assert result.exit_code == 0
    strict = run_cli("check", "--content", "content", "--lint", "--strict")
    assert strict.exit_code == 1 and strict.stdout == result.stdout


def test_a_clean_deck_passes_strict_lint(tmp_path: Path, monkeypatch) -> None:
    result = _lint_case(LINT / "long-answer" / "good-short.md", tmp_path, monkeypatch, "--strict")
    assert result.exit_code == 0
    assert result.stdout == "lint: 0 finding(s), 0 silenced\n"


SILENCED = """\
---
difficulty: intermediate
---

# Imports

## What does Python search, in order, for `import spam`?
<!-- id: import-search, lint: {ignore: [list-recall], why: "the order is the point of the card"} -->

- `sys.modules`, the modules already imported
- the built-in modules
- the frozen modules
- each directory of `sys.path`, in order

## Is `sys.path` a list?
<!-- id: sys-path-list -->

Yes.
"""


def test_a_card_silences_a_rule_with_a_reason_and_the_summary_counts_it(tmp_path: Path, monkeypatch) -> None:
    case = tmp_path / "silenced.md"
    case.write_text(SILENCED, encoding="utf-8")
    result = _lint_case(case, tmp_path, monkeypatch)
    assert "lint[list-recall]" not in result.stdout
    assert result.stdout.endswith(
        "lint: 1 finding(s), 1 silenced\n"
        "  list-recall          0 (1 silenced)\n"
        "  yes-no               1\n"
    )
    # without the silence the same card is reported
    unsilenced = SILENCED.replace(', lint: {ignore: [list-recall], why: "the order is the point of the card"}', "")
    (tmp_path / "content" / "silenced.md").write_text(unsilenced, encoding="utf-8")
    assert "content/silenced.md:7: lint[list-recall]" in run_cli("check", "--content", "content", "--lint").stdout


def test_a_silence_that_silences_nothing_is_a_finding(tmp_path: Path, monkeypatch) -> None:
    case = tmp_path / "silenced.md"
    text = SILENCED.replace("ignore: [list-recall]", "ignore: [list-recall, long-answer]")
    case.write_text(text, encoding="utf-8")
    result = _lint_case(case, tmp_path, monkeypatch)
    assert ("content/silenced.md:7: lint[unused-silence]: the card silences long-answer, which finds nothing "
            "here: remove `long-answer` from its lint ignore") in result.stdout
    assert "  unused-silence       1\n" in result.stdout


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("lint: {ignore: [list-recall]}", 'a silenced lint rule needs a reason: lint: {ignore: [list-recall], why: "the order is the point"}'),
        ('lint: {ignore: [list-recal], why: "ordered"}', "unknown lint rule 'list-recal'; did you mean 'list-recall'?"),
        ('lint: {ignore: [], why: "ordered"}', 'lint ignore takes a list of rule names: lint: {ignore: [list-recall], why: "the order is the point"}'),
        ("lint: list-recall", 'the lint option is written as lint: {ignore: [list-recall], why: "the order is the point"}'),
    ],
)
def test_a_bad_silence_is_an_error_at_the_options_line(option: str, message: str, tmp_path: Path, monkeypatch) -> None:
    case = tmp_path / "bad.md"
    case.write_text(SILENCED.replace('lint: {ignore: [list-recall], why: "the order is the point of the card"}', option))
    result = _lint_case(case, tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert f"content/bad.md:8: error: {message}\n" in result.stderr


def _project(tmp_path: Path, lint_table: str) -> None:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.build_deck]\ncontent = "content"\n\n[[tool.build_deck.decks]]\nname = "Deck"\n\n'
        f"[tool.build_deck.lint]\n{lint_table}\n",
        encoding="utf-8",
    )


def test_configuration_changes_a_threshold_and_switches_a_rule_off(tmp_path: Path, monkeypatch) -> None:
    case = LINT / "list-recall" / "bad-uses.md"
    assert "lint[list-recall]" in _lint_case(case, tmp_path / "a", monkeypatch).stdout
    _project(tmp_path / "b", "list-recall = 6")
    assert "lint[list-recall]" not in _lint_case(case, tmp_path / "b", monkeypatch).stdout
    _project(tmp_path / "c", "list-recall = 5")
    assert "lint[list-recall]" in _lint_case(case, tmp_path / "c", monkeypatch).stdout
    _project(tmp_path / "d", "list-recall = false")
    assert "lint[list-recall]" not in _lint_case(case, tmp_path / "d", monkeypatch).stdout


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("list-recal = 3", "unknown lint rule 'list-recal' in [tool.build_deck.lint]; did you mean 'list-recall'?"),
        ("yes-no = 3", "lint rule 'yes-no' is switched with true or false"),
        ('long-answer = "many"', "lint rule 'long-answer' takes a positive number (words, default 60) or false"),
        ("near-duplicate = 5", "lint rule 'near-duplicate' takes a similarity between 0 and 1 (default 0.5) or false"),
    ],
)
def test_bad_configuration_is_an_error(table: str, message: str, tmp_path: Path, monkeypatch) -> None:
    _project(tmp_path, table)
    result = _lint_case(LINT / "long-answer" / "good-short.md", tmp_path, monkeypatch)
    assert result.exit_code == 1
    assert f"pyproject.toml:8: error: {message}\n" in result.stderr  # the line of the rule's key


def test_check_warns_about_wide_code_at_its_line_even_without_lint(tmp_path: Path, monkeypatch) -> None:
    case = LINT / "wide-code" / "bad-traced-on-the-front.md"
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(case, content / case.name)
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "content")
    assert result.exit_code == 0
    assert result.stderr.startswith(
        "content/bad-traced-on-the-front.md:11: warning: code line on the question side is 65 columns wide "
        "(at most 42): it wraps on a phone, where the learner must trace it; break it or shorten names [wide-code]\n"
    )
    assert run_cli("check", "--content", "content", "--strict").exit_code == 1
    _project(tmp_path, "wide-code = 80")
    assert "wide-code" not in run_cli("check", "--content", "content").stderr
    _project(tmp_path, "wide-code = false")
    assert "wide-code" not in run_cli("check", "--content", "content").stderr


def test_check_warns_about_a_quiz_biased_to_one_position(tmp_path: Path, monkeypatch) -> None:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(LINT / "choice-position" / "bad-always-second.md", content / "quiz.md")
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "content")
    assert "content/quiz.md:7: warning: deck 'Content': the correct option is option 2 in 9 of 9" in result.stderr
    assert "[choice-position]" in result.stderr


def test_a_shuffled_quiz_is_judged_in_the_order_the_deck_shows(tmp_path: Path, monkeypatch) -> None:
    """The same quiz with the deck's shuffling on: the build moves the answers, so no bias is left."""
    content = tmp_path / "content"
    content.mkdir()
    text = (LINT / "choice-position" / "bad-always-second.md").read_text()
    (content / "quiz.md").write_text(text.replace(", shuffle: false", ""))
    monkeypatch.chdir(tmp_path)
    result = run_cli("check", "--content", "content")
    assert result.exit_code == 0 and "choice-position" not in result.stderr


def test_a_silenced_card_is_not_warned_about_by_check(tmp_path: Path, monkeypatch) -> None:
    content = tmp_path / "content"
    content.mkdir()
    text = (LINT / "wide-code" / "bad-traced-on-the-front.md").read_text()
    text = text.replace("<!-- id: default-shared -->",
                        '<!-- id: default-shared, lint: {ignore: [wide-code], why: "one line on purpose"} -->')
    (content / "card.md").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert "wide-code" not in run_cli("check", "--content", "content").stderr


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("abc") == 3
    assert display_width("東京") == 4
    assert display_width("\tx") == 5
    assert display_width("e\u0301") == 1  # a combining accent takes no column


def test_retired_cards_are_not_linted(tmp_path: Path, monkeypatch) -> None:
    case = tmp_path / "retired.md"
    text = (LINT / "yes-no" / "bad-does.md").read_text()
    case.write_text(text.replace("<!-- id: cancelled-error-base -->", "<!-- id: cancelled-error-base, retired: true -->"))
    assert "lint[yes-no]" not in _lint_case(case, tmp_path, monkeypatch).stdout


@pytest.mark.deck
def test_every_rule_runs_over_the_whole_deck() -> None:
    """Every rule runs over the real deck (its cost is measured in benchmarks/bench.py, `check --lint`)."""
    from deckbuild.build import read_content
    from deckbuild.config import load_config
    from deckbuild.plan import deck_cards

    config = load_config(ROOT / "content", pyproject=ROOT / "pyproject.toml")
    content = read_content(config)
    assert len(content.cards) > 500
    report = lint_cards(content.cards, LintSettings(), deck_cards(config, content.cards))
    # the deck passes: what is left is silenced with a reason, under 5 % of the cards
    assert report.findings == () and 0 < len(report.silenced) < 0.05 * len(content.cards)


def _preview_with_findings(tmp_path: Path, monkeypatch) -> Path:
    content = tmp_path / "content"
    content.mkdir()
    shutil.copy(LINT / "yes-no" / "bad-does.md", content / "a.md")
    shutil.copy(LINT / "long-answer" / "good-short.md", content / "b.md")
    shutil.copy(LINT / "two-questions" / "bad-and-why.md", content / "c.md")
    monkeypatch.chdir(tmp_path)
    result = run_cli("preview", "--content", "content", "--out", "site")
    assert result.exit_code == 0, result.output
    assert "lint: 2 finding(s) shown on the cards they concern" in result.stderr
    return tmp_path / "site" / "content.html"


def test_preview_page_carries_each_finding_on_its_card(tmp_path: Path, monkeypatch) -> None:
    page = _preview_with_findings(tmp_path, monkeypatch).read_text(encoding="utf-8")
    articles = page.split('<article class="preview-card"')[1:]
    by_id = {article.split("<code>")[1].split("</code>")[0]: article for article in articles}
    assert "content/a.md:7: lint[yes-no]: the question can be answered by yes or no" in by_id["cancelled-error-base"]
    assert "lint[two-questions]" in by_id["eafp-and-why"] and "lint[yes-no]" not in by_id["eafp-and-why"]
    assert "preview-lint" not in by_id["range-length"] and 'data-lint="0"' in by_id["range-length"]


def test_preview_shows_findings_on_their_cards_in_a_browser(tmp_path: Path, monkeypatch) -> None:
    from browser import open_browser

    page_path = _preview_with_findings(tmp_path, monkeypatch)
    with open_browser() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri())
        card = page.locator(".preview-card", has_text="cancelled-error-base")
        finding = card.locator(".preview-lint li")
        assert finding.count() == 1 and finding.is_visible()
        assert finding.inner_text().startswith("content/a.md:7: lint[yes-no]: ")
        assert page.locator(".preview-card", has_text="range-length").locator(".preview-lint").count() == 0
        page.check("#lint-only")
        visible = page.locator(".preview-card:not([hidden])")
        assert visible.count() == 2
        assert page.locator("#shown").inner_text() == "2 cards"
        page.uncheck("#lint-only")
        assert page.locator(".preview-card:not([hidden])").count() == 3
        assert errors == []


LINT_LINE = re.compile(r"^\S+?:\d+: lint\[[a-z-]+\]: .+$")


@settings(max_examples=40, deadline=None)
@given(st.lists(markdown_files(), min_size=1, max_size=3), st.sampled_from(["", "lint: {ignore: [yes-no], why: x}"]))
def test_lint_never_fails_on_any_markdown(files: list[str], silence: str) -> None:
    """Whatever the cards hold, `check --lint` prints findings in its format or content errors."""
    with tempfile.TemporaryDirectory() as scratch:
        content = Path(scratch) / "content"
        content.mkdir()
        for number, text in enumerate(files):
            if silence:
                text = text.replace("<!-- id: a,", f"<!-- id: a, {silence},")
            (content / f"{number}.md").write_text(text, encoding="utf-8")
        result = run_cli("check", "--content", content, "--lint")
        assert result.exit_code in (0, 1), result.output
        assert "internal error" not in result.output
        if result.exit_code == 0:
            lines = result.stdout.splitlines()
            summary = lines.index(next(line for line in lines if line.startswith("lint: ")))
            assert all(LINT_LINE.match(line) for line in lines[:summary]), lines


def test_either_card_of_a_near_duplicate_pair_silences_it(tmp_path: Path, monkeypatch) -> None:
    case = tmp_path / "twins.md"
    text = (LINT / "near-duplicate" / "bad-reworded-twins.md").read_text()
    case.write_text(text.replace(
        "<!-- id: coroutine-not-generator -->",
        '<!-- id: coroutine-not-generator, lint: {ignore: [near-duplicate, yes-no], why: "kept twins on purpose"} -->',
    ))
    result = _lint_case(case, tmp_path, monkeypatch)
    assert "lint[near-duplicate]" not in result.stdout
    assert "  near-duplicate       0 (1 silenced)\n" in result.stdout


def test_a_quiz_card_that_silences_a_deck_rule_leaves_the_count(tmp_path: Path, monkeypatch) -> None:
    text = (LINT / "choice-position" / "bad-always-second.md").read_text()
    silence = ', lint: {ignore: [choice-position], why: "the order of the options is the point"} -->'
    for number in range(3):  # 6 of 9 counted: too few to tell
        text = text.replace(f"<!-- id: quiz-{number}, shuffle: false -->", f"<!-- id: quiz-{number}, shuffle: false{silence}")
    case = tmp_path / "quiz.md"
    case.write_text(text)
    result = _lint_case(case, tmp_path, monkeypatch)
    assert "lint[choice-position]" not in result.stdout
    assert "  choice-position      0 (3 silenced)\n" in result.stdout
    assert "choice-position" not in result.stderr
