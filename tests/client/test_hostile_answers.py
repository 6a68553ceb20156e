"""The client against a fleet that answers badly: huge, cut off, wrongly typed,
missing fields, absurdly nested, not UTF-8, HTML error pages, secrets echoed,
documents whose digest is missing or wrong.

A tiny ``http.server`` on loopback serves whatever each test queues. Every
case must end in a typed :class:`autointegrate.AutoIntegrateError` with a
short, clear message: never another exception, never a secret.
"""

import base64
import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import autointegrate as ai
from autointegrate.client import MAX_RESPONSE_BYTES, TokenCache
from autointegrate.contract import DOCUMENT_MAX_BYTES

SECRET = "hostile-secret-Zx81"
TOKEN = "tok-hostile-7f3k9q-abcdef"
GOOD_STATE = {
    "ro_id": "AI-7F3K9Q", "shop_ro_ref": "RO/1", "fleet_company_id": "ENT-0042", "revision": 1,
    "status": "pending", "authorization_number": None, "decided_at": None, "decided_by": None,
    "updated_at": "2026-11-28T16:20:00Z", "sequence": 7, "approved_total": "0.00",
    "lines": [{"line_ref": "L1", "status": "pending", "approved_quantity": None, "approved_amount": None,
               "reason": None}],
    "notes": [],
}
DOCUMENT = {"document_id": "D-7", "author_type": "shop", "kind": "photo", "line_ref": "L1", "file_name": "ws.jpg",
            "content_type": "image/jpeg", "size": 183004, "sha256": "0123456789abcdef" * 4, "description": None,
            "uploaded_at": "2026-11-28T16:10:00Z"}


class BadFleet:
    """A loopback server: ``/oauth/token`` answers a token, other paths what is queued."""

    def __init__(self):
        self.answers = []  # (status, headers, body bytes, cut) consumed in order; then GOOD_STATE
        self.token_answer = None
        fleet = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if self.path == "/oauth/token":
                    answer = fleet.token_answer or (200, {}, json.dumps(
                        {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}).encode(), None)
                else:
                    answer = fleet.answers.pop(0) if fleet.answers else (200, {}, json.dumps(GOOD_STATE).encode(),
                                                                         None)
                status, headers, body, cut = answer
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if cut is not None:
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def queue(self, status=200, body=b"", headers=None, cut=None, times=1):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.answers.extend([(status, headers or {}, body, cut)] * times)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fleet():
    server = BadFleet()
    yield server
    server.stop()


@pytest.fixture
def exchanges():
    return []


@pytest.fixture
def client(fleet, exchanges):
    return ai.Client(fleet.url, "hostile-shop", SECRET, token_cache=TokenCache(), sleep=lambda s: None,
                     max_attempts=2, read_timeout=5, on_exchange=exchanges.append)


def assert_clear(error, exchanges=()):
    """A typed error whose message is short, readable and free of secrets."""
    assert isinstance(error, ai.AutoIntegrateError)
    text = str(error)
    assert text.startswith("AutoIntegrate") and len(text) < 700, text
    assert "Traceback" not in text
    for secret in (SECRET, TOKEN):
        assert secret not in text and secret not in repr(error.details)
        assert secret not in repr(exchanges)


def test_huge_answer_is_refused(client, fleet, exchanges):
    fleet.queue(body=b'{"ro_id": "' + b"x" * (MAX_RESPONSE_BYTES + 10) + b'"}')
    with pytest.raises(ai.ProtocolError, match="too large") as info:
        client.get_ro("AI-7F3K9Q")
    assert_clear(info.value, exchanges)
    assert not info.value.retryable


def test_truncated_answer_is_retried_then_a_transport_error(client, fleet, exchanges):
    fleet.queue(body=GOOD_STATE, cut=20, times=2)
    with pytest.raises(ai.TransportError, match="cut off") as info:
        client.get_ro("AI-7F3K9Q")
    assert_clear(info.value, exchanges)
    fleet.queue(body=GOOD_STATE, cut=20)
    assert client.get_ro("AI-7F3K9Q")["ro_id"] == "AI-7F3K9Q"  # the retry got the whole answer


