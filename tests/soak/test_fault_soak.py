"""Fault soak at the client level: 500 jobs through the real client and the
simulator over loopback, with about 30 % of the fleet's answers faulted.

Each job is submitted, denied in part and resubmitted (one in three), noted by
the shop, noted by the fleet, read back and invoiced. Before a client call, a
fault is queued at random: a slow answer against a short read timeout
(``delay_s`` + ``delay_next``), a dropped connection, an answer lost after the
fleet acted (``drop_after_processing_next``), a cut-off answer
(``truncate_next``), 429, 502 or 503; mostly once, sometimes more often than
the client retries, so the call fails and the "user" tries again later, as a
person would. Tokens are revoked now and then.

Afterwards: exactly one RO per job at the fleet (``/_admin/ros`` and the
changes feed), every decision and note the same on both sides, every job
completed, every failure a typed error with a clear message. One summary line
is printed. ``SOAK_JOBS=50`` makes it shorter.
"""

import collections
import os
import random
import time
from decimal import Decimal

import pytest

import autointegrate as ai
from autointegrate.client import TokenCache
from autointegrate.formatting import format_amount, line_amount
from autointegrate_sim import Simulator
from autointegrate_sim.admin import AdminClient

JOBS = int(os.environ.get("SOAK_JOBS", "500"))
SEED = int(os.environ.get("SOAK_SEED", "20261128"))
FAULT_RATE = 0.3  # share of client calls that meet a fault first
USER_TRIES = 6  # how often a "user" tries a step again after a surfaced error
READ_TIMEOUT = 0.1
SLOW_S = 0.25
CLIENT_ID = "soak-shop"
SECRET = "soak-secret-K93"
SHOP_ID = "SHOP-SOAK"
FLEET = "ENT-0042"
FAULT_KINDS = {  # kind: (weight, faults for `times` occurrences)
    "timeout": (1, lambda times: {"delay_s": SLOW_S, "delay_next": times}),
    "drop_connection": (2, lambda times: {"drop_connection_next": times}),
    "drop_after_processing": (2, lambda times: {"drop_after_processing_next": times}),
    "truncate": (2, lambda times: {"truncate_next": times}),
    "429": (1, lambda times: {"rate_limit_next": times, "retry_after": 0}),
    "502": (1, lambda times: {"next": [502] * times}),
    "503": (1, lambda times: {"next": [503] * times}),
}


def job_body(i, labor_qty="1.500"):
    labor = format_amount(line_amount(labor_qty, "95.00"))
    untaxed = format_amount(412 + Decimal(labor))
    return {
        "fleet_company_id": FLEET, "shop_id": SHOP_ID, "shop_ro_ref": f"SOAK/{i:04d}", "currency": "USD",
        "vehicle": {"vin": None, "plate": f"P{i:05d}", "odometer": 40000 + i},
        "complaint": f"Windshield cracked, job {i}",
        "notes": [f"Submitted with job {i}"],
        "lines": [
            {"line_ref": "L1", "type": "glass", "description": "Windshield", "quantity": "1.000",
             "unit_price": "412.00", "amount": "412.00", "taxable": False, "notes": []},
            {"line_ref": "L2", "type": "labor", "description": "Install", "quantity": labor_qty,
             "unit_price": "95.00", "amount": labor, "taxable": False, "notes": []},
        ],
        "totals": {"untaxed": untaxed, "tax": "0.00", "total": untaxed},
    }


class Shop:
    """The shop's side: a client, a ledger of what it believes, a fault dice."""

    def __init__(self, sim, rnd):
        self.sim = sim
        self.rnd = rnd
        self.client = ai.Client(sim.url, CLIENT_ID, SECRET, read_timeout=READ_TIMEOUT, backoff_base=0.0,
                                token_cache=TokenCache(), sleep=self.sleep, on_exchange=self.exchanged)
        self.ledger = {}  # job -> {"ro_id", "state", "shop_notes": {note_id: text}}
        self.injected = collections.Counter()
        self.attempts = 0
        self.surfaced = []  # every error a user saw: (step, error)
        self.slept = 0.0

    def sleep(self, seconds):
        self.slept += seconds  # backoff is counted, not waited

    def exchanged(self, entry):
        self.attempts += 1

    def call(self, step, func, *args, **kwargs):
        """One user action: a fault may be queued first; a surfaced error is tried again later."""
        for _try in range(USER_TRIES):
            if self.rnd.random() < FAULT_RATE:
                kinds = list(FAULT_KINDS)
                kind = self.rnd.choices(kinds, weights=[FAULT_KINDS[k][0] for k in kinds])[0]
                # mostly once; one time in ten, more often than the client retries
                times = self.client.max_attempts if self.rnd.random() < 0.1 else self.rnd.choice([1, 1, 2])
                self.sim.faults.set(dict(FAULT_KINDS[kind][1](times), path_prefix="/v1/"))
                self.injected[kind] += 1
            try:
                return func(*args, **kwargs)
            except ai.AutoIntegrateError as error:
                self.surfaced.append((step, error))
            finally:
                self.sim.faults.clear()
        raise AssertionError(f"{step} still failing after {USER_TRIES} tries: {self.surfaced[-1][1]}")


@pytest.fixture(scope="module")
def sim():
    simulator = Simulator(fleets={FLEET: None}, client_id=CLIENT_ID, client_secret=SECRET, shop_id=SHOP_ID,
                          admin=True).start()
    yield simulator
    simulator.stop()


