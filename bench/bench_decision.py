"""Decision -> visible: from the fleet deciding to the job showing it in Odoo.

The simulator decides (``POST /_admin/ro/<id>/decide``, approve all) on one
job at a time; the benchmark then reads the job from Odoo's database until
its fleet status is approved (a committed change: what any user, RPC or
page reload sees). Twice N decisions:

- by webhook: the simulator pushes the event to Odoo (``--workers=2``);
- by polling: no webhook; an Odoo process runs the changes-feed poll every
  ``--interval`` seconds (the cron's body at a tight interval; the cron
  itself runs every 5 minutes).

    python3 bench/bench_decision.py [--decisions 200] [--interval 1.0]
"""

import argparse
import random
import sys
import time

import common
import psycopg2
import requests


def measure(sim, db, jobs, ro_ids, spread=0.0):
    """:return: seconds from each decision to its job showing it.

    :param spread: wait a random 0..spread seconds before each decision, so
        that decisions do not fall in step with the poll
    """
    latencies = []
    rng = random.Random(4)
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            for job in jobs:
                ro_id = ro_ids[str(job["id"])]
                time.sleep(rng.uniform(0, spread))
                started = time.perf_counter()
                answer = requests.post(f"{sim.url}/_admin/ro/{ro_id}/decide", timeout=10,
                                       json={"all": "approved", "decided_by": "J. Rivera (bench)"})
                answer.raise_for_status()
                deadline = started + 60
                while True:
                    cr.execute("SELECT fleet_status FROM repair_order WHERE id = %s", [job["id"]])
                    if cr.fetchone()[0] == "approved":
                        break
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"job {job['id']} did not show its decision within 60 s")
                    time.sleep(0.002)
                latencies.append(time.perf_counter() - started)
    finally:
        conn.close()
    return latencies


def report(mode, latencies, goal=None):
    stats = common.describe(latencies)
    ok = None if goal is None else stats["p95"] < goal
    common.summary("decision", f"decision -> visible by {mode} ({stats['n']} decisions)",
                   f"p50 {stats['p50'] * 1000:.0f} ms, p95 {stats['p95'] * 1000:.0f} ms, "
                   f"p99 {stats['p99'] * 1000:.0f} ms", f"p95 < {goal:.0f} s" if goal else None, ok)
    return ok is not False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between two polls")
    args = parser.parse_args()
    ok = True
    with common.bench_setup("decision", webhook_secret=common.WEBHOOK_SECRET) as (db, sim, ids):
        jobs = common.seed_jobs(db, ids, 2 * args.decisions)
        ro_ids = common.odoo_task(db, "bind", repair_ids=[job["id"] for job in jobs])["ro_ids"]
        by_webhook, by_poll = jobs[:args.decisions], jobs[args.decisions:]
        with common.odoo_server(db, workers=2) as url:
            details = sim.set_config({"webhook_url": f"{url}/autointegrate/webhook/{db}",
                                      "webhook_secret": common.WEBHOOK_SECRET})
            assert not details, details
            ok &= report("webhook", measure(sim, db, by_webhook, ro_ids), goal=1.0)
        assert not sim.set_config({"webhook_url": None})
        poller = common.start_odoo_task(db, "poll_loop", interval=args.interval, duration=3600)
        try:
            time.sleep(8)  # the poller's Odoo is loaded and its first walk is done
            latencies = measure(sim, db, by_poll, ro_ids, spread=args.interval)
            ok &= report(f"polling every {args.interval:g} s", latencies)
        finally:
            common.stop(poller)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
