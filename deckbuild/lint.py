"""Card-quality lint: the rules of formulating knowledge, checked on the rendered cards like code.

Every rule reads the frozen `Card` records the render stage made (their HTML parts and code
blocks), never the Markdown, and gives `Finding`s at `path:line`. A rule has a stable name and a
default threshold that `[tool.build_deck.lint]` can change or switch off (`false`); a card
silences a rule, with a reason, in its options: `lint: {ignore: [list-recall], why: "..."}`.
docs/LINT.md explains each rule with a good and a bad card.
"""

from __future__ import annotations

import functools
import html
import math
import os
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .errors import Diagnostics, SourceLocation
from .lintrules import CHECK_RULES, RULES, rule_on, rule_threshold
from .lintrules import format_number as _number
from .records import Card, CodeBlock, LintSettings

MIN_CHOICE_CARDS = 8  # fewer multiple-choice cards than this say nothing about a bias
MIN_CHOICE_EXCESS = 3  # and a bias must be at least this many cards above chance


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    location: SourceLocation
    rule: str
    message: str
    cards: tuple[str, ...] = field(default=(), compare=False)  # the ids of the cards it concerns

    def __str__(self) -> str:
        return f"{self.location}: lint[{self.rule}]: {self.message}"


@dataclass(frozen=True, slots=True)
class LintReport:
    findings: tuple[Finding, ...]  # sorted; what the cards did not silence
    silenced: tuple[Finding, ...]

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        return Counter(f.rule for f in self.findings), Counter(f.rule for f in self.silenced)

    def summary(self) -> str:
        found, silenced = self.counts()
        lines = [f"lint: {len(self.findings)} finding(s), {len(self.silenced)} silenced"]
        for name in (*RULES, UNUSED_SILENCE):
            if found[name] or silenced[name]:
                extra = f" ({silenced[name]} silenced)" if silenced[name] else ""
                lines.append(f"  {name:<20} {found[name]}{extra}")
        return "\n".join(lines)

    def by_card(self) -> dict[str, list[Finding]]:
        result: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            for card_id in finding.cards:
                result[card_id].append(finding)
        return result


# --- reading a card's HTML --------------------------------------------------------------------

_PRE = re.compile(r"<pre\b.*?</pre>", re.S | re.I)
_WORD = re.compile(r"\S*[^\W_]\S*")
_TAGS = re.compile(r"<[^>]+>")
_INLINE_CODE = re.compile(r"<code\b.*?</code>", re.S)
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", re.S)


