"""Nothing unsafe reaches a card: injection payloads are built, imported into Anki and inspected."""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import FIXTURES, AnkiCollection
from helpers import build_folder


def _corpus(name: str) -> list[str]:
    lines = (FIXTURES / "injection" / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


PAYLOADS = _corpus("payloads.txt")  # each builds, and nothing of it survives
REJECTED = _corpus("rejected.txt")  # each is an error at its line
SAFE_URL = re.compile(r"^(?:https?://|mailto:)", re.I)
FORBIDDEN_TEX = re.compile(r"\\(?:href|url|style|class|cssId|require|unicode|html\w*|def|color|bbox)\b")
ANKI_MARKUP = re.compile(r"\[/?(?:sound:|latex\]|\$\$?\]|anki:)", re.I)


class CardHTML(HTMLParser):
    """Reads card HTML the way a browser and MathJax would, and records everything that could run,
    load or be read by Anki as its own markup."""

    def __init__(self, allowed_tags: set[str], media_names: set[str]):
        super().__init__(convert_charrefs=True)
        self.allowed_tags, self.media_names = allowed_tags, media_names
        self.problems: list[str] = []
        self.runs: list[str] = [""]  # the strings MathJax looks for formulas in
        self.skipped: list[bool] = []  # open <pre> and <code> elements: does MathJax skip each?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed_tags:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or name in ("style", "srcset", "action", "formaction", "data", "background"):
                self.problems.append(f"attribute {name}={value!r}")
            if name == "src" and value not in self.media_names:
                self.problems.append(f"src {value!r} is not a packaged file")
            if name == "href" and not SAFE_URL.match(value):
                self.problems.append(f"href {value!r}")
        if tag not in ("br", "wbr"):
            self.runs.append("")
        if tag in ("pre", "code"):  # MathJax skips them, unless their class asks it to read them
            processed = re.search(r"(^| )(mathjax_process|tex2jax_process)($| )", dict(attrs).get("class") or "")
            self.skipped.append(not processed)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "wbr"):
            self.runs.append("")
        if tag in ("pre", "code") and self.skipped:
            self.skipped.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.skipped):
            self.runs[-1] += data

    def check(self, html_text: str) -> list[str]:
        if re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", html_text):
            self.problems.append("a control character")
        if ANKI_MARKUP.search(html_text):  # Anki reads the HTML source, attributes included
            self.problems.append("text Anki reads as its own markup")
        self.feed(html_text)
        self.close()
        for run in self.runs:
            if re.search(r"\\[(\[]", run) and FORBIDDEN_TEX.search(run):
                self.problems.append(f"MathJax would read {run!r}")
        return self.problems


def test_corpus_has_every_payload_class() -> None:
    assert len(PAYLOADS) >= 40 and len(REJECTED) >= 20


def _write_payload_cards(folder: Path) -> None:
    cards = ["---\ndifficulty: beginner\n---\n"]
    for number, payload in enumerate(PAYLOADS):
        cards.append(
            f"## Question {number} {payload}\n<!-- id: q{number} -->\n\nAnswer {payload}\n\n"
            f"Inline: {payload} and code `{payload}`\n\n```html\n{payload}\n```\n\n"
            f"## Choice {number}\n<!-- id: c{number} -->\n\n- [x] right {payload}\n- [ ] wrong\n\n{payload}\n"
        )
    (folder / "payloads.md").write_text("\n".join(cards), encoding="utf-8")


def import_payload_deck(tmp_path: Path, anki: AnkiCollection) -> set[str]:
    """Build every payload into one deck and import it; the names of the media it packaged."""
    content = tmp_path / "content"
    content.mkdir()
    _write_payload_cards(content)
    build_folder(content, tmp_path / "dist")
    package = tmp_path / "dist" / "content.apkg"
    anki.import_package(package)
    return set(json.loads(zipfile.ZipFile(package).read("media")).values())


