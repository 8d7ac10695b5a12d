"""Package stage: notes -> .apkg files. The only module that imports genanki.

genanki stamps every note, card and zip entry with the wall clock and leaves its temporary
database behind; here each note gets its own modification time, ids come from the build's own
clock, the zip has fixed dates, order and compression, and the database lives in a folder that
is removed. The same notes give the same bytes.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import html
import itertools
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

import genanki

from .cache import read_signed_record, sign_record, tool_fingerprint
from .notetypes import NOTETYPES, NoteTypeContract, card_css
from .records import DeckPlan, NoteRecord

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_LEVEL = 6


def note_guid(namespace: str, card_id: str) -> str:
    """A note's identity: the deck's namespace and the card's id, never its text."""
    return genanki.guid_for(namespace, card_id)


_TAG = re.compile(r"<[^>]*>")


def sort_text(record: NoteRecord) -> str:
    """What Anki's browser sorts and shows in its first column: the sort field as plain text."""
    value = record.fields[NOTETYPES[record.notetype].sort_index]
    return html.unescape(_TAG.sub("", value)).strip()


def deck_id(name: str) -> int:
    digest = hashlib.sha256(f"build_deck deck {name}".encode()).digest()
    return (1 << 40) + int.from_bytes(digest[:6], "big")


def _model(contract: NoteTypeContract) -> genanki.Model:
    return genanki.Model(
        model_id=contract.id,
        name=contract.name,
        fields=[{"name": name, "id": field_id} for name, field_id in contract.fields],
        templates=[
            {"name": name, "id": template_id, "qfmt": front, "afmt": back}
            for name, template_id, front, back in contract.templates
        ],
        css=card_css(),
        model_type=genanki.Model.CLOZE if contract.is_cloze else genanki.Model.FRONT_BACK,
        sort_field_index=contract.sort_index,
    )