class _Prose(HTMLParser):
    """A fragment's prose words, and its top-level unordered lists (items and words in each)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = 0
        self.lists: list[list[int]] = []  # per top-level <ul>: [items, words]
        self._list_text: list[str] | None = None
        self._list_depth = -1
        self.terms: list[str] = []  # inline code and bold terms, in order
        self._term: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "input", "hr", "wbr"):
            self.parts.append(" ")
            return
        if tag == "ul" and self.depth == 0:
            self.lists.append([0, 0])
            self._list_text, self._list_depth = [], self.depth
        elif tag == "li" and self._list_text is not None and self.depth == self._list_depth + 1:
            self.lists[-1][0] += 1
        if tag in ("code", "strong", "b") and self._term is None:
            self._term = []
        self.depth += 1
        self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        self.depth = max(0, self.depth - 1)
        if tag in ("code", "strong", "b") and self._term is not None:
            self.terms.append("".join(self._term).strip())
            self._term = None
        if tag == "ul" and self._list_text is not None and self.depth == self._list_depth:
            self.lists[-1][1] = count_words(" ".join(self._list_text))
            self._list_text = None
        self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._list_text is not None:
            self._list_text.append(data)
        if self._term is not None:
            self._term.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.parts)).strip()


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


@functools.lru_cache(maxsize=4096)
def read_prose(fragment: str) -> _Prose:
    """The prose of an HTML fragment: code blocks left out, inline code kept (it is read as words)."""
    parser = _Prose()
    parser.feed(_PRE.sub(" ", fragment))
    parser.close()
    return parser


def plain_text(fragment: str) -> str:
    return read_prose(fragment).text


def question_prose(card: Card) -> str:
    """The question without its inline code: what its grammar is judged on."""
    without_code = _INLINE_CODE.sub(" ", card.question_html)
    return plain_text(without_code)


def display_width(line: str) -> int:
    """Columns a line takes in a monospaced font: wide East Asian characters take two, tabs four."""
    line = line.expandtabs(4)
    if line.isascii():
        return len(line)
    width = 0
    for char in line:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _at(card: Card, line: int | None = None) -> SourceLocation:
    return SourceLocation(card.meta.location.path, line or card.meta.location.line)


def _kind(card: Card) -> str:
    if card.is_cloze:
        return "cloze"
    return "multiple-choice" if card.is_multiple_choice else "basic"


# --- rules on one card ------------------------------------------------------------------------


def _answer_fragment(card: Card) -> str:
    """What the learner must recall: a cloze card's extra text, the others' answer (or explanation)."""
    if card.is_cloze:
        return card.answer_html if card.context_html else ""
    return card.answer_html


def long_answer(card: Card, limit: float) -> Iterable[Finding]:
    words = count_words(read_prose(_answer_fragment(card)).text)
    if words > limit:
        yield Finding(
            _at(card), "long-answer",
            f"the answer has {words} words of prose (code not counted; at most {_number(limit)}): "
            "keep the one fact asked, move the rest to cards of their own",
            (card.meta.id,),
        )


def list_recall(card: Card, limit: float) -> Iterable[Finding]:
    if card.is_cloze or card.is_multiple_choice:
        return
    prose = read_prose(card.answer_html)
    total = count_words(prose.text)
    for items, words in prose.lists:
        if items >= limit and words * 2 >= total:
            yield Finding(
                _at(card), "list-recall",
                f"the answer is mainly a list of {items} items to recall (at most {_number(limit - 1)}): "
                "make a cloze per item, or one card per item",
                (card.meta.id,),
            )
            return
    # A checklist split into several short lists (under sub-headings) is one list to recall.
    items, words = sum(n for n, _ in prose.lists), sum(w for _, w in prose.lists)
    if len(prose.lists) > 1 and items >= limit and words * 2 >= total:
        yield Finding(
            _at(card), "list-recall",
            f"the answer is mainly {items} items to recall in {len(prose.lists)} lists (at most "
            f"{_number(limit - 1)} in all, sub-headings or not): make a cloze per item, or one card per item",
            (card.meta.id,),
        )


_WH = r"(?:why|how|what|when|where|which|who)"
_AUX = r"(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|must)"
_SECOND_QUESTION = re.compile(rf"\band\s+{_WH}\b|,\s*and\s+{_AUX}\b", re.I)
_ASKS = re.compile(rf"\b{_WH}\b|^{_AUX}\b", re.I)
# A second sentence that only says what form the answer takes asks nothing new.
_FORM_PROMPT = re.compile(
    r"^(?:what (?:does|do|will|would) (?:this|these|the code|it|the following) (?:print|output|show|return|display)"
    r"|what should (?:a|the|your) (?:strong |good )?answer (?:cover|include|mention))\b",
    re.I,
)


def two_questions(card: Card) -> Iterable[Finding]:
    prose = question_prose(card)
    asked = [s.strip() for s in re.findall(r"[^?]*\?", prose) if s.strip()]
    asked = [s for s in asked if not _FORM_PROMPT.match(re.sub(r"^[^A-Za-z]+", "", s))]
    reason = ""
    if len(asked) >= 2:
        reason = f"it has {len(asked)} question marks"
    else:
        for match in _SECOND_QUESTION.finditer(prose):
            before = prose[:match.start()]
            sentence = re.split(r"[.!?:]\s+", before)[-1]
            if _ASKS.search(sentence):
                reason = f"'{match.group(0).strip(', ')}' starts a second question"
                break
    if reason:
        yield Finding(
            _at(card), "two-questions",
            f"the question asks two things ({reason}): ask each on a card of its own",
            (card.meta.id,),
        )


_AUXILIARY = re.compile(
    r"^(?:is|are|was|were|am|do|does|did|can|could|should|would|will|shall|has|have|had|must|may|might"
    r"|isn't|aren't|doesn't|don't|can't|won't|shouldn't)\b",
    re.I,
)
_REQUEST = re.compile(r"^(?:can|could|would|will) you\b", re.I)  # "Can you explain ...": a task, not yes/no


def yes_no(card: Card) -> Iterable[Finding]:
    if card.is_cloze or card.is_multiple_choice:
        return  # the options (or the gaps) give the answer's shape
    prose = question_prose(card)
    sentences = [s for s in re.split(r"(?<=[.?!:])\s+", prose) if s.strip()]
    asked = next((s for s in reversed(sentences) if s.rstrip().endswith("?")), "")  # a heading may be a title
    if not _AUXILIARY.match(asked) or _REQUEST.match(asked):
        return
    if re.search(r"\bor\b", asked, re.I):
        return  # "Is it X or Y?" asks for a choice
    yield Finding(
        _at(card), "yes-no",
        "the question can be answered by yes or no, so half of the guesses are right: ask what happens, "
        "which one, or why instead",
        (card.meta.id,),
    )


def _front_code(card: Card) -> Callable[[CodeBlock], bool]:
    """Whether a block's code stands on the card's front: shown with the question, an option, or a
    cloze's text (the whole card when it has no --- break)."""
    return lambda block: block.part in ("context", "option") or (card.is_cloze and not card.context_html)


