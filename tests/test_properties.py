"""Property tests: whatever Markdown (or bytes) an author writes, the build either makes a deck that
imports into Anki or reports content errors as `path:line`; it never fails otherwise and never
leaves a partial file behind."""

from __future__ import annotations

import re
import resource
import sys
import tempfile
from pathlib import Path

from conftest import FIXTURES, AnkiCollection
from helpers import run_cli, time_limit
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from pygments.lexers import get_all_lexers

from deckbuild.ids import slugify

# a diagnostic, or one of the two lines that follow repeated ones: a summary and a hint
DIAGNOSTIC = re.compile(r"^(?:.+?(?::\d+)?: (?:error|warning): .+|\.\.\. and \d+ more .+|hint: .+)$")
WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
SAFE_WORDS = st.from_regex(r"[A-Za-z0-9 `*_<>&\[\]()!-]{0,30}", fullmatch=True)


@st.composite
def markdown_files(draw) -> str:
    parts = []
    if draw(st.booleans()):
        key = draw(st.sampled_from(["topic", "difficulty", "tags", "difficulty", "topc"]))
        value = draw(st.sampled_from(["beginner", "expert", "hard", "[a, b]", "[unclosed", "x: y: z", "t"]))
        parts.append(f"---\n{key}: {value}\n---\n")
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["card", "card", "title", "fence", "unclosed", "break", "options", "tasks", "text", "html"]))
        text = draw(SAFE_WORDS)
        if kind == "card":
            parts.append(f"## {text}\n")
        elif kind == "title":
            parts.append(f"# {text}\n")
        elif kind == "fence":
            parts.append(f"```{draw(st.sampled_from(['python', 'pycon', 'nolang', '']))}\n{text}\n```\n")
        elif kind == "unclosed":
            parts.append(f"~~~python\n{text}\n")
        elif kind == "break":
            parts.append("\n---\n")
        elif kind == "options":
            parts.append(f"<!-- id: {draw(st.sampled_from(['a', 'b', 'Bad_Id', 'x-1']))}, "
                         f"difficulty: {draw(st.sampled_from(['beginner', 'nope']))} -->\n")
        elif kind == "tasks":
            for _ in range(draw(st.integers(0, 9))):
                parts.append(f"- [{draw(st.sampled_from([' ', 'x']))}] {text}\n")
        elif kind == "html":
            parts.append(f"<{draw(st.sampled_from(['script', 'b', 'div onclick=x']))}>{text}\n")
        else:
            parts.append(f"{draw(WORDS)}\n")
        parts.append("\n")
    return "".join(parts)


def _check_run(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        content = root / "content"
        content.mkdir()
        for name, data in files.items():
            (content / name).write_bytes(data)
        out = root / "dist"
        result = run_cli("build", "--content", content, "--out", out)
        assert result.exit_code in (0, 1), result.output
        for line in result.stderr.splitlines()[:-1] if result.exit_code else result.stderr.splitlines():
            assert DIAGNOSTIC.match(line), line
        leftovers = sorted(p.name for p in out.iterdir()) if out.exists() else []
        if result.exit_code == 1:
            assert leftovers == [] and result.stderr.splitlines()[-1].startswith("failed: ")
            return
        assert leftovers == ["build_deck.lock", "content.apkg"]
        anki = AnkiCollection(root / "anki")
        try:
            anki.import_package(out / "content.apkg")
            assert len(anki.notes()) >= 1
        finally:
            anki.close()


@given(st.lists(markdown_files(), min_size=1, max_size=3))
def test_generated_markdown_builds_or_reports(texts: list[str]) -> None:
    _check_run({f"{i}.md": text.encode("utf-8") for i, text in enumerate(texts)})


@given(st.binary(max_size=200), st.sampled_from([b"", b"\xef\xbb\xbf", b"## Q\n<!-- id: q -->\n\n"]))
def test_random_bytes_build_or_report(data: bytes, prefix: bytes) -> None:
    _check_run({"random.md": prefix + data})


@given(st.text(max_size=80))
def test_derived_ids_are_valid_kebab_case(text: str) -> None:
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slugify(text))


@given(st.text(alphabet=" \t", min_size=0, max_size=3), st.text(alphabet=" \t", min_size=0, max_size=3))
def test_identity_never_depends_on_whitespace_around_the_question(left: str, right: str) -> None:
    assert slugify(f"{left}What is a list?{right}") == slugify("What is a list?")


