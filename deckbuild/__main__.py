"""`python -m deckbuild`: the same program as the `deckbuild` command."""

from deckbuild.cli import main

if __name__ == "__main__":
    main()