# What each side's rule says of a line too wide for a phone: which side, and why it matters there.
_WIDE_SIDES = {
    "wide-code": (True, "question", "it wraps on a phone, where the learner must trace it"),
    "wide-answer-code": (False, "answer", "it wraps onto several rows on a phone"),
}


def _wide_lines(card: Card, limit: float, rule: str) -> Iterable[Finding]:
    front, side, consequence = _WIDE_SIDES[rule]
    on_front = _front_code(card)
    for block in card.code_blocks:
        if bool(on_front(block)) != front:
            continue
        for offset, line in enumerate(block.text.split("\n")):
            width = display_width(line)
            if width > limit:
                yield Finding(
                    _at(card, block.line + offset), rule,
                    f"code line on the {side} side is {width} columns wide (at most {_number(limit)}): "
                    f"{consequence}; break it or shorten names",
                    (card.meta.id,),
                )


def wide_code(card: Card, limit: float) -> Iterable[Finding]:
    """Code the learner must read to answer (the front) that wraps on a phone."""
    return _wide_lines(card, limit, "wide-code")


def wide_answer_code(card: Card, limit: float) -> Iterable[Finding]:
    """Code on the back, read once the answer is shown: it may wrap, but not line after line."""
    return _wide_lines(card, limit, "wide-answer-code")


_WRITE = re.compile(
    r"^(?:write|implement|code|sketch|define|create|build|make|rewrite|refactor|fix)\b"
    r"|\b(?:write|implement|sketch)\s+(?:a|an|the|your|code)\b",
    re.I,
)
MOSTLY_CODE_WORDS = 12  # an answer with fewer words of prose than this is its code


def long_code(card: Card, limit: float) -> Iterable[Finding]:
    if card.is_cloze or card.is_multiple_choice:
        return  # the learner fills gaps or picks an option: nothing is written from memory
    answer_code = [block for block in card.code_blocks if block.part == "answer" and block.language != "output"]
    if not answer_code:
        return
    asks_for_code = bool(_WRITE.search(question_prose(card)))
    if not asks_for_code and count_words(plain_text(card.answer_html)) >= MOSTLY_CODE_WORDS:
        return  # the code illustrates a prose answer
    for block in answer_code:
        lines = sum(1 for line in block.text.split("\n") if line.strip())
        if lines > limit:
            yield Finding(
                _at(card, block.line), "long-code",
                f"the answer's code has {lines} lines to write from memory (at most {_number(limit)}): "
                "cloze its key lines, or split it into cards",
                (card.meta.id,),
            )


def _normal_term(text: str) -> str:
    return " ".join(html.unescape(_TAGS.sub("", text)).split())


def _contains_term(haystack: str, term: str) -> bool:
    if len(term) < 3 or not re.search(r"[^\W\d_]", term):
        return False  # one or two characters, or a number: too common to be a give-away
    return re.search(rf"(?<![\w.]){re.escape(term)}(?![\w(])", haystack) is not None


