"""Property-based: 10,000 random and mutated webhook deliveries against the pure
helpers the addon's webhook handler is built on (``signing.verify`` then
``events.parse_event``, exactly what ``autointegrate.event._receive`` calls).

Whatever arrives: no exception other than :class:`SignatureError`, nothing
accepted without a valid signature, and an accepted event is one the addon can
store (every field it writes to a column checked).
"""

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autointegrate import answers, contract, events, formatting, fuzz, signing
from autointegrate.errors import SignatureError

SECRET = "whsec-fuzz-secret"
NOW = 1_767_225_600
MAX_BODY = 1024 * 1024
STATE = {
    "ro_id": "AI-7F3K9Q", "shop_ro_ref": "RO/2026/00031", "fleet_company_id": "ENT-0042", "revision": 2,
    "status": "partially_approved", "authorization_number": "AUTH-558812", "decided_at": "2026-11-28T16:20:00Z",
    "decided_by": "J. Rivera", "updated_at": "2026-11-28T16:20:00Z", "sequence": 7, "approved_total": "412.00",
    "lines": [
        {"line_ref": "L1", "status": "approved", "approved_quantity": "1.000", "approved_amount": "412.00",
         "reason": None},
        {"line_ref": "L2", "status": "denied", "approved_quantity": "0.000", "approved_amount": "0.00",
         "reason": "Labor exceeds 1.0 h rate card"},
    ],
    "notes": [{"note_id": "N-19", "line_ref": "L2", "author_type": "fleet", "author": "J. Rivera",
               "text": "<script>alert(1)</script>", "created_at": "2026-11-28T16:20:00Z"}],
    "invoice": {"invoice_number": "INV/2026/0012", "invoice_date": "2026-11-29", "total": "436.72",
                "accepted_at": "2026-11-29T09:00:00Z"},
    "documents": [{"document_id": "D-7", "author_type": "shop", "kind": "photo", "line_ref": "L1",
                   "file_name": "windshield.jpg", "content_type": "image/jpeg", "size": 183004, "sha256": "ab" * 32,
                   "description": None, "uploaded_at": "2026-11-28T16:10:00Z"}],
    "documents_requested": [{"kind": "calibration_report", "line_ref": None, "text": "ADAS report, please"}],
}
EVENT = {"event_id": "evt_01J9", "type": "ro.updated", "occurred_at": "2026-11-28T16:20:00Z",
         "ro_id": "AI-7F3K9Q", "sequence": 7, "data": STATE}


def handle(raw, header):
    """The webhook handler's decisions, as ``_receive`` takes them.

    :return: ``(status, event)``; ``event`` is what would be applied
    """
    if len(raw) > MAX_BODY:
        return 413, None
    try:
        signing.verify(SECRET, raw, header, now=NOW)
    except SignatureError:
        return 401, None
    event, problem = events.parse_event(raw)
    return (400, None) if problem else (200, event)


SEEDS = st.integers(0, 2**32 - 1)
BODY_KINDS = st.sampled_from(fuzz.BODY_KINDS)
SIGNATURE_KINDS = st.sampled_from(["valid", "valid", "stale", "wrong-secret", "mutated", "random", "none"])
HEADER_CHARS = "t=v1,0123456789abcdef \u00e9\u2028\x00\udc80;=,"


@st.composite
def deliveries(draw):
    """``(raw, header, validly_signed)``: random or mutated bodies, signed well, badly or not at all.

    Hypothesis draws the kind of body, the kind of signature and a seed; the
    noise (bytes, JSON values, mutations) comes from ``random.Random(seed)``:
    a draw of hypothesis costs about 50 µs, and 10,000 deliveries of a few
    hundred random choices each must run in seconds. A failure reports the
    kinds and the seed, which replay it exactly.
    """
    rnd = random.Random(draw(SEEDS))
    raw = fuzz.body(rnd, draw(BODY_KINDS), EVENT)
    signature = draw(SIGNATURE_KINDS)
    t = NOW + rnd.randint(-300, 300)
    if signature == "valid":
        return raw, signing.sign(SECRET, raw, t), True
    if signature == "stale":
        return raw, signing.sign(SECRET, raw, NOW + rnd.choice([-1, 1]) * rnd.randint(301, 10**9)), False
    if signature == "wrong-secret":
        return raw, signing.sign(SECRET + rnd.choice("xyz"), raw, t), False
    if signature == "mutated":
        header = list(signing.sign(SECRET, raw, t))
        for _ in range(rnd.randint(1, 3)):
            header[rnd.randrange(len(header))] = rnd.choice(HEADER_CHARS)
        return raw, "".join(header), None  # a mutation may leave it valid (e.g. the same character)
    if signature == "random":
        return raw, "".join(rnd.choice(HEADER_CHARS) for _ in range(rnd.randint(0, 100))), None
    return raw, None, False


