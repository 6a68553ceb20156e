"""Webhook ingestion: signed events from 4 concurrent senders into Odoo with 2 workers.

Each of N jobs (bound to a fleet RO) gets three deliveries, shuffled: its
decision (approved), the same event again (a redelivery: same event_id) and
an older state (lower sequence, pending). Four threads POST them to
``/autointegrate/webhook/<db>`` of an Odoo started with ``--workers=2``,
retrying any non-2xx as the fleet would. Prints events/s accepted, then
counts, from the database: events lost (a job not at its newest sequence,
an event not stored) and applied twice (a decision message more than once,
an event stored twice).

    python3 bench/bench_webhook.py [--jobs 200] [--senders 4] [--workers 2]
"""

import argparse
import json
import queue
import random
import sys
import threading
import time

import common
import requests

from autointegrate.signing import SIGNATURE_HEADER, sign


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    # no simulator: the events are sent from here
    with common.bench_setup("webhook", simulator=False, webhook_secret=common.WEBHOOK_SECRET) as (db, _sim, ids):
        jobs = common.seed_jobs(db, ids, args.jobs, bind_prefix="W")
        deliveries, newest = [], {}
        for index, job in enumerate(jobs):
            sequence = 1000 + 2 * index
            newest[job["id"]] = sequence + 1
            decision = event(f"evt_bench_{index}_new", state(job, sequence + 1, "approved"))
            deliveries += [decision, decision, event(f"evt_bench_{index}_old", state(job, sequence, "pending"))]
        random.Random(7).shuffle(deliveries)
        todo = queue.Queue()
        for body in deliveries:
            todo.put(body)
        answers, retries, failures = [], [0], []
        lock = threading.Lock()
        with common.odoo_server(db, workers=args.workers) as url:
            endpoint = f"{url}/autointegrate/webhook/{db}"

            def sender():
                session = requests.Session()
                while True:
                    try:
                        body = todo.get_nowait()
                    except queue.Empty:
                        return
                    for attempt in range(8):
                        try:
                            answer = session.post(endpoint, data=body, timeout=30, headers={
                                "Content-Type": "application/json",
                                SIGNATURE_HEADER: sign(common.WEBHOOK_SECRET, body)})
                            if 200 <= answer.status_code < 300:
                                with lock:
                                    answers.append(answer.json()["status"])
                                break
                        except requests.RequestException:
                            pass
                        with lock:
                            retries[0] += 1
                        time.sleep(0.05 * 2 ** attempt)
                    else:
                        failures.append(body)

            threads = [threading.Thread(target=sender) for _ in range(args.senders)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
        check = common.odoo_task(db, "check", repair_ids=[job["id"] for job in jobs])
    rate = len(answers) / seconds
    counts = {status: answers.count(status) for status in sorted(set(answers))}
    stored = [event_id for event_id, _state in check["events"]]
    behind = [job_id for job_id, sequence in newest.items() if check["sequences"][str(job_id)] != sequence]
    lost = len(failures) + len(behind) + (2 * len(jobs) - len(set(stored)))
    twice = (len(stored) - len(set(stored))) + sum(count > 1 for count in check["decision_messages"].values()) + \
        max(0, counts.get("applied", 0) - 2 * len(jobs))
    common.say(f"{len(deliveries)} deliveries ({len(jobs)} jobs x decision, redelivery, older state) by "
               f"{args.senders} senders in {seconds:.2f}s; answers {counts}; {retries[0]} retried; "
               f"{len(set(stored))} events stored")
    common.summary("webhook", f"events accepted, {args.senders} concurrent senders, Odoo --workers={args.workers}",
                   f"{rate:.0f} events/s ({len(answers)} in {seconds:.2f} s)")
    missing_messages = sum(check["decision_messages"].get(str(job["id"]), 0) != 1 for job in jobs)
    common.summary("webhook", "lost / applied twice (counted in the database)",
                   f"{lost} / {twice} (jobs without exactly one decision message: {missing_messages})", "0 / 0",
                   lost == 0 and twice == 0 and missing_messages == 0)
    return 0 if lost == 0 and twice == 0 and missing_messages == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