_ASKS_FOR_NAME = re.compile(
    r"^(?:which|what)\s+(?:\w+\s+){0,2}?(?:function|method|module|class|exception|error|keyword|decorator|"
    r"attribute|operator|type|library|package|builtin|built-in|statement|command|option|argument|tool|name)s?\b",
    re.I,
)


_LEADING_TERM = re.compile(r"^<p>\s*<(code|strong|b)>(.*?)</\1>", re.S)


_CAUGHT = re.compile(r"^\s*except\*?\s*\(?\s*([\w.]+(?:\s*,\s*[\w.]+)*)", re.M)
_STEM_MIN = 4  # letters a hidden word and a visible word must share at their start to be one stem


def _cloze_visible(text: str, number: int) -> str:
    """What the front of cloze card `number` shows of the cloze text: its own gaps hidden, the others
    shown as their text (as Anki does), tags removed."""
    def shown(match: re.Match[str]) -> str:
        return " " if match.group(0).startswith(f"{{{{c{number}::") else match.group(1)

    return _normal_term(_TAGS.sub(" ", _CLOZE.sub(shown, text))).casefold()


def _shares_stem(hidden: str, visible: str) -> str | None:
    """A visible word that shares the hidden one-word term's stem (*called* / `__call__`), or None."""
    word = hidden.strip("_").casefold()
    if not word.isalpha() or len(word) < _STEM_MIN:
        return None
    need = max(_STEM_MIN, len(word) - 3)
    words: list[str] = re.findall(r"[^\W\d_]+", visible)
    for other in dict.fromkeys(words):
        common = len(os.path.commonprefix([word, other]))
        if common >= need and other != word:
            return other
    return None


def _cloze_leaks(card: Card, question: str) -> list[tuple[str, str]]:
    """(hidden term, where it shows) for each gap whose text, or its stem, the same card's front shows."""
    text = card.context_html or card.answer_html
    leaks: list[tuple[str, str]] = []
    for number in card.meta.cloze_numbers:
        visible = _cloze_visible(text, number)
        pattern = re.compile(rf"\{{\{{c{number}::(.*?)(?:::[^}}]*)?\}}\}}", re.S)
        for match in pattern.finditer(text):
            term = _normal_term(match.group(1))
            if _contains_term(question, term.casefold()):
                leaks.append((term, "the question"))
            elif _contains_term(visible, term.casefold()):
                leaks.append((term, f"the visible text of cloze {number}'s front"))
            elif (stem := _shares_stem(term, question + " " + visible)) is not None:
                leaks.append((term, f"the front of cloze {number}, as '{stem}'"))
    return sorted(set(leaks))


def _caught_names(card: Card) -> set[str]:
    """The exceptions that code shown with the question catches (`except KeyError:`)."""
    names: set[str] = set()
    for block in card.code_blocks:
        if block.part == "context" and block.language != "output":
            for match in _CAUGHT.finditer(block.text):
                names.update(name.strip().rsplit(".", 1)[-1] for name in match.group(1).split(","))
    return {name for name in names if name and name not in ("Exception", "BaseException")}


def _answer_side(card: Card) -> str:
    parts = [card.answer_html, *(o.html for o in card.options if o.correct)]
    return html.unescape(_TAGS.sub(" ", " ".join(parts)))


def caught_exception_leaks(card: Card) -> list[str]:
    """Exceptions the question's code catches by name that the answer names too: the `except`
    clause announces what will happen. In a quiz, a wrong option naming it too takes the tell away."""
    caught = _caught_names(card)
    if not caught or card.is_cloze:
        return []
    answer = _answer_side(card)
    wrong = " ".join(o.html for o in card.options if not o.correct)
    if any(re.search(rf"\b{re.escape(name)}\b", wrong) for name in caught):
        return []  # a wrong option names a caught exception too: the clause no longer points at the key
    return sorted(name for name in caught if re.search(rf"\b{re.escape(name)}\b", answer))