def test_no_payload_survives_in_any_field_or_card(tmp_path: Path, anki: AnkiCollection) -> None:
    """Every field, and every card as Anki renders it, holds only allowed tags, no handler, style
    or unsafe URL, only packaged images, no control character, nothing Anki plays or typesets as
    LaTeX, and no formula MathJax would read with a command off the allow-list."""
    from deckbuild.sanitize import ALLOWED_TAGS

    media_names = import_payload_deck(tmp_path, anki)
    notes = anki.notes()
    assert len(notes) == 2 * len(PAYLOADS)
    # the templates' own markup (not from the sources) around the fields
    card_tags = set(ALLOWED_TAGS) | {"div", "hr"}
    for note in notes.values():
        for name, value in note.fields.items():
            problems = CardHTML(set(ALLOWED_TAGS), media_names).check(value)
            assert not problems, f"{note.fields['Id']} field {name}: {problems} in {value!r}"
    for card_id in anki.col.find_cards(""):
        card = anki.col.get_card(card_id)
        assert not card.question_av_tags() and not card.answer_av_tags(), card.note()["Id"]
        for side in (card.question(), card.answer()):
            without_css = re.sub(r"^<style>[^<]*</style>", "", side)  # the note type's style sheet
            problems = CardHTML(card_tags, media_names).check(without_css)
            assert not problems, f"{card.note()['Id']}: {problems} in {side!r}"
    # Code blocks keep showing HTML as text, and the neutralised markup still reads the same.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in notes["q0"].fields["Answer"]
    sound = next(n for n in notes.values() if "sound:../../x.mp3" in n.fields["Answer"])
    assert "&#91;sound:../../x.mp3]" in sound.fields["Answer"]


@pytest.mark.parametrize("payload", REJECTED)
def test_a_rejected_payload_is_an_error_at_its_line(tmp_path: Path, payload: str) -> None:
    from helpers import run_cli

    content = tmp_path / "content"
    content.mkdir()
    (tmp_path / "media").mkdir()
    (content / "a.md").write_text(
        f"---\ndifficulty: beginner\n---\n## Q\n<!-- id: q -->\n\n{payload}\n", encoding="utf-8"
    )
    result = run_cli("build", "--content", content, "--media", tmp_path / "media", "--out", tmp_path / "dist")
    assert result.exit_code == 1, result.output
    assert re.search(r"a\.md:7: error: ", result.stderr), result.stderr
    assert not (tmp_path / "dist").exists()


def test_package_is_sound(sample: Path, tmp_path: Path) -> None:
    build_folder(sample, tmp_path / "dist")
    package = tmp_path / "dist" / "sample.apkg"
    with zipfile.ZipFile(package) as archive:
        assert archive.testzip() is None  # every entry's CRC checks out
        assert archive.namelist() == ["collection.anki2", "media"]
        database = tmp_path / "collection.anki2"
        database.write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()


def test_genanki_leaves_no_temporary_database_behind(sample: Path, tmp_path: Path, monkeypatch) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    build_folder(sample, tmp_path / "dist")
    assert list(scratch.iterdir()) == []  # not even the inter-process lock (it is taken beside the lock file)


@pytest.mark.parametrize("when", ["first deck", "lock file"])
def test_interrupted_build_leaves_output_untouched(sample: Path, tmp_path: Path, monkeypatch, when: str) -> None:
    from helpers import run_cli, tree_snapshot

    import deckbuild.build
    import deckbuild.package

    out = tmp_path / "dist"
    build_folder(sample, out)
    (sample / "01-strings.md").write_text(
        (sample / "01-strings.md").read_text(encoding="utf-8").replace("repeats it", "repeats it n times"),
        encoding="utf-8",
    )
    before = tree_snapshot(out)
    real_write = deckbuild.package.write_package

    def interrupted_write(plan, target):
        real_write(plan, target)  # a complete temporary file exists when Ctrl-C arrives
        raise KeyboardInterrupt

    def interrupted_stage(path, text, staged):
        raise KeyboardInterrupt

    if when == "first deck":
        monkeypatch.setattr(deckbuild.package, "write_package", interrupted_write)
    else:
        monkeypatch.setattr(deckbuild.build, "stage_text", interrupted_stage)
    result = run_cli("build", "--content", sample, "--out", out)
    assert result.exit_code == 130
    assert "interrupted: nothing was written" in result.stderr
    assert tree_snapshot(out) == before


