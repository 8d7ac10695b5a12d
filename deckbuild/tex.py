"""What math may contain: an allow-list of TeX commands and environments.

Anki typesets `\\(...\\)` and `\\[...\\]` with MathJax and loads every TeX package, among them
`\\href` (links, `javascript:` included), `\\style`, `\\class`, `\\cssId` (CSS that can load from the
network), `\\require` and `\\unicode`. Math in a card may use only the commands below: Greek
letters, operators, relations, arrows, accents, fonts, fractions, roots, big operators, delimiters,
spacing and a few layout environments. Anything else (`\\href`, `\\url`, `\\style`, `\\class`,
`\\cssId`, `\\require`, `\\unicode`, `\\html...`, `\\color`, `\\bbox`, `\\def`, `\\newcommand`, ...)
is an error at its line in a Markdown formula, and in any other text that MathJax would read
(escaped prose, raw HTML, a file name) the formula is shown as text instead.
"""

from __future__ import annotations

import re

_GREEK = """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa varkappa lambda mu nu
xi omicron pi varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi
Pi Sigma Upsilon Phi Psi Omega varGamma varDelta varTheta varLambda varXi varPi varSigma varUpsilon varPhi
varPsi varOmega digamma"""

_SYMBOLS = """infty partial nabla forall exists nexists neg lnot emptyset varnothing aleph beth hbar hslash ell wp Re
Im imath jmath prime backprime top bot angle measuredangle triangle square blacksquare Box Diamond lozenge
checkmark therefore because dagger ddagger S P surd flat sharp natural clubsuit diamondsuit heartsuit
spadesuit complement mho ldots cdots vdots ddots dots dotsc dotsb dotsm dotsi dotso cdotp ldotp colon"""

_OPERATORS = """pm mp times div cdot ast star circ bullet oplus ominus otimes oslash odot cap cup uplus sqcap sqcup
vee wedge land lor setminus smallsetminus wr amalg diamond bigtriangleup bigtriangledown triangleleft
triangleright lhd rhd unlhd unrhd intercal dotplus ltimes rtimes bmod pmod mod"""

_RELATIONS = """leq le geq ge neq ne lt gt equiv approx approxeq sim simeq cong asymp doteq propto ll gg lll ggg
subset supset subseteq supseteq subsetneq supsetneq nsubseteq nsupseteq sqsubset sqsupset sqsubseteq
sqsupseteq in notin ni owns mid nmid parallel nparallel perp models vdash dashv vDash Vdash prec succ preceq
succeq leqslant geqslant lesssim gtrsim nleq ngeq nless ngtr not neg smile frown bowtie"""

_ARROWS = """to gets leftarrow rightarrow leftrightarrow Leftarrow Rightarrow Leftrightarrow longleftarrow
longrightarrow longleftrightarrow Longleftarrow Longrightarrow Longleftrightarrow mapsto longmapsto
hookleftarrow hookrightarrow uparrow downarrow updownarrow Uparrow Downarrow Updownarrow nearrow searrow
swarrow nwarrow leftharpoonup leftharpoondown rightharpoonup rightharpoondown rightleftharpoons
leftrightarrows rightleftarrows implies impliedby iff xrightarrow xleftarrow nrightarrow nleftarrow
nRightarrow nLeftarrow"""

_BIG = """sum prod coprod int iint iiint oint bigcup bigcap bigsqcup bigvee bigwedge bigoplus bigotimes bigodot
biguplus lim liminf limsup max min sup inf arg det dim exp gcd hom ker deg lg ln log Pr sin cos tan cot sec
csc arcsin arccos arctan sinh cosh tanh coth limits nolimits operatorname"""

_STRUCTURE = """frac dfrac tfrac cfrac binom dbinom tbinom choose over atop sqrt root of left right middle big Big
bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr langle rangle lfloor rfloor lceil rceil lvert rvert
lVert rVert vert Vert lbrace rbrace lbrack rbrack backslash overline underline overbrace underbrace
overset underset stackrel substack widehat widetilde overrightarrow overleftarrow overleftrightarrow
hat check tilde acute grave dot ddot breve bar vec mathring boxed phantom hphantom vphantom smash
displaystyle textstyle scriptstyle scriptscriptstyle mathrm mathit mathbf mathsf mathtt mathcal mathbb
mathfrak mathscr mathnormal boldsymbol bm text textrm textit textbf textsf texttt textnormal mbox
mathbin mathrel mathop mathord mathopen mathclose mathpunct quad qquad enspace thinspace medspace
thickspace negthinspace negmedspace negthickspace hspace newline hline cline begin end tag notag nonumber
cancel coloneqq triangleq leqq geqq"""

