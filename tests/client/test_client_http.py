"""The client against the project's fleet simulator, over real HTTP on loopback.

Every endpoint and every error status of the contract, idempotent replay,
token refresh, and each fault of section 8: after each, the fleet must hold
exactly the ROs the client meant to create.
"""

import socket
import threading

import pytest
import requests

import autointegrate as ai
from autointegrate import formatting
from autointegrate.client import SessionCache, TokenCache

from .helpers import CLIENT_ID, SECRET, assert_one_ro, body, make_client, small_body


# ------------------------------------------------------------------ auth
def test_connection_ok_and_token_cached(client, admin):
    token = client.test_connection()
    assert token.access_token and token.expires_in > 0
    client.submit(body())
    client.get_ro(admin.ros()[0]["ro_id"])
    # test_connection fetched the only token; the calls reused it
    assert len(admin.requests_log("/oauth/token")) == 1


def test_wrong_credentials_is_auth_error(sim, sleeps, admin):
    client = ai.Client(sim.url, CLIENT_ID, "Zq-not-the-secret", token_cache=TokenCache(), sleep=sleeps)
    with pytest.raises(ai.AuthError) as info:
        client.test_connection()
    assert info.value.status == 401
    assert "Zq-not-the-secret" not in str(info.value)
    assert sleeps == []  # a 401 is never retried with backoff


def test_expired_token_refreshed_exactly_once(client, admin):
    ro = client.submit(body())
    admin.post("/expire_tokens", {"client_id": CLIENT_ID})
    assert client.get_ro(ro["ro_id"])["ro_id"] == ro["ro_id"]
    assert len(admin.requests_log("/oauth/token")) == 2
    gets = admin.requests_log("/v1/repair-orders/" + ro["ro_id"], "GET")
    assert [g["status"] for g in gets] == [401, 200]


def test_token_refused_twice_gives_up(client, admin, sim, sleeps):
    client.test_connection()
    # a second client secret change makes every new token request fail too
    admin.post("/expire_tokens", {"client_id": CLIENT_ID})
    admin.post("/config", {"clients": {CLIENT_ID: {"client_secret": "rotated"}}})
    with pytest.raises(ai.AuthError):
        client.get_ro("AI-NOPE00")
    # one refused call, one new token asked for (and refused), then no more tries
    assert [r["status"] for r in admin.requests_log("/oauth/token")] == [200, 401]
    assert [r["status"] for r in admin.requests_log("/v1/repair-orders/AI-NOPE00")] == [401]
    assert sleeps == []
    admin.post("/config", {"clients": {CLIENT_ID: {"client_secret": SECRET}}})


