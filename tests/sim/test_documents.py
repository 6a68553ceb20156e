"""Section 9: documents on an RO or a line: upload, every 422 of 9.2, 413 refused
unread, 409 on a closed RO, dedupe, idempotency, download with its Digest,
``ro.document_added``, the fleet asking for documents and attaching its own,
and the documents kept across a restart."""

import base64
import hashlib
import json
import socket
import time

import pytest
import requests

from autointegrate_sim.admin import AdminClient, AdminError

from .helpers import Api, error_code, make_sim, ro_body
from .test_webhooks import SECRET, wait_for

MiB = 1024 * 1024
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x01" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n%%EOF\n"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x02" * 64


def b64(data):
    return base64.b64encode(data).decode("ascii")


def doc_body(content=JPEG, **changes):
    body = {"file_name": "windshield.jpg", "content_type": "image/jpeg", "kind": "photo", "line_ref": "L1",
            "description": "Crack across the driver's view", "content_base64": b64(content)}
    body.update(changes)
    return body


def docs_path(ro_id):
    return f"/v1/repair-orders/{ro_id}/documents"


def fields(response):
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    return [d["field"] for d in response.json()["error"]["details"]]


@pytest.fixture
def ro(api):
    return api.created(ro_body())


# ----------------------------------------------------------- upload, read
def test_upload_list_and_download(api, ro):
    before = api.get(f"/v1/repair-orders/{ro['ro_id']}").json()
    response = api.post(docs_path(ro["ro_id"]), doc_body())
    assert response.status_code == 201, response.text
    document = response.json()
    assert document == {
        "document_id": document["document_id"], "author_type": "shop", "kind": "photo", "line_ref": "L1",
        "file_name": "windshield.jpg", "content_type": "image/jpeg", "size": len(JPEG),
        "sha256": hashlib.sha256(JPEG).hexdigest(), "description": "Crack across the driver's view",
        "uploaded_at": document["uploaded_at"]}
    assert document["document_id"].startswith("D-") and document["uploaded_at"].endswith("Z")
    assert "content_base64" not in response.text  # the content is never echoed
    state = api.get(f"/v1/repair-orders/{ro['ro_id']}").json()
    assert state["documents"] == [document] and state["sequence"] > before["sequence"]
    assert state["status"] == before["status"]
    assert api.get(docs_path(ro["ro_id"])).json() == {"items": [document]}
    content = api.get(f"{docs_path(ro['ro_id'])}/{document['document_id']}/content")
    assert content.status_code == 200 and content.content == JPEG
    assert content.headers["Content-Type"] == "image/jpeg"
    assert content.headers["Digest"] == "sha-256=" + b64(hashlib.sha256(JPEG).digest())
    assert content.headers["Content-Length"] == str(len(JPEG))


def test_every_type_and_a_whole_ro_document(api, ro):
    for name, content_type, content in (("a.png", "image/png", PNG), ("a.pdf", "application/pdf", PDF),
                                        ("a.heic", "image/heic", HEIC)):
        response = api.post(docs_path(ro["ro_id"]), doc_body(content, file_name=name, content_type=content_type,
                                                             line_ref=None, description=None, kind="other"))
        assert response.status_code == 201, response.text
        assert response.json()["line_ref"] is None and response.json()["description"] is None
    assert [d["content_type"] for d in api.get(docs_path(ro["ro_id"])).json()["items"]] == [
        "image/png", "application/pdf", "image/heic"]


def test_unknown_document_ro_and_another_shops_ro(api, sim, ro):
    assert error_code(api.get(f"{docs_path(ro['ro_id'])}/D-999999/content")) == "not_found"
    assert api.get(f"{docs_path(ro['ro_id'])}/D-999999/content").status_code == 404
    assert api.post(docs_path("AI-NOPE22"), doc_body()).status_code == 404
    sim.set_config({"clients": {"other": {"client_secret": "x"}}})
    other = Api(sim.url, "other", "x")
    assert other.post(docs_path(ro["ro_id"]), doc_body()).status_code == 403
    assert other.get(docs_path(ro["ro_id"])).status_code == 403


