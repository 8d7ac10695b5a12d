"""The 2026-12-07 review's cloze and math findings (W1, X2, X3, X12-X14, X25), each from its repro
and variants of it: the deck is built, imported with the real `anki` package, and every card of
every note (each cloze ordinal, front and back) is read the way MathJax and Anki read it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from cardcheck import build_cards, build_error, every_side, formulas, math_problems
from conftest import ROOT, AnkiCollection
from helpers import build_folder


def _assert_inert(sides, own_sounds=frozenset()) -> None:
    assert sides
    for side in sides:
        problems = side.problems(set(own_sounds))
        assert not problems, f"{side.note} c{side.ordinal} {side.side}: {problems} in {side.html!r}"


def test_the_checker_sees_what_mathjax_would_typeset() -> None:
    """The card check is a positive control for itself: it finds off-list math where MathJax would."""
    assert math_problems(r"<p>\(x\href{javascript:alert(1)}{y}\)</p>")
    assert math_problems(r"<p>\(a <br>\style{color:red}{q}\)</p>")  # joined across <br>
    assert math_problems(r"<p>&#92;[\class{cloze}{b}\]</p>")  # an entity is a backslash to MathJax
    assert not math_problems(r"<p>\(<b></b>\href{x}{y}\)</p>")  # a tag ends MathJax's string
    assert not math_problems(r"<code>\(\href{x}{y}\)</code>")  # MathJax skips code
    assert formulas(r"\(a{\)}\) b\)") == [r"a{\)}", " b"] or formulas(r"\(a{\)}\) b\)")[0] == r"a{\)}"


# --- W1: the allow-list on cloze cards --------------------------------------------------------------

W1_TAGS = (  # repro mathjax-cloze-tags, with A3, A4 and A9
    "## Tags inside a formula of a cloze card\n<!-- id: c1 -->\n\n"
    "See \\\\(**x**\\\\href{javascript:alert(1)}{click me}\\\\) and "
    "\\\\(<b></b>\\\\style{background-image:url(https://evil.example/t.png)}{q}\\\\) and {{c1::z}}.\n\n"
    "And \\\\(*a*\\\\class{cloze}{\\\\cssId{qa}{b}}\\\\), \\\\(`c`\\\\href{http://127.0.0.1:18012/link}{y}\\\\) "
    "and {{c2::w}}.\n\n\\\\[<i>a</i>\\\\href{javascript:alert(4)}{y}\\\\] {{c3::v}}\n"
)
W1_CONTENT = (  # repro mathjax-cloze-content (A6), no tag at all
    "## Hidden text that closes a formula\n<!-- id: c2 -->\n\n"
    "\\\\( a {{c1::} }\\\\)}} \\\\href{javascript:alert(1)}{x} \\\\)\n\n"
    "\\\\[ b {{c2::x::\\\\)}} \\\\style{color:red}{y} \\\\] and {{c3::p}}\n"
)
W1_VARIANTS = (  # not in the report: where else Anki's regions can start, and what they strip
    "## Variants\n<!-- id: c3 -->\n\n"
    # a region that starts in a link's title and ends in the text
    '[t](https://ok.example "\\\\(") <b></b>\\\\href{javascript:alert(5)}{x}\\\\) {{c1::a}}\n\n'
    # a region that starts in a code span, strips the code's end tag and the bold tags
    "`\\(` **b**\\\\href{javascript:alert(6)}{x}\\\\] {{c2::b}}\n\n"
    # an opener made of an entity, one across <wbr>, and a mixed \\[ ... \\) region
    "&#92;(<i>q</i>\\\\href{javascript:alert(7)}{x}\\\\) \\\\<wbr>(\\\\unicode{x41}\\\\) "
    "\\\\[ {{c3::k}} \\\\) \\\\href{javascript:alert(8)}{x} \\\\]\n\n"
    # a raw-HTML attribute whose entity would become a tag once the region's tags are gone
    '<span title="\\(a&lt;b">z</span>" onmouseover="alert(9)" \\) {{c4::m}}\n'
)


def test_w1_no_formula_off_the_list_on_any_card_of_a_cloze_note(tmp_path: Path, anki: AnkiCollection) -> None:
    sides, _ = build_cards(tmp_path, anki, W1_TAGS + "\n" + W1_CONTENT + "\n" + W1_VARIANTS)
    assert {side.note for side in sides} == {"c1", "c2", "c3"}
    assert len(sides) == 2 * (3 + 3 + 4)  # every ordinal, front and back
    _assert_inert(sides)
    for side in sides:  # the text is still there, as text
        if side.note == "c1":
            assert "href{javascript:alert(1)}{click me}" in side.html


def test_w1_cloze_syntax_inside_a_formula_is_an_error_at_its_line(tmp_path: Path) -> None:
    """A7 and A28-A30 put cloze markers inside dollar math: now an error that says what to do."""
    errors = build_error(
        tmp_path,
        "## Q\n<!-- id: q -->\n\n{{c1::ok}} text\n\n$a {{c2::b} }$ c}} \\\\href{javascript:alert(2)}{y}\\\\)\n\n"
        "$$\nx_{i}}\n$$\n\nand $p :: q$\n",
    )
    lines = re.findall(r"a\.md:(\d+): error: '(\{\{|\}\}|::)' inside a formula of a cloze card", errors)
    assert lines == [("9", "{{"), ("12", "}}"), ("15", "::")], errors
    assert "put the cloze around the whole formula" in errors


def test_w1_math_next_to_clozes_keeps_working(tmp_path: Path, anki: AnkiCollection) -> None:
    """Allowed math in a cloze card (around, beside and as the hint of a cloze) is typeset as before."""
    sides, _ = build_cards(
        tmp_path, anki,
        "## Q\n<!-- id: q -->\n\nThe cost is {{c1::$O(n \\log n)$}} and $\\frac{a}{b}$ beside {{c2::x::$\\sqrt{y}$}}.\n",
    )
    _assert_inert(sides)
    back_c1 = next(s for s in sides if s.ordinal == 1 and s.side == "back").html
    assert r"\(O(n \log n)\)" in back_c1 and r"\(\frac{a}{b}\)" in back_c1
    front_c2 = next(s for s in sides if s.ordinal == 2 and s.side == "front").html
    assert r"[\(\sqrt{y}\)]" in front_c2


@pytest.mark.deck
def test_w1_every_card_of_the_deck_is_inert(tmp_path: Path, anki: AnkiCollection) -> None:
    """The repository's whole deck, every card of every note type as Anki renders it."""
    build_folder(ROOT / "content", tmp_path / "dist", "--media", ROOT / "media", "--lock", tmp_path / "deck.lock")
    (package,) = (tmp_path / "dist").glob("*.apkg")
    anki.import_package(package)
    sides = every_side(anki)
    assert len(sides) >= 2 * 900
    _assert_inert(sides)