def test_unreachable_and_plain_http_and_no_url(sleeps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = ai.Client(f"http://127.0.0.1:{port}", CLIENT_ID, SECRET, token_cache=TokenCache(),
                       sleep=sleeps, max_attempts=3)
    with pytest.raises(ai.UnreachableError, match="could not be reached"):
        client.test_connection()
    assert len(sleeps) == 2  # connection errors are retried, bounded
    with pytest.raises(ai.ConfigurationError, match="https"):
        ai.Client("http://fleet.example.com", CLIENT_ID, SECRET)
    with pytest.raises(ai.ConfigurationError):
        ai.Client("", CLIENT_ID, SECRET)


def test_tls_error_is_clear(sim, sleeps):
    client = ai.Client(sim.url.replace("http://", "https://"), CLIENT_ID, SECRET,
                       token_cache=TokenCache(), sleep=sleeps)
    with pytest.raises(ai.TLSError, match="TLS") as info:
        client.test_connection()
    assert not info.value.retryable and sleeps == []


def test_secret_never_in_repr_or_log(client, admin):
    client.test_connection()
    assert SECRET not in repr(client)
    assert all(SECRET not in str(r) for r in admin.requests_log("/oauth/token"))


# -------------------------------------------------------- repair orders
def test_submit_read_and_idempotent_replay(client, admin):
    first = client.submit(body())
    assert first["status"] == "pending" and first["revision"] == 1
    assert [line["status"] for line in first["lines"]] == ["pending", "pending"]
    again = client.submit(body())
    assert again == first  # the stored answer, nothing created
    assert client.get_ro(first["ro_id"])["ro_id"] == first["ro_id"]
    posts = admin.requests_log("/v1/repair-orders", "POST")
    assert [p["status"] for p in posts] == [201, 201]
    assert posts[0]["headers"]["Idempotency-Key"] == posts[1]["headers"]["Idempotency-Key"]
    assert_one_ro(admin, client)


def test_notes_of_the_submit_become_ro_and_line_notes(client):
    ro = client.submit(body())
    notes = client.list_notes(ro["ro_id"])
    assert [(n["line_ref"], n["author_type"]) for n in notes] == [(None, "shop"), ("L1", "shop")]
    assert [n["text"] for n in client.list_notes(ro["ro_id"], line_ref="L1")] == [
        "OEM glass required for ADAS camera"]
    assert client.list_notes(ro["ro_id"], line_ref="L9") == []


def test_auto_approve_below_threshold(client):
    ro = client.submit(small_body("RO/AUTO/1"))
    assert ro["status"] == "approved"
    assert ro["authorization_number"]
    assert ro["lines"][0]["approved_amount"] == "100.00"


def test_local_validation_sends_nothing(client, admin):
    broken = body()
    broken["lines"][0]["amount"] = "1.00"
    with pytest.raises(ai.ValidationError) as info:
        client.submit(broken)
    assert "lines[0].amount" in [d["field"] for d in info.value.details]
    assert admin.requests_log("/v1/repair-orders") == []


def test_text_no_utf_8_can_hold_is_refused_before_sending(client, admin):
    ro = client.submit(body())
    with pytest.raises(ai.ValidationError) as info:
        client.add_note(ro["ro_id"], "bad \udc80 text", idempotency_key="note-x")
    assert [d["field"] for d in info.value.details] == ["text"]
    with pytest.raises(ai.ValidationError):
        client.cancel(ro["ro_id"], "declined \udc80")
    with pytest.raises(ai.ValidationError):
        client.cancel(ro["ro_id"], ["not", "text"])
    assert admin.requests_log(f"/v1/repair-orders/{ro['ro_id']}/notes") == []
    assert admin.requests_log(f"/v1/repair-orders/{ro['ro_id']}/cancel") == []


def test_fleet_validation_error_has_details(client, admin):
    # our own checks cannot know the RO's lines: the fleet's 422 names the field
    ro = client.submit(body())
    with pytest.raises(ai.ValidationError) as info:
        client.add_note(ro["ro_id"], "hello", line_ref="L9")
    assert info.value.status == 422
    assert [d["field"] for d in info.value.details] == ["line_ref"]


def test_unknown_fleet_forbidden_and_not_found(client, admin, sim, sleeps):
    with pytest.raises(ai.UnknownFleetError):
        client.submit(body(fleet_company_id="NOPE-1"))
    with pytest.raises(ai.ForbiddenError):
        client.submit(body(shop_id="SHOP-99"))
    with pytest.raises(ai.NotFoundError) as info:
        client.get_ro("AI-NOPE00")
    assert not isinstance(info.value, ai.UnknownFleetError)
    ro = client.submit(body())
    admin.post("/config", {"clients": {"other-shop": {"client_secret": "other-secret"}}})
    other = ai.Client(sim.url, "other-shop", "other-secret", token_cache=TokenCache(), sleep=sleeps)
    with pytest.raises(ai.ForbiddenError):
        other.get_ro(ro["ro_id"])
    assert all(ro["ro_id"] != item["ro_id"] for page in other.iter_changes() for item in page["items"])


def test_duplicate_ro_carries_the_existing_ro(client, admin):
    ro = client.submit(body())
    changed = body()
    changed["complaint"] = "Another text, so another idempotency key"
    with pytest.raises(ai.DuplicateROError) as info:
        client.submit(changed)
    assert info.value.state["ro_id"] == ro["ro_id"]
    assert_one_ro(admin, client)


def test_key_reused_with_another_body(client, admin):
    client.submit(body(), idempotency_key="fixed-key")
    with pytest.raises(ai.IdempotencyKeyReusedError):
        client.submit(body("RO/2026/00099"), idempotency_key="fixed-key")
    assert len(admin.ros()) == 1


def test_bad_idempotency_key_is_bad_request(client):
    with pytest.raises(ai.BadRequestError) as info:
        client.submit(body(), idempotency_key="k" * 129)
    assert info.value.status == 400


def test_resubmit_revision_conflict_and_invalid_state(client, admin):
    ro = client.submit(body())
    admin.post(f"/ro/{ro['ro_id']}/decide", {"decided_by": "J. Rivera", "lines": [
        {"line_ref": "L1", "status": "approved"},
        {"line_ref": "L2", "status": "denied", "reason": "Labor exceeds 1.0 h rate card"}]})
    fixed = body(base_revision=1)
    fixed["lines"][1].update(quantity="1.000", amount="95.00")
    fixed["totals"] = {"untaxed": "507.00", "tax": "32.96", "total": "539.96"}
    state = client.resubmit(ro["ro_id"], fixed)
    assert state["revision"] == 2
    assert [line["status"] for line in state["lines"]] == ["approved", "pending"]
    assert client.resubmit(ro["ro_id"], fixed) == state  # a retry replays
    with pytest.raises(ai.RevisionConflictError) as info:
        client.resubmit(ro["ro_id"], dict(fixed, complaint="stale"))
    assert info.value.state["revision"] == 2
    client.cancel(ro["ro_id"], "Customer declined")
    with pytest.raises(ai.InvalidStateError):
        client.resubmit(ro["ro_id"], dict(fixed, base_revision=2))
    with pytest.raises(ai.InvalidStateError):
        client.cancel(ro["ro_id"], "again")


def test_invoice_rules(client, admin):
    ro = client.submit(body())
    invoice = {"invoice_number": "INV/2026/0012", "invoice_date": "2026-11-29", "odometer": 48230,
               "lines": [{"line_ref": "L1", "quantity": "1.000", "amount": "412.00"}],
               "totals": {"untaxed": "412.00", "tax": "24.72", "total": "436.72"}}
    with pytest.raises(ai.InvalidStateError):
        client.invoice(ro["ro_id"], invoice)
    admin.post(f"/ro/{ro['ro_id']}/decide", {"decided_by": "J. Rivera", "lines": {
        "L1": {"status": "approved", "approved_amount": "400.00"},
        "L2": {"status": "approved"}}})
    with pytest.raises(ai.ValidationError) as info:
        client.invoice(ro["ro_id"], invoice)
    assert [d["field"] for d in info.value.details] == ["lines[0].amount"]
    invoice["lines"][0]["amount"] = "400.00"
    invoice["totals"] = {"untaxed": "400.00", "tax": "24.00", "total": "424.00"}
    done = client.invoice(ro["ro_id"], invoice)
    assert (done["status"], done["invoice_status"], done["invoice_number"]) == (
        "completed", "approved", "INV/2026/0012")
    assert {key: done["invoice"][key] for key in ("invoice_number", "invoice_date", "total")} == {
        "invoice_number": "INV/2026/0012", "invoice_date": "2026-11-29", "total": "424.00"}
    with pytest.raises(ai.InvalidStateError) as info:
        client.invoice(ro["ro_id"], dict(invoice, invoice_number="INV/2026/0013"))
    assert info.value.state["invoice"] == done["invoice"]  # which invoice the fleet holds


def test_an_invoice_whose_answer_was_lost_is_read_back_and_replayed(sim, admin, sleeps):
    client = make_client(sim, sleeps, max_attempts=1)
    ro = client.submit(body())
    admin.post(f"/ro/{ro['ro_id']}/decide", {"all": "approved"})
    invoice = {"invoice_number": "INV/2026/0012", "invoice_date": "2026-11-29",
               "lines": [{"line_ref": "L1", "quantity": "1.000", "amount": "412.00"}],
               "totals": {"untaxed": "412.00", "tax": "0.00", "total": "412.00"}}
    admin.post("/faults", {"drop_after_processing_next": 1, "path_prefix": f"/v1/repair-orders/{ro['ro_id']}/invoice"})
    with pytest.raises(ai.NoAnswerError) as info:
        client.invoice(ro["ro_id"], invoice)
    assert info.value.request_sent and info.value.idempotency_key.startswith(f"{ro['ro_id']}:invoice:")
    state = client.get_ro(ro["ro_id"])
    assert state["status"] == "completed" and state["invoice"]["invoice_number"] == "INV/2026/0012"
    fed = [item for page in client.iter_changes() for item in page["items"] if item["ro_id"] == ro["ro_id"]]
    assert fed == [state]
    assert client.invoice(ro["ro_id"], invoice) == state  # the same call again: the lost answer, replayed


def test_notes_add_and_list(client, admin):
    ro = client.submit(body())
    note = client.add_note(ro["ro_id"], "Photos attached", line_ref="L2", idempotency_key="note-1")
    assert note["line_ref"] == "L2" and note["author_type"] == "shop"
    assert client.add_note(ro["ro_id"], "Photos attached", line_ref="L2", idempotency_key="note-1") == note
    admin.post(f"/ro/{ro['ro_id']}/notes", {"text": "Need a photo of the crack", "author": "J. Rivera"})
    texts = [(n["author_type"], n["line_ref"], n["text"]) for n in client.list_notes(ro["ro_id"])]
    assert texts[-2:] == [("shop", "L2", "Photos attached"), ("fleet", None, "Need a photo of the crack")]
    assert [n["text"] for n in client.list_notes(ro["ro_id"], "L2")] == ["Photos attached"]


def test_changes_feed_walk(client, admin):
    ids = [client.submit(body(f"RO/FEED/{i}"))["ro_id"] for i in range(5)]
    pages = list(client.iter_changes(limit=2))
    walked = [item["ro_id"] for page in pages for item in page["items"]]
    assert sorted(walked) == sorted(ids)
    assert len(pages) >= 3 and pages[-1]["next_cursor"] is None


# -------------------------------------------------------------- faults
@pytest.mark.parametrize("fault", [
    {"next": [503, 502]},
    {"next": [500]},
    {"drop_connection_next": 2},
    {"rate_limit_next": 1, "retry_after": 0},
    {"drop_after_processing_next": 1},
    {"truncate_next": 1},
])
def test_each_fault_ends_with_one_ro(client, admin, sleeps, fault):
    admin.post("/faults", dict(fault, path_prefix="/v1/repair-orders"))
    ro = client.submit(body())
    assert ro["status"] == "pending"
    admin.post("/faults", {})
    assert assert_one_ro(admin, client)["ro_id"] == ro["ro_id"]
    posts = admin.requests_log("/v1/repair-orders", "POST")
    assert len({p["headers"]["Idempotency-Key"] for p in posts}) == 1
    assert len(posts) >= 2 and len(sleeps) == len(posts) - 1


def test_rate_limit_honours_retry_after(client, admin, sleeps):
    admin.post("/faults", {"rate_limit_next": 1, "retry_after": 2})
    client.submit(body())
    assert sleeps[0] >= 2
    admin.post("/faults", {"rate_limit_next": 1, "retry_after": 3600})
    with pytest.raises(ai.RateLimitedError) as info:
        client.get_ro(admin.ros()[0]["ro_id"])
    assert info.value.retry_after == 3600


def test_persistent_server_error_is_bounded(client, admin, sleeps):
    admin.post("/faults", {"next": [503] * 10, "path_prefix": "/v1/"})
    with pytest.raises(ai.ServerError) as info:
        client.submit(body())
    assert info.value.retryable and info.value.status == 503
    assert len(admin.requests_log("/v1/repair-orders", "POST")) == client.max_attempts
    admin.post("/faults", {})
    assert admin.ros() == []


def test_other_4xx_is_never_retried(client, admin, sleeps):
    with pytest.raises(ai.UnknownFleetError):
        client.submit(body(fleet_company_id="NOPE-1"))
    assert sleeps == [] and len(admin.requests_log("/v1/repair-orders", "POST")) == 1


def test_timeout_then_retry_adopts_the_processed_ro(sim, admin, sleeps):
    slow = make_client(sim, sleeps, read_timeout=0.3, max_attempts=2)
    admin.post("/faults", {"delay_s": 0.6, "path_prefix": "/v1/repair-orders"})
    with pytest.raises(ai.NoAnswerError, match="no answer within 0.3 s"):
        slow.submit(body())
    admin.post("/faults", {})
    # the fleet processed the timed-out calls; the same body replays, no second RO
    ro = slow.submit(body())
    assert assert_one_ro(admin, slow)["ro_id"] == ro["ro_id"]


def test_malformed_answers_are_protocol_errors(client):
    bad = {"ro_id": "AI-1", "revision": "2", "sequence": 1, "status": "weird", "lines": [{}]}
    with pytest.raises(ai.ProtocolError) as info:
        client._ro_state(bad)
    assert "revision" in str(info.value) and "status" in str(info.value) and "lines[0]" in str(info.value)


def test_every_attempt_reaches_the_exchange_log_without_secrets(sim, admin, sleeps):
    entries = []
    client = make_client(sim, sleeps, on_exchange=entries.append)
    admin.post("/faults", {"next": [503], "path_prefix": "/v1/repair-orders"})
    ro = client.submit(body())
    admin.post("/faults", {})
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/oauth/token", 200),
        ("POST", "/v1/repair-orders", 503),
        ("POST", "/v1/repair-orders", 201),
    ]
    submit = entries[2]
    assert submit["idempotency_key"].startswith("RO/2026/00031:submit:")
    assert '"shop_ro_ref":"RO/2026/00031"' in submit["request_body"]
    assert ro["ro_id"] in submit["response_body"]
    assert entries[1]["error"] and "503" in entries[1]["error"]
    assert all(isinstance(e["duration_ms"], int) for e in entries)
    text = repr(entries)
    assert SECRET not in text
    token = client.token_cache.get(client._cache_key).access_token
    assert token not in text


