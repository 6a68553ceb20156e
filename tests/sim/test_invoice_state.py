"""4.4 and 6.1: ``invoice``, ``documents`` and ``documents_requested`` in every
RO state, and the accepted invoice kept on the RO for its life, so a shop
whose answer to 6.1 was lost learns from a read, the changes feed or a
webhook which invoice the fleet holds."""

import json

import pytest
import requests

from .helpers import error_code, ro_body
from .test_notes_invoice import INVOICE
from .test_webhooks import SECRET, wait_for


def assert_fresh(state):
    assert (state["invoice"], state["documents"], state["documents_requested"]) == (None, [], [])


def events_of(receiver, ro_id):
    events = [json.loads(hit["body"]) for hit in receiver.received]
    return sorted((e for e in events if e["ro_id"] == ro_id), key=lambda e: e["sequence"])


def approved_ro(api, admin):
    ro = api.created(ro_body())
    admin.decide(ro["ro_id"], lines={"L1": {"status": "approved", "approved_amount": "400.00"}, "L2": "denied"})
    return ro


def test_every_ro_state_carries_the_new_keys(api, admin, receiver):
    admin.set_config(webhook_url=receiver.url, webhook_secret=SECRET)
    ro = api.created(ro_body())
    assert_fresh(ro)
    path = f"/v1/repair-orders/{ro['ro_id']}"
    assert_fresh(api.get(path).json())
    assert_fresh(api.get("/v1/repair-orders").json()["items"][0])
    assert_fresh(api.resubmit(ro["ro_id"], ro_body(complaint="Updated"), 1).json())
    assert_fresh(admin.ro(ro["ro_id"]))
    assert_fresh(admin.ros()[0])
    cancelled = api.post(path + "/cancel", {}).json()
    assert cancelled["status"] == "cancelled"
    assert_fresh(cancelled)
    assert wait_for(lambda: len(events_of(receiver, ro["ro_id"])) == 3)
    for event in events_of(receiver, ro["ro_id"]):
        assert_fresh(event["data"])
    order = list(api.get(path).json())
    assert order.index("notes") < order.index("invoice") < order.index("documents") < order.index(
        "documents_requested")


def test_the_accepted_invoice_stays_on_the_ro(api, admin):
    ro = approved_ro(api, admin)
    path = f"/v1/repair-orders/{ro['ro_id']}"
    response = api.post(path + "/invoice", INVOICE, key="invoice-1")
    assert response.status_code == 200, response.text
    done = response.json()
    invoice = done["invoice"]
    assert set(invoice) == {"invoice_number", "invoice_date", "total", "accepted_at"}
    assert (invoice["invoice_number"], invoice["invoice_date"], invoice["total"]) == (
        "INV/2026/0012", "2026-11-29", "424.00")
    assert invoice["accepted_at"].endswith("Z")
    assert (done["status"], done["invoice_status"], done["invoice_number"]) == (
        "completed", "approved", "INV/2026/0012")
    # the same invoice with the same key replays the answer, nothing changes
    again = api.post(path + "/invoice", INVOICE, key="invoice-1")
    assert again.status_code == 200 and again.json() == done and again.headers["Idempotent-Replayed"] == "true"
    assert api.get(path).json() == done
    # a second, different invoice is refused; the state in the answer tells which one the fleet holds
    other = dict(INVOICE, invoice_number="INV/2026/0099")
    refused = api.post(path + "/invoice", other, key="invoice-2")
    assert refused.status_code == 409 and error_code(refused) == "invalid_state"
    assert refused.json()["error"]["details"][0]["invoice"] == invoice
    assert api.get(path).json()["invoice"] == invoice
    assert admin.ro(ro["ro_id"])["invoice"]["lines"] == INVOICE["lines"]  # section 8: the body sent


def test_a_lost_invoice_answer_is_learnt_from_a_read_the_feed_and_a_webhook(api, admin, receiver):
    admin.set_config(webhook_url=receiver.url, webhook_secret=SECRET)
    ro = approved_ro(api, admin)
    path = f"/v1/repair-orders/{ro['ro_id']}"
    admin.set_faults(drop_after_processing_next=1, path_prefix=path + "/invoice")
    with pytest.raises(requests.ConnectionError):
        api.post(path + "/invoice", INVOICE, key="invoice-lost")
    admin.set_faults()
    read = api.get(path).json()
    assert read["status"] == "completed" and read["invoice"]["invoice_number"] == "INV/2026/0012"
    feed = [item for item in api.get("/v1/repair-orders").json()["items"] if item["ro_id"] == ro["ro_id"]]
    assert feed == [read]
    assert wait_for(lambda: any(e["data"]["status"] == "completed" for e in events_of(receiver, ro["ro_id"])))
    event = events_of(receiver, ro["ro_id"])[-1]
    assert event["type"] == "ro.updated" and event["data"] == read and event["sequence"] == read["sequence"]
    # the retry with the same key replays the lost answer
    replay = api.post(path + "/invoice", INVOICE, key="invoice-lost")
    assert replay.status_code == 200 and replay.json() == read


@pytest.mark.parametrize("call", ["resubmit", "note", "cancel"])
def test_invalid_state_carries_the_ro_state(api, admin, call):
    ro = api.created(ro_body())
    path = f"/v1/repair-orders/{ro['ro_id']}"
    cancelled = api.post(path + "/cancel", {"reason": "Customer declined"}).json()
    response = {
        "resubmit": lambda: api.resubmit(ro["ro_id"], ro_body(), 1),
        "note": lambda: api.post(path + "/notes", {"text": "late"}),
        "cancel": lambda: api.post(path + "/cancel", {}),
    }[call]()
    assert response.status_code == 409 and error_code(response) == "invalid_state"
    assert response.json()["error"]["details"] == [cancelled]


def test_an_ro_stored_by_an_older_simulator_reads_with_empty_keys(api, sim):
    ro = api.created(ro_body())
    with sim.store.transaction():
        stored = sim.store.get_ro(ro["ro_id"])
        for key in ("invoice", "documents_requested"):
            del stored["state"][key]
        sim.store.save_ro(stored)
    assert_fresh(api.get(f"/v1/repair-orders/{ro['ro_id']}").json())
