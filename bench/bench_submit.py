"""Submit: SUBMIT REPAIR ORDER of a 50-line job next to Odoo's own Confirm of the same quotation.

An Odoo process takes N jobs of 50 lines in turn and, for each, as a shop
clicks them, each click in a transaction of its own (its commit included,
nothing cached from the click before): SEND TO FLEET (the dialog opens),
SUBMIT REPAIR ORDER (the body built and checked, the call to the simulator,
the fleet's answer stored on the job and its 50 lines), then Odoo's own
``action_confirm`` of the same 50-line quotation (the sales order, its
delivery). Prints the server time of each click, their ratio and the SQL
queries of one submission.

    python3 bench/bench_submit.py [--jobs 30] [--lines 50] [--profile FILE]
"""

import argparse
import statistics
import sys

import common

GOAL = 2.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=30)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--profile", help="also write a cProfile of one SEND TO FLEET + SUBMIT to this file")
    args = parser.parse_args()
    with common.bench_setup("submit") as (db, _sim, ids):
        result = common.odoo_task(db, "submit", partner=ids["driver"], part=ids["part"], labor=ids["labor"],
                                  count=args.jobs, lines=args.lines)
        if args.profile:
            common.odoo_task(db, "profile_submit", partner=ids["driver"], part=ids["part"],
                             labor=ids["labor"], lines=args.lines, out=args.profile)
            common.say(f"profile written to {args.profile} (python3 -m pstats {args.profile})")
    opened, submitted, confirmed = (common.describe(result[name]) for name in ("opened", "submitted", "confirmed"))
    common.say(f"{len(result['submitted'])} jobs of {args.lines} lines (after a warm-up one), server time with "
               f"the commit: SEND TO FLEET p50 {opened['p50'] * 1000:.1f} ms; SUBMIT REPAIR ORDER p50 "
               f"{submitted['p50'] * 1000:.1f} ms, p95 {submitted['p95'] * 1000:.1f} ms; Confirm p50 "
               f"{confirmed['p50'] * 1000:.1f} ms, p95 {confirmed['p95'] * 1000:.1f} ms; lines sent "
               f"{result['sent_lines']}, fleet statuses {result['statuses']}, orders {result['orders']}; "
               f"SQL queries of a submission {statistics.median(result['queries']):.0f} "
               f"(max {max(result['queries'])})")
    if result["sent_lines"] != [args.lines] or result["orders"] != ["sale"]:
        sys.exit(f"not every job was sent with its {args.lines} lines and its quotation confirmed")
    ratio = submitted["p50"] / confirmed["p50"]
    ok = ratio <= GOAL
    common.summary("submit", f"SUBMIT REPAIR ORDER of a {args.lines}-line job vs Odoo's Confirm of the same "
                   f"quotation (server time with the commit, median of {len(result['submitted'])})",
                   f"{submitted['p50'] * 1000:.1f} ms vs {confirmed['p50'] * 1000:.1f} ms = {ratio:.2f}x",
                   f"<= {GOAL:g}x", ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
