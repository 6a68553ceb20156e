"""Live decisions: from the fleet deciding to the decision visible in an open browser tab.

Odoo runs for real, threaded (it then serves the websocket of its bus
itself, as ``make demo`` does); the simulator pushes each decision to its
webhook. Headless Chromium (Debian's, driven over the DevTools protocol as
scripts/screenshots.py does) is logged in as the admin with the job's form
open. The simulator decides ``--decisions`` times on that job, approving and
denying in turn; for each decision the benchmark takes the time from the
decide call to the form's fleet status badge reading the new status (a
MutationObserver in the page stamps each change), next to the time until the
job's new status is committed in Odoo's database (what bench_decision.py
measures: what the browser's part adds is the bus and the form's reload).

    python3 bench/bench_live.py [--decisions 50]
"""

import argparse
import json
import sys
import time

import common
import psycopg2
import requests

sys.path.insert(0, str(common.ROOT / "scripts"))
from screenshots import ODOO_IDLE, Browser, Odoo  # noqa: E402 (the scripts folder is not a package)

BADGE = ".o_form_sheet > .o_field_widget[name=fleet_status] .badge"
LABELS = {"approved": "Approved", "denied": "Denied"}
#: records each text the form's status badge takes, with the page's clock (ms since the epoch)
WATCH_BADGE = """(() => {
    const BADGE = %s;
    window.__fleetBadges = [];
    const note = () => {
        const badge = document.querySelector(BADGE);
        const text = badge && badge.textContent.trim();
        if (text && text !== window.__fleetLast) {
            window.__fleetLast = text;
            window.__fleetBadges.push([text, Date.now()]);
        }
    };
    new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
    note();
    return true;
})()""".replace("%s", json.dumps(BADGE), 1)


def shown_at(browser, label, since, timeout=30):
    """:return: when (seconds since the epoch) the badge first read ``label`` at or after ``since``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for text, at in browser.evaluate("window.__fleetBadges") or []:
            if text == label and at / 1000 >= since:
                return at / 1000
        time.sleep(0.01)
    raise RuntimeError(f"the open form did not show {label!r} within {timeout} s")


def committed_at(cr, repair_id, status, timeout=30):
    """:return: when the job's fleet status ``status`` was first seen committed in the database."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        cr.execute("SELECT fleet_status FROM repair_order WHERE id = %s", [repair_id])
        if cr.fetchone()[0] == status:
            return time.time()
        time.sleep(0.002)
    raise RuntimeError(f"job {repair_id} did not show {status} in the database within {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=50)
    args = parser.parse_args()
    with common.bench_setup("live", webhook_secret=common.WEBHOOK_SECRET) as (db, sim, ids):
        [job] = common.seed_jobs(db, ids, 1)
        ro_id = common.odoo_task(db, "bind", repair_ids=[job["id"]])["ro_ids"][str(job["id"])]
        with common.odoo_server(db, workers=0) as url:
            assert not sim.set_config({"webhook_url": f"{url}/autointegrate/webhook/{db}",
                                       "webhook_secret": common.WEBHOOK_SECRET})
            odoo = Odoo(url, db, "admin", "admin")
            browser = Browser(1440, 900)
            conn = psycopg2.connect(dbname=db)
            conn.autocommit = True
            try:
                browser.call("Network.enable")
                browser.call("Network.setCookie", name="session_id", value=odoo.session_id, url=url, path="/")
                browser.goto(f"{url}/web#action=repair.action_repair_order_tree&model=repair.order"
                             f"&view_type=form&id={job['id']}", ODOO_IDLE)
                browser.wait_for(f"!!document.querySelector({json.dumps(BADGE)})")
                browser.evaluate(WATCH_BADGE)
                to_browser, to_database = [], []
                with conn.cursor() as cr:
                    # the first decision is not measured: the tab's bus connects meanwhile
                    for n in range(args.decisions + 1):
                        status = "denied" if n % 2 else "approved"
                        started = time.time()
                        answer = requests.post(f"{sim.url}/_admin/ro/{ro_id}/decide", timeout=10,
                                               json={"all": status, "decided_by": "J. Rivera (bench)"})
                        answer.raise_for_status()
                        in_database = committed_at(cr, job["id"], status)
                        in_browser = shown_at(browser, LABELS[status], started, timeout=60 if not n else 30)
                        if n:
                            to_database.append(in_database - started)
                            to_browser.append(in_browser - started)
            finally:
                conn.close()
                browser.close()
    browser_stats, database_stats = common.describe(to_browser), common.describe(to_database)
    ok = browser_stats["p95"] < 1.0
    common.summary("live", f"decision to the open form ({browser_stats['n']} decisions)",
                   f"p50 {browser_stats['p50'] * 1000:.0f} ms, p95 {browser_stats['p95'] * 1000:.0f} ms, "
                   f"p99 {browser_stats['p99'] * 1000:.0f} ms, max {browser_stats['max'] * 1000:.0f} ms")
    common.summary("live", "decision to committed in the database, the same decisions",
                   f"p50 {database_stats['p50'] * 1000:.0f} ms, p95 {database_stats['p95'] * 1000:.0f} ms")
    common.summary("live", "p95 decision to browser", f"{browser_stats['p95']:.3f} s", "< 1 s", ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