def _build_database(plan: DeckPlan, database: Path) -> None:
    """genanki writes the collection, note types and decks; notes and cards go in by executemany,
    which is several times faster than genanki's note-by-note loop for large decks."""
    models = {key: _model(contract) for key, contract in NOTETYPES.items()}
    top = genanki.Deck(deck_id(plan.spec.name), plan.spec.name, plan.description)
    decks = {plan.spec.name: top}
    for record in plan.notes:
        if record.deck_name not in decks:
            decks[record.deck_name] = genanki.Deck(deck_id(record.deck_name), record.deck_name)
    for model in models.values():
        top.add_model(model)  # every note type travels, so a deck of one kind still updates the others

    stamp = max([record.modified for record in plan.notes] + list(plan.notetype_modified.values()) + [0])
    first_id = stamp * 1000 + 1  # never 0, which Anki's collection cannot hold (SOURCE_DATE_EPOCH=0)
    notes, cards = [], []
    for position, record in enumerate(plan.notes):
        note_id = first_id + position
        notes.append((
            note_id, record.guid or note_guid(plan.spec.namespace, record.card_id), NOTETYPES[record.notetype].id, record.modified, -1,
            f" {' '.join(record.tags)} ", "\x1f".join(record.fields), sort_text(record), 0, 0, "",
        ))
        # a new card's `due` is its position: Anki hands out new cards from the lowest up
        dues = record.positions or (position,) * record.card_count
        for ordinal, due in zip(record.card_ords, dues, strict=True):
            cards.append((
                first_id + len(plan.notes) + len(cards), note_id, deck_id(record.deck_name), ordinal,
                record.modified, -1, 0, 0, due, 0, 0, 0, 0, 0, 0, 0, 0, "",
            ))
    connection = sqlite3.connect(database)
    try:
        cursor = connection.cursor()
        genanki.Package(list(decks.values())).write_to_db(cursor, stamp, itertools.count(first_id))
        cursor.executemany("INSERT INTO notes VALUES (?,?,?,?,?,?,?,?,?,?,?)", notes)
        cursor.executemany("INSERT INTO cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cards)
        (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
        stored = json.loads(models_json)
        for contract in NOTETYPES.values():
            stored[str(contract.id)]["mod"] = plan.notetype_modified.get(contract.key, stamp)
        cursor.execute("UPDATE col SET models = ?", (json.dumps(stored, sort_keys=True),))
        connection.commit()
    finally:
        connection.close()


def _zip_entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data, compresslevel=ZIP_LEVEL)


def write_package(plan: DeckPlan, target: Path) -> None:
    """Write one deck to `target` (normally a temporary file that the caller renames)."""
    with tempfile.TemporaryDirectory(prefix=f"build_deck-{os.getpid()}-") as scratch:
        database = Path(scratch) / "collection.anki2"
        try:
            _build_database(plan, database)
        except sqlite3.OperationalError as exc:  # a full disk, seen through SQLite
            raise OSError(errno.EIO, f"the deck's database could not be written ({exc})") from exc
        media = sorted(plan.media, key=lambda m: m.name)
        with zipfile.ZipFile(target, "w") as archive:
            _zip_entry(archive, "collection.anki2", database.read_bytes())
            index = {str(number): item.name for number, item in enumerate(media)}
            _zip_entry(archive, "media", json.dumps(index, sort_keys=True).encode("utf-8"))
            for number, item in enumerate(media):
                _zip_entry(archive, str(number), item.path.read_bytes())


def plan_digest(plan: DeckPlan) -> str:
    """Everything that goes into a package: equal digests give equal bytes."""
    digest = hashlib.sha256(tool_fingerprint().encode())
    digest.update(repr((plan.spec, plan.description, sorted(plan.notetype_modified.items()))).encode())
    for note in plan.notes:
        digest.update(repr(note).encode())
    for media in sorted(plan.media, key=lambda m: m.name):
        stat = media.path.stat()
        digest.update(repr((media.name, str(media.path), stat.st_size, stat.st_mtime_ns)).encode())
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record_path(cache_folder: Path, target: Path) -> Path:
    name = hashlib.sha256(str(target.absolute()).encode()).hexdigest()
    return cache_folder / "packages" / f"{name}.json"


def package_is_current(plan: DeckPlan, out_dir: Path, cache_folder: Path | None) -> Path | None:
    """The deck's path when the file there already holds exactly this plan (so writing is skipped)."""
    target = out_dir / plan.spec.file_name
    if cache_folder is None or not target.is_file():
        return None
    try:
        record = read_signed_record(_record_path(cache_folder, target).read_text(encoding="utf-8"))
        if record["plan"] == plan_digest(plan) and record["file"] == _file_digest(target):
            return target
    except (OSError, ValueError, KeyError, TypeError):  # a record not signed by this user is None
        pass
    return None


def record_package(plan: DeckPlan, target: Path, cache_folder: Path | None) -> None:
    if cache_folder is None:
        return
    record = _record_path(cache_folder, target)
    try:
        signed = sign_record({"plan": plan_digest(plan), "file": _file_digest(target)})
        if signed is not None:
            record.parent.mkdir(parents=True, exist_ok=True)
            record.write_text(signed, encoding="utf-8")
    except OSError:
        pass


def public_mode() -> int:
    """The mode a newly created file gets under the current umask (mkstemp makes files private)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temporary_prefix(final: Path) -> str:
    """Temporary files carry the name of their final file and the build's process id, so that a
    later build can tell (and remove) the ones a killed build left behind."""
    return f".{final.name}.build_deck-{os.getpid()}-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process, or no way to tell: leave its files alone
    return True


def clean_stale_temporaries(out_dir: Path, others: list[Path]) -> list[Path]:
    """Remove what killed builds left: staged files in the output folder (and beside the lock) and
    scratch folders in the system's temporary folder, each only when its process is gone."""
    patterns = [(folder, ".*.build_deck-*-*.tmp") for folder in {out_dir, *(p.parent for p in others)}]
    patterns.append((Path(tempfile.gettempdir()), "build_deck-*-*"))
    removed = []
    for folder, pattern in patterns:
        if not folder.is_dir():
            continue
        for path in folder.glob(pattern):
            match = re.search(r"build_deck-([0-9]+)-", path.name)
            if match is None or int(match.group(1)) == os.getpid() or _process_alive(int(match.group(1))):
                continue
            with contextlib.suppress(OSError):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
    return removed


@contextlib.contextmanager
def staged_outputs(out_dir: Path) -> Iterator[dict[Path, Path]]:
    """Collect final path -> temporary file; rename them all into place only if the block succeeds.

    A failed or interrupted build (Ctrl-C included) removes its temporary files and leaves every
    existing file in `out_dir` as it was.
    """
    staged: dict[Path, Path] = {}
    try:
        yield staged
    except BaseException:
        for temporary in staged.values():
            with contextlib.suppress(OSError):
                temporary.unlink()
        raise
    for final, temporary in staged.items():
        os.replace(temporary, final)


def stage_package(plan: DeckPlan, out_dir: Path, staged: dict[Path, Path]) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / plan.spec.file_name
    handle, name = tempfile.mkstemp(prefix=temporary_prefix(final), suffix=".tmp", dir=out_dir)
    os.close(handle)
    os.chmod(name, public_mode())
    staged[final] = Path(name)
    write_package(plan, Path(name))
    return final