def test_a_broken_exchange_log_does_not_break_the_call(sim, admin, sleeps):
    def explode(entry):
        raise RuntimeError("log down")
    client = make_client(sim, sleeps, on_exchange=explode)
    assert client.submit(body())["status"] == "pending"


# -------------------------------------------------- bytes and connections
def test_the_idempotency_key_is_the_digest_of_the_bytes_sent(sim, admin, sleeps):
    entries = []
    client = make_client(sim, sleeps, on_exchange=entries.append)
    sent = body()
    client.submit(sent)
    submit = entries[-1]
    assert submit["idempotency_key"] == f"RO/2026/00031:submit:{formatting.body_digest(sent)}"
    assert submit["request_body"] == formatting.canonical_json(sent)


def test_a_derived_key_stays_within_128_characters(sim, admin, sleeps):
    """RO ids are the fleet's, up to 128 characters: the key derived from one still fits the contract."""
    entries = []
    client = make_client(sim, sleeps, on_exchange=entries.append)
    for ro_id in ("AI-" + "X" * 125, "AI-" + "X" * 124 + "Y"):
        with pytest.raises(ai.NotFoundError):
            client.cancel(ro_id, "Customer declined")
    keys = [entry["idempotency_key"] for entry in entries if entry["path"].endswith("/cancel")]
    assert len(keys) == 2 and keys[0] != keys[1]
    assert all(len(key) <= 128 and key.startswith("AI-XXX") and key.isascii() for key in keys)
    ro = client.submit(body())
    assert client.cancel(ro["ro_id"])["status"] == "cancelled"
    assert entries[-1]["idempotency_key"].startswith(f"{ro['ro_id']}:cancel:")  # an ordinary id keeps its key


