"""The client's documents (9): upload, list, download, against the simulator
over loopback. Every rule of 9.2 is checked before sending (the fleet's
request log shows nothing sent); a retry or a repeat never stores twice; a
download is 10 MiB at most (above the 8 MiB the JSON answers may take); a
fleet's bad documents answers are in ``test_hostile_answers``."""

import base64
import hashlib
import json

import pytest

import autointegrate as ai
from autointegrate import client as client_module
from autointegrate.contract import DOCUMENT_MAX_BYTES

from .helpers import Sleeps, body, make_client

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 500
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"


@pytest.fixture
def ro(client, admin):
    return client.submit(body())


def uploads(admin, ro_id):
    return admin.requests_log(f"/v1/repair-orders/{ro_id}/documents", "POST")


def test_upload_list_and_download(client, admin, ro):
    document = client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo", line_ref="L1",
                                      description="Crack across the driver's view")
    assert (document["author_type"], document["kind"], document["line_ref"], document["size"]) == (
        "shop", "photo", "L1", len(JPEG))
    assert document["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert client.documents(ro["ro_id"]) == [document]
    assert client.get_ro(ro["ro_id"])["documents"] == [document]
    content = client.document_content(ro["ro_id"], document["document_id"])
    assert content == ai.DocumentContent(JPEG, "image/jpeg", hashlib.sha256(JPEG).hexdigest())
    (sent,) = uploads(admin, ro["ro_id"])
    assert sent["headers"]["Idempotency-Key"].startswith(f"{ro['ro_id']}:document:")


def test_a_10_mib_document_goes_both_ways(client, ro):
    assert DOCUMENT_MAX_BYTES > client_module.MAX_RESPONSE_BYTES  # the download must not meet the JSON limit
    content = b"%PDF-1.7\n" + bytes(range(256)) * (DOCUMENT_MAX_BYTES // 256) + b"\n"
    content = content[:DOCUMENT_MAX_BYTES]
    document = client.upload_document(ro["ro_id"], "calibration.pdf", "application/pdf", content,
                                      "calibration_report")
    assert document["size"] == DOCUMENT_MAX_BYTES
    assert client.document_content(ro["ro_id"], document["document_id"]).content == content


@pytest.mark.parametrize("args, field", [
    ({"content": b"\x89PNG\r\n\x1a\n" + b"x" * 10}, "content"),  # declared JPEG
    ({"content": b""}, "content"),
    ({"content": b"\xff\xd8\xff" + b"\x00" * (DOCUMENT_MAX_BYTES - 2)}, "content"),  # 10 MiB + 1
    ({"content": "not bytes"}, "content"),
    ({"content_type": "image/gif"}, "content_type"),
    ({"content_type": "image/jpg"}, "content_type"),
    ({"kind": "selfie"}, "kind"),
    ({"file_name": "photos/windshield.jpg"}, "file_name"),
    ({"file_name": "photos\\windshield.jpg"}, "file_name"),
    ({"file_name": "wind\tshield.jpg"}, "file_name"),
    ({"file_name": "wind\udc80shield.jpg"}, "file_name"),  # a lone surrogate is no text
    ({"file_name": ""}, "file_name"),
    ({"file_name": "x" * 252 + ".jpg"}, "file_name"),
    ({"line_ref": "L 1"}, "line_ref"),
    ({"description": "d" * 1001}, "description"),
])
def test_what_breaks_9_2_is_refused_before_sending(client, admin, ro, args, field):
    call = dict({"file_name": "windshield.jpg", "content_type": "image/jpeg", "content": JPEG, "kind": "photo"},
                **args)
    with pytest.raises(ai.ValidationError) as info:
        client.upload_document(ro["ro_id"], **call)
    assert not isinstance(info.value, ai.PayloadTooLargeError)
    assert [d["field"] for d in info.value.details] == [field] and info.value.status is None
    assert str(info.value).startswith("The document is not valid: " + field)
    assert uploads(admin, ro["ro_id"]) == []


def test_a_body_over_15_mib_is_refused_before_sending(client, admin, ro, monkeypatch):
    # with the contract's limits a valid document always fits; a smaller body limit shows the guard
    monkeypatch.setattr(client_module, "DOCUMENT_BODY_MAX_BYTES", 500)
    with pytest.raises(ai.PayloadTooLargeError) as info:
        client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo")
    assert isinstance(info.value, ai.ValidationError) and info.value.details[0]["field"] == "content"
    assert "at most 500" in str(info.value)
    assert uploads(admin, ro["ro_id"]) == []


def test_what_only_the_fleet_knows_is_its_422_or_409(client, ro):
    with pytest.raises(ai.ValidationError) as info:
        client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo", line_ref="L9")
    assert info.value.status == 422 and [d["field"] for d in info.value.details] == ["line_ref"]
    client.cancel(ro["ro_id"])
    with pytest.raises(ai.InvalidStateError) as info:
        client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo")
    assert info.value.state["status"] == "cancelled"
    with pytest.raises(ai.NotFoundError):
        client.document_content(ro["ro_id"], "D-999999")


@pytest.mark.parametrize("fault", [{"drop_after_processing_next": 1}, {"truncate_next": 1},
                                   {"drop_connection_next": 1}])
def test_a_retry_never_stores_twice(client, admin, ro, sleeps, fault):
    admin.post("/faults", dict(fault, path_prefix=f"/v1/repair-orders/{ro['ro_id']}/documents"))
    document = client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo")
    admin.post("/faults", {})
    assert client.documents(ro["ro_id"]) == [document]
    sent = uploads(admin, ro["ro_id"])
    assert len(sent) == 2 and len({r["headers"]["Idempotency-Key"] for r in sent}) == 1


def test_a_lost_answer_then_a_later_retry_by_the_user(sim, admin, ro):
    client = make_client(sim, Sleeps(), max_attempts=1)
    admin.post("/faults", {"drop_after_processing_next": 1, "path_prefix": "/v1/repair-orders/"})
    with pytest.raises(ai.NoAnswerError) as info:
        client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo")
    assert info.value.request_sent and "may have acted" in str(info.value)
    document = client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo")
    assert client.documents(ro["ro_id"]) == [document]


def test_the_same_file_again_is_the_same_document(client, ro):
    first = client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo", line_ref="L1")
    again = client.upload_document(ro["ro_id"], "IMG_0001.jpg", "image/jpeg", JPEG, "photo", line_ref="L1",
                                   description="the same photo, renamed")
    assert again == first
    other = client.upload_document(ro["ro_id"], "windshield.jpg", "image/jpeg", JPEG, "photo", line_ref="L2")
    assert other["document_id"] != first["document_id"]
    assert len(client.documents(ro["ro_id"])) == 2


def test_the_exchange_log_keeps_no_content(sim, admin, sleeps, ro):
    entries = []
    client = make_client(sim, sleeps, on_exchange=entries.append)
    document = client.upload_document(ro["ro_id"], "calibration.pdf", "application/pdf", PDF, "calibration_report")
    client.document_content(ro["ro_id"], document["document_id"])
    upload, download = entries[-2], entries[-1]
    logged = json.loads(upload["request_body"])
    assert logged["content_base64"] == f"<{len(PDF)} bytes, sha256 {hashlib.sha256(PDF).hexdigest()}>"
    assert logged["file_name"] == "calibration.pdf" and upload["status"] == 201
    assert download["response_body"] == "<35 bytes of application/pdf>"
    assert base64.b64encode(PDF).decode() not in repr(entries)
