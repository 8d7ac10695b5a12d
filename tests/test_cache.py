"""The render cache and the skipped package write never change what a build produces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import build_folder, run_cli


def _build(content: Path, out: Path, lock: Path, *extra: str) -> bytes:
    result = build_folder(content, out, "--lock", lock, *extra)
    assert result.exit_code == 0
    return (out / f"{content.name}.apkg").read_bytes()


def test_cached_and_uncached_builds_give_the_same_bytes(sample: Path, tmp_path: Path, private_cache: Path) -> None:
    lock = tmp_path / "lock"
    uncached = _build(sample, tmp_path / "a", lock, "--no-cache")
    assert not any(private_cache.iterdir())  # --no-cache neither reads nor writes the cache
    first = _build(sample, tmp_path / "b", lock)
    assert any((private_cache / "files").rglob("*.json"))
    second = _build(sample, tmp_path / "c", lock)  # every file from the cache now
    assert uncached == first == second


def test_parallel_rendering_gives_the_same_bytes(sample: Path, tmp_path: Path, monkeypatch) -> None:
    import deckbuild.workers

    for number in range(6):  # enough files to use several processes
        shutil.copy(sample / "01-strings.md", sample / f"extra-{number}.md")
        text = (sample / f"extra-{number}.md").read_text(encoding="utf-8")
        text = text.replace("id: str-", f"id: x{number}-str-").replace("\n## ", f"\n## ({number}) ")
        (sample / f"extra-{number}.md").write_text(text, encoding="utf-8")
    monkeypatch.setattr(deckbuild.workers, "PARALLEL_MIN_CHARACTERS", 0)
    lock = tmp_path / "lock"
    serial = _build(sample, tmp_path / "serial", lock, "--no-cache", "--jobs", "1")
    parallel = _build(sample, tmp_path / "parallel", lock, "--no-cache", "--jobs", "2")
    assert serial == parallel


def test_corrupt_cache_entries_are_ignored(sample: Path, tmp_path: Path, private_cache: Path) -> None:
    lock = tmp_path / "lock"
    clean = _build(sample, tmp_path / "a", lock)
    for entry in (private_cache / "files").rglob("*.json"):
        entry.write_bytes(b"not an entry")
    assert _build(sample, tmp_path / "b", lock) == clean


def test_an_edit_is_never_hidden_by_the_cache(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    out = tmp_path / "dist"
    before = _build(sample, out, lock)
    path = sample / "01-strings.md"
    path.write_text(path.read_text(encoding="utf-8").replace("repeats it", "repeats the string"), encoding="utf-8")
    after = _build(sample, out, lock)
    assert after != before and _build(sample, tmp_path / "fresh", lock, "--no-cache") == after


def test_unchanged_deck_is_not_rewritten_but_a_damaged_one_is(sample: Path, tmp_path: Path) -> None:
    lock = tmp_path / "lock"
    out = tmp_path / "dist"
    good = _build(sample, out, lock)
    again = run_cli("build", "--content", sample, "--out", out, "--lock", lock)
    assert "5 notes, 5 cards (unchanged)" in again.stdout
    (out / "sample.apkg").write_bytes(b"damaged")
    repaired = run_cli("build", "--content", sample, "--out", out, "--lock", lock)
    assert "(unchanged)" not in repaired.stdout
    assert (out / "sample.apkg").read_bytes() == good


def test_a_changed_image_invalidates_the_cached_card(tmp_path: Path) -> None:
    from conftest import FIXTURES

    shutil.copytree(FIXTURES / "kinds", tmp_path / "kinds")
    content, media = tmp_path / "kinds" / "content", tmp_path / "kinds" / "media"
    first = build_folder(content, tmp_path / "v1", "--media", media)
    image = media / "diagrams" / "stack.png"
    image.write_bytes(image.read_bytes() + b"changed")
    build_folder(content, tmp_path / "v2", "--media", media)
    assert first.exit_code == 0
    import json
    import zipfile

    def names(path: Path) -> set[str]:
        return set(json.loads(zipfile.ZipFile(path).read("media")).values())

    assert names(tmp_path / "v1" / "content.apkg") != names(tmp_path / "v2" / "content.apkg")


def test_adding_a_missing_image_is_seen_although_the_markdown_did_not_change(tmp_path: Path) -> None:
    from conftest import FIXTURES

    shutil.copytree(FIXTURES / "kinds", tmp_path / "kinds")
    content, media = tmp_path / "kinds" / "content", tmp_path / "kinds" / "media"
    image = media / "diagrams" / "stack.png"
    saved = image.read_bytes()
    image.unlink()
    failed = run_cli("build", "--content", content, "--media", media, "--out", tmp_path / "dist")
    assert failed.exit_code == 1 and "image '../media/diagrams/stack.png' not found" in failed.stderr
    image.write_bytes(saved)
    fixed = run_cli("build", "--content", content, "--media", media, "--out", tmp_path / "dist")
    assert fixed.exit_code == 0, fixed.stderr


# --- nothing read from the cache is trusted (V3, B14) ---------------------------------------------


def _entries(cache: Path) -> list[Path]:
    entries = sorted((cache / "files").rglob("*.json"))
    assert entries
    return entries


def _poison(payload: bytes) -> bytes:
    """The entry with every card's answer replaced by a script (the old lengths made to fit it)."""
    import dataclasses
    import json

    from deckbuild.records import Card, FileResult

    head, _, body = payload.partition(b"\n")
    entry = json.loads(head)
    text = body.decode("utf-8", "surrogatepass")
    ends = [sum(entry["lengths"][: i + 1]) for i in range(len(entry["lengths"]))]
    texts = [text[end - length:end] for end, length in zip(ends, entry["lengths"], strict=True)]
    answer = [field.name for field in dataclasses.fields(Card)].index("answer_html")
    for card in entry["result"][[field.name for field in dataclasses.fields(FileResult)].index("cards")]:
        texts[card[answer]] = "<script>alert(document.cookie)</script><img src=x onerror=alert(1)>"
    entry["lengths"] = [len(part) for part in texts]
    return json.dumps(entry).encode() + b"\n" + "".join(texts).encode()