def answer_in_question(card: Card) -> Iterable[Finding]:
    question = _normal_term(card.question_html).casefold()
    for name in caught_exception_leaks(card):
        yield Finding(
            _at(card), "answer-in-question",
            f"the question's code catches {name} by name and the answer names {name}: the except clause "
            "announces what happens; catch a common base (Exception) and print the type, or show a traceback",
            (card.meta.id,),
        )
    if card.is_cloze:
        for term, where in _cloze_leaks(card, question):
            yield Finding(
                _at(card), "answer-in-question",
                f"the hidden text '{term}' is in the question, which gives it away: name it in the answer only"
                if where == "the question" else
                f"the hidden text '{term}' shows in {where}, which gives it away: "
                "reword the visible text, or hide it there too",
                (card.meta.id,),
            )
        return
    if card.is_multiple_choice:
        correct = [_normal_term(o.html) for o in card.options if o.correct]
        wrong = [_normal_term(o.html).casefold() for o in card.options if not o.correct]
        leaks = sorted(
            term for term in correct
            if _contains_term(question, term.casefold()) and not any(_contains_term(question, w) for w in wrong)
        )
        what = "the correct option"
    else:
        if not _ASKS_FOR_NAME.match(question_prose(card)):
            return
        lead = _LEADING_TERM.match(card.answer_html)
        term = _normal_term(lead.group(2)) if lead else ""
        leaks = [term] if term and _contains_term(question, term.casefold()) else []
        what = "the answer's key term"
    for term in leaks:
        yield Finding(
            _at(card), "answer-in-question",
            f"{what} '{term}' is in the question, which gives it away: name it in the answer only",
            (card.meta.id,),
        )


# --- rules across cards -----------------------------------------------------------------------


_STOP = frozenset(
    "a an the of to in on for and or is are be does do did what which how why when with by it its this "
    "that as at from you your can should would will not no if then than so".split()
)
_TOKEN = re.compile(r"[^\W\d_][\w]*|\d+")
MAX_SHARED_SHARE = 0.05  # a word on more than 5 % of the cards (and more than MAX_SHARED_BY) is too common
MAX_SHARED_BY = 12
MAX_SHARED_CAP = 50  # ... and in a deck of over 1,000 cards, a word on more than 50 cards is common too


def _card_words(card: Card) -> Counter[str]:
    """The words of everything the card shows: question, context, answer, options and code."""
    parts = [card.question_html, card.context_html, card.answer_html, *(o.html for o in card.options)]
    text = html.unescape(_TAGS.sub(" ", _PRE.sub(" ", " ".join(parts))))
    text += " " + " ".join(block.text for block in card.code_blocks)
    return Counter(word for word in _TOKEN.findall(text.casefold()) if word not in _STOP)


def similarities(cards: list[Card], limit: float = 0.0) -> dict[tuple[int, int], float]:
    """The cosine similarity of the cards' TF-IDF vectors, for every pair of cards sharing a word
    whose similarity is at least `limit`.

    TF-IDF weighs a word by how often the card uses it (log-scaled) and how few cards of the deck
    use it (smoothed inverse document frequency), so two cards are similar when they share the
    words that make them specific, whatever their order: the classic measure of document
    similarity in information retrieval. As usual, words that many cards use (`print`, `return`,
    `list`) are left out of the vocabulary: those on more than 5 % of the cards, and in any deck
    those on more than MAX_SHARED_CAP cards. An inverted index then pairs only cards that share a
    word, one card at a time against the cards before it, keeping only the pairs that reach the
    limit: as no kept word is on more than MAX_SHARED_CAP cards, time and memory grow linearly
    with the deck (a table of every pair sharing a word grew with its square).
    """
    counts = [_card_words(card) for card in cards]
    frequency: Counter[str] = Counter(word for words in counts for word in words)
    total = len(cards)
    common = min(max(MAX_SHARED_BY, int(total * MAX_SHARED_SHARE)), MAX_SHARED_CAP)
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    vectors: list[list[tuple[str, float]]] = []
    for number, words in enumerate(counts):
        vector = {
            word: (1 + math.log(n)) * (math.log((1 + total) / (1 + frequency[word])) + 1)
            for word, n in words.items() if frequency[word] <= common
        }
        norm = math.sqrt(sum(weight * weight for weight in vector.values())) or 1.0
        vectors.append([(word, weight / norm) for word, weight in vector.items()])
        for word, weight in vector.items():
            postings[word].append((number, weight / norm))
    # each pair's products are added in one fixed order of the words (their first use in the deck)
    rank = {word: place for place, word in enumerate(postings)}
    found: dict[tuple[int, int], float] = {}
    for b, weights in enumerate(vectors):
        scores: dict[int, float] = {}
        for word, weight_b in sorted(weights, key=lambda item: rank[item[0]]):
            for a, weight_a in postings[word]:
                if a >= b:
                    break  # postings are in card order: only the cards before this one
                scores[a] = scores.get(a, 0.0) + weight_a * weight_b
        found.update(((a, b), score) for a, score in scores.items() if score >= limit)
    return found