# --- one regression test per finding of the 2026-11-27 review (V1, V2, B1, B17-B21) ---------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a5f0e0c60000000049454e44ae426082"
)


def _one_card(tmp_path: Path, body: str, front: str = "difficulty: beginner") -> Path:
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    (tmp_path / "media").mkdir(exist_ok=True)
    (content / "a.md").write_text(f"---\n{front}\n---\n## Q\n<!-- id: q -->\n\n{body}\n", encoding="utf-8")
    return content


def _build_and_import(tmp_path: Path, content: Path, anki: AnkiCollection):
    build_folder(content, tmp_path / "dist", "--media", tmp_path / "media")
    package = tmp_path / "dist" / "content.apkg"
    anki.import_package(package)
    return anki.notes()["q"], set(json.loads(zipfile.ZipFile(package).read("media")).values())


def test_raw_images_are_packaged_files_under_url_safe_names(tmp_path: Path, anki: AnkiCollection) -> None:
    """V1, B19, B20: a raw <img> is resolved like a Markdown image and packaged; names with # or %
    are packaged under names that mean the same as a URL."""
    content = _one_card(
        tmp_path, '<img src="../media/a#b.png"> <img src="../media/pct%2541.png" alt="p">\n\n![m](../media/a#b.png)'
    )
    (tmp_path / "media" / "a#b.png").write_bytes(PNG)
    (tmp_path / "media" / "pct%41.png").write_bytes(PNG + b"other")
    note, media_names = _build_and_import(tmp_path, content, anki)
    sources = re.findall(r'src="([^"]*)"', note.fields["Answer"])
    assert len(sources) == 3 and set(sources) == media_names and len(media_names) == 2
    assert all(re.fullmatch(r"[\w.-]+", name) for name in media_names), media_names
    assert anki.col.media.check().missing == []