# --- X3: Anki's markup through clozes ---------------------------------------------------------------

def test_x3_sound_and_latex_cannot_be_assembled_by_a_cloze(tmp_path: Path, anki: AnkiCollection) -> None:
    """The repro's dollar math is an error now; the hint variant outside math (not in the report:
    Anki shows a hint as `[hint]`, so `{{c1::a::sound:x.mp3}}` played x.mp3 on the front) builds
    into cards that play and typeset nothing."""
    errors = build_error(
        tmp_path,
        "## Q\n<!-- id: q -->\n\nFormula $[{{c1::sound:evil.mp3}}]$ and hint ${{c2::x::sound:front.mp3}}$ and latex "
        "$[{{c3::latex]}}$\\\\frac{1}{0}$[{{c3::/latex]}}$\n",
    )
    assert errors.count("inside a formula of a cloze card") == 4, errors
    (tmp_path / "ok").mkdir()
    sides, _ = build_cards(
        tmp_path / "ok", anki,
        "## Q\n<!-- id: q -->\n\n{{c1::a::sound:evil.mp3}} {{c2::b::latex]\\frac{1}{2}}} {{c2::c::/LATEX}} "
        "{{c3::d::\\$\\$]y}} {{c3::e::/\\$\\$}} {{c4::f::anki:play:q:0}} [{{c5::sound:x.mp3}}]\n",
    )
    _assert_inert(sides)
    front = next(s for s in sides if s.ordinal == 1 and s.side == "front").html
    assert "[&#115;ound:evil.mp3]" in front  # the hint reads the same, as text


# --- X2: the text-math guard is linear --------------------------------------------------------------

@pytest.mark.parametrize("unit", ["a \\\\( ", "\\\\( \\\\href{x}{y} {{c1::z}} <wbr>"])
def test_x2_the_text_math_guard_takes_linear_time(tmp_path: Path, unit: str) -> None:
    """Repro guard-quadratic: `a \\( ` x 8,000 took 28.6 s. Doubling the paragraph must not
    quadruple the time of the guard (run on whole fields, as the build runs it)."""
    from deckbuild.sanitize import finish_field

    def timed(count: int) -> float:
        field = "<p>" + unit.replace("\\\\", "\\") * count + "</p>"
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            finish_field(field, cloze=True)
            best = min(best, time.perf_counter() - start)
        return best

    small, large = timed(4_000), timed(16_000)  # 4 times the text: quadratic would be 16 times the time
    assert large < 8 * small + 0.05, (small, large)