@pytest.mark.parametrize("state, fields", [
    ({}, ["ro_id", "revision", "sequence", "status", "lines"]),
    (dict(GOOD_STATE, ro_id=5, revision="1", sequence=True), ["ro_id", "revision", "sequence"]),
    (dict(GOOD_STATE, sequence=2**40), ["sequence"]),
    (dict(GOOD_STATE, status="weird", lines="L1"), ["status", "lines"]),
    (dict(GOOD_STATE, lines=[{"line_ref": "L1", "status": "approved", "approved_amount": 12.5}]), ["lines[0]"]),
    (dict(GOOD_STATE, lines=[{"line_ref": None, "status": "pending"}]), ["lines[0]"]),
    (dict(GOOD_STATE, decided_by="J.\x00Rivera", approved_total="NaN"), ["approved_total", "decided_by"]),
    (dict(GOOD_STATE, authorization_number={"a": 1}, notes=[{"note_id": "N-1", "text": ["x"]}]),
     ["authorization_number", "notes[0]"]),
    (dict(GOOD_STATE, notes="none"), ["notes"]),
    (dict(GOOD_STATE, invoice="INV/1"), ["invoice"]),
    (dict(GOOD_STATE, invoice={"invoice_date": "2026-11-29"}), ["invoice"]),
    (dict(GOOD_STATE, invoice={"invoice_number": "INV/1", "total": 436.72}), ["invoice"]),
    (dict(GOOD_STATE, invoice={"invoice_number": "INV/1", "invoice_date": "29/11/2026"}), ["invoice"]),
    (dict(GOOD_STATE, documents={"D-1": {}}), ["documents"]),
    (dict(GOOD_STATE, documents=[dict(DOCUMENT, document_id="D 1"), dict(DOCUMENT, size=-1),
                                 dict(DOCUMENT, size=2**31), dict(DOCUMENT, sha256="x" * 64),
                                 dict(DOCUMENT, file_name=None), dict(DOCUMENT, description="a\x00b"), DOCUMENT]),
     ["documents[0]", "documents[1]", "documents[2]", "documents[3]", "documents[4]", "documents[5]"]),
    (dict(GOOD_STATE, documents_requested=[{"line_ref": "L1"}, "photo", {"kind": "photo", "text": 5}]),
     ["documents_requested[0]", "documents_requested[1]", "documents_requested[2]"]),
])
def test_wrongly_typed_or_missing_fields(client, fleet, exchanges, state, fields):
    fleet.queue(body=state)
    with pytest.raises(ai.ProtocolError) as info:
        client.get_ro("AI-7F3K9Q")
    assert_clear(info.value, exchanges)
    for field in fields:
        assert field in str(info.value)
    assert "documents[6]" not in str(info.value)
    assert not info.value.retryable


def test_an_older_fleets_state_is_read_with_empty_new_keys(client, fleet):
    fleet.queue(body={key: value for key, value in GOOD_STATE.items() if key != "notes"})
    assert client.get_ro("AI-7F3K9Q") == dict(GOOD_STATE, notes=[], invoice=None, documents=[],
                                               documents_requested=[])
    fleet.queue(body=dict(GOOD_STATE, notes=None, invoice=None, documents=None, documents_requested=None))
    assert client.get_ro("AI-7F3K9Q")["documents"] == []
    full = dict(GOOD_STATE, status="completed", invoice={"invoice_number": "INV/1", "invoice_date": "2026-11-29",
                                                         "total": "436.72", "accepted_at": "2026-11-29T09:00:00Z"},
                documents=[DOCUMENT, dict(DOCUMENT, document_id="D-8", kind="video", content_type="video/mp4")],
                documents_requested=[{"kind": "photo", "line_ref": "L1", "text": "The crack, please"}])
    fleet.queue(body=full)
    assert client.get_ro("AI-7F3K9Q") == full  # kinds and types the contract does not list are kept as they come