# ---------------------------------------------------------------------------------------------------
# Fuzzing every stage with hostile input, bounded in time: whatever arrives, a build ends within its
# limits (seconds, memory) with exit 0 or 1, never an internal error (3) and never a hang.

FUZZ_EXAMPLES = 60  # about 10 s on a loaded 2-core machine; a hang or a blow-up fails the first example
FUZZ_SECONDS_PER_BUILD = 10
FUZZ_MEMORY_PER_BUILD = 256 * 2**20  # growth of the process's peak memory allowed in one build

LEXER_NAMES = sorted({alias for _name, aliases, _files, _mimes in get_all_lexers() for alias in aliases})
PAYLOADS = [
    line for line in (FIXTURES / "injection" / "payloads.txt").read_text(encoding="utf-8").splitlines()
    if line and not line.startswith("#")
]
HOSTILE_TEXT = st.sampled_from([
    "", " ", "\t", "\r", "\r\n", "\u2028", "\ufeff", "\u202e", "&#31;", "&#0;", "&#x1F;",
    "{{", "}}", "::", "{{c1::", "$", "$$", "\\(", "\\]", "`", "```", "~~~", "<!--", "-->", "---", "***",
    "[sound:x.mp3]", "[latex]x[/latex]", "[$]x[/$]", "[anki:play:a:0]", "*", "_", "[", "](", "|", "> ", "- ",
    "1. ", "#", "\\", "<", ">", "&", '"', "'", "é", "日本", "\U0001F600", "\u0301",
]) | st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=6)
CONTROL = st.sampled_from(["\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x85"])  # rare: a file with one is refused whole
IMAGE_TARGETS = st.sampled_from([
    "../media/ok.png", "../media/missing.png", "../media", "../../etc/passwd", "/etc/passwd", "file:///etc/passwd",
    "https://evil.example/x.png", "//evil.example/x.png", "data:image/png;base64,AAAA", "%2e%2e/media/ok.png",
    "../media/ok.png#x", "../media/ok%2Epng", "", " ", "../media/ok.png \"title\"", "<../media/ok.png>",
])


def _hostile_words(draw, max_size: int = 8) -> str:
    return "".join(draw(st.lists(HOSTILE_TEXT, max_size=max_size)))


def _yaml_value(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["scalar", "scalar", "list", "map", "alias", "tag", "broken"] if depth < 4 else ["scalar"]))
    if kind == "list":
        return "[" + ", ".join(_yaml_value(draw, depth + 1) for _ in range(draw(st.integers(0, 3)))) + "]"
    if kind == "map":
        return "{" + ", ".join(f"k{i}: {_yaml_value(draw, depth + 1)}" for i in range(draw(st.integers(0, 3)))) + "}"
    if kind == "alias":
        return draw(st.sampled_from(["&a [x, y]", "*a", "&b {c: *b}", "[&a x, *a, *a]"]))
    if kind == "tag":
        return draw(st.sampled_from(["!!python/object:os.system x", "!!binary AAAA", "!!timestamp 2001-12-14", "!x y"]))
    if kind == "broken":
        return draw(st.sampled_from(["[unclosed", "{a: ", "'quote", "x: y: z", "- a\n- b", ": :", "\t"]))
    return draw(st.sampled_from([
        "beginner", "expert", "true", "false", "null", "~", "0", "-1", "1e400", "99999999999999999999", "2001-01-01",
        "'has space'", '"a::b"', "''", "yes", "[]", "{}", ".nan",
    ]) | st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8).map(repr))


FRONT_KEYS = st.sampled_from(["topic", "difficulty", "tags", "title", "id", "retired", "unknown", "topic"])
OPTION_KEYS = st.sampled_from(["id", "difficulty", "tags", "retired", "topic", "kind", "other"])


