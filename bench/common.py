"""What every benchmark shares: a throw-away database, Odoo run for real, the
simulator, percentiles and the summary lines.

A benchmark creates its own database from the test template of ``make test``
(:func:`template_db`; built here as ``make test`` builds it when missing), installs
the addon, runs Odoo as its own process (a task runner or a real HTTP server
on a free port) against a simulator on another port, and drops everything at
the end. Nothing here is part of ``make test``.
"""

import contextlib
import functools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = os.environ.get("PYTHON", sys.executable)
RUN_DIR = ROOT / ".run"
CLIENT_ID = "bench-shop"
CLIENT_SECRET = "bench-secret"
SHOP_ID = "SHOP-17"
FLEET = "ENT-0042"
WEBHOOK_SECRET = "bench-webhook-secret"

# the simulator from the checkout, the wire protocol from inside the addon
for _path in (ROOT / "omega_autointegrate" / "lib", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))


def say(text):
    print(text, flush=True)


def summary(name, figure, measured, goal=None, ok=None):
    """One summary line per figure: ``name: figure = measured (goal ...) [OK|MISSED]``."""
    verdict = "" if ok is None else (" OK" if ok else " MISSED")
    goal_text = f" (goal {goal})" if goal else ""
    say(f"SUMMARY {name}: {figure} = {measured}{goal_text}{verdict}")


def percentile(values, pct):
    """Nearest-rank percentile of ``values`` (0 < pct <= 100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def describe(values):
    return {"n": len(values), "mean": statistics.fmean(values), "p50": percentile(values, 50),
            "p95": percentile(values, 95), "p99": percentile(values, 99), "max": max(values)}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------ odoo
def odoo_root():
    out = subprocess.run([PY, "-c", "import odoo, os; print(os.path.dirname(os.path.dirname("
                                    "os.path.abspath(odoo.__file__))))"],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit("Odoo 18 is not importable by this python (see README.md, Prerequisites)")
    return Path(out.stdout.strip())


@functools.cache
def addons_path():
    """As scripts/lib.sh find_odoo: Odoo's addons, then the addon alone (found once: it imports Odoo)."""
    root = odoo_root()
    paths = [str(p) for p in (root / "odoo" / "addons", root / "addons") if p.is_dir()]
    alone = RUN_DIR / "addons"
    alone.mkdir(parents=True, exist_ok=True)
    link = alone / "omega_autointegrate"
    if not link.is_symlink():
        link.symlink_to(ROOT / "omega_autointegrate")
    return ",".join([*paths, str(alone)])