def test_a_conflicts_state_is_checked_like_any_answer(client, fleet, exchanges):
    fleet.queue(409, {"error": {"code": "revision_conflict", "message": "stale", "details": [
        {key: value for key, value in GOOD_STATE.items() if key != "notes"}]}})
    with pytest.raises(ai.RevisionConflictError) as info:
        client.get_ro("AI-7F3K9Q")
    assert info.value.state == dict(GOOD_STATE, invoice=None, documents=[], documents_requested=[])
    fleet.queue(409, {"error": {"code": "revision_conflict", "message": "stale", "details": [
        dict(GOOD_STATE, decided_by="J.\x00Rivera")]}})
    with pytest.raises(ai.RevisionConflictError) as info:
        client.get_ro("AI-7F3K9Q")
    assert info.value.state is None  # a broken state is not handed on to be stored
    assert_clear(info.value, exchanges)


@pytest.mark.parametrize("body, match", [
    (b"[" * 200_000 + b"]" * 200_000, "invalid JSON"),  # nested beyond the decoder's recursion limit
    (b"\xff\xfe\x00garbage", "invalid JSON"),
    (b"<html><body>Bad gateway</body></html>", "invalid JSON"),
    (b"[1, 2, 3]", "non-object"),
    (b"", "invalid JSON"),
])
def test_unreadable_bodies(client, fleet, exchanges, body, match):
    fleet.queue(body=body, times=2)
    with pytest.raises(ai.ProtocolError, match=match) as info:
        client.get_ro("AI-7F3K9Q")
    assert_clear(info.value, exchanges)


def test_html_error_page_and_nested_error_body(client, fleet, exchanges):
    fleet.queue(502, b"<html><h1>502 Bad Gateway</h1>" + b"<p>nginx</p>" * 5000 + b"</html>",
                {"Content-Type": "text/html"}, times=2)
    with pytest.raises(ai.ServerError, match=r"HTTP 502\)$") as info:
        client.get_ro("AI-7F3K9Q")
    assert_clear(info.value, exchanges)
    fleet.queue(409, b'{"error":' * 100_000)
    with pytest.raises(ai.ConflictError) as info:
        client.get_ro("AI-7F3K9Q")
    assert_clear(info.value, exchanges)
    fleet.queue(422, {"error": {"code": 7, "message": ["not", "text"], "details": "nope"}})
    with pytest.raises(ai.ValidationError) as info:
        client.get_ro("AI-7F3K9Q")
    assert_clear(info.value, exchanges)
    assert info.value.details == []


def test_bad_token_answers(client, fleet, exchanges):
    for answer, match in (
        ({"token_type": "Bearer", "expires_in": 3600}, "no access_token"),
        ({"access_token": TOKEN, "expires_in": "3600"}, "no valid expires_in"),
        ({"access_token": TOKEN, "expires_in": -5}, "no valid expires_in"),
    ):
        fleet.token_answer = (200, {}, json.dumps(answer).encode(), None)
        with pytest.raises(ai.ProtocolError, match=match) as info:
            client.test_connection()
        assert_clear(info.value, exchanges)


def test_a_fleet_echoing_the_secret_and_the_token_leaks_neither(client, fleet, exchanges):
    fleet.token_answer = (401, {}, json.dumps({"error": {
        "code": "unauthorized", "message": f"client_secret {SECRET} is wrong", "details": [SECRET]}}).encode(), None)
    with pytest.raises(ai.AuthError) as info:
        client.test_connection()
    assert_clear(info.value, exchanges)
    assert "***" in str(info.value)
    fleet.token_answer = None
    fleet.queue(422, {"error": {"code": "validation_error", "message": f"token Bearer {TOKEN} may not do that",
                                "details": [{"field": "lines[0].amount", "message": f"secret {SECRET}"}]}})
    with pytest.raises(ai.ValidationError) as info:
        client.get_ro("AI-7F3K9Q")
    assert_clear(info.value, exchanges)
    assert info.value.field_messages() == ["lines[0].amount: secret ***"]
    fleet.queue(200, dict(GOOD_STATE, decided_by=f"{SECRET} {TOKEN}"))
    client.get_ro("AI-7F3K9Q")
    assert_clear(ai.AutoIntegrateError("AutoIntegrate: nothing"), exchanges)  # the logged answer is scrubbed too