def near_duplicates(cards: list[Card], limit: float) -> Iterable[Finding]:
    """Pairs of cards whose words (question, answer and code) are nearly the same: see `similarities`."""
    close = sorted(similarities(cards, limit).items())
    for (a, b), score in close:
        first, second = sorted((cards[a], cards[b]), key=lambda card: card.meta.location)
        yield Finding(
            _at(second), "near-duplicate",
            f"nearly the same as the card at {first.meta.location} (similarity {score:.2f}, at most "
            f"{_number(limit)}): keep one, or make them ask different things",
            (second.meta.id, first.meta.id),
        )


def _choice_items(cards: list[Card]) -> list[tuple[Card, int, int]]:
    """(card, position of its one correct option (1-based), number of options) for each quiz card."""
    items = []
    for card in cards:
        correct = [i for i, option in enumerate(card.options, 1) if option.correct]
        if len(correct) == 1:
            items.append((card, correct[0], len(card.options)))
    return items


def _deck_location(cards: list[Card]) -> SourceLocation:
    return min(card.meta.location for card in cards)


def choice_position(cards: list[Card], ratio: float, deck: str) -> Iterable[Finding]:
    items = _choice_items(cards)
    if len(items) < MIN_CHOICE_CARDS:
        return
    observed = Counter(position for _, position, _ in items)
    for position in sorted(observed):
        expected = sum(1 / count for _, _, count in items if count >= position)
        seen = observed[position]
        if seen >= ratio * expected and seen - expected >= MIN_CHOICE_EXCESS:
            concerned = tuple(card.meta.id for card, at, _ in items if at == position)
            yield Finding(
                _deck_location([card for card, _, _ in items]), "choice-position",
                f"{deck}: the correct option is option {position} in {seen} of {len(items)} multiple-choice "
                f"cards, where chance gives {expected:.1f} (at most {_number(ratio)} times chance): "
                "learners will remember the position; shuffle the options or vary where the answer sits",
                concerned,
            )


def _option_length(option_html: str) -> int:
    return len(_normal_term(option_html))


def choice_length(cards: list[Card], ratio: float, deck: str) -> Iterable[Finding]:
    items = _choice_items(cards)
    if len(items) < MIN_CHOICE_CARDS:
        return
    longest = []
    for card, position, _ in items:
        lengths = [_option_length(o.html) for o in card.options]
        key = lengths[position - 1]
        if all(key > length for i, length in enumerate(lengths, 1) if i != position):
            longest.append(card)
    expected = sum(1 / count for _, _, count in items)
    if len(longest) >= ratio * expected and len(longest) - expected >= MIN_CHOICE_EXCESS:
        yield Finding(
            _deck_location([card for card, _, _ in items]), "choice-length",
            f"{deck}: the correct option is the longest in {len(longest)} of {len(items)} multiple-choice cards, "
            f"where chance gives {expected:.1f} (at most {_number(ratio)} times chance): learners will pick "
            "the longest; trim the right answers or give the wrong ones the same detail",
            tuple(card.meta.id for card in longest),
        )


# --- running the rules ------------------------------------------------------------------------


def no_reference(card: Card) -> Iterable[Finding]:
    if card.references:
        return
    yield Finding(
        _at(card), "no-reference",
        "the card cites nothing: end it with `Reference: [label](https://...)`, a link to the place "
        "that backs the answer (documentation section, PEP, RFC), so a learner can check it",
        (card.meta.id,),
    )