def test_x2_the_repro_builds_in_seconds(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(
        "---\ndifficulty: beginner\n---\n## Q\n<!-- id: q -->\n\n" + "a \\\\( " * 8000 + "\n", encoding="utf-8"
    )
    start = time.perf_counter()
    build_folder(content, tmp_path / "dist")
    assert time.perf_counter() - start < 20


# --- X12-X14, X25: cloze markers Anki reads differently -----------------------------------------------

def test_x12_clozes_in_markdown_attributes_are_errors(tmp_path: Path) -> None:
    errors = build_error(
        tmp_path,
        "## Q\n<!-- id: q -->\n\nSee {{c3::it}}\n![{{c1::secret}}](pic.png)\n"
        '[x](https://ok.example "{{c2::t}}")\n\n{{c4::a [l](https://ok.example "x}}")\n',
    )
    assert re.findall(r"a\.md:(\d+): error: a cloze marker in (an image|a link)", errors) == [
        ("8", "an image"), ("9", "a link"), ("11", "a link")
    ], errors


def test_x13_cloze_numbers_in_other_digits_are_errors(tmp_path: Path) -> None:
    errors = build_error(tmp_path, "## Q\n<!-- id: q -->\n\n{{c\u0661::x}} and {{c\uff11::y}}\n")
    assert errors.count("is not written with the digits 0-9") == 2, errors
    assert re.search(r"a\.md:7: error: cloze number c\u0661 ", errors), errors


def test_x14_nested_clozes_are_errors(tmp_path: Path) -> None:
    errors = build_error(tmp_path, "## Q\n<!-- id: q -->\n\n{{c1::outer\n{{c2::inner}} text}}\n")
    assert re.search(r"a\.md:8: error: a cloze inside another cloze", errors), errors


def test_x25_leading_zeros_are_the_number_anki_reads(tmp_path: Path, anki: AnkiCollection) -> None:
    sides, _ = build_cards(tmp_path, anki, "## Q\n<!-- id: q -->\n\n{{c0001::a}} and {{c2::b}}\n")
    assert sorted({side.ordinal for side in sides}) == [1, 2]
    before = len(anki.col.find_cards(""))
    anki.col.fix_integrity()
    assert len(anki.col.find_cards("")) == before == 2  # Anki finds no card the build did not plan


# --- W4, X9: media are media, under names that stay unique in Anki ----------------------------------

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201a5f0e0c60000000049454e44ae426082"
)


@pytest.mark.parametrize("name, data", [
    ("evil.html", b"<script>alert(1)</script>"),  # the repro preview-html-media
    ("evil.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("page.png", b"<!doctype html><script>alert(1)</script>"),  # a page under a picture's name
    ("tune.mp3", b"<html><script>alert(1)</script>"),
    ("notes.txt", b"hello"),
])
def test_w4_only_pictures_and_sounds_are_packaged_checked_by_content(tmp_path: Path, name: str, data: bytes) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / name).write_bytes(data)
    errors = build_error(tmp_path, f"## Q\n<!-- id: q -->\n\n![ ](../media/{name})\n\n[the errata](../media/{name})\n")
    assert re.search(rf"a\.md:7: error: (image|sound) '\.\./media/{re.escape(name)}' (is not a picture|does not hold)",
                     errors), errors


def test_w4_real_pictures_and_sounds_are_still_packaged(tmp_path: Path, anki: AnkiCollection) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (media / "a.png").write_bytes(PNG)
    (media / "b.JPG").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 20)
    (media / "c.ogg").write_bytes(b"OggS" + b"\0" * 20)
    (media / "d.mp3").write_bytes(b"ID3" + b"\0" * 20)
    sides, names = build_cards(
        tmp_path, anki, "## Q\n<!-- id: q -->\n\n![a](../media/a.png) ![b](../media/b.JPG)\n\n"
        "![](../media/c.ogg) [sound:../media/d.mp3]\n",
    )
    assert len(names) == 4 and sorted(n.rsplit(".", 1)[1] for n in names) == ["jpg", "mp3", "ogg", "png"]