def run_job(shop, admin, i):
    client = shop.client
    job = shop.ledger.setdefault(i, {"shop_notes": {}})
    state = shop.call("submit", client.submit, job_body(i))
    job["ro_id"] = ro_id = state["ro_id"]
    if i % 3 == 0:
        admin.decide(ro_id, decided_by="J. Rivera", lines=[
            {"line_ref": "L1", "status": "approved"},
            {"line_ref": "L2", "status": "denied", "reason": f"Labor over the rate card <b>#{i}</b>"}])
        seen = shop.call("read", client.get_ro, ro_id)
        assert [line["status"] for line in seen["lines"]] == ["approved", "denied"]
        state = shop.call("resubmit", client.resubmit, ro_id,
                          dict(job_body(i, labor_qty="1.000"), base_revision=seen["revision"]))
        assert [line["status"] for line in state["lines"]] == ["approved", "pending"]
    admin.decide(ro_id, decided_by="J. Rivera", all="approved")
    note = shop.call("note", client.add_note, ro_id, f"Photos of job {i} attached", line_ref="L1",
                     idempotency_key=f"{ro_id}:note:soak:{i}:1")
    job["shop_notes"][note["note_id"]] = note["text"]
    admin.fleet_note(ro_id, text=f"Thanks <script>alert({i})</script>", author="J. Rivera")
    state = shop.call("read", client.get_ro, ro_id)
    untaxed = format_amount(sum(Decimal(line["approved_amount"]) for line in state["lines"]))
    invoice = {"invoice_number": f"INV/SOAK/{i:04d}", "invoice_date": "2026-11-29",
               "lines": [{"line_ref": line["line_ref"], "quantity": line["approved_quantity"],
                          "amount": line["approved_amount"]} for line in state["lines"]],
               "totals": {"untaxed": untaxed, "tax": "0.00", "total": untaxed}}
    job["state"] = shop.call("invoice", client.invoice, ro_id, invoice)
    job["notes"] = shop.call("notes", client.list_notes, ro_id)


def test_fault_soak(sim, capsys):
    started = time.monotonic()
    admin = AdminClient(sim.url)
    admin.reset(tokens=True)
    shop = Shop(sim, random.Random(SEED))
    for i in range(JOBS):
        if i and i % 100 == 0:
            admin.expire_tokens(CLIENT_ID)  # the fleet forgets our token: one refresh, no failure
        run_job(shop, admin, i)

    # exactly one RO per job at the fleet, and in the changes feed
    fleet_ros = admin.ros()
    ros = {ro["shop_ro_ref"]: ro for ro in fleet_ros}
    assert len(fleet_ros) == JOBS == len(ros)
    fed = collections.Counter(item["ro_id"] for page in shop.client.iter_changes(limit=200) for item in page["items"])
    assert len(fed) == JOBS and set(fed.values()) == {1}
    for i, job in shop.ledger.items():
        fleet = ros[f"SOAK/{i:04d}"]
        assert fleet["ro_id"] == job["ro_id"] and fed[job["ro_id"]] == 1
        # every job in a state a user understands: invoiced, the same on both sides
        assert fleet["status"] == job["state"]["status"] == "completed", (i, fleet["status"])
        assert fleet["revision"] == job["state"]["revision"] == (2 if i % 3 == 0 else 1)
        # every decision on both sides
        decisions = [(line["line_ref"], line["status"], line["approved_amount"], line["reason"])
                     for line in fleet["lines"]]
        assert decisions == [(line["line_ref"], line["status"], line["approved_amount"], line["reason"])
                             for line in job["state"]["lines"]]
        assert all(status == "approved" for _ref, status, _amount, _reason in decisions)
        # every note on both sides, once: the submit's, the shop's, the fleet's
        fleet_notes = [(n["note_id"], n["author_type"], n["text"]) for n in fleet["notes"]]
        assert fleet_notes == [(n["note_id"], n["author_type"], n["text"]) for n in job["notes"]]
        texts = [text for _id, _author, text in fleet_notes]
        assert texts == [f"Submitted with job {i}", f"Photos of job {i} attached",
                         f"Thanks <script>alert({i})</script>"], texts
        assert set(job["shop_notes"]) <= {note_id for note_id, _author, _text in fleet_notes}

    # one idempotency key per submitted body, whatever the retries
    log = admin.requests()["items"]
    submits = collections.defaultdict(set)
    for entry in log:
        if entry["method"] == "POST" and entry["path"] == "/v1/repair-orders":
            submits[entry["body"]].add(entry["headers"].get("Idempotency-Key"))
    assert len(submits) == JOBS and all(len(keys) == 1 for keys in submits.values())

    # every failure a user saw: typed, short, readable, no secret
    for step, error in shop.surfaced:
        assert isinstance(error, ai.AutoIntegrateError) and error.retryable, (step, error)
        text = str(error)
        assert "AutoIntegrate" in text and len(text) < 300, text
        assert not any(noise in text for noise in ("Traceback", "HTTPConnectionPool", "object at 0x", SECRET)), text

    client_calls = [entry for entry in log if entry["path"].startswith("/v1/")]
    faulted = [entry for entry in client_calls if entry["fault"]]
    share = len(faulted) / len(client_calls)
    assert 0.2 <= share <= 0.4, share
    kinds = collections.Counter(entry["fault"] for entry in faulted)
    surfaced = collections.Counter(type(error).__name__ for _step, error in shop.surfaced)
    with capsys.disabled():
        print(f"\nsoak: {JOBS} jobs, {len(ros)} ROs at the fleet (0 duplicates), {len(client_calls)} API calls, "
              f"{len(faulted)} faulted ({share:.0%}: {dict(sorted(kinds.items()))}), "
              f"{len(shop.surfaced)} failures shown to the user and tried again ({dict(sorted(surfaced.items()))}), "
              f"{JOBS} completed, {time.monotonic() - started:.0f} s")
