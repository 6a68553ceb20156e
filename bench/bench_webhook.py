"""Webhook bursts: 200 concurrent senders into Odoo's threaded server, as ``make demo`` runs it.

Each of N jobs (bound to a fleet RO) gets three deliveries, shuffled: its
decision (approved), the same event again (a redelivery: same event_id) and
an older state (lower sequence, pending). S sender threads wait at a barrier,
then POST them at once to ``/autointegrate/webhook/<db>`` of an Odoo started
as ``make demo`` starts it (``-d`` and ``--db-filter``, the threaded server:
no ``--workers``, ``db_maxconn`` 64, its cron threads, and
``ODOO_MAX_HTTP_THREADS=auto``, Odoo's own bound of its HTTP threads), each
sender retrying a non-2xx answer as the fleet would. Counted: answers of 500
and above (the goal: none), connection errors, answer times, the time until
every event left waiting is applied by the cron; then, from the database,
events lost (a job not at its newest sequence, an event not stored) and
applied twice (a decision message more than once, an event stored twice), and
any ERROR in Odoo's log (a full connection pool is one).

The peer, in the same run: the same burst (new events) into the same Odoo
without ``ODOO_MAX_HTTP_THREADS``, and a burst of Odoo's own ``/web/health``
there: without the bound, a thread per connection borrows from the pool of
64 before any addon runs, and Odoo's trivial route is answered 500 too.

    python3 bench/bench_webhook.py [--jobs 200] [--senders 200] [--workers 0]
"""

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter

import common
import requests

from autointegrate.signing import SIGNATURE_HEADER, sign

#: how long the events waiting for the cron may take to be applied once the burst is over
SETTLE_S = 180
#: Odoo as scripts/demo.sh starts it: its own bound on HTTP threads, half the database pool
DEMO_ENV = {"ODOO_MAX_HTTP_THREADS": "auto"}
#: the same without the bound: a thread per connection
UNBOUNDED_ENV = {"ODOO_MAX_HTTP_THREADS": ""}


def state(job, sequence, status):
    return {
        "ro_id": job["ro_id"], "shop_ro_ref": job["shop_ro_ref"], "fleet_company_id": common.FLEET, "revision": 1,
        "status": status, "authorization_number": "AUTH-000001" if status == "approved" else None,
        "decided_at": "2026-11-28T16:20:00Z", "decided_by": "J. Rivera (bench)", "updated_at": "2026-11-28T16:20:00Z",
        "sequence": sequence, "approved_total": job["total"] if status == "approved" else "0.00",
        "lines": [{"line_ref": line["line_ref"], "status": status,
                   "approved_quantity": line["quantity"] if status == "approved" else None,
                   "approved_amount": line["amount"] if status == "approved" else None, "reason": None}
                  for line in job["lines"]],
        "notes": [],
    }


def event(event_id, data):
    return json.dumps({"event_id": event_id, "type": "ro.updated", "occurred_at": "2026-11-28T16:20:00Z",
                       "ro_id": data["ro_id"], "sequence": data["sequence"], "data": data}).encode()


def waiting_events(db):
    return int(common.psql("SELECT count(*) FROM autointegrate_event WHERE state = 'received'", db))


class Burst:
    """``len(shares)`` threads released together, each sending its share in turn, retrying a non-2xx
    answer as a fleet would; what they got back."""

    def __init__(self, url, shares, post=True):
        self.statuses, self.errors, self.answers, self.times = Counter(), Counter(), [], []
        lock = threading.Lock()
        shares = [share for share in shares if share]
        barrier = threading.Barrier(len(shares))

        def sender(bodies):
            barrier.wait()
            for body in bodies:
                for attempt in range(10):
                    started = time.perf_counter()
                    try:
                        # a connection of its own, as a fleet's delivery worker opens
                        if post:
                            answer = requests.post(url, data=body, timeout=30, headers={
                                "Content-Type": "application/json",
                                SIGNATURE_HEADER: sign(common.WEBHOOK_SECRET, body)})
                        else:
                            answer = requests.get(url, timeout=30)
                    except requests.RequestException as error:
                        with lock:
                            self.errors[type(error).__name__] += 1
                    else:
                        with lock:
                            self.statuses[answer.status_code] += 1
                            self.times.append(time.perf_counter() - started)
                        if 200 <= answer.status_code < 300:
                            if post:
                                with lock:
                                    self.answers.append(answer.json()["status"])
                            break
                    time.sleep(0.05 * 2 ** attempt)

        self.senders = len(shares)
        threads = [threading.Thread(target=sender, args=(share,)) for share in shares]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.seconds = time.perf_counter() - started

    @property
    def server_errors(self):
        return sum(count for status, count in self.statuses.items() if status >= 500)

    def describe(self):
        return (f"HTTP answers {dict(sorted(self.statuses.items()))}, connection errors {dict(self.errors)}, "
                f"in {self.seconds:.2f} s")


def deliveries_of(jobs, base, status):
    """Per job: its decision (``status``), the same event again, an older state; :return: the bodies
    (shuffled) and each job's newest sequence."""
    deliveries, newest = [], {}
    for index, job in enumerate(jobs):
        sequence = base + 2 * index
        newest[job["id"]] = sequence + 1
        decision = event(f"evt_bench_{base}_{index}_new", state(job, sequence + 1, status))
        deliveries += [decision, decision, event(f"evt_bench_{base}_{index}_old", state(job, sequence, "pending"))]
    random.Random(base).shuffle(deliveries)
    return deliveries, newest


def settle(db, started):
    """Wait until the cron applied what the burst left waiting; :return: seconds since ``started``, and how
    many still wait."""
    deadline = time.monotonic() + SETTLE_S
    while waiting_events(db) and time.monotonic() < deadline:
        time.sleep(0.5)
    return time.perf_counter() - started, waiting_events(db)


