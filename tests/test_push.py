"""`push` and `watch --push` against a local endpoint that speaks AnkiConnect's protocol (version 6)
and imports with the real `anki` package into a real collection, as the add-on does inside Anki."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import AnkiCollection
from helpers import run_cli, watching


class FakeAnkiConnect(ThreadingHTTPServer):
    """AnkiConnect's `version` and `importPackage`; every request is recorded."""

    def __init__(self, collection: AnkiCollection, version: int = 6, refuse: str | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.collection, self.version, self.refuse = collection, version, refuse
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeAnkiConnect

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(request)
        if request.get("version") != 6:
            answer = {"result": None, "error": "unsupported version"}
        elif request["action"] == "version":
            answer = {"result": self.server.version, "error": None}
        elif request["action"] == "importPackage" and self.server.refuse:
            answer = {"result": None, "error": self.server.refuse}
        elif request["action"] == "importPackage":
            with self.server.lock:
                self.server.collection.import_package(Path(request["params"]["path"]))
            answer = {"result": True, "error": None}
        else:
            answer = {"result": None, "error": "unsupported action"}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def connect(anki: AnkiCollection) -> Iterator[FakeAnkiConnect]:
    server = FakeAnkiConnect(anki)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_push_imports_the_built_deck_into_anki(sample: Path, tmp_path: Path, connect: FakeAnkiConnect,
                                               anki: AnkiCollection) -> None:
    result = run_cli("push", "--content", sample, "--out", tmp_path / "out", "--url", connect.url)
    assert result.exit_code == 0, result.output
    assert "5 notes imported into Anki" in result.stdout
    assert set(anki.notes()) == {"str-repeat", "str-join", "str-equal-quiz", "float-sum", "fractions-module"}
    assert [r["action"] for r in connect.requests] == ["version", "importPackage"]
    assert Path(connect.requests[1]["params"]["path"]).is_absolute()
    # an edit pushed again updates the note in place: nothing duplicated
    card = sample / "01-strings.md"
    card.write_text(card.read_text(encoding="utf-8").replace("repeats it.", "repeats it, twice."), encoding="utf-8")
    assert run_cli("push", "--content", sample, "--out", tmp_path / "out", "--url", connect.url).exit_code == 0
    notes = anki.notes()
    assert len(notes) == 5 and "twice" in notes["str-repeat"].fields["Answer"]


def test_push_never_adds_notes_one_by_one(sample: Path, tmp_path: Path, connect: FakeAnkiConnect) -> None:
    run_cli("push", "--content", sample, "--out", tmp_path / "out", "--url", connect.url)
    assert {r["action"] for r in connect.requests} <= {"version", "importPackage"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_anki_not_running_is_one_clear_line(sample: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = run_cli("push", "--content", sample, "--out", tmp_path / "out", "--url", url)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"push: error: cannot reach Anki at {url} ([Errno 111] Connection refused): "
        "start Anki desktop with the AnkiConnect add-on installed"
    )


def test_old_ankiconnect_and_a_refused_import_are_named(sample: Path, tmp_path: Path, anki: AnkiCollection) -> None:
    for server, expected in (
        (FakeAnkiConnect(anki, version=5), "speaks protocol 5, and push needs 6: update the add-on"),
        (FakeAnkiConnect(anki, refuse="collection is not open"), "AnkiConnect refused `importPackage`: collection is not open"),
    ):
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            result = run_cli("push", "--content", sample, "--out", tmp_path / "out", "--url", server.url)
        finally:
            server.shutdown()
            server.server_close()
        assert result.exit_code == 1 and expected in result.stderr, result.output
        assert "Traceback" not in result.stderr


def test_something_else_on_the_port_is_not_mistaken_for_anki(sample: Path, tmp_path: Path) -> None:
    class NotAnki(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>hello</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotAnki)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = run_cli("push", "--content", sample, "--out", tmp_path / "out", "--url", url)
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 1 and "did not answer in AnkiConnect's format: is it AnkiConnect?" in result.stderr


def test_watch_push_sends_every_good_build_to_anki(sample: Path, tmp_path: Path, connect: FakeAnkiConnect,
                                                   anki: AnkiCollection) -> None:
    args = ("--no-preview", "--content", sample, "--out", tmp_path / "dist", "--push", connect.url)
    with watching(*args, cwd=tmp_path) as watch:
        watch.wait_for("watching")  # the first build was pushed before watching began
        with connect.lock:
            assert len(anki.notes()) == 5
        source = sample / "01-strings.md"
        new_card = "\n## What is `'a' in 'abc'`?\n<!-- id: in-str -->\n\n`True`\n"
        source.write_text(source.read_text(encoding="utf-8") + new_card, encoding="utf-8")
        watch.wait_for("built 1 deck(s), 6 cards")
        watch.wait_for("pushed")
        with connect.lock:
            assert "in-str" in anki.notes() and len(anki.notes()) == 6


def test_an_address_without_a_scheme_is_http(sample: Path, tmp_path: Path, connect: FakeAnkiConnect,
                                             anki: AnkiCollection) -> None:
    """`--url localhost:8765` is what people type: it means http://, never "unknown url type"."""
    bare = connect.url.removeprefix("http://")
    result = run_cli("push", "--content", sample, "--out", tmp_path / "out", "--url", bare)
    assert result.exit_code == 0, result.output
    assert len(anki.notes()) == 5
    refused = run_cli("push", "--content", sample, "--out", tmp_path / "out", "--url", f"127.0.0.1:{_free_port()}")
    assert refused.exit_code == 1 and "cannot reach Anki at http://127.0.0.1:" in refused.stderr
    assert "unknown url type" not in refused.stderr
