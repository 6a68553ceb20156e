"""Screenshots of the running demo for README.md and the Apps page, taken by a
real browser: ``python3 scripts/screenshots.py`` while ``make demo`` runs.

Drives Debian's headless Chromium through the DevTools protocol
(websocket-client), logged in as the demo's admin. Writes docs/screenshots/*.png
and copies the Apps page's into omega_autointegrate/static/description/.
Opening SEND TO FLEET on the job not sent yet creates its quotation, as it
does for a person; nothing is submitted.
"""

import argparse
import base64
import itertools
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

ROOT = Path(__file__).resolve().parent.parent
APPS_PAGE = ("job_form.png", "send_to_fleet.png", "fleet_communication.png", "analysis_pivot.png")
MODAL = "!!document.querySelector('.modal .modal-content')"
ODOO_IDLE = """(() => {
    const main = document.querySelector('.o_action_manager .o_view_controller, .o_action_manager .o_form_view');
    const busy = document.querySelector('.o_loading_indicator, .o_blockUI');
    return document.readyState === 'complete' && !!main && !busy;
})()"""


class Browser:
    """One headless Chromium page, driven over the DevTools protocol."""

    def __init__(self, width, height):
        self.profile = tempfile.mkdtemp(prefix="omega-shots-")
        port = _free_port()
        chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not chromium:
            sys.exit("Chromium is needed (Debian package chromium)")
        self.process = subprocess.Popen([
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars", f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
            f"--remote-debugging-port={port}", "about:blank",
        ], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.ids = itertools.count(1)
        deadline = time.monotonic() + 30
        while True:
            try:
                pages = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
                page = next(p for p in pages if p.get("type") == "page")
                break
            except (requests.RequestException, StopIteration, ValueError):
                if time.monotonic() > deadline:
                    self.close()
                    sys.exit("Chromium did not open its DevTools port")
                time.sleep(0.3)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  width=width, height=height, deviceScaleFactor=1, mobile=False)

    def call(self, method, **params):
        """Send one DevTools command and return its result (events are skipped)."""
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, timeout=90, settle=1.0):
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                where = self.evaluate("location.href")
                self.shot(Path(tempfile.gettempdir()) / "screenshots-timeout.png")
                raise TimeoutError(f"waited {timeout}s on {where} for: {expression[:120]}")
            time.sleep(0.25)
        time.sleep(settle)  # let charts and transitions finish

    def goto(self, url, ready="document.readyState === 'complete'", settle=1.0):
        self.call("Page.navigate", url=url)
        time.sleep(0.5)
        self.wait_for(ready, settle=settle)

    def click(self, selector, then, settle=1.0):
        found = self.evaluate(f"""(() => {{
            const node = document.querySelector({json.dumps(selector)});
            if (node) {{ node.click(); }}
            return !!node;
        }})()""")
        if not found:
            raise RuntimeError(f"nothing to click at {selector}")
        self.wait_for(then, settle=settle)

    def scroll_to(self, selector, settle=0.5):
        self.evaluate(f"document.querySelector({json.dumps(selector)}).scrollIntoView({{block: 'start'}})")
        time.sleep(settle)

    def tab_shot(self, url, tab, field, path):
        """Open a form at ``url``, its notebook page ``tab`` (which shows ``field``), and take it."""
        self.goto(url, ODOO_IDLE)
        self.click(f".o_notebook .nav-link[name='{tab}']",
                   f"!!document.querySelector('.o_notebook .tab-pane.active [name={field}]')")
        self.scroll_to(".o_form_sheet .o_notebook")
        self.shot(path)

    def shot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        print(f"wrote {path}")

    def close(self):
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Odoo:
    """A JSON-RPC session of the demo's admin."""

    def __init__(self, url, db, login, password):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        answer = self.session.post(f"{self.url}/web/session/authenticate", timeout=30, json={
            "jsonrpc": "2.0", "params": {"db": db, "login": login, "password": password}})
        answer.raise_for_status()
        if answer.json().get("error") or "session_id" not in self.session.cookies:
            sys.exit(f"could not log in to {self.url} as {login}: {answer.text[:300]}")

    @property
    def session_id(self):
        return self.session.cookies["session_id"]

    def call(self, model, method, *args, **kwargs):
        answer = self.session.post(f"{self.url}/web/dataset/call_kw", timeout=30, json={
            "jsonrpc": "2.0", "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs}})
        answer.raise_for_status()
        body = answer.json()
        if body.get("error"):
            raise RuntimeError(body["error"].get("data", {}).get("message") or body["error"])
        return body["result"]

    def res_id(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.call("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)],
                         fields=["res_id"], limit=1)
        if not rows:
            sys.exit(f"{xmlid} not found: is the demo database's demo data loaded?")
        return rows[0]["res_id"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--odoo", default="http://localhost:8069")
    parser.add_argument("--sim", default="http://127.0.0.1:8070")
    parser.add_argument("--db", default="omega_autointegrate_demo")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    odoo = Odoo(args.odoo, args.db, "admin", "admin")
    jobs = {name: odoo.res_id(f"omega_autointegrate.{name}")
            for name in ("repair_windshield_enterprise", "repair_labor_partial", "repair_info_requested",
                         "repair_invoiced")}
    enterprise = odoo.res_id("omega_autointegrate.partner_enterprise_fleet")
    partial = odoo.call("repair.order", "read", [jobs["repair_labor_partial"]], ["fleet_ro_id"])[0]

    browser = Browser(args.width, args.height)
    try:
        browser.call("Network.enable")
        browser.call("Network.setCookie", name="session_id", value=odoo.session_id, url=args.odoo, path="/")
        # /web#action=... works whatever the client's own path is (/odoo, or a fork's)
        repairs = f"{args.odoo}/web#action=repair.action_repair_order_tree"
        form = f"{repairs}&model=repair.order&view_type=form&id="

        browser.goto(repairs, ODOO_IDLE)
        browser.shot(out / "repair_list.png")
        browser.goto(f"{args.odoo}/web#action=omega_autointegrate.repair_order_action_fleet_approvals", ODOO_IDLE)
        browser.shot(out / "fleet_approvals.png")
        browser.goto(f"{repairs}&view_type=kanban", ODOO_IDLE)
        browser.shot(out / "repair_kanban.png")

        # the job the fleet half approved: its badge, the Fleet tab with the fleet's decision per line
        browser.goto(f"{form}{jobs['repair_labor_partial']}", ODOO_IDLE)
        browser.click(".o_notebook .nav-link[name='fleet']",
                      "!!document.querySelector('.o_notebook .tab-pane.active [name=fleet_line_ids]')")
        browser.scroll_to(".o_form_sheet .o_notebook")
        browser.shot(out / "job_form.png")
        browser.click("button[name='action_fleet_communication']", MODAL, settle=1.5)
        browser.shot(out / "fleet_communication.png")

        browser.goto(f"{form}{jobs['repair_windshield_enterprise']}", ODOO_IDLE)
        browser.click(".o_form_statusbar button[name='action_send_to_fleet']",
                      MODAL, settle=1.5)
        browser.shot(out / "send_to_fleet.png")

        # the fleet's rules before sending: what SEND TO FLEET says of the job not sent yet
        browser.evaluate("document.querySelector('.modal .modal-body').scrollTop = 100000")
        time.sleep(0.5)
        browser.shot(out / "send_to_fleet_rules.png")

        # the fleet asks for documents: the job says so, SEND THE REQUESTED DOCUMENTS offers what matches
        browser.goto(f"{form}{jobs['repair_info_requested']}", ODOO_IDLE)
        browser.shot(out / "documents_requested.png")
        browser.click(".o_form_sheet .alert button[name='action_fleet_send_documents']", MODAL, settle=1.5)
        browser.shot(out / "send_documents.png")

        # the authorization history of a job approved, then supplemented, then invoiced
        browser.tab_shot(f"{form}{jobs['repair_invoiced']}", "fleet_authorizations", "fleet_authorization_line_ids",
                         out / "authorization_history.png")
        # the fleet's rules and what the shop learnt of the fleet, on its account
        browser.tab_shot(f"{args.odoo}/web#model=res.partner&view_type=form&id={enterprise}", "sales_purchases",
                         "fleet_document_rule_ids", out / "fleet_account_rules.png")

        analysis = f"{args.odoo}/web#action=omega_autointegrate.autointegrate_report_action"
        browser.goto(analysis, ODOO_IDLE, settle=2.5)
        browser.shot(out / "analysis_graph.png")
        browser.goto(f"{analysis}&view_type=pivot", ODOO_IDLE, settle=1.5)
        browser.shot(out / "analysis_pivot.png")

        browser.goto(f"{args.odoo}/web#action=omega_autointegrate.action_autointegrate_config_settings", ODOO_IDLE)
        browser.shot(out / "settings.png")

        browser.goto(f"{args.sim}/_admin/")
        browser.shot(out / "simulator_fleet_page.png")
        browser.goto(f"{args.sim}/_admin/ui/ro/{partial['fleet_ro_id']}")
        browser.shot(out / "simulator_ro_page.png")
    finally:
        browser.close()

    # the Apps page's copies are the committed screenshots': not those taken elsewhere (--out)
    if out.resolve() == (ROOT / "docs" / "screenshots").resolve():
        description = ROOT / "omega_autointegrate" / "static" / "description"
        for name in APPS_PAGE:
            shutil.copyfile(out / name, description / name)


if __name__ == "__main__":
    main()