def test_an_entry_with_injected_html_has_no_effect(sample: Path, tmp_path: Path, private_cache: Path) -> None:
    """Whoever can write the cache folder cannot put HTML into a deck: entries are signed with a key
    the cache folder does not hold, and an entry that fails the check is rendered again."""
    lock = tmp_path / "lock"
    clean = _build(sample, tmp_path / "a", lock)
    for entry in _entries(private_cache):
        signature, _, payload = entry.read_bytes().partition(b"\n")
        entry.write_bytes(signature + b"\n" + _poison(payload))  # the old signature: no longer matches
    assert _build(sample, tmp_path / "b", lock) == clean


def test_an_entry_signed_with_another_key_is_ignored(sample: Path, tmp_path: Path, private_cache: Path) -> None:
    from deckbuild.cache import RenderCache

    lock = tmp_path / "lock"
    clean = _build(sample, tmp_path / "a", lock)
    foreign = RenderCache(private_cache, key_path=tmp_path / "elsewhere" / "cache-key")
    for entry in _entries(private_cache):
        payload = _poison(entry.read_bytes().partition(b"\n")[2])
        key = entry.stem
        entry.write_bytes(foreign._mac(foreign._signing_key(), key, payload).encode() + b"\n" + payload)
    assert _build(sample, tmp_path / "b", lock) == clean