# ----------------------------------------------------------------- 422s
@pytest.mark.parametrize("changes, field", [
    ({"file_name": None}, "file_name"),
    ({"file_name": ""}, "file_name"),
    ({"file_name": "x" * 256}, "file_name"),
    ({"file_name": "photos/windshield.jpg"}, "file_name"),
    ({"file_name": "..\\windshield.jpg"}, "file_name"),
    ({"file_name": "wind\x00shield.jpg"}, "file_name"),
    ({"file_name": "wind\nshield.jpg"}, "file_name"),
    ({"file_name": "wind\x7fshield.jpg"}, "file_name"),
    ({"file_name": "wind\x85shield.jpg"}, "file_name"),
    ({"file_name": 7}, "file_name"),
    ({"content_type": "image/gif"}, "content_type"),
    ({"content_type": "IMAGE/JPEG"}, "content_type"),
    ({"content_type": "image/jpeg; charset=binary"}, "content_type"),
    ({"content_type": None}, "content_type"),
    ({"kind": "video"}, "kind"),
    ({"kind": None}, "kind"),
    ({"line_ref": "L9"}, "line_ref"),
    ({"line_ref": "bad ref"}, "line_ref"),
    ({"description": "x" * 1001}, "description"),
    ({"description": 5}, "description"),
    ({"content_base64": None}, "content_base64"),
    ({"content_base64": 12}, "content_base64"),
    ({"content_base64": ""}, "content_base64"),
    ({"content_base64": "not base64!"}, "content_base64"),
    ({"content_base64": b64(JPEG + b"x").rstrip("=")}, "content_base64"),  # padding left out
    ({"content_base64": b64(JPEG)[:76] + "\n" + b64(JPEG)[76:]}, "content_base64"),  # MIME line breaks
    ({"content_base64": b64(JPEG).replace("+", "-").replace("/", "_")}, "content_base64"),  # base64url
    ({"content_base64": b64(JPEG + b"x") + "QQ=="}, "content_base64"),  # data after the padding
    ({"content_base64": b64(PNG)}, "content_base64"),  # declared JPEG, PNG bytes
    ({"content_type": "application/pdf", "content_base64": b64(b"%PDX-1.7")}, "content_base64"),
    ({"content_type": "image/png", "content_base64": b64(PNG[:7])}, "content_base64"),
    ({"content_type": "image/heic", "content_base64": b64(b"ftypheic" + HEIC)}, "content_base64"),  # ftyp at 0
    ({"content_base64": b64(b"\xff\xd8")}, "content_base64"),
])
def test_each_rule_of_9_2_is_a_detail_of_its_field(api, ro, changes, field):
    assert fields(api.post(docs_path(ro["ro_id"]), doc_body(**changes))) == [field]
    assert api.get(docs_path(ro["ro_id"])).json() == {"items": []}


def test_every_broken_field_at_once(api, ro):
    body = doc_body(file_name="a/b", content_type="image/gif", kind="x", line_ref="L9", description="d" * 1001,
                    content_base64="QQ")
    assert sorted(fields(api.post(docs_path(ro["ro_id"]), body))) == [
        "content_base64", "content_type", "description", "file_name", "kind", "line_ref"]


def test_size_from_one_byte_to_10_mib(api, ro):
    path = docs_path(ro["ro_id"])
    exactly = b"\xff\xd8\xff" + b"\x00" * (10 * MiB - 3)
    response = api.post(path, doc_body(exactly, line_ref=None))
    assert response.status_code == 201, response.text[:300]
    assert response.json()["size"] == 10 * MiB
    assert api.get(f"{path}/{response.json()['document_id']}/content").content == exactly
    over = api.post(path, doc_body(exactly + b"\x00", line_ref="L2"))
    assert fields(over) == ["content_base64"] and "10 MiB" in over.text
    # far too large for any valid content: refused without decoding it
    assert fields(api.post(path, doc_body(content_base64="A" * (14 * MiB)))) == ["content_base64"]


# --------------------------------------------------------------- 413
def test_a_body_over_15_mib_is_refused_unread(api, admin, sim, ro):
    """The answer comes from the headers alone: the test sends no body at all."""
    api.token  # noqa: B018 - a token first, so the log holds only the upload
    admin.clear_requests()
    port = sim.server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall((f"POST {docs_path(ro['ro_id'])} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {api.token}\r\nIdempotency-Key: k\r\n"
                      f"Content-Type: application/json\r\nContent-Length: {15 * MiB + 1}\r\n\r\n").encode())
        started = time.monotonic()
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}}"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
        assert time.monotonic() - started < 2
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in head
    assert json.loads(body)["error"]["code"] == "payload_too_large"
    assert [(r["status"], r["body"]) for r in admin.requests()["items"]] == [(413, "")]


