from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# 200 examples per property in every run (CI included); `pytest --hypothesis-profile=heavy` for 2,000.
settings.register_profile("default", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("heavy", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = FIXTURES / "sample"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files after a deliberate change")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A private copy of the sample content folder, safe to edit."""
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE, target)
    return target


@dataclass(frozen=True)
class ImportedCard:
    question: str
    answer: str
    deck: str
    ord: int


@dataclass(frozen=True)
class ImportedNote:
    id: int
    guid: str
    notetype: str
    fields: dict[str, str]
    tags: tuple[str, ...]
    mod: int
    cards: tuple[ImportedCard, ...]


class AnkiCollection:
    """A real Anki collection (the PyPI `anki` package), for importing what the build wrote."""

    def __init__(self, folder: Path):
        from anki.collection import Collection

        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "collection.anki2"
        self.col = Collection(str(self.path))

    def import_package(self, path: Path):
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        request = ImportAnkiPackageRequest(
            package_path=str(path), options=ImportAnkiPackageOptions(with_scheduling=True)
        )
        return self.col.import_anki_package(request)

    def notes(self) -> dict[str, ImportedNote]:
        """Every note by its `Id` field."""
        result = {}
        for note_id in self.col.find_notes(""):
            note = self.col.get_note(note_id)
            cards = tuple(
                ImportedCard(c.question(), c.answer(), self.col.decks.name(c.did), c.ord) for c in note.cards()
            )
            fields = dict(note.items())
            result[fields["Id"]] = ImportedNote(
                note.id, note.guid, note.note_type()["name"], fields, tuple(sorted(note.tags)), note.mod, cards
            )
        assert len(result) == len(self.col.find_notes("")), "two notes share an Id field"
        return result

    def notes_by_guid(self) -> list:
        """Every note (of any note type), for tests that follow identities across note types."""
        return [self.col.get_note(note_id) for note_id in self.col.find_notes("")]

    def reopen(self) -> None:
        """Close and open again, so that nothing is read from the Python side's caches."""
        from anki.collection import Collection

        self.col.close()
        self.col = Collection(str(self.path))

    def notetype_names(self) -> list[str]:
        return sorted(n.name for n in self.col.models.all_names_and_ids())

    def close(self) -> None:
        self.col.close()


@pytest.fixture
def anki(tmp_path: Path) -> Iterator[AnkiCollection]:
    collection = AnkiCollection(tmp_path / "anki")
    yield collection
    collection.close()


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own render cache, so no test sees another's (or the user's) entries."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("BUILD_DECK_CACHE_DIR", str(folder))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))  # the cache's signing key
    return folder