def psql(sql, db="postgres"):
    out = subprocess.run(["psql", "-d", db, "-tAc", sql], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def odoo_bin_args(db, *args):
    return [PY, "-c", 'import sys, odoo.cli; sys.argv[0] = "odoo-bin"; odoo.cli.main()', "-d", db,
            f"--addons-path={addons_path()}", "--without-demo=all", *args]


def template_db():
    """The test template ``make test`` builds for this Odoo (scripts/lib.sh ``template_db``: the addon's
    dependencies installed, named after Odoo's version and those dependencies); built here as
    scripts/test.sh builds it when ``make test`` has not run yet."""
    out = subprocess.run(["bash", "-c", 'source "$1" && PY=$2 && deps=$(addon_depends) && echo "$deps" && '
                          'template_db "$deps"', "lib.sh", str(ROOT / "scripts" / "lib.sh"), PY],
                         capture_output=True, text=True, check=True)
    deps, name = out.stdout.split()
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        return name
    say(f"no test template: building {name} ({deps}) once, as make test does")
    log = RUN_DIR / "template.log"
    with open(log, "w") as out:
        built = subprocess.run(odoo_bin_args(name, "-i", deps, "--stop-after-init", f"--http-port={free_port()}",
                                             "--log-level=warn"),
                               stdout=out, stderr=subprocess.STDOUT, check=False, timeout=1800)
    if built.returncode:
        drop_db(name)
        raise RuntimeError(f"could not build the template database {name} (log: {log})")
    return name


@contextlib.contextmanager
def bench_db(tag):
    """A database with the addon installed, dropped at the end."""
    RUN_DIR.mkdir(exist_ok=True)
    name = f"omega_ai_bench_{tag}_{os.getpid()}"
    subprocess.run(["createdb", "-T", template_db(), name], check=True)
    try:
        log = RUN_DIR / f"bench-{tag}-install.log"
        with open(log, "w") as out:
            subprocess.run(odoo_bin_args(name, "-i", "omega_autointegrate", "--stop-after-init",
                                         f"--http-port={free_port()}", "--log-level=warn"),
                           stdout=out, stderr=subprocess.STDOUT, check=True, timeout=900)
        yield name
    finally:
        drop_db(name)


@contextlib.contextmanager
def bench_setup(tag, simulator=True, webhook_secret=None):
    """:func:`bench_db`, the simulator and the ``setup`` task: what every benchmark starts with.

    :param simulator: ``False``: none is started and the company points at a closed port
    :yield: ``(db, sim, ids)``, ``sim`` being ``None`` without a simulator and
        ``ids`` what the setup task returns (driver, walk_in, part, labor)
    """
    with bench_db(tag) as db:
        sim = start_simulator() if simulator else None
        try:
            ids = odoo_task(db, "setup", sim_url=sim.url if sim else "http://127.0.0.1:9", client_id=CLIENT_ID,
                            client_secret=CLIENT_SECRET, webhook_secret=webhook_secret)
            yield db, sim, ids
        finally:
            if sim:
                sim.stop()


def seed_jobs(db, ids, count, **kwargs):
    """``count`` jobs of the setup's fleet driver with its two products (``task_seed``); :return: the jobs."""
    return odoo_task(db, "seed", partner=ids["driver"], part=ids["part"], labor=ids["labor"], count=count,
                     **kwargs)["jobs"]


def drop_db(name):
    psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    subprocess.run(["dropdb", "--if-exists", name], check=False)


def odoo_task(db, task, timeout=900, **kwargs):
    """Run ``bench/odoo_task.py TASK`` in an Odoo process of its own; :return: its result (JSON)."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as result:
        cmd = [PY, str(BENCH / "odoo_task.py"), db, addons_path(), task, json.dumps(kwargs), result.name]
        log = RUN_DIR / f"bench-task-{task}.log"
        with open(log, "w") as out:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        if proc.returncode:
            sys.stdout.write(log.read_text()[-4000:])
            raise RuntimeError(f"Odoo task {task} failed (log: {log})")
        return json.load(result)


@contextlib.contextmanager
def odoo_server(db, workers=2, crons=False, env=None):
    """Odoo serving HTTP on a free port (``--workers``; 0: the threaded server ``make demo`` runs); :yield:
    its base URL.

    :param crons: run Odoo's cron threads or workers as by default (else none)
    :param env: environment variables of the server (``ODOO_MAX_HTTP_THREADS``...)
    """
    port = free_port()
    log = open(RUN_DIR / f"bench-odoo-{db}.log", "w")  # noqa: SIM115 (closed below)
    args = [f"--http-port={port}", f"--workers={workers}", "--log-level=warn",
            f"--gevent-port={free_port()}", "--limit-time-real=600", "--limit-time-cpu=600",
            f"--db-filter=^{db}$"] + ([] if crons else ["--max-cron-threads=0"])
    proc = subprocess.Popen(odoo_bin_args(db, *args), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=dict(os.environ, **(env or {})))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/web/login", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"Odoo did not start (log: {log.name})")
            time.sleep(0.5)
        yield url
    finally:
        stop(proc)
        log.close()


def stop(proc, grace=15):
    """Stop a process started here (its whole session), politely first."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


# ------------------------------------------------------------- simulator
def start_simulator(webhook_url=None, **options):
    from autointegrate_sim import Simulator

    return Simulator(fleets={FLEET: None}, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, shop_id=SHOP_ID,
                     webhook_url=webhook_url, webhook_secret=WEBHOOK_SECRET if webhook_url else None,
                     webhook_backoff_s=0.2, admin=True, **options).start()


def seed_fleet_ros(sim, jobs, status="approved", decided_by="J. Rivera (bench)"):
    """Store decided ROs straight in the simulator's store (no HTTP: 10,000 take seconds).

    :param jobs: ``[{"ro_id", "shop_ro_ref", "lines": [{"line_ref", "quantity", "amount", ...}]}]``
        as the seeding task returned them; each gets the ``sequence`` of its RO at the fleet
    """
    from autointegrate_sim.store import rfc3339

    store = sim.store
    with store.transaction():
        for job in jobs:
            lines = [{"line_ref": line["line_ref"], "status": status,
                      "approved_quantity": line["quantity"] if status == "approved" else "0.000",
                      "approved_amount": line["amount"] if status == "approved" else "0.00", "reason": None}
                     for line in job["lines"]]
            state = {"ro_id": job["ro_id"], "shop_ro_ref": job["shop_ro_ref"], "fleet_company_id": FLEET,
                     "revision": 1, "status": status, "authorization_number": "AUTH-000001",
                     "decided_at": rfc3339(), "decided_by": decided_by, "updated_at": rfc3339(),
                     "sequence": store.next_counter("sequence"), "approved_total": job["total"],
                     "lines": lines}
            job["sequence"] = state["sequence"]
            store.save_ro({"ro_id": job["ro_id"], "client_id": CLIENT_ID, "state": state,
                           "body": {"lines": job["lines"], "totals": {"untaxed": job["total"]}}})


def rss_mb(pid="self"):
    """Resident memory of a process (this one by default), MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0
