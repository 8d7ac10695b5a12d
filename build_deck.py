"""Entry point: `python build_deck.py --help`."""

from deckbuild.cli import main

if __name__ == "__main__":
    main()
