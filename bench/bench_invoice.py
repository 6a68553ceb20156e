"""Invoice: posting a fleet job's invoice, the fleet's answer included, next to the same invoice of a plain job.

N jobs approved by the fleet and, for each, two twins for a walk-in
customer (same lines, same amounts). An Odoo process posts each invoice in
its own transaction (Post, its commit), in turn:

- the fleet job's, until the fleet's answer is applied (the invoice sent to
  the simulator, the fleet's completed RO stored on the job): within the
  posting, or after its commit when the addon sends it then (its triggered
  crons are run at once, as Odoo's cron worker would);
- its plain twin's (the addon's gate finds no job);
- its other twin's with the addon's override of posting skipped: Odoo's
  posting as without the addon.

Prints the median time of each and their ratios.

    python3 bench/bench_invoice.py [--invoices 100] [--profile FILE]
"""

import argparse
import sys

import common

GOAL = 1.3  # a fleet job's invoice, the fleet's answer included, against a plain job's
PLAIN_GOAL = 1.05  # a plain job's invoice with the addon against without it


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100)
    parser.add_argument("--profile", help="write a cProfile of the fleet jobs' postings to this file")
    args = parser.parse_args()
    with common.bench_setup("invoice") as (db, sim, ids):
        jobs = common.seed_jobs(db, ids, args.invoices + 1, bind_prefix="V")
        common.seed_fleet_ros(sim, jobs)  # the fleet approved them: it accepts their invoices
        invoices = common.odoo_task(db, "invoice_prepare", jobs=jobs, walk_in=ids["walk_in"])
        result = common.odoo_task(db, "invoice_post", profile=args.profile, **invoices)
    count = args.invoices + 1
    if result["posted"] != {"ai": count, "plain": count, "plain_ungated": count} or result["answered"] != count:
        sys.exit(f"not every invoice was posted ({result['posted']} of {count} each) or not every fleet invoice "
                 f"got the fleet's answer ({result['answered']})")
    # the first of each kind warms the caches up
    ai, plain, ungated = (common.describe(result[name][1:]) for name in ("ai", "plain", "plain_ungated"))
    n = args.invoices
    common.say(f"{n} invoices of each kind (after a warm-up one), median (mean): fleet job, the fleet's answer "
               f"included, {ai['p50'] * 1000:.1f} ms ({ai['mean'] * 1000:.1f}); plain job {plain['p50'] * 1000:.1f} "
               f"ms ({plain['mean'] * 1000:.1f}); plain job without the addon's override "
               f"{ungated['p50'] * 1000:.1f} ms ({ungated['mean'] * 1000:.1f})")
    ratio, plain_ratio = ai["p50"] / plain["p50"], plain["p50"] / ungated["p50"]
    common.summary("invoice", f"posting a fleet job's invoice, the fleet's answer included, vs the same invoice "
                   f"of a plain job (median of {n})",
                   f"{ai['p50'] * 1000:.1f} ms vs {plain['p50'] * 1000:.1f} ms = {ratio:.2f}x", f"<= {GOAL:g}x",
                   ratio <= GOAL)
    common.summary("invoice", f"posting a plain job's invoice with the addon vs without its override (median of {n})",
                   f"{plain['p50'] * 1000:.1f} ms vs {ungated['p50'] * 1000:.1f} ms = {plain_ratio:.3f}x",
                   f"<= {PLAIN_GOAL:g}x", plain_ratio <= PLAIN_GOAL)
    return 0 if ratio <= GOAL and plain_ratio <= PLAIN_GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