@st.composite
def hostile_markdown(draw) -> str:
    """A Markdown file that attacks each stage: front matter, options, structure, code, clozes, math, HTML, images."""
    parts = []
    framed = draw(st.booleans())  # half the files put each hostile block inside a valid card, to reach packaging
    file_key = draw(st.integers(0, 10**9))  # framed cards of different files differ
    if framed:
        parts.append("---\ndifficulty: beginner\n---\n\n")
    elif draw(st.booleans()):
        lines = [f"{draw(FRONT_KEYS)}: {_yaml_value(draw)}" for _ in range(draw(st.integers(0, 4)))]
        parts.append("---\n" + "\n".join(lines) + draw(st.sampled_from(["\n---\n", "\n", "\n...\n"])))
    for number in range(draw(st.integers(1, 6))):
        if framed:
            parts.append(f"## Question {file_key}-{number}?\n<!-- id: q{file_key}-{number} -->\n\nAn answer.\n\n")
        kind = draw(st.sampled_from([
            "card", "card", "card", "options", "structure", "fence", "cloze", "math", "html", "image", "text",
            "card", "card", "options", "structure", "fence", "cloze", "math", "html", "image", "text", "control",
        ]))
        words = _hostile_words(draw)
        if kind == "card":
            heading = draw(st.sampled_from(["## ", "## ", "## ", "# ", "### ", "##"]))
            parts.append(f"{heading}{words or 'Q'}\n\n{draw(st.sampled_from(['An answer.', '', words]))}\n")
        elif kind == "options":
            pairs = ", ".join(f"{draw(OPTION_KEYS)}: {_yaml_value(draw)}" for _ in range(draw(st.integers(0, 3))))
            parts.append(f"<!-- {pairs}{draw(st.sampled_from([' -->', ' -->', '', ' --!>']))}\n")
        elif kind == "structure":
            depth = draw(st.integers(1, 12))
            marker = draw(st.sampled_from(["- ", "> ", "1. ", "* ", "  ", "| "]))
            parts.append("".join(marker * level + f"{words}\n" for level in range(1, depth + 1)))
        elif kind == "fence":
            language = draw(st.sampled_from(LEXER_NAMES) | st.text(max_size=8))
            fence = draw(st.sampled_from(["```", "~~~", "````"]))
            code = _hostile_words(draw, 20)
            closing = draw(st.sampled_from([fence, fence, ""]))
            parts.append(f"{fence}{language}\n{code}\n{closing}\n")
        elif kind == "cloze":
            number = draw(st.integers(0, 400))
            hint = draw(st.sampled_from(["", "::hint", "::", "::{{c2::x}}"]))
            parts.append(draw(st.sampled_from([
                f"{{{{c{number}::{words or 'x'}{hint}}}}}", f"{{{{c{number}::{words}", f"`{{{{c{number}::{words}}}}}`",
                f"<b title=\"{{{{c{number}::x}}}}\">y</b>",
            ])) + "\n")
        elif kind == "math":
            tex = draw(st.sampled_from([
                r"x^2", r"\href{javascript:alert(1)}{x}", r"\style{background:url(https://e.x)}{x}", r"\def\a{\a}\a",
                r"\newcommand{\b}{\b}", r"{", r"}", r"\begin{x}", r"\unicode{x}", r"\\", "",
            ]))
            parts.append(draw(st.sampled_from([f"${tex}$", f"$${tex}$$", f"$$\n{tex}\n$$", f"\\({tex}\\)", f"${tex}"])) + "\n")
        elif kind == "html":
            parts.append(draw(st.sampled_from(PAYLOADS)) + words + "\n")
        elif kind == "control":
            parts.append(words + draw(CONTROL) + "\n")
        elif kind == "image":
            parts.append(f"![{words}]({draw(IMAGE_TARGETS)})\n")
        else:
            parts.append(words + "\n")
        parts.append(draw(st.sampled_from(["\n", "\n", "", "\n---\n", "\r\n"])))
    return "".join(parts)


def _build_within_limits(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        content, media = root / "content", root / "media"
        content.mkdir()
        media.mkdir()
        (media / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        for index, text in enumerate(texts):
            (content / f"{index}.md").write_text(text, encoding="utf-8", errors="surrogatepass")
        unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is in bytes on macOS, KiB elsewhere
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
        with time_limit(FUZZ_SECONDS_PER_BUILD):
            result = run_cli("build", "--content", content, "--media", media, "--out", root / "dist", "--no-cache")
        peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
        assert result.exit_code in (0, 1), result.output
        event(f"exit {result.exit_code}")
        assert peak_after - peak_before < FUZZ_MEMORY_PER_BUILD
        for line in result.stderr.splitlines()[:-1] if result.exit_code else result.stderr.splitlines():
            assert DIAGNOSTIC.match(line), line


@settings(max_examples=FUZZ_EXAMPLES)
@given(st.lists(hostile_markdown(), min_size=1, max_size=3))
@example(["## Q\n\n```mcschema\n<!--\n```\n"])  # B7: this lexer yields empty tokens forever
def test_hostile_input_at_every_stage_ends_within_limits(texts: list[str]) -> None:
    _build_within_limits(texts)