_CARD_RULES: dict[str, Callable[..., Iterable[Finding]]] = {
    "long-answer": long_answer,
    "list-recall": list_recall,
    "two-questions": two_questions,
    "yes-no": yes_no,
    "wide-code": wide_code,
    "wide-answer-code": wide_answer_code,
    "long-code": long_code,
    "answer-in-question": answer_in_question,
    "no-reference": no_reference,
}


def _card_findings(card: Card, settings: LintSettings, rules: tuple[str, ...]) -> Iterable[Finding]:
    """The findings of the rules that judge one card at a time (with its threshold, if it has one)."""
    for name in rules:
        check = _CARD_RULES.get(name)
        if check is not None:
            yield from check(card) if RULES[name].default is None else check(card, rule_threshold(settings, name))


def lint_cards(
    cards: Iterable[Card],
    settings: LintSettings | None = None,
    decks: Iterable[tuple[str, list[Card]]] | None = None,
    rules: Iterable[str] = tuple(RULES),
) -> LintReport:
    """Every finding of the chosen rules; `decks` are the (name, cards) the deck-level rules judge."""
    settings = settings or LintSettings()
    chosen = tuple(rule for rule in rules if rule_on(settings, rule))
    live = [card for card in cards if not card.meta.retired]
    findings: list[Finding] = []
    for card in live:
        findings.extend(_card_findings(card, settings, chosen))
    if "near-duplicate" in chosen:
        findings.extend(near_duplicates(live, rule_threshold(settings, "near-duplicate")))
    deck_rules = [rule for rule in ("choice-position", "choice-length") if rule in chosen]
    if deck_rules:
        for name, deck_cards in decks if decks is not None else [("the deck", live)]:
            quiz = [card for card in deck_cards if card.is_multiple_choice and not card.meta.retired]
            for rule in deck_rules:
                counted = [card for card in quiz if rule not in card.meta.lint_ignore]
                check = choice_position if rule == "choice-position" else choice_length
                findings.extend(check(counted, rule_threshold(settings, rule), name))
    ignored = {card.meta.id: set(card.meta.lint_ignore) for card in live}
    kept, silenced = [], []
    for finding in findings:
        if finding.rule not in ("choice-position", "choice-length") and any(
            finding.rule in ignored.get(card_id, ()) for card_id in finding.cards
        ):
            silenced.append(finding)
        else:
            kept.append(finding)
    if deck_rules:  # a quiz card that silences a deck rule is left out of its count: count it here
        for card in live:
            silenced.extend(
                Finding(_at(card), rule, "left out of the deck's count", (card.meta.id,))
                for rule in deck_rules if rule in card.meta.lint_ignore and card.is_multiple_choice
            )
    kept.extend(_unused_silences(live, chosen, silenced))
    return LintReport(tuple(sorted(kept)), tuple(sorted(silenced)))


UNUSED_SILENCE = "unused-silence"


def _unused_silences(cards: list[Card], chosen: tuple[str, ...], silenced: list[Finding]) -> Iterable[Finding]:
    """A silence whose rule (switched on) finds nothing on its card: it would hide a later finding
    that nobody has looked at, so it is a finding of its own."""
    used = {(card_id, finding.rule) for finding in silenced for card_id in finding.cards}
    for card in cards:
        for rule in card.meta.lint_ignore:
            if rule in chosen and (card.meta.id, rule) not in used:
                yield Finding(
                    _at(card), UNUSED_SILENCE,
                    f"the card silences {rule}, which finds nothing here: remove `{rule}` from its lint ignore",
                    (card.meta.id,),
                )


def warn_in_check(
    cards: Iterable[Card],
    settings: LintSettings | None,
    decks: Iterable[tuple[str, list[Card]]] | None,
    diagnostics: Diagnostics,
) -> None:
    """What `check` (and `build`) report without --lint: code wider than a phone, biased quizzes."""
    report = lint_cards(cards, settings, decks, rules=CHECK_RULES)
    for finding in report.findings:
        diagnostics.warning(finding.location, f"{finding.message} [{finding.rule}]", kind=finding.rule)