def test_a_client_that_sends_the_whole_body_reads_the_413(api, admin, ro):
    response = api.call("POST", docs_path(ro["ro_id"]), b"x" * (15 * MiB + 1))
    assert response.status_code == 413 and error_code(response) == "payload_too_large"
    # at the limit the body is read, and judged on its content
    body = json.dumps(doc_body(content_base64="A" * (15 * MiB - 300))).encode()
    body += b" " * (15 * MiB - len(body))
    assert len(body) == 15 * MiB
    assert fields(api.call("POST", docs_path(ro["ro_id"]), body)) == ["content_base64"]
    assert admin.ro(ro["ro_id"])["documents"] == []


def test_other_endpoints_keep_their_4_mib_limit(api):
    response = api.call("POST", "/v1/repair-orders", b"x" * (4 * MiB + 1))
    assert response.status_code == 413 and error_code(response) == "payload_too_large"


# ---------------------------------------------------- 409, dedupe, keys
@pytest.mark.parametrize("close", ["cancel", "invoice"])
def test_not_on_a_completed_or_cancelled_ro(api, admin, ro, close):
    path = f"/v1/repair-orders/{ro['ro_id']}"
    if close == "cancel":
        api.post(path + "/cancel", {})
    else:
        admin.decide(ro["ro_id"], all="approved")
        invoice = {"invoice_number": "INV/1", "invoice_date": "2026-11-29",
                   "lines": [{"line_ref": "L1", "quantity": "1.000", "amount": "412.00"}],
                   "totals": {"untaxed": "412.00", "tax": "0.00", "total": "412.00"}}
        assert api.post(path + "/invoice", invoice).status_code == 200
    response = api.post(docs_path(ro["ro_id"]), doc_body())
    assert response.status_code == 409 and error_code(response) == "invalid_state"
    assert response.json()["error"]["details"][0]["status"] == ("cancelled" if close == "cancel" else "completed")
    # checked before the body: a broken upload on a closed RO is 409 too
    assert api.post(docs_path(ro["ro_id"]), doc_body(kind="x")).status_code == 409
    with pytest.raises(AdminError) as info:
        admin.fleet_document(ro["ro_id"], **doc_body())
    assert info.value.status == 409


def test_the_same_content_line_and_kind_is_stored_once(api, ro, admin, receiver):
    admin.set_config(webhook_url=receiver.url, webhook_secret=SECRET)
    path = docs_path(ro["ro_id"])
    first = api.post(path, doc_body())
    assert first.status_code == 201
    sequence = api.get(f"/v1/repair-orders/{ro['ro_id']}").json()["sequence"]
    again = api.post(path, doc_body(file_name="same-photo-again.jpg", description=None))
    assert again.status_code == 200 and again.json() == first.json()
    assert api.get(f"/v1/repair-orders/{ro['ro_id']}").json()["sequence"] == sequence
    other_line = api.post(path, doc_body(line_ref="L2"))
    other_kind = api.post(path, doc_body(kind="other"))
    whole_ro = api.post(path, doc_body(line_ref=None))
    assert [r.status_code for r in (other_line, other_kind, whole_ro)] == [201, 201, 201]
    assert len(api.get(path).json()["items"]) == 4
    assert wait_for(lambda: sum(json.loads(h["body"])["type"] == "ro.document_added"
                                for h in receiver.received) == 4)
    time.sleep(0.2)
    types = [json.loads(h["body"])["type"] for h in receiver.received]
    assert types.count("ro.document_added") == 4  # none for the copy that was not stored


def test_uploads_are_idempotent_like_every_post(api, ro):
    path = docs_path(ro["ro_id"])
    first = api.post(path, doc_body(), key="doc-1")
    replay = api.post(path, doc_body(), key="doc-1")
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    reused = api.post(path, doc_body(line_ref="L2"), key="doc-1")
    assert reused.status_code == 422 and error_code(reused) == "idempotency_key_reused"
    no_key = api.call("POST", path, doc_body(), key=False)
    assert no_key.status_code == 400 and error_code(no_key) == "bad_request"
    assert len(api.get(path).json()["items"]) == 1


def test_the_request_log_keeps_no_content(api, admin, ro):
    api.post(docs_path(ro["ro_id"]), doc_body())
    logged = [r for r in admin.requests()["items"] if r["path"] == docs_path(ro["ro_id"])][-1]
    body = json.loads(logged["body"])
    assert body["content_base64"] == f"<{len(b64(JPEG))} characters of base64>"
    assert body["file_name"] == "windshield.jpg" and logged["status"] == 201


