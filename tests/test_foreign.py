"""Markdown written for other tools or for no tool at all (issue 27): it builds, add-ids always
writes its ids, and nothing it says is lost without a warning."""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from conftest import AnkiCollection
from helpers import run_cli
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn

from deckbuild.build import process_file
from deckbuild.errors import Diagnostic, Severity
from deckbuild.records import SourceFile


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


NOTES = {
    "tool.md": (
        "# A tool\n\nWhat the tool is for.\n\n"
        "## Usage\n\nRun it.\n\n---\n\n"  # a divider after an answer
        "## Usage\n\nRun it with care.\n\n"  # the same heading twice in a file
        "## inspect(object)\n## inspect(object, options)\n\nShows an object.\n\n"  # two headings in a row
        "## Release checklist\n\n- [ ] tests pass\n- [ ] tag pushed\n\n"  # nothing ticked
        "## A comment\n\nVisible text.\n\n<!-- {{c1::draft}} and {{c3::more}} -->\n\n"
        "## Subdeck: Space\n\n### Which planet is closest to the Sun?\n\nMercury.\n\n"
        "### Which is largest?\n\nJupiter.\n"
    ),
    "other.md": "## Usage\n\nRun the other tool.\n\n## Installation\n\n`pip install other`\n",
}


def test_ordinary_markdown_builds_with_warnings_and_strict_refuses_it(tmp_path: Path, anki: AnkiCollection) -> None:
    notes = _write(tmp_path / "notes", NOTES)
    result = run_cli("build", "--content", notes, "--out", tmp_path / "dist", "--verbose")
    assert result.exit_code == 0, result.output
    tool = f"{notes / 'tool.md'}"
    for expected in (
        f"{tool}:11: warning: duplicate question: the card at {tool}:5 asks the same; both are built",
        f"{tool}:15: warning: the heading 'inspect(object)' has nothing under it before the next heading, "
        "so it is not a card",
        f"{tool}:22: warning: a task list with no ticked box is shown as a list",
        f"{tool}:31: warning: the heading 'Subdeck: Space' has no text of its own, only ### headings: it is not a card",
        f"{tool}:5: warning: the id 'usage' derived from this question is also derived by the card at "
        f"{notes / 'other.md'}:1: "
        "this card gets 'tool-usage', the id `add-ids` writes for it",
    ):
        assert expected in result.stderr
    assert ": error: " not in result.stderr
    anki.import_package(tmp_path / "dist" / "notes.apkg")
    built = anki.notes()
    assert set(built) == {
        "tool-usage", "tool-usage-2", "inspect-object-options", "release-checklist", "a-comment",
        "which-planet-is-closest-to-the-sun", "which-is-largest", "other-usage", "installation",
    }
    assert built["tool-usage"].fields["Answer"] == "<p>Run it.</p>"  # the divider is no break and no rule
    assert built["a-comment"].notetype.startswith("Markdown Q&A")  # a cloze in a comment is no cloze
    assert "draft" not in built["a-comment"].fields["Answer"]
    assert "tests pass" in built["release-checklist"].fields["Answer"]
    assert built["which-is-largest"].fields["Answer"] == "<p>Jupiter.</p>"
    strict = run_cli("check", "--content", notes, "--strict")
    assert strict.exit_code == 1 and "failed under --strict" in strict.stderr


def test_the_build_gives_repeated_questions_the_ids_add_ids_writes(tmp_path: Path, anki: AnkiCollection) -> None:
    notes = _write(tmp_path / "notes", NOTES)
    assert run_cli("build", "--content", notes, "--out", tmp_path / "before").exit_code == 0
    before = {p.name: p.read_text(encoding="utf-8") for p in notes.glob("*.md")}
    result = run_cli("add-ids", "--content", notes)
    assert result.exit_code == 0, result.output
    assert "added 9 id(s)" in result.stdout
    for name, text in before.items():
        after = (notes / name).read_text(encoding="utf-8")
        changed = [line for line in difflib.ndiff(text.splitlines(), after.splitlines()) if line[:1] in "+-"]
        assert all(re.fullmatch(r"\+ <!-- id: [a-z0-9-]+ -->", line) for line in changed), changed
    rebuilt = run_cli("build", "--content", notes, "--out", tmp_path / "after")
    assert rebuilt.exit_code == 0
    assert "derived from this question" not in rebuilt.stderr and "has no id" not in rebuilt.stderr
    guids = []
    for folder in ("before", "after"):
        collection = AnkiCollection(tmp_path / f"anki-{folder}")
        try:
            collection.import_package(tmp_path / folder / "notes.apkg")
            guids.append({key: note.guid for key, note in collection.notes().items()})
        finally:
            collection.close()
    assert guids[0] == guids[1]  # the same notes to Anki: review history carries over


