"""The option marked correct in a multiple-choice card is what the card's code really prints.

Convention (docs/FORMAT.md, "Multiple choice"): when a multiple-choice card shows a ```python block
before its `---` break, that block is run, and the checked option must consist of code spans only,
joined by commas or "then" (`` `1`, then `2` ``): its spans, one per line, are the expected standard
output. A block marked `norun: <reason>` is not run, and a version qualifier (`py>=3.13`) limits it
to those Pythons, as in tests/test_content_code.py.

Across the quiz file the correct options are also spread over the positions, and the correct
option is seldom the one longest option, so that neither position nor length gives it away.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin
from test_content_code import CONTENT, TIMEOUT_SECONDS, _split_info, runs_on_this_python

pytestmark = pytest.mark.deck  # about the deck's content, not the tool

QUIZ = CONTENT / "23-quiz.md"
CODE_SPAN = re.compile(r"`([^`]+)`")
SEPARATORS = re.compile(r"^[\s,]*(?:then[\s,]*)*$")
OPTION = re.compile(r"^\[([ xX])\] (.*)$", re.DOTALL)


@dataclass
class ChoiceCard:
    path: Path
    line: int
    code: str | None = None  # the first ```python block before the break
    info: str = ""
    options: list[tuple[bool, str]] = field(default_factory=list)

    @property
    def test_id(self) -> str:
        return f"{self.path.name}:{self.line}"


def collect_choice_cards(content: Path = CONTENT) -> list[ChoiceCard]:
    md = MarkdownIt("commonmark").use(front_matter_plugin)
    cards: list[ChoiceCard] = []
    for path in sorted(content.rglob("*.md")):
        card: ChoiceCard | None = None
        after_break = in_options = options_done = False
        list_depth = 0
        for token in md.parse(path.read_text(encoding="utf-8-sig")):
            if token.type == "heading_open" and token.tag in ("h1", "h2"):
                card = ChoiceCard(path, token.map[0] + 1) if token.tag == "h2" else None
                after_break = in_options = options_done = False
                if card is not None:
                    cards.append(card)
            elif card is None:
                continue
            elif token.type == "hr":
                after_break = True
            elif token.type == "fence" and not after_break and card.code is None:
                if token.info.split(" ", 1)[0] in ("python", "py", "python3"):
                    card.code, card.info = token.content, token.info
            elif token.type == "bullet_list_open":
                list_depth += 1
                in_options = list_depth == 1 and not options_done
            elif token.type == "bullet_list_close":
                list_depth -= 1
                if list_depth == 0:
                    in_options = False
                    options_done = bool(card.options)  # only the first task list holds options
            elif token.type == "inline" and in_options and list_depth == 1:
                match = OPTION.match(token.content)
                if match:
                    card.options.append((match.group(1) != " ", " ".join(match.group(2).split())))
    return [c for c in cards if c.options]


def expected_output(option: str) -> str | None:
    """`` `1`, then `2` `` -> "1\\n2\\n"; None when the option is not code spans only."""
    spans = CODE_SPAN.findall(option)
    if not spans or not SEPARATORS.match(CODE_SPAN.sub("", option)):
        return None
    return "".join(span + "\n" for span in spans)


def check_marked_option(card: ChoiceCard) -> str | None:
    """An error message when the checked option is not what the card's code prints, else None."""
    marked = [text for correct, text in card.options if correct]
    if len(marked) != 1:
        return f"{card.test_id}: a card with code needs exactly one checked option, found {len(marked)}"
    expected = expected_output(marked[0])
    if expected is None:
        return f"{card.test_id}: the checked option must be code spans only (`out`, then `out`): {marked[0]!r}"
    result = subprocess.run(
        [sys.executable, "-c", card.code or ""], capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )
    if result.returncode != 0:
        return f"{card.test_id}: the code exited {result.returncode}\n{result.stderr}"
    if result.stdout != expected:
        return f"{card.test_id}: the code printed {result.stdout!r}, but the checked option says {expected!r}"
    return None


CARDS = collect_choice_cards() if CONTENT.is_dir() else []
CODE_CARDS = [c for c in CARDS if c.code is not None]


def test_the_quiz_has_code_items() -> None:
    assert len([c for c in CODE_CARDS if c.path == QUIZ]) >= 10


@pytest.mark.parametrize("card", CODE_CARDS, ids=[c.test_id for c in CODE_CARDS])
def test_marked_option_is_what_the_code_prints(card: ChoiceCard) -> None:
    _, norun, pythons = _split_info(card.info)
    if norun is not None:
        pytest.skip(f"{card.test_id}: marked norun: {norun}")
    if not runs_on_this_python(pythons):
        pytest.skip(f"{card.test_id}: for Python {pythons}")
    error = check_marked_option(card)
    assert error is None, error


WRONG_MARK = """\
## What does this print?

```python
print([1, 2] * 2)
```

---

- [x] `[2, 4]`
- [ ] `[1, 2, 1, 2]`
"""


def test_a_wrongly_marked_option_fails(tmp_path: Path) -> None:
    (tmp_path / "q.md").write_text(WRONG_MARK, encoding="utf-8")
    [card] = collect_choice_cards(tmp_path)
    assert card.options == [(True, "`[2, 4]`"), (False, "`[1, 2, 1, 2]`")]
    error = check_marked_option(card)
    assert error is not None and "printed '[1, 2, 1, 2]\\n'" in error
    (tmp_path / "q.md").write_text(WRONG_MARK.replace("[x]", "[y]").replace("- [ ]", "- [x]")
                                   .replace("[y]", "[ ]"), encoding="utf-8")
    [fixed] = collect_choice_cards(tmp_path)
    assert check_marked_option(fixed) is None


def test_multi_line_and_prose_options() -> None:
    assert expected_output("`ann`, then `ReferenceError`") == "ann\nReferenceError\n"
    assert expected_output("`True False`") == "True False\n"
    assert expected_output("It raises `TypeError`.") is None
    assert expected_output("`[1, 4, 9]` twice") is None


def _quiz_keys() -> list[tuple[int, int, bool]]:
    """(position of the key, number of options, key is the one longest option) per quiz item."""
    keys = []
    for card in (c for c in CARDS if c.path == QUIZ):
        lengths = [len(text) for _, text in card.options]
        [position] = [i for i, (correct, _) in enumerate(card.options) if correct]
        uniquely_longest = lengths[position] == max(lengths) and lengths.count(max(lengths)) == 1
        keys.append((position, len(card.options), uniquely_longest))
    return keys


def test_quiz_keys_are_spread_over_the_positions() -> None:
    keys = _quiz_keys()
    positions = Counter(position for position, _, _ in keys)
    assert len(keys) >= 20
    assert set(positions) == set(range(max(n for _, n, _ in keys)))  # every position is used
    assert max(positions.values()) <= 0.35 * len(keys), positions


def test_quiz_key_is_seldom_the_longest_option() -> None:
    keys = _quiz_keys()
    assert sum(longest for _, _, longest in keys) <= 0.25 * len(keys)