def odoo_errors(db):
    log = common.RUN_DIR / f"bench-odoo-{db}.log"
    return [line for line in log.read_text().splitlines() if " ERROR " in line]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--senders", type=int, default=200)
    parser.add_argument("--workers", type=int, default=0, help="0: Odoo's threaded server, as make demo")
    args = parser.parse_args()
    server = "threaded server" if not args.workers else f"--workers={args.workers}"
    # no simulator: the events are sent from here
    with common.bench_setup("webhook", simulator=False, webhook_secret=common.WEBHOOK_SECRET) as (db, _sim, ids):
        jobs = common.seed_jobs(db, ids, args.jobs, bind_prefix="W")
        deliveries, newest = deliveries_of(jobs, 1000, "approved")
        with common.odoo_server(db, workers=args.workers, crons=True, env=DEMO_ENV) as url:
            demo = Burst(f"{url}/autointegrate/webhook/{db}", [deliveries[n::args.senders]
                                                              for n in range(args.senders)])
            settled, left_waiting = settle(db, time.perf_counter() - demo.seconds)
            # the peer of the rate: Odoo's own trivial route, the same burst
            floor = Burst(f"{url}/web/health", [[None] * 3 for _n in range(args.senders)], post=False)
            errors = odoo_errors(db)
        check = common.odoo_task(db, "check", repair_ids=[job["id"] for job in jobs])
        # the peer: the same kind of burst into the same Odoo without ODOO_MAX_HTTP_THREADS, and a burst
        # of Odoo's own /web/health there (its trivial route)
        again, _newest = deliveries_of(jobs, 5000, "denied")
        with common.odoo_server(db, workers=args.workers, crons=True, env=UNBOUNDED_ENV) as url:
            unbounded = Burst(f"{url}/autointegrate/webhook/{db}", [again[n::args.senders]
                                                                   for n in range(args.senders)])
            health = Burst(f"{url}/web/health", [[None] * 3 for _n in range(args.senders)], post=False)
            settle(db, time.perf_counter())
            unbounded_errors = odoo_errors(db)
    rate = len(demo.answers) / demo.seconds
    counts = dict(sorted(Counter(demo.answers).items()))
    stored = [event_id for event_id, _state in check["events"]]
    behind = [job_id for job_id, sequence in newest.items() if check["sequences"][str(job_id)] != sequence]
    lost = (len(deliveries) - len(demo.answers)) + len(behind) + (2 * len(jobs) - len(set(stored))) + left_waiting
    twice = (len(stored) - len(set(stored))) + sum(count > 1 for count in check["decision_messages"].values()) + \
        max(0, counts.get("applied", 0) - 2 * len(jobs))
    missing_messages = sum(check["decision_messages"].get(str(job["id"]), 0) != 1 for job in jobs)
    common.say(f"make demo's Odoo ({server}, ODOO_MAX_HTTP_THREADS={DEMO_ENV['ODOO_MAX_HTTP_THREADS']}): "
               f"{len(deliveries)} deliveries ({len(jobs)} jobs x decision, redelivery, older state) by "
               f"{demo.senders} concurrent senders: {demo.describe()}; answers {counts}; {len(set(stored))} events "
               f"stored; all applied {settled:.2f} s after the burst began ({left_waiting} still waiting); ERROR "
               f"lines in Odoo's log: {len(errors)}")
    common.say(f"without ODOO_MAX_HTTP_THREADS: {len(again)} deliveries: {unbounded.describe()}; /web/health: "
               f"{health.describe()}; ERROR lines in Odoo's log: {len(unbounded_errors) - len(errors)}")
    for line in errors[:5]:
        common.say(f"  {line}")
    ok_500 = demo.server_errors == 0 and not errors
    common.summary("webhook", f"answers >= 500 in a burst of {demo.senders} concurrent deliveries, make demo's Odoo "
                   f"({server})", f"{demo.server_errors} of {sum(demo.statuses.values())} (connection errors "
                   f"{sum(demo.errors.values())}, ERROR lines in Odoo's log {len(errors)})", "0", ok_500)
    common.summary("webhook", "the same burst without ODOO_MAX_HTTP_THREADS, next to Odoo's /web/health",
                   f"{unbounded.server_errors} of {sum(unbounded.statuses.values())} answers >= 500; /web/health "
                   f"{health.server_errors} of {sum(health.statuses.values())}")
    common.summary("webhook", f"events accepted, {demo.senders} concurrent senders, make demo's Odoo, next to "
                   "its /web/health", f"{rate:.0f} events/s ({len(demo.answers)} in {demo.seconds:.2f} s) vs "
                   f"{sum(floor.statuses.values()) / floor.seconds:.0f} requests/s ({floor.describe()})")
    times = common.describe(demo.times)
    common.summary("webhook", "answer time of a delivery in the burst", f"p50 {times['p50'] * 1000:.0f} ms, "
                   f"p95 {times['p95'] * 1000:.0f} ms, max {times['max'] * 1000:.0f} ms")
    common.summary("webhook", "every event applied (the waiting ones by the cron), after the burst began",
                   f"{settled:.2f} s ({counts.get('queued', 0)} answered queued)")
    ok_applied = lost == 0 and twice == 0 and missing_messages == 0
    common.summary("webhook", "lost / applied twice (counted in the database)",
                   f"{lost} / {twice} (jobs without exactly one decision message: {missing_messages})", "0 / 0",
                   ok_applied)
    return 0 if ok_500 and ok_applied else 1


if __name__ == "__main__":
    sys.exit(main())
