"""``make bench``: every benchmark, one after the other, then their summary lines together.

    python3 bench/run_all.py [--quick] [NAME ...] [-- ARGUMENTS]

``--quick`` runs smaller sizes: a smoke run of the scripts, whose figures
mean nothing, so only an error fails it (a goal missed does not). NAME
runs only those benchmarks (``sync``, ``submit``, ...); ARGUMENTS after
``--`` go to each of them (``sync -- --sizes 2000 --profile F``). Each
benchmark creates and drops its own database; see docs/benchmarks.md.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: each benchmark, in its order, with its ``--quick`` arguments (without them: its own defaults)
BENCHMARKS = {
    "bench_submit.py": ["--jobs", "5"],
    "bench_sync.py": ["--sizes", "200,400"],
    "bench_webhook.py": ["--jobs", "50"],
    "bench_invoice.py": ["--invoices", "10"],
    "bench_live.py": ["--decisions", "10"],
}


def load():
    return "load average {:.2f} {:.2f} {:.2f} (1, 5, 15 min) on {} cores".format(*os.getloadavg(), os.cpu_count())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     usage="%(prog)s [--quick] [NAME ...] [-- ARGUMENTS]")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"only these: {', '.join(name[6:-3] for name in BENCHMARKS)}")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, passed = parser.parse_args(argv[:cut]), argv[cut + 1:]
    unknown = [name for name in args.names if f"bench_{name}.py" not in BENCHMARKS]
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)}")
    scripts = [f"bench_{name}.py" for name in args.names] or list(BENCHMARKS)
    summaries, missed, failed = [], [], []
    for script in scripts:
        print(f"\n== {script} ({load()})", flush=True)
        started = time.time()
        command = [sys.executable, str(HERE / script), *(BENCHMARKS[script] if args.quick else ()), *passed]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("SUMMARY "):
                lines.append(line[len("SUMMARY "):].rstrip())
        summaries += lines
        if proc.wait():
            # a script exits non-zero when a goal is missed; without a MISSED figure, it failed
            (missed if any(line.endswith(" MISSED") for line in lines) else failed).append(script)
        print(f"({script}: {time.time() - started:.0f} s; {load()})", flush=True)
    print("\n== summary" + (" (--quick: a smoke run, the figures are not the benchmarks')" if args.quick else ""))
    for line in summaries:
        print(line)
    print(f"\nbenchmarks with a goal missed: {', '.join(missed) or 'none'}")
    print(f"benchmarks that failed: {', '.join(failed) or 'none'}")
    return 1 if failed or (missed and not args.quick) else 0


if __name__ == "__main__":
    sys.exit(main())