def test_notes_and_changes_answers_are_checked(client, fleet, exchanges):
    fleet.queue(201, {"note_id": "N 1", "text": "ok"})
    with pytest.raises(ai.ProtocolError, match="note_id"):
        client.add_note("AI-7F3K9Q", "hello", idempotency_key="k1")
    fleet.queue(200, {"items": {"a": 1}, "next_cursor": None})
    with pytest.raises(ai.ProtocolError, match="no items list"):
        client.changes()
    fleet.queue(200, {"items": [GOOD_STATE, {"ro_id": "AI-2"}], "next_cursor": None})
    with pytest.raises(ai.ProtocolError, match="revision"):
        client.changes()
    fleet.queue(200, {"items": "x"})
    with pytest.raises(ai.ProtocolError) as info:
        client.list_notes("AI-7F3K9Q")
    assert_clear(info.value, exchanges)


# ------------------------------------------------------------------ documents
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x11" * 100


def digest(content):
    return "sha-256=" + base64.b64encode(hashlib.sha256(content).digest()).decode()


def test_a_download_is_checked_against_its_digest(client, fleet, exchanges):
    fleet.queue(body=PDF, headers={"Content-Type": "application/pdf", "Digest": digest(PDF)})
    assert client.document_content("AI-1", "D-1").content == PDF
    fleet.queue(body=PDF, headers={"Content-Type": "application/pdf", "Digest": "md5=abc, SHA-256=" + digest(PDF)[8:]})
    assert client.document_content("AI-1", "D-1").content == PDF  # RFC 3230: a list, any case
    for headers in ({}, {"Digest": digest(PDF + b"x")}, {"Digest": "sha-256=not base64!"},
                    {"Digest": "sha-256=" + base64.b64encode(b"short").decode()}, {"Digest": "md5=abc"}):
        fleet.queue(body=PDF, headers=dict(headers, **{"Content-Type": "application/pdf"}))
        with pytest.raises(ai.ProtocolError, match="Digest") as info:
            client.document_content("AI-1", "D-1")
        assert_clear(info.value, exchanges)
        assert not info.value.retryable


def test_a_download_over_10_mib_is_refused_unread(client, fleet):
    content = b"%PDF-" + b"\x00" * DOCUMENT_MAX_BYTES
    fleet.queue(body=content, headers={"Content-Type": "application/pdf", "Digest": digest(content)})
    with pytest.raises(ai.ProtocolError, match="too large") as info:
        client.document_content("AI-1", "D-1")
    assert not info.value.retryable


def test_a_cut_off_download_is_a_lost_answer(client, fleet):
    fleet.queue(body=PDF, headers={"Digest": digest(PDF)}, cut=10, times=2)
    with pytest.raises(ai.NoAnswerError, match="cut off"):
        client.document_content("AI-1", "D-1")


def test_broken_document_answers_and_413(client, fleet):
    fleet.queue(201, dict(DOCUMENT, sha256="nope"))
    with pytest.raises(ai.ProtocolError, match="sha256"):
        client.upload_document("AI-1", "windshield.jpg", "image/jpeg", JPEG, "photo")
    fleet.queue(200, {"items": [DOCUMENT, dict(DOCUMENT, size="183004")]})
    with pytest.raises(ai.ProtocolError, match="size"):
        client.documents("AI-1")
    fleet.queue(200, {"items": None})
    with pytest.raises(ai.ProtocolError, match="no items list"):
        client.documents("AI-1")
    fleet.queue(413, {"error": {"code": "payload_too_large", "message": "too big", "details": []}})
    with pytest.raises(ai.PayloadTooLargeError) as info:
        client.upload_document("AI-1", "windshield.jpg", "image/jpeg", JPEG, "photo")
    assert info.value.status == 413 and isinstance(info.value, ai.ValidationError)
    fleet.queue(413, b"<html>Request Entity Too Large</html>", {"Content-Type": "text/html"})
    with pytest.raises(ai.PayloadTooLargeError):
        client.upload_document("AI-1", "windshield.jpg", "image/jpeg", JPEG, "photo")
