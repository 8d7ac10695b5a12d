"""Build Anki decks from Markdown question-and-answer files."""

__version__ = "0.1.0"
