"""Invoice gate: posting invoices of AutoIntegrate jobs vs the same invoices of plain jobs.

N jobs approved by the fleet and, for each, two twins for a walk-in
customer (same lines and amounts). Each invoice is posted in its own
transaction, in turn: the fleet job's (the gate checks it, then posting
sends it to the fleet and stores the answer), its plain twin's (the gate
finds no job), and the other twin's with the gate's override skipped (the
posting as without the addon). Prints the ratios and what the gate's checks
cost on their own.

    python3 bench/bench_invoice.py [--invoices 100]
"""

import argparse
import sys

import common


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
    # the first of each kind warms the caches up
    ai, plain, ungated = (sum(result[name][1:]) for name in ("ai", "plain", "plain_ungated"))
    gate_ai, gate_plain = (sum(result["gate"][name][1:]) for name in ("ai", "plain"))
    n = args.invoices
    common.say(f"posted {result['posted']}; fleet approved {result['fleet_approved']} of {n + 1}, "
               f"their jobs completed {result['jobs_completed']}; "
               f"per invoice: fleet job {ai / n * 1000:.1f} ms (gate checks {gate_ai / n * 1000:.2f} ms), "
               f"plain job {plain / n * 1000:.1f} ms (gate checks {gate_plain / n * 1000:.2f} ms), "
               f"without the gate {ungated / n * 1000:.1f} ms")
    common.summary("invoice", f"posting {n} invoices, fleet jobs (gate + sent to the fleet) vs plain jobs",
                   f"{ai:.2f} s vs {plain:.2f} s = {ai / plain:.2f}x", "<= 1.05x", ai / plain <= 1.05)
    common.summary("invoice", "the gate's checks alone, fleet jobs: (plain posting + checks) vs plain posting",
                   f"{(plain + gate_ai - gate_plain) / plain:.3f}x ({gate_ai / n * 1000:.2f} ms per invoice)",
                   "<= 1.05x", (plain + gate_ai - gate_plain) / plain <= 1.05)
    common.summary("invoice", f"posting {n} plain invoices with the gate vs without it",
                   f"{plain:.2f} s vs {ungated:.2f} s = {plain / ungated:.3f}x", "<= 1.05x", plain / ungated <= 1.05)
    ok = result["fleet_approved"] == result["jobs_completed"] == n + 1 and plain / ungated <= 1.05
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
