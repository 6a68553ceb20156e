"""Sync: ROs decided at the fleet, pulled through the changes feed, next to Odoo's own write of the same changes.

For 200, 2,000 and 10,000 jobs bound to fleet ROs that the fleet then
approved, an Odoo process walks the feed as the poll cron does (one page of
100 per transaction, a clean cache per page) and stores every decision (the
job's status and authorization, its lines, the decision in the chatter with
the status change it brings). Then, as Odoo's own peer on the same data,
another Odoo process writes the same jobs and lines back to what they held
before the decision with plain ORM ``write`` calls (the status tracked),
page by page in the same way. Prints ROs/s of both, how the time per RO
grows from the smallest size to the largest, and the sync's memory page by
page.

The simulator is seeded straight through its store (SQLite inserts): the
HTTP path would take longer than the sync itself. The jobs are seeded in
Odoo by batch ORM creates; each size adds its jobs to those of the sizes
before it, so the largest walk runs in the largest database. They are bound
as jobs sent before the authorization history existed (or whose
submission's commit was lost), so the sync records each RO's revision on
first sight; with ``--history``, as SEND TO FLEET records it.

    python3 bench/bench_sync.py [--sizes 200,2000,10000] [--history]
"""

import argparse
import sys
import time

import common

RATE_GOAL = 150  # ROs/s
FLAT_GOAL = 1.25  # per-RO time, largest size / smallest
RSS_GOAL = 0.10  # growth of the sync's memory over its walk, of its memory after the first page


def steady(pages):
    """:return: seconds per RO of a walk, its first page left out (a new process: caches, the token)."""
    pages = pages[1:] or pages
    return sum(page["seconds"] for page in pages) / max(1, sum(page["items"] for page in pages))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,2000,10000")
    parser.add_argument("--history", action="store_true",
                        help="jobs whose revision is in the authorization history, as SEND TO FLEET records it (by "
                             "default they are bound as before the history existed: the sync records each)")
    parser.add_argument("--log-queries", help="write the queries of the second page of the first run to this file")
    parser.add_argument("--profile", help="write a cProfile of the first run's sync to this file")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    runs = {}
    with common.bench_setup("sync") as (db, sim, ids):
        for run, size in enumerate(sizes):
            started = time.time()
            jobs = common.seed_jobs(db, ids, size, timeout=1800, bind_prefix=f"R{run}", history=args.history)
            sim.reset()  # only this run's ROs in the feed
            common.seed_fleet_ros(sim, jobs)
            common.say(f"seeded {size} jobs and fleet ROs in {time.time() - started:.1f}s")
            repair_ids = [job["id"] for job in jobs]
            result = common.odoo_task(db, "sync", timeout=1800, log_queries=None if run else args.log_queries,
                                      profile=None if run else args.profile)
            check = common.odoo_task(db, "check", repair_ids=repair_ids)
            peer = common.odoo_task(db, "sync_peer", timeout=1800, repair_ids=repair_ids)
            approved = sum(status == "approved" for status in check["statuses"].values())
            once = sum(count == 1 for count in check["decision_messages"].values())
            pages = result["pages"]
            runs[size] = dict(result, approved=approved, once=once, peer=peer)
            queries = [page["queries"] for page in pages if page["items"]]
            common.say(f"{size} ROs: {result['seconds']:.2f} s, {size / result['seconds']:.0f} ROs/s, "
                       f"{len(pages)} pages (first {pages[0]['seconds']:.3f} s, then "
                       f"{steady(pages) * 1000:.2f} ms/RO), queries per page {min(queries)}-{max(queries)}; "
                       f"{approved} approved, {once} with one decision message; RSS once loaded "
                       f"{result['rss_start_mb']:.0f} MB, after the first page {pages[0]['rss_mb']:.0f} MB, at "
                       f"the end {pages[-1]['rss_mb']:.0f} MB; Odoo's write of the same changes: "
                       f"{peer['seconds']:.2f} s, {size / peer['seconds']:.0f} ROs/s, "
                       f"{steady(peer['pages']) * 1000:.2f} ms/RO")
    ok = True
    reference = 2000 if 2000 in runs else max(runs)
    ref = runs[reference]
    rate, peer_rate = reference / ref["seconds"], reference / ref["peer"]["seconds"]
    ok &= rate >= RATE_GOAL
    common.summary("sync", f"{reference:,} decided ROs through the changes feed (Odoo's write of the same changes)",
                   f"{rate:.0f} ROs/s in {ref['seconds']:.2f} s ({peer_rate:.0f} ROs/s in "
                   f"{ref['peer']['seconds']:.2f} s = {ref['seconds'] / ref['peer']['seconds']:.2f}x)",
                   f">= {RATE_GOAL} ROs/s", rate >= RATE_GOAL)
    smallest, largest = min(runs), max(runs)
    growth = steady(runs[largest]["pages"]) / steady(runs[smallest]["pages"])
    peer_growth = steady(runs[largest]["peer"]["pages"]) / steady(runs[smallest]["peer"]["pages"])
    ok &= growth <= FLAT_GOAL
    common.summary("sync", f"time per RO from {smallest:,} to {largest:,} ROs",
                   ", ".join(f"{size:,}: {steady(run['pages']) * 1000:.2f} ms" for size, run in sorted(runs.items()))
                   + f" = x{growth:.2f} (Odoo's write: x{peer_growth:.2f})", f"flat, <= x{FLAT_GOAL:g}",
                   growth <= FLAT_GOAL)
    walk = runs[largest]["pages"]
    loaded = walk[0]["rss_mb"]
    rss_growth = (max(page["rss_mb"] for page in walk) - loaded) / loaded
    ok &= rss_growth <= RSS_GOAL
    common.summary("sync", f"memory of the Odoo process over the walk of {largest:,} ROs ({len(walk)} pages)",
                   f"{loaded:.0f} MB after the first page, at most {max(page['rss_mb'] for page in walk):.0f} MB "
                   f"after any other (+{rss_growth:.1%}); "
                   + ", ".join(f"{size:,} ROs: at most {max(page['rss_mb'] for page in run['pages']):.0f} MB"
                               for size, run in sorted(runs.items())),
                   f"flat, <= +{RSS_GOAL:.0%}", rss_growth <= RSS_GOAL)
    lost = sum(size - run["approved"] for size, run in runs.items())
    twice = sum(size - run["once"] for size, run in runs.items())
    ok &= lost == 0 and twice == 0
    common.summary("sync", "ROs not applied / decision messages not exactly once", f"{lost} / {twice}", "0 / 0",
                   lost == 0 and twice == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