def test_a_new_document_is_a_webhook_with_the_state(api, admin, receiver, ro):
    admin.set_config(webhook_url=receiver.url, webhook_secret=SECRET)
    document = api.post(docs_path(ro["ro_id"]), doc_body()).json()
    assert wait_for(lambda: any(json.loads(h["body"])["type"] == "ro.document_added" for h in receiver.received))
    event = next(json.loads(h["body"]) for h in receiver.received
                 if json.loads(h["body"])["type"] == "ro.document_added")
    assert event["data"]["documents"] == [document] and event["ro_id"] == ro["ro_id"]
    assert event["sequence"] == api.get(f"/v1/repair-orders/{ro['ro_id']}").json()["sequence"]


# ------------------------------------------------------------ 9.4 asked
def test_the_fleet_asks_for_documents_and_the_shop_answers(api, admin, ro):
    path = f"/v1/repair-orders/{ro['ro_id']}"
    state = admin.request_documents(ro["ro_id"], [
        {"kind": "photo", "line_ref": "L1", "text": "Photo of the crack with a ruler"},
        {"kind": "calibration_report", "line_ref": None, "text": None}], author="J. Rivera")
    assert state["status"] == "info_requested"
    assert state["documents_requested"] == [
        {"kind": "photo", "line_ref": "L1", "text": "Photo of the crack with a ruler"},
        {"kind": "calibration_report", "line_ref": None, "text": "Please send the ADAS calibration report."}]
    fleet_notes = [(n["line_ref"], n["author"], n["text"]) for n in state["notes"] if n["author_type"] == "fleet"]
    assert fleet_notes == [("L1", "J. Rivera", "Photo of the crack with a ruler"),
                           (None, "J. Rivera", "Please send the ADAS calibration report.")]
    assert api.get(path).json() == state
    # a second request adds to the first
    state = admin.request_documents(ro["ro_id"], [{"kind": "estimate", "text": "The estimate too"}])
    assert [item["kind"] for item in state["documents_requested"]] == ["photo", "calibration_report", "estimate"]
    # uploading does not end the question by itself
    api.post(docs_path(ro["ro_id"]), doc_body())
    assert api.get(path).json()["status"] == "info_requested"
    # a shop note does, and empties the list
    api.post(path + "/notes", {"text": "Photo and report attached"})
    state = api.get(path).json()
    assert (state["status"], state["documents_requested"]) == ("pending", [])


def test_a_resubmission_or_a_decision_also_empties_the_list(api, admin, ro):
    admin.request_documents(ro["ro_id"], [{"kind": "photo"}])
    state = api.resubmit(ro["ro_id"], ro_body(complaint="Photos attached"), 1).json()
    assert (state["status"], state["documents_requested"]) == ("pending", [])
    admin.request_documents(ro["ro_id"], [{"kind": "photo"}])
    state = admin.decide(ro["ro_id"], all="approved")
    assert (state["status"], state["documents_requested"]) == ("approved", [])
    state = admin.request_documents(ro["ro_id"], [{"kind": "estimate"}])
    assert state["status"] == "info_requested"
    assert api.post(f"/v1/repair-orders/{ro['ro_id']}/cancel", {}).json()["documents_requested"] == []


@pytest.mark.parametrize("body, fields_", [
    ({}, ["items"]),
    ({"items": []}, ["items"]),
    ({"items": [{"kind": "video"}]}, ["items[0].kind"]),
    ({"items": [{"kind": "photo", "line_ref": "L9"}]}, ["items[0].line_ref"]),
    ({"items": [{"kind": "photo", "text": ""}, "photo"]}, ["items[0].text", "items[1]"]),
    ({"items": [{"kind": "photo"}], "author": ""}, ["author"]),
])
def test_a_broken_request_changes_nothing(api, admin, ro, body, fields_):
    with pytest.raises(AdminError) as info:
        admin._call("POST", f"/ro/{ro['ro_id']}/request_documents", body)
    assert info.value.status == 422
    assert [d["field"] for d in info.value.body["error"]["details"]] == fields_
    state = api.get(f"/v1/repair-orders/{ro['ro_id']}").json()
    assert (state["status"], state["documents_requested"], state["sequence"]) == ("pending", [], ro["sequence"])