COMMANDS = frozenset(" ".join((_GREEK, _SYMBOLS, _OPERATORS, _RELATIONS, _ARROWS, _BIG, _STRUCTURE)).split())
# control symbols: spacing, a line break, and escaped special characters
SYMBOLS = frozenset(", : ; ! > \\ { } | % $ # & _ ".split() + [" ", "\n"])
ENVIRONMENTS = frozenset(
    """matrix pmatrix bmatrix Bmatrix vmatrix Vmatrix smallmatrix cases rcases array subarray aligned
    alignedat gathered split align align* gather gather* equation equation* multline multline*""".split()
)

_CONTROL = re.compile(r"\\([A-Za-z]+|.)", re.S)
_ENVIRONMENT = re.compile(r"\s*\{([^{}]*)\}")


def math_problem(tex: str) -> tuple[int, str] | None:
    """The offset and description of the first command math may not use, or None when all are allowed."""
    for match in _CONTROL.finditer(tex):
        name = match.group(1)
        allowed = COMMANDS if name[0].isascii() and name[0].isalpha() else SYMBOLS
        if name not in allowed:
            shown = "\\" + (name if name.strip() else repr(name)[1:-1])
            return match.start(), f"math may not use {shown}: it is not on the allow-list of TeX commands"
        if name in ("begin", "end"):
            environment = _ENVIRONMENT.match(tex, match.end())
            if environment is None or environment.group(1) not in ENVIRONMENTS:
                found = environment.group(1) if environment else ""
                return match.start(), f"math may not use the environment '{found}': it is not on the allow-list"
    return None


_OPENERS = {"(": ")", "[": "]"}


def _bad_token(tex: str, match: re.Match[str]) -> bool:
    name = match.group(1)
    allowed = COMMANDS if name[0].isascii() and name[0].isalpha() else SYMBOLS
    if name not in allowed:
        return True
    if name in ("begin", "end"):
        environment = _ENVIRONMENT.match(tex, match.end())
        return environment is None or environment.group(1) not in ENVIRONMENTS
    return False


def unsafe_formulas(text: str) -> list[int]:
    """The offsets of the opening delimiters (`\\(` or `\\[`) of the formulas MathJax would find
    in `text` (up to the closing delimiter, or to the end when none) that use a command off the
    allow-list. `text` is DOM text: entities decoded.

    Every opener counts, even one inside another formula (when the outer one is shown as text,
    MathJax reads the inner one). A formula ends at the first closer of its kind at brace depth 0,
    where the depth counts from its opener and never drops below 0. In linear time: one pass reads
    the control sequences (their pairing of backslashes is the same from every opener on), and a
    closer at `k` closes every open formula that began after the last offset before `k` where the
    running brace sum was lower than at `k`."""
    if "\\" not in text:
        return []
    # braces outside control sequences, and the control sequences that are off the allow-list
    brace = [0] * (len(text) + 1)  # brace[i]: net unescaped braces in text[:i]
    bad_before = [0] * (len(text) + 1)  # bad_before[i]: off-list control sequences starting before i
    closers: dict[int, str] = {}
    index, depth, bad = 0, 0, 0
    for match in _CONTROL.finditer(text):
        for i in range(index, match.start()):
            brace[i], bad_before[i] = depth, bad
            depth += (text[i] == "{") - (text[i] == "}")
        for i in range(match.start(), match.end()):
            brace[i], bad_before[i] = depth, bad
        if match.group(1) in (")", "]"):
            closers[match.start()] = match.group(1)
        bad += _bad_token(text, match)
        index = match.end()
    for i in range(index, len(text) + 1):
        brace[i], bad_before[i] = depth, bad
        if i < len(text):
            depth += (text[i] == "{") - (text[i] == "}")
    unsafe: list[int] = []
    pending: dict[str, list[int]] = {")": [], "]": []}  # open formulas by their closer, in order
    lower: list[int] = []  # offsets with strictly increasing brace sums: the last lower one is below the top
    for i in range(len(text)):
        while lower and brace[lower[-1]] >= brace[i]:
            lower.pop()
        last_lower = lower[-1] if lower else -1
        lower.append(i)
        kind = closers.get(i)
        if kind is not None:
            waiting = pending[kind]
            while waiting and waiting[-1] + 2 > last_lower:  # depth 0 here, counted from that opener
                start = waiting.pop()
                if bad_before[i] - bad_before[start + 2] > 0:
                    unsafe.append(start)
        if text.startswith(("\\(", "\\["), i):
            pending[_OPENERS[text[i + 1]]].append(i)
    for waiting in pending.values():  # never closed: the formula runs to the end
        unsafe += [start for start in waiting if bad_before[len(text)] - bad_before[start + 2] > 0]
    return sorted(unsafe)