@settings(max_examples=10_000, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_no_delivery_crashes_and_nothing_unsigned_is_accepted(delivery):
    raw, header, validly_signed = delivery
    status, event = handle(raw, header)  # any exception fails the test
    assert status in (200, 400, 401, 413)
    if validly_signed is False:
        assert status == 401 and event is None
    if status != 401:
        # accepted past the signature: it really is signed with the secret, within the window
        timestamp, signatures = signing.parse_signature_header(header)
        assert abs(NOW - timestamp) <= signing.TOLERANCE_S
        assert signing.compute_signature(SECRET, timestamp, raw) in signatures
    if status == 200:
        # what the addon stores: ids usable, counters fit its columns, no NUL anywhere
        assert formatting.is_fleet_id(event["event_id"]) and formatting.is_fleet_id(event["ro_id"])
        assert 0 <= event["sequence"] <= contract.SEQUENCE_MAX
        assert event["data"]["ro_id"] == event["ro_id"]
        assert answers.ro_state_problems(event["data"]) == []
        assert "\\u0000" not in json.dumps(event["data"])
        for key in ("event_id", "ro_id", "type"):  # what the addon INSERTs: PostgreSQL takes UTF-8 only
            (event.get(key) or "").encode("utf-8")
        for text in _strings(event["data"]):
            text.encode("utf-8")


def _strings(data):
    """The RO state's strings the addon writes to its columns."""
    keys = ("ro_id", "status", "authorization_number", "decided_by", "decided_at", "updated_at", "approved_total")
    yield from (data.get(key) or "" for key in keys)
    for line in data["lines"]:
        yield from (line.get(key) or "" for key in ("line_ref", "status", "reason", "approved_quantity",
                                                    "approved_amount"))
    for note in data["notes"]:
        yield from (note.get(key) or "" for key in ("note_id", "line_ref", "author_type", "author", "text",
                                                    "created_at"))
    yield from ((data["invoice"] or {}).get(key) or "" for key in ("invoice_number", "invoice_date", "total",
                                                                    "accepted_at"))
    for document in data["documents"]:
        yield from (document.get(key) or "" for key in ("document_id", "author_type", "kind", "line_ref",
                                                        "file_name", "content_type", "sha256", "description"))
    for item in data["documents_requested"]:
        yield from (item.get(key) or "" for key in ("kind", "line_ref", "text"))


def test_the_valid_event_is_accepted_and_a_nul_is_not():
    raw = json.dumps(EVENT).encode()
    assert handle(raw, signing.sign(SECRET, raw, NOW)) == (200, EVENT)
    # a fleet older than invoices and documents: accepted, the keys it leaves out filled in as empty
    old = {key: value for key, value in STATE.items() if key not in ("invoice", "documents", "documents_requested")}
    raw = json.dumps(dict(EVENT, data=old)).encode()
    assert handle(raw, signing.sign(SECRET, raw, NOW)) == (
        200, dict(EVENT, data=dict(old, invoice=None, documents=[], documents_requested=[])))
    nul = json.dumps(dict(EVENT, data=dict(STATE, decided_by="J.\x00R"))).encode()
    assert handle(nul, signing.sign(SECRET, nul, NOW))[0] == 400
    deep = b"[" * 100_000 + b"]" * 100_000
    assert handle(deep, signing.sign(SECRET, deep, NOW))[0] == 400
