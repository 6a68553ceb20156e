"""Submit: a 50-line RO from SEND TO FLEET to the fleet's answer stored.

An Odoo process opens the SEND TO FLEET dialog of a 50-line job and clicks
SUBMIT REPAIR ORDER, then commits, for each of N jobs; then, in the same
process, sends the same bodies to the same simulator with a bare
``requests.post``. Prints the addon's time next to the bare call's, their
ratio and the SQL queries of one submission.

    python3 bench/bench_submit.py [--jobs 30] [--lines 50] [--profile FILE]
"""

import argparse
import statistics
import sys

import common


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--profile", help="also write a cProfile of one submission to this file")
    args = parser.parse_args()
    with common.bench_setup("submit") as (db, sim, ids):
        result = common.odoo_task(db, "submit", partner=ids["driver"], part=ids["part"], labor=ids["labor"],
                                  count=args.jobs, lines=args.lines, sim_url=sim.url,
                                  client_id=common.CLIENT_ID, client_secret=common.CLIENT_SECRET)
        if args.profile:
            common.odoo_task(db, "profile_submit", partner=ids["driver"], part=ids["part"],
                             labor=ids["labor"], lines=args.lines, out=args.profile)
            common.say(f"profile written to {args.profile} (python3 -m pstats {args.profile})")
    addon, bare = common.describe(result["addon"]), common.describe(result["bare"])
    client, kept = common.describe(result["client"]), common.describe(result["bare_kept"])
    opened = common.describe(result["opened"])
    common.say(f"addon: p50 {addon['p50'] * 1000:.1f} ms, p95 {addon['p95'] * 1000:.1f} ms; "
               f"bare requests: p50 {bare['p50'] * 1000:.1f} ms, p95 {bare['p95'] * 1000:.1f} ms; "
               f"statuses {result['statuses']}")
    ratio = addon["p50"] / bare["p50"]
    queries = statistics.median(result["queries"])
    common.summary("submit", f"{args.lines}-line RO, SEND TO FLEET to stored result (median of {len(result['addon'])})",
                   f"addon {addon['p50'] * 1000:.1f} ms vs bare requests {bare['p50'] * 1000:.1f} ms = "
                   f"{ratio:.1f}x", "<= 2x", ratio <= 2)
    floor = common.describe(result["floor"])
    common.say(f"of which the dialog opening (payload built, its lines stored): p50 {opened['p50'] * 1000:.1f} ms; "
               f"the submission: p50 {(addon['p50'] - opened['p50']) * 1000:.1f} ms; only reading the job's "
               f"{args.lines} lines in a transaction: p50 {floor['p50'] * 1000:.1f} ms")
    common.summary("submit", "the API call alone: the addon's client (checks, key, exchange log) vs bare requests",
                   f"{client['p50'] * 1000:.1f} ms vs {bare['p50'] * 1000:.1f} ms = "
                   f"{client['p50'] / bare['p50']:.1f}x; "
                   f"vs bare requests on a kept connection {kept['p50'] * 1000:.1f} ms = "
                   f"{client['p50'] / kept['p50']:.1f}x", "<= 2x", client["p50"] / bare["p50"] <= 2)
    common.summary("submit", "SQL queries of one submission (commit included)",
                   f"{queries:.0f} (max {max(result['queries'])})", "<= 40", max(result["queries"]) <= 40)
    return 0 if ratio <= 2 and max(result["queries"]) <= 40 else 1


if __name__ == "__main__":
    sys.exit(main())