def test_control_characters_are_removed_from_fields_and_tags(tmp_path: Path, anki: AnkiCollection) -> None:
    """B1: an entity the sanitizer decodes into Anki's field separator no longer breaks the import."""
    content = _one_card(
        tmp_path, '<div title="a&#31;b">x&#31;y</div> <span title="q&#x1F;r">s&#8;t</span>',
        front='difficulty: beginner\ntags: ["u\\x01v"]',
    )
    note, _ = _build_and_import(tmp_path, content, anki)
    assert '<div title="ab">xy</div>' in note.fields["Answer"]
    assert "st</span>" in note.fields["Answer"]
    assert "uv" in note.tags
    assert not any(re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", value) for value in note.fields.values())


def test_text_anki_reads_as_markup_is_shown_as_text(tmp_path: Path, anki: AnkiCollection) -> None:
    """B17: [sound:], [latex], [$], [anki:] in text, attributes and code are neither played nor typeset."""
    content = _one_card(
        tmp_path,
        "\\[sound:x.mp3] [LATEX]\\input{/etc/passwd}[/latex] [$]a[/$] [anki:play:a:0]\n\n"
        '<a href="https://ok.example" title="[sound:t.mp3]">l</a>\n\n```\n[sound:code.mp3]\n```',
    )
    note, _ = _build_and_import(tmp_path, content, anki)
    card = anki.col.get_card(anki.col.find_cards("")[0])
    assert card.question_av_tags() == [] and card.answer_av_tags() == []
    answer = note.fields["Answer"]
    assert "&#91;sound:x.mp3]" in answer and "&#91;LATEX]" in answer and 'title="&#91;sound:t.mp3]"' in answer
    assert "<code><span class=\"line\">&#91;sound:code.mp3]\n</span></code>" in answer  # the code still reads [sound:code.mp3]


def test_allowed_math_is_kept_and_text_math_off_the_list_is_shown_as_text(tmp_path: Path) -> None:
    """V2: MathJax reads \\( and \\[ in any text, so a formula outside our checked math (escaped
    prose, raw HTML, an entity) that uses a command off the allow-list gets an element that ends it."""
    from deckbuild.sanitize import finish_field

    allowed = r"\(\frac{a}{b} \leq \sqrt{x}\) and \[\begin{pmatrix} 1 & 2 \end{pmatrix}\]"
    assert finish_field(allowed) == allowed
    for text in (r"\(\href{javascript:alert(1)}{x}\)", r"&#92;[\style{color:red}{x}&#92;]",
                 r"\<wbr>(\cssId{a}{b}\)", r"<b>x</b>\(\unicode{x41}"):
        finished = finish_field(text)
        assert not re.search(r"\\(<wbr>)?[(\[]", finished), finished
    assert finish_field(r"<code>\(\href{x}{y}\)</code>") == r"<code>\(\href{x}{y}\)</code>"  # MathJax skips code
    mixed = finish_field(r"<p>\(\href{a}{b}\) and \(x^2\)</p>")  # only the formula off the list is cut
    assert mixed == r"<p>\<span></span>(\href{a}{b}\) and \(x^2\)</p>"


def test_a_cloze_marker_inside_a_tag_is_not_rendered_in_the_preview() -> None:
    """B18 in the preview: only clozes in the text are rendered."""
    from deckbuild.templates import render_clozes

    field = '<a href="https://ok.example" title="{{c1::hidden}}">link</a> {{c1::shown}}'
    assert render_clozes(field, 1, back=True) == (
        '<a href="https://ok.example" title="{{c1::hidden}}">link</a> '
        '<span class="cloze" data-ordinal="1">shown</span>'
    )


def test_every_guarantee_in_the_readme_names_a_test_that_exists() -> None:
    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    safety = readme[readme.index("## Safety"):readme.index("## Speed")]
    modules = {path.stem for path in (ROOT / "tests").glob("test_*.py")}  # `tests/test_x.py` names a file
    named = set(re.findall(r"\btest_\w+", safety)) - modules
    defined = {
        name for path in (ROOT / "tests").glob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)
    }
    assert len(named) >= 10 and named <= defined, named - defined


def test_help_states_the_safety_guarantees() -> None:
    from helpers import run_cli

    text = " ".join(run_cli("--help").output.split())
    for guarantee in ("allow-listed HTML", "packaged files", "allow-listed TeX", "[sound:]", "control characters",
                      "render cache"):
        assert guarantee in text, guarantee


@pytest.mark.parametrize("formula", [
    r"O(n \log n)", r"\Theta(n^2)", r"\sum_{i=1}^{n} i = \frac{n(n+1)}{2}", r"\lfloor n/2 \rfloor",
    r"\binom{n}{k}", r"x \in \mathbb{R}", r"a \bmod m", r"\{x \mid x \in S\}", r"\text{if } x > 0",
    r"\begin{cases} 1 & x > 0 \\ 0 & \text{else} \end{cases}", r"\lVert v \rVert_2", r"\hat{y}", r"\sqrt[3]{x}",
    r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", r"f \colon A \to B", r"p \land q \implies r",
    r"\mathcal{O}\left(\frac{1}{\epsilon}\right)", r"\overline{AB} \perp \vec{v}", r"50\%", r"a_1, \ldots, a_n",
])
def test_everyday_math_is_on_the_allow_list(formula: str) -> None:
    from deckbuild.tex import math_problem

    assert math_problem(formula) is None


@pytest.mark.parametrize("command", [
    "href", "url", "style", "class", "cssId", "require", "unicode", "html", "htmlClass", "htmlStyle", "color",
    "bbox", "def", "newcommand", "renewcommand", "let", "mmlToken", "toggle", "mathtip", "texttip", "eqref", "ref",
])
def test_commands_that_link_style_or_define_are_refused(command: str) -> None:
    from deckbuild.tex import math_problem

    problem = math_problem(f"x + \\{command}{{a}}{{b}}")
    assert problem is not None and problem[0] == 4 and f"\\{command}" in problem[1]