def test_x9_long_names_stay_unique_in_anki_with_their_hash(tmp_path: Path, anki: AnkiCollection) -> None:
    """Repros media-long-name-collision (Anki cuts names over 120 bytes, hash included) and
    media-hash-prefix-collision (8 hex digits: two images once shared a name)."""
    from deckbuild.media import HASH_LENGTH

    long = "L" * 150 + "\u00e9" * 30  # 210 bytes of UTF-8
    for folder, data in (("a", PNG), ("b", PNG + b"second")):
        (tmp_path / "media" / folder).mkdir(parents=True)
        (tmp_path / "media" / folder / f"{long}.png").write_bytes(data)
    sides, names = build_cards(
        tmp_path, anki,
        f"## One\n<!-- id: one -->\n\n![x](../media/a/{long}.png)\n\n## Two\n<!-- id: two -->\n\n![y](../media/b/{long}.png)\n",
    )
    assert len(names) == 2 and all(len(n.encode()) <= 120 for n in names), names
    assert all(re.search(rf"-[0-9a-f]{{{HASH_LENGTH}}}\.png$", n) for n in names) and HASH_LENGTH >= 16
    anki.col.media.check()
    shown = {side.note: re.findall(r'src="([^"]+)"', side.html) for side in sides if side.side == "back"}
    assert shown["one"] != shown["two"]
    stored = {name: (Path(anki.col.media.dir()) / name).read_bytes() for name in names}
    assert stored[shown["one"][0]] == PNG and stored[shown["two"][0]] == PNG + b"second"


# --- X7, X18: every output is inert ------------------------------------------------------------------

def test_x7_release_notes_show_question_text_as_text(tmp_path: Path) -> None:
    """Repro release-notes-injection: entities in a heading gave the release body new lines, a
    heading, a link, an image and @mentions."""
    from helpers import run_cli
    from markdown_it import MarkdownIt

    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text("---\ndifficulty: beginner\n---\n## Old\n<!-- id: old -->\n\nA\n", encoding="utf-8")
    build_folder(content, tmp_path / "dist", "--lock", tmp_path / "prev.lock")
    (content / "a.md").write_text(
        (content / "a.md").read_text(encoding="utf-8")
        + "\n## What is new?&#10;&#10;## Download the fixed deck&#10;&#10;\\[deck.apkg\\](https://evil.example/deck.apkg)"
        " &#10;&#10;&lt;img src=\"https://evil.example/pixel.png\"&gt;&#10;&#10;cc @octocat @github/security\n"
        "<!-- id: q -->\n\nA\n\n## \\[Click here\\](javascript:alert(1)) &lt;script&gt;alert(1)&lt;/script&gt; "
        "`` ` `` @admin #1\n<!-- id: q2 -->\n\nB\n",
        encoding="utf-8",
    )
    result = run_cli("release-notes", "--content", content, "--previous-lock", tmp_path / "prev.lock")
    assert result.exit_code == 0, result.output
    items = [line for line in result.stdout.splitlines() if line.startswith("- `q")]
    assert len(items) == 2, result.stdout  # one line per card: no line of its own for the text
    tokens = MarkdownIt("commonmark").parse("\n".join(items))
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not any("Download" in h for h in headings), headings
    inline = [c for t in tokens if t.type == "inline" for c in t.children or []]
    assert not [c for c in inline if c.type in ("link_open", "image", "html_inline")]
    assert not [t for t in tokens if t.type == "html_block"]
    text = "".join(c.content for c in inline if c.type == "text")
    assert "@" not in text and "#1" not in text  # mentions and issue links only inside code spans
    assert any("cc @octocat" in c.content for c in inline if c.type == "code_inline")


def test_x18_diagnostics_escape_control_characters(tmp_path: Path) -> None:
    """Repro diagnostic-escape-injection: YAML escapes made a terminal title sequence and a GitHub
    `::error` workflow command on a line of its own."""
    errors = build_error(
        tmp_path,
        "## Q\n<!-- id: q, difficulty: \"\\e[2K\\r...\\n::error file=README.md,line=1::Fake CI finding\\n\\e]0;PWNED\\a\" -->\n\nA\n",
    )
    assert "\x1b" not in errors and "\x07" not in errors and "\r" not in errors
    assert not any(line.startswith("::") for line in errors.splitlines()), errors
    assert "\\x1b]0;PWNED\\x07" in errors and "\\n::error" in errors


# --- X15: front-matter titles and the deck's own tags -------------------------------------------------

def test_x15_front_matter_title_is_checked_and_reserved_tags_are_refused(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "a.md").write_text(
        '---\ntitle: "Errata::Moved <img src=x onerror=alert(1)>"\ndifficulty: beginner\n---\n'
        '## Q\n<!-- id: q, tags: ["content::status::retired", "content::difficulty::expert", "ok::fine"] -->\n\nA\n',
        encoding="utf-8",
    )
    from helpers import run_cli

    result = run_cli("build", "--content", content, "--out", tmp_path / "dist")
    assert result.exit_code == 1 and not (tmp_path / "dist").exists()
    assert re.search(r"a\.md:2: error: the title .* holds '::'", result.stderr), result.stderr
    assert sorted(re.findall(r"a\.md:6: error: the tag '([^']+)' looks like one the build gives", result.stderr)) == [
        "content::difficulty::expert", "content::status::retired"
    ], result.stderr