def test_the_fleet_attaches_its_own_document(api, admin, ro):
    document = admin.fleet_document(ro["ro_id"], **doc_body(PDF, file_name="PO-5521.pdf", kind="purchase_order",
                                                            content_type="application/pdf", line_ref=None))
    assert document["author_type"] == "fleet" and document["kind"] == "purchase_order"
    items = api.get(docs_path(ro["ro_id"])).json()["items"]
    assert items == [document]
    assert api.get(f"{docs_path(ro['ro_id'])}/{document['document_id']}/content").content == PDF
    with pytest.raises(AdminError) as info:
        admin.fleet_document(ro["ro_id"], **doc_body(PDF))  # declared a JPEG
    assert info.value.status == 422


def test_documents_survive_a_restart(tmp_path):
    db = str(tmp_path / "sim.sqlite3")
    first = make_sim(db_path=db).start()
    try:
        api = Api(first.url)
        ro = api.created(ro_body())
        document = api.post(docs_path(ro["ro_id"]), doc_body(), key="doc-k").json()
        AdminClient(first.url).request_documents(ro["ro_id"], [{"kind": "estimate"}])
        before = api.get(f"/v1/repair-orders/{ro['ro_id']}").json()
    finally:
        first.stop()
    second = make_sim(db_path=db).start()
    try:
        api = Api(second.url)
        assert api.get(f"/v1/repair-orders/{ro['ro_id']}").json() == before
        assert before["documents"] == [document] and before["documents_requested"][0]["kind"] == "estimate"
        assert api.get(f"{docs_path(ro['ro_id'])}/{document['document_id']}/content").content == JPEG
        replay = api.post(docs_path(ro["ro_id"]), doc_body(), key="doc-k")
        assert replay.status_code == 201 and replay.json() == document
        newer = api.post(docs_path(ro["ro_id"]), doc_body(PNG, content_type="image/png")).json()
        assert int(newer["document_id"][2:]) > int(document["document_id"][2:])
    finally:
        second.stop()


# ------------------------------------------------------------ web page
def test_the_fleet_page_shows_documents_and_asks_for_more(api, admin, sim, ro):
    shop_doc = api.post(docs_path(ro["ro_id"]), doc_body(file_name="<img src=x onerror=alert(1)>.jpg")).json()
    url = f"{sim.url}/_admin/ui/ro/{ro['ro_id']}"
    page = requests.get(url, timeout=10).text
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in page and "<img" not in page
    link = f"/_admin/ui/ro/{ro['ro_id']}/documents/{shop_doc['document_id']}"
    assert f"href='{link}'" in page
    download = requests.get(sim.url + link, timeout=10)
    assert download.status_code == 200 and download.content == JPEG
    assert download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Security-Policy"] == "sandbox"
    assert download.headers["Content-Disposition"] == (
        "inline; filename*=UTF-8''%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.jpg")
    assert requests.get(sim.url + link.replace(shop_doc["document_id"], "D-0"), timeout=10).status_code == 404
    # ask for a document from the page
    asked = requests.post(url + "/request_documents", data={"kind": "calibration_report", "line_ref": "L2",
                                                            "text": "ADAS report for the camera"}, timeout=10)
    assert asked.status_code == 200 and "ADAS report for the camera" in asked.text and "Asked of the shop" in asked.text
    state = admin.ro(ro["ro_id"])
    assert state["status"] == "info_requested"
    assert state["documents_requested"] == [
        {"kind": "calibration_report", "line_ref": "L2", "text": "ADAS report for the camera"}]
    # attach a purchase order: its type comes from its bytes
    attached = requests.post(url + "/documents", files={"file": ("PO 5521.pdf", PDF, "application/octet-stream")},
                             data={"kind": "purchase_order", "line_ref": "", "description": "PO 5521"},
                             allow_redirects=False, timeout=10)
    assert attached.status_code == 303 and "msg=" not in attached.headers["Location"]
    fleet_doc = api.get(docs_path(ro["ro_id"])).json()["items"][-1]
    assert (fleet_doc["author_type"], fleet_doc["file_name"], fleet_doc["content_type"], fleet_doc["line_ref"],
            fleet_doc["description"]) == ("fleet", "PO 5521.pdf", "application/pdf", None, "PO 5521")
    page = requests.get(url, timeout=10).text
    assert "<td>fleet</td>" in page and "<td>shop</td>" in page and "PO 5521.pdf" in page
    refused = requests.post(url + "/documents", files={"file": ("notes.txt", b"plain text", "text/plain")},
                            data={"kind": "other"}, allow_redirects=False, timeout=10)
    assert refused.status_code == 303 and "msg=" in refused.headers["Location"]
    assert "content_type" in requests.get(sim.url + refused.headers["Location"], timeout=10).text
