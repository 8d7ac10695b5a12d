"""How the user started the program, so that messages suggest commands in the same form."""

from __future__ import annotations

import sys
from pathlib import Path

COMMAND = "deckbuild"  # the console script, named like the distribution


def command_name() -> str:
    """`deckbuild` when run as the installed command, `python -m deckbuild` as a module, and
    `python build_deck.py` from a checkout (or anything else, such as a test runner)."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    if started.name in (COMMAND, f"{COMMAND}.exe"):
        return COMMAND
    if started.name == "__main__.py" and started.parent.name == "deckbuild":
        return f"python -m {COMMAND}"
    return "python build_deck.py"