class _RunsCode:
    """Unpickling this would run a command that creates a file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_payload_in_the_cache_runs_no_code(sample: Path, tmp_path: Path, private_cache: Path) -> None:
    import pickle

    from deckbuild.cache import RenderCache
    from deckbuild.errors import Diagnostics
    from deckbuild.load import load_sources

    marker = tmp_path / "PWNED"
    cache = RenderCache(private_cache)
    for source in load_sources(sample, Diagnostics()):
        key = cache.key(source, tmp_path / "media")
        for suffix in (".json", ".pickle"):  # today's entry name and the name a pickle cache used
            path = cache._path(key, create=True).with_suffix(suffix)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pickle.dumps((_RunsCode(marker), None)))
    result = run_cli("check", "--content", sample, "--media", tmp_path / "media")
    assert not marker.exists()
    assert result.exit_code == 0, result.output


def test_a_signed_entry_with_wrong_types_is_ignored(sample: Path, tmp_path: Path, private_cache: Path) -> None:
    """B14: a well-formed, correctly signed entry whose fields have the wrong types is a miss."""
    import dataclasses
    import json

    from deckbuild.cache import RenderCache
    from deckbuild.records import FileResult

    lock = tmp_path / "lock"
    clean = _build(sample, tmp_path / "a", lock)
    cache = RenderCache(private_cache)
    cards = [field.name for field in dataclasses.fields(FileResult)].index("cards")
    for entry in _entries(private_cache):
        head, _, texts = entry.read_bytes().partition(b"\n")[2].partition(b"\n")
        data = json.loads(head)
        data["result"][cards] = None
        payload = json.dumps(data).encode() + b"\n" + texts
        entry.write_bytes(cache._mac(cache._signing_key(), entry.stem, payload).encode() + b"\n" + payload)
    assert _build(sample, tmp_path / "b", lock) == clean
    for entry in _entries(private_cache):  # the mistyped entries were replaced by good ones
        assert json.loads(entry.read_bytes().split(b"\n")[1])["result"][cards] is not None


def test_the_signing_key_is_private_and_outside_the_cache(sample: Path, tmp_path: Path, private_cache: Path) -> None:
    import os
    import stat

    from deckbuild.cache import default_key_path, read_or_create_key

    _build(sample, tmp_path / "a", tmp_path / "lock")
    key = default_key_path()
    assert not key.is_relative_to(private_cache)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    os.chmod(key, 0o644)  # a key others can read signs nothing: the cache is not used
    assert read_or_create_key(key) is None
    os.chmod(key, 0o600)
    os.chmod(key.parent, 0o755)
    assert read_or_create_key(key) is None


def test_check_creates_no_signing_key(sample: Path) -> None:
    from deckbuild.cache import default_key_path

    result = run_cli("check", "--content", sample)
    assert result.exit_code == 0, result.output
    assert not default_key_path().exists() and not default_key_path().parent.exists()


def test_a_forged_package_record_does_not_skip_the_write(sample: Path, tmp_path: Path, private_cache: Path) -> None:
    """The record that lets a build skip rewriting an unchanged deck is signed too: a forged one
    (claiming that a tampered deck is current) is ignored and the deck is written again."""
    import hashlib
    import json

    lock, out = tmp_path / "lock", tmp_path / "dist"
    good = _build(sample, out, lock)
    (out / "sample.apkg").write_bytes(b"tampered")
    for record in (private_cache / "packages").glob("*.json"):
        data = json.loads(record.read_text(encoding="utf-8").splitlines()[-1])
        data["file"] = hashlib.sha256(b"tampered").hexdigest()
        record.write_text(json.dumps(data), encoding="utf-8")
    again = run_cli("build", "--content", sample, "--out", out, "--lock", lock)
    assert "(unchanged)" not in again.stdout
    assert (out / "sample.apkg").read_bytes() == good


def test_an_entry_that_cannot_be_written_leaves_no_temporary_file(
    sample: Path, tmp_path: Path, private_cache: Path
) -> None:
    lock = tmp_path / "lock"
    clean = _build(sample, tmp_path / "a", lock)
    for entry in _entries(private_cache):
        entry.unlink()
        entry.mkdir()  # os.replace cannot put a file there
    assert _build(sample, tmp_path / "b", lock) == clean
    assert not list((private_cache / "files").rglob("*.tmp"))


def test_a_cached_result_comes_back_with_every_field(tmp_path: Path) -> None:
    """The cache stores plain data: every field of every card (and every diagnostic) must survive
    the round trip, or a cached build differs from a fresh one in what it drops."""
    from deckbuild.build import process_file
    from deckbuild.cache import result_data, result_from_data
    from deckbuild.errors import Diagnostics
    from deckbuild.load import load_sources

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.md").write_text(
        "## Which is a list?\n"
        '<!-- id: mc, shuffle: false, lint: {ignore: [yes-no], why: "a test"} -->\n\n'
        "- [x] `[]`\n- [ ] `()`\n\n## No id here\n\n```python\nprint(1)\n```\n",
        encoding="utf-8",
    )
    content = Path(__file__).resolve().parent.parent / "content"
    sources = load_sources(content, Diagnostics()) + load_sources(folder, Diagnostics())
    results = [process_file(source, tmp_path) for source in sources]
    for result in results:
        data, texts = result_data(result)
        assert result_from_data(json.loads(json.dumps(data)), texts) == result
    mine = results[-1]
    assert mine.cards[0].meta.lint_ignore == ("yes-no",) and mine.cards[0].meta.shuffle_options is False
    assert mine.cards[1].code_blocks and all(card.source_digest for card in mine.cards)