def test_clients_of_one_account_share_its_connection(sim, admin, sleeps):
    """Odoo builds a client per request: the second call reuses the first one's connection."""
    cache = SessionCache()
    first = make_client(sim, sleeps, session_cache=cache)
    first.submit(body("RO/2026/00041"))
    second = make_client(sim, sleeps, session_cache=cache)
    second.get_ro(admin.ros()[0]["ro_id"])
    assert second.session is first.session
    pools = first.session.get_adapter(sim.url).poolmanager.pools
    assert [pools[key].num_connections for key in pools.keys()] == [1]  # token, submit and read: one connection
    # another account, another thread: sessions of their own
    other = ai.Client(sim.url, "another-shop", "another-secret", session_cache=cache)
    assert other.session is not first.session
    in_thread = []
    thread = threading.Thread(target=lambda: in_thread.append(make_client(sim, sleeps, session_cache=cache).session))
    thread.start()
    thread.join()
    assert in_thread[0] is not first.session
    # a session given explicitly is the one used
    own = requests.Session()
    assert make_client(sim, sleeps, session=own, session_cache=cache).session is own
    cache.clear()
    assert make_client(sim, sleeps, session_cache=cache).session is not first.session


def test_a_connection_the_fleet_closed_is_not_reused(sim, admin, sleeps):
    cache = SessionCache()
    client = make_client(sim, sleeps, session_cache=cache)
    client.submit(body("RO/2026/00051"))
    sim.server.close_connections()  # the fleet closes idle keep-alive connections
    client = make_client(sim, sleeps, session_cache=cache)
    assert client.submit(body("RO/2026/00052"))["status"] == "pending"
    assert sleeps == []  # no failed attempt: a new connection was opened