def test_add_ids_writes_every_id_it_can_whatever_else_is_wrong(tmp_path: Path) -> None:
    notes = _write(tmp_path / "notes", {
        "a.md": "## Fine card\n\nAn answer.\n\n## Broken image\n\n![](missing.png)\n\n"
                "## Bad options\n<!-- difficulty: [unclosed -->\n\nAn answer.\n\n"
                "## Bad difficulty\n<!-- difficulty: hard -->\n\nAn answer.\n",
        "b.md": "## Before the fence\n\nText.\n\n```python\nnever closed\n",
        "c.md": "## Usage\n\nOne.\n\n## Usage\n\nTwo.\n",
    })
    before = {p.name: p.read_text(encoding="utf-8") for p in notes.glob("*.md")}
    result = run_cli("add-ids", "--content", notes)
    assert result.exit_code == 0, result.output
    after = {p.name: p.read_text(encoding="utf-8") for p in notes.glob("*.md")}
    assert re.findall(r"id: ([a-z0-9-]+)", after["a.md"]) == ["fine-card", "broken-image", "bad-difficulty"]
    assert "<!-- id: bad-difficulty, difficulty: hard -->" in after["a.md"]
    assert "<!-- difficulty: [unclosed -->" in after["a.md"]  # options that cannot be read are left alone
    assert re.findall(r"id: ([a-z0-9-]+)", after["b.md"]) == ["before-the-fence"]
    assert re.findall(r"id: ([a-z0-9-]+)", after["c.md"]) == ["c-usage", "c-usage-2"]
    for name, text in before.items():
        removed = [line for line in difflib.ndiff(text.splitlines(), after[name].splitlines()) if line[:1] == "-"]
        assert all("<!--" in line for line in removed), removed  # only an options line gained its id
    assert "code fence ``` is never closed" in result.stderr
    assert "unknown difficulty 'hard'" in result.stderr
    assert "card options cannot be read" in result.stderr
    assert "error(s) above are still to fix (the ids were written all the same)" in result.stderr
    assert "added 6 id(s)" in result.stdout


