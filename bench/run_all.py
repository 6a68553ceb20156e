"""``make bench``: every benchmark, one after the other, then their summary lines together.

    python3 bench/run_all.py [--quick]

``--quick`` runs smaller sizes (a smoke run of the scripts, not the figures).
Each benchmark creates and drops its own database; see docs/benchmarks.md.
"""

import argparse
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
    "bench_decision.py": ["--decisions", "20"],
    "bench_live.py": ["--decisions", "10"],
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    summaries, failed = [], []
    for script, quick_args in BENCHMARKS.items():
        print(f"\n== {script}", flush=True)
        started = time.time()
        proc = subprocess.Popen([sys.executable, str(HERE / script), *(quick_args if quick else ())],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("SUMMARY "):
                summaries.append(line[len("SUMMARY "):].rstrip())
        if proc.wait():
            failed.append(script)
        print(f"({script}: {time.time() - started:.0f} s)", flush=True)
    print("\n== summary")
    for line in summaries:
        print(line)
    print(f"\nbenchmarks with a goal missed or an error: {', '.join(failed) or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