def test_backslash_delimiters_are_math_everywhere_dollars_are(tmp_path: Path, anki: AnkiCollection) -> None:
    notes = _write(tmp_path / "notes", {"m.md": (
        "---\ndifficulty: beginner\n---\n\n"
        "## What is the derivative of \\(x^2\\)?\n<!-- id: derivative -->\n\n"
        "\\(2x\\), and displayed: \\[\\frac{d}{dx}x^2 = 2x\\]\n\n"
        "## Which is \\(\\pi\\)?\n<!-- id: pi -->\n\n- [x] \\(\\pi \\approx 3.14\\)\n- [ ] \\(e\\)\n\n"
        "## The mean\n<!-- id: mean -->\n\nThe mean is {{c1::\\(\\frac{1}{n}\\sum x_i\\)}}.\n\n"
        "## Escaped\n<!-- id: escaped -->\n\nA sound stays text: \\[sound:x.mp3]\n"
    )})
    result = run_cli("build", "--content", notes, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    anki.import_package(tmp_path / "dist" / "notes.apkg")
    built = anki.notes()
    assert "\\(x^2\\)" in built["derivative"].fields["Question"]
    assert "\\(2x\\)" in built["derivative"].fields["Answer"]
    assert '<div class="math">\\[\\frac{d}{dx}x^2 = 2x\\]</div>' in built["derivative"].fields["Answer"]
    assert "\\(\\pi \\approx 3.14\\)" in built["pi"].fields["Options"]
    assert "{{c1::\\(\\frac{1}{n}\\sum x_i\\)}}" in built["mean"].fields["Text"]
    assert "[sound:x.mp3]" in built["escaped"].fields["Answer"].replace("&#91;", "[")


def test_backslash_math_gets_the_checks_of_dollar_math(tmp_path: Path) -> None:
    unsafe = (("\\(\\href{javascript:alert(1)}{x}\\)", "\\("), ("$\\href{javascript:alert(1)}{x}$", "$"))
    for formula, written in unsafe:
        notes = _write(tmp_path / f"notes{len(written)}", {"m.md": f"## Q\n<!-- id: q -->\n\nText\n{formula}\n"})
        result = run_cli("check", "--content", notes)
        assert result.exit_code == 1
        message = "math may not use \\href: it is not on the allow-list of TeX commands"
        assert f"{notes / 'm.md'}:5: error: {message}" in result.stderr
    cloze = _write(tmp_path / "cloze", {"m.md": "## Q\n<!-- id: q -->\n\n{{c1::a}} and \\({{c2::x}}\\)\n"})
    result = run_cli("check", "--content", cloze)
    assert result.exit_code == 1 and "'{{' inside a formula of a cloze card" in result.stderr


def test_every_warning_kind_is_summarised_and_common_info_strings_are_highlighted(
    tmp_path: Path, anki: AnkiCollection
) -> None:
    unknown = ["{note}", "{warning}", "foo", "bar", "baz"] * 2
    blocks = "".join(f"```{lang}\nx = {n}\n```\n\n" for n, lang in enumerate(unknown))
    known = "".join(f"```{lang}\nconst x = 1;\n```\n\n"
                    for lang in ("mjs", "cjs", "jsx", "tsx", "{=cpp}", "{code-block} python"))
    known += "```console\n$ ls\n```\n\n```shell-session\n$ ls\n```\n\n"
    setext = "".join(f"Line {n}\n---\n\nAnswer {n}.\n\n" for n in range(5))
    notes = _write(tmp_path / "notes", {"a.md": "## Code\n<!-- id: code, difficulty: beginner -->\n\n" + blocks + known,
                                        "b.md": "---\ndifficulty: beginner\n---\n\n" + setext})
    result = run_cli("build", "--content", notes, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert sum("warning: unknown language" in line for line in lines) == 3
    assert "... and 7 more code blocks in an unknown language (10 in all; --verbose shows every one)" in lines
    assert sum("warning: a line of text directly above ---" in line for line in lines) == 3
    assert "... and 2 more lines of text above --- read as headings (5 in all; --verbose shows every one)" in lines
    for language in ("mjs", "cjs", "jsx", "tsx", "cpp", "python", "console", "shell-session"):
        assert f"'{language}'" not in result.stderr
    anki.import_package(tmp_path / "dist" / "notes.apkg")
    answer = anki.notes()["code"].fields["Answer"]
    assert answer.count('<span class="kd">const</span>') == 4  # mjs, cjs, jsx, tsx
    assert answer.count('<span class="gp">$ </span>') == 2  # console, shell-session: prompts


def test_a_message_repeated_with_other_quoted_words_is_summarised_too(tmp_path: Path) -> None:
    cards = "".join(f"## Q{n}\n<!-- id: q{n}, difficulty: beginner -->\n\n"
                    f"Answer.\n\n<h2 data-question>HTML {n}</h2>\n\n"
                    for n in range(6))
    notes = _write(tmp_path / "notes", {"a.md": cards})
    lines = run_cli("check", "--content", notes).stderr.splitlines()
    assert sum("a heading written in HTML is not a question" in line for line in lines) == 3
    assert any(line.startswith("... and 3 more ") for line in lines)


def test_an_introduction_is_on_no_card_and_says_so_at_its_first_line(tmp_path: Path) -> None:
    card = "## Q\n<!-- id: q{n}, difficulty: beginner -->\n\nAn answer.\n"
    notes = _write(tmp_path / "notes", {
        "a.md": "---\ntopic: a\n---\n\n# Title\n\nWhat this file is\nabout.\n\n- one\n- two\n\n" + card.format(n=0),
        "b.md": "Above the title.\n\n# Title\n\n<!-- notes for authors:\n\nnot text -->\n\n\n---\n\n"
        + card.format(n=1),
        "c.md": "# Title\n\n# A second title\n\n" + card.format(n=2),
        "d.md": "Intro.\n\n" + card.format(n=3),
        "e.md": "Intro.\n\n" + card.format(n=4),
    })
    result = run_cli("check", "--content", notes)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    message = "on no card (the file's introduction): make {} a card, or an HTML comment if they are notes for authors"
    before = "lines 7-11 come before the first card and are "
    assert f"{notes / 'a.md'}:7: warning: {before}" + message.format("them") in lines
    assert f"{notes / 'b.md'}:1: warning: line 1 comes before the first card and is " + message.format("it") in lines
    assert sum("the file's introduction" in line for line in lines) == 3  # summarised: comments and --- are no text
    assert ("... and 2 more introductions (text before a file's first card, on no card) "
            "(5 in all; --verbose shows every one)") in lines
    verbose = run_cli("check", "--content", notes, "--verbose").stderr
    assert f"{notes / 'b.md'}:5:" not in verbose and f"{notes / 'c.md'}:3: warning: line 3 comes before" in verbose
    strict = run_cli("check", "--content", notes, "--strict")
    assert strict.exit_code == 1 and "failed under --strict" in strict.stderr
    for name in ("a.md", "b.md", "c.md", "d.md", "e.md"):
        (notes / name).unlink()
    _write(notes, {"f.md": "---\ntopic: f\n---\n\n# Title\n\n<!-- The introduction,\nfor authors. -->\n\n"
                           + card.format(n=5)})
    assert "introduction" not in run_cli("check", "--content", notes).stderr


def test_obsidian_to_ankis_note_id_under_a_heading_is_ignored_with_a_warning(
    tmp_path: Path, anki: AnkiCollection
) -> None:
    notes = _write(tmp_path / "notes", {"a.md": (
        "---\ndifficulty: beginner\n---\n\n"
        "## What is 2 + 2?\n<!--ID: 1712345678901-->\n\nFour.\n\n"
        "## Other\n<!-- ID: not-digits -->\n\nText.\n\n"
        "## Another\n<!-- Id: 17 -->\n\nText.\n"
    )})
    result = run_cli("check", "--content", notes)
    assert result.exit_code == 1
    path = notes / "a.md"
    assert (f"{path}:6: warning: <!--ID: 1712345678901--> is another tool's Anki note id (Obsidian_to_Anki's), which "
            "this build does not use: it is ignored (`convert --from obsidian` reports it as not carried over)"
            ) in result.stderr
    assert f"{path}:6: error" not in result.stderr
    assert f"{path}:11: error: unknown card option 'ID'" in result.stderr  # not a note id: still an error
    assert f"{path}:16: error: unknown card option 'Id'" in result.stderr
    (path).write_text(path.read_text(encoding="utf-8").split("## Other")[0], encoding="utf-8")
    assert run_cli("build", "--content", notes, "--out", tmp_path / "dist").exit_code == 0
    anki.import_package(tmp_path / "dist" / "notes.apkg")
    assert anki.notes()["what-is-2-2"].fields["Answer"] == "<p>Four.</p>"
    assert run_cli("add-ids", "--content", notes).exit_code == 0
    assert "## What is 2 + 2?\n<!-- id: what-is-2-2 -->\n<!--ID: 1712345678901-->\n" in path.read_text(encoding="utf-8")
    # below the options, a comment like any other
    assert run_cli("check", "--content", notes, "--strict").exit_code == 0


def test_a_formula_starting_with_a_digit_stays_text_with_a_warning(tmp_path: Path, anki: AnkiCollection) -> None:
    notes = _write(tmp_path / "notes", {"a.md": (
        "---\ndifficulty: beginner\n---\n\n## Q\n<!-- id: q -->\n\nIt is $2x$, not $3 and $4.\n"
        "Also `$3x$`, \\$4y$, $50k-$80k, $ 2x$, $2x $ and $5 each$.\n\n| a |\n| - |\n| $3_i$ |\n"
    )})
    result = run_cli("build", "--content", notes, "--out", tmp_path / "dist")
    assert result.exit_code == 0, result.output
    found = [line for line in result.stderr.splitlines() if "is shown as text" in line]
    path = notes / "a.md"
    assert found == [
        f"{path}:8: warning: $2x$ is shown as text, dollars and all: a $ followed by a digit is money, not math; "
        "write \\(2x\\) for a formula",
        f"{path}:13: warning: $3_i$ is shown as text, dollars and all: a $ followed by a digit is money, not math; "
        "write \\(3_i\\) for a formula",
    ]
    anki.import_package(tmp_path / "dist" / "notes.apkg")
    answer = anki.notes()["q"].fields["Answer"]
    assert "It is $2x$, not $3 and $4." in answer and "$3_i$" in answer and "\\(" not in answer  # rendered as before


# ---------------------------------------------------------------------------------------------------
# Nothing is lost without a word: every word of a file's prose reaches a card's field or a warning
# at its line, the file's introduction (text before its first card) included.

class _Writer:
    """A Markdown file written line by line, keeping each unique word with the line it is on."""

    def __init__(self) -> None:
        self.counter = iter(range(10**6))
        self.lines: list[str] = []
        self.words: list[tuple[str, int]] = []

    def say(self, n: int = 2) -> str:
        said = [f"w{next(self.counter)}q" for _ in range(n)]
        self.words.extend((word, len(self.lines) + 1) for word in said)
        return " ".join(said)

    def add(self, *new: str) -> None:
        self.lines.extend(new)


def _introduction_block(draw: DrawFn, out: _Writer) -> None:
    """One block before the first card."""
    kind = draw(st.sampled_from(["title", "title", "text", "list", "quote", "comment", "code", "divider"]))
    if kind == "title":
        out.add(f"# {out.say()}")  # the first is the file's title, a second one is on no card
    elif kind == "text":
        out.add(out.say(3), out.say(2))
    elif kind == "list":
        out.add(f"- {out.say(1)}", f"- {out.say(2)}")
    elif kind == "quote":
        out.add("> " + out.say(2))
    elif kind == "comment":
        out.add("<!-- notes for authors,", "not prose -->")
    elif kind == "code":
        out.add("```", out.say(2), "```")
    elif out.lines:  # at the top of the file, --- would open front matter
        out.add("---")


def _text(draw: DrawFn, out: _Writer) -> None:
    out.add(out.say(3))
    if draw(st.booleans()):
        out.add(out.say(2))  # a paragraph of two lines


def _math(draw: DrawFn, out: _Writer) -> None:
    formula = draw(st.sampled_from(["\\(a+b\\)", "\\[x^2\\]", "$y$"]))
    out.add(f"{out.say(1)} {formula} {out.say(1)}")


def _tasks(draw: DrawFn, out: _Writer) -> None:
    for tick in draw(st.lists(st.booleans(), min_size=2, max_size=6)):
        out.add(f"- [{'x' if tick else ' '}] {out.say(1)}")


def _code(draw: DrawFn, out: _Writer) -> None:
    out.add("```" + draw(st.sampled_from(["mjs", "python", "{note}", ""])))
    out.add(out.say(2))  # its words are on the line after the fence
    out.add("```")


# The blocks after the first card's heading, each written by one function; a kind listed twice in
# BODY_KINDS is drawn twice as often.
BODY_BLOCKS: dict[str, Callable[[DrawFn, _Writer], None]] = {
    "h2": lambda draw, out: out.add(f"## {out.say()}"),
    "h3": lambda draw, out: out.add(f"### {out.say()}"),
    "h1": lambda draw, out: out.add(f"# {out.say()}"),
    "text": _text,
    "math": _math,
    "divider": lambda draw, out: out.add("---"),
    "tasks": _tasks,
    "comment": lambda draw, out: out.add("<!-- not prose: a note to the author -->"),
    "html-heading": lambda draw, out: out.add(f"<h2 data-question>{out.say(1)}</h2>"),
    "setext": lambda draw, out: out.add(out.say(1), "---"),
    "repeat": lambda draw, out: out.add("## Usage"),
    "quote": lambda draw, out: out.add("> " + out.say(2)),
    "code": _code,
}
BODY_KINDS = [
    "h2", "h2", "h3", "h1", "text", "text", "math", "divider", "tasks", "comment", "html-heading",
    "setext", "repeat", "quote", "code",
]


@st.composite
def foreign_markdown(draw: DrawFn) -> tuple[str, list[tuple[str, int]]]:
    """A file of ordinary Markdown, and each unique word in it with its line."""
    out = _Writer()
    for _ in range(draw(st.integers(0, 4))):  # the introduction: blocks before the first card
        _introduction_block(draw, out)
        out.add("")
    out.add(f"## {out.say()}")
    for _ in range(draw(st.integers(1, 12))):
        BODY_BLOCKS[draw(st.sampled_from(BODY_KINDS))](draw, out)
        out.add("")
    return "\n".join(out.lines) + "\n", out.words


def _covered(line: int, diagnostics: Sequence[Diagnostic]) -> bool:
    for diagnostic in diagnostics:
        if diagnostic.severity is not Severity.WARNING:
            continue
        span = re.match(r"lines? (\d+)(?:-(\d+))?", diagnostic.message)
        if span:
            first, last = int(span.group(1)), int(span.group(2) or span.group(1))
        else:
            first = last = diagnostic.location.line
        if first <= line <= last:
            return True
    return False


@settings(max_examples=150, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow], deadline=None)
@given(foreign_markdown())
def test_every_word_reaches_a_card_or_a_warning(generated: tuple[str, list[tuple[str, int]]]) -> None:
    text, words = generated
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "notes.md"
        path.write_text(text, encoding="utf-8")
        result = process_file(SourceFile(path=path, text=text), Path(scratch))
    assume(not any(d.severity is Severity.ERROR for d in result.diagnostics))
    shown = " ".join(
        [result.title or ""]
        + [part for card in result.cards for part in (card.question_html, card.context_html, card.answer_html,
                                                       card.reference_html, *(o.html for o in card.options))]
    )
    for word, line in words:
        assert re.search(rf"\b{word}\b", shown) or _covered(line, result.diagnostics), (word, line, text)
    assert "(a+b)" not in shown.replace("\\(a+b\\)", "")  # math reaches a card whole, never as "(a+b)"
