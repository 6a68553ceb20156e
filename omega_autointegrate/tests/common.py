"""A fleet simulator on loopback for the addon's tests.

Real HTTP against the project's own simulator: the addon's client, its token
handling and its error translation all run for real. Odoo only lets tests
reach 127.0.0.1, which is where the simulator listens.

The simulator is a development tool outside the addon: it runs as a process
of its own (``python -m autointegrate_sim``), found through
``AUTOINTEGRATE_SIM_PYTHONPATH`` (``make test`` sets it) or beside the addon
in a checkout of the project. Odoo's process never imports it, so these tests
also show that the addon needs nothing of the project's outside its folder.
"""

import base64
import os
import subprocess
import sys
from pathlib import Path
from unittest import SkipTest
from unittest.mock import patch

import requests

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, TransactionCase

from ..lib import autointegrate as ai
from ..lib.autointegrate.client import DEFAULT_TOKEN_CACHE

CLIENT_ID = "odoo-test-shop"
CLIENT_SECRET = "odoo-test-secret"
SHOP_ID = "SHOP-17"
FLEET = "ENT-0042"
AUTO_FLEET = "ELM-7"
VIN = "1FTFW1E50NFA00001"
START_TIMEOUT_S = 30
#: a PDF's first bytes are all the contract checks (9.2)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
#: a real JPEG photo of 8 x 6 pixels
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAx"
    "NDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIy"
    "MjIyMjIyMjL/wAARCAAGAAgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUF"
    "BAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVW"
    "V1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi"
    "4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAEC"
    "AxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVm"
    "Z2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq"
    "8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDkKKKK8U/TD//Z"
)


def simulator_pythonpath():
    """:return: the ``PYTHONPATH`` that runs the simulator, or ``None`` when it is nowhere."""
    path = os.environ.get("AUTOINTEGRATE_SIM_PYTHONPATH")
    if path:
        return path
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "autointegrate_sim" / "__main__.py").is_file():
        # the wire protocol the simulator speaks is the addon's own copy
        return os.pathsep.join([str(checkout), os.path.dirname(os.path.dirname(ai.__file__))])
    return None


class SimulatorProcess:
    """``python -m autointegrate_sim`` on a free loopback port, with ``--admin``.

    :param fleets: ``{fleet_company_id: auto_approve_threshold or None}``
    """

    def __init__(self, fleets, client_id, client_secret, shop_id=None):
        pythonpath = simulator_pythonpath()
        if pythonpath is None:
            raise SkipTest("FLEET SIMULATOR NOT FOUND: set AUTOINTEGRATE_SIM_PYTHONPATH to the project's checkout "
                           "(make test does); the tests against the simulator are skipped")
        args = [sys.executable, "-m", "autointegrate_sim", "--host", "127.0.0.1", "--port", "0", "--admin",
                "--client-id", client_id, "--client-secret", client_secret]
        for fleet, limit in fleets.items():
            args += ["--fleet", f"{fleet}:{limit}" if limit else fleet]
        if shop_id:
            args += ["--shop-id", shop_id]
        env = dict(os.environ, PYTHONPATH=pythonpath)
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
        # its first line: "AutoIntegrate simulator listening on http://127.0.0.1:<port>"
        line = self.process.stdout.readline()
        if "listening on " not in line:
            self.stop()
            raise RuntimeError(f"the fleet simulator did not start: {line!r}")
        self.url = line.rsplit(" ", 1)[1].strip()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()

    def admin(self, method, path, body=None):
        """:return: the control API's answer (section 8 of the contract) to ``method /_admin<path>``."""
        response = requests.request(method, f"{self.url}/_admin{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self, tokens=False):
        self.admin("POST", "/reset", {"tokens": tokens})

    def set_faults(self, faults):
        """``POST /_admin/faults``: replaces the whole set (``{}`` clears it)."""
        self.admin("POST", "/faults", faults)


def set_account(company, **values):
    """Give ``company`` an AutoIntegrate account with ``values`` (``api_url``,
    ``client_id``, ``client_secret``, ``shop_id``, ``webhook_secret``, ...), or
    change its account, as an administrator does in the settings.

    :return: the account, in sudo (its secrets are readable in sudo only)
    """
    account = company._autointegrate_account()
    if account:
        account.write(values)
        return account
    return company.env["autointegrate.account"].sudo().create(dict(values, company_id=company.id))


def account_values(company):
    """:return: the values of ``company``'s AutoIntegrate account that another company may share
    (its API URL, client and shop), for :func:`set_account`"""
    account = company._autointegrate_account()
    return {name: account[name] for name in ("api_url", "client_id", "client_secret", "shop_id")}


class SimulatorMixin:
    """Starts one simulator per test class and points the company at it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = SimulatorProcess(
            fleets={FLEET: None, AUTO_FLEET: "250.00"},
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            shop_id=SHOP_ID,
        )
        cls.addClassCleanup(cls.simulator.stop)
        cls.company = cls.env.company
        cls.account = set_account(cls.company, api_url=cls.simulator.url, client_id=CLIENT_ID,
                                  client_secret=CLIENT_SECRET, shop_id=SHOP_ID, webhook_secret="odoo-test-webhook")

    def setUp(self):
        super().setUp()
        self.simulator.reset(tokens=True)
        # the reset revoked every token: start each test without a cached one
        DEFAULT_TOKEN_CACHE.clear()

    def without_backoff(self):
        """The client's waits between tries are not waited for the rest of the test (outcomes, not patience)."""
        patcher = patch.object(ai.Client, "_backoff", lambda client, attempt: 0.0)
        patcher.start()
        self.addCleanup(patcher.stop)

    @classmethod
    def admin_post(cls, path, body=None):
        return cls.simulator.admin("POST", path, body or {})

    @classmethod
    def admin_get(cls, path):
        return cls.simulator.admin("GET", path)

    def fleet_requests(self, path=None, method=None):
        """:return: the client-API requests the simulator received."""
        items = self.admin_get("/requests")["items"]
        return [
            item for item in items
            if (path is None or item["path"].split("?")[0] == path) and (method is None or item["method"] == method)
        ]

    def fleet_ros(self):
        return self.admin_get("/ros")["items"]

    def fleet_decide(self, repair, lines=None, **body):
        body.setdefault("decided_by", "J. Rivera (Enterprise Fleet)")
        if lines is not None:
            body["lines"] = lines
        return self.admin_post(f"/ro/{repair.fleet_ro_id}/decide", body)


class AutoIntegrateCase(SimulatorMixin, TransactionCase):
    """A TransactionCase with a fleet simulator."""


class AutoIntegrateHttpCase(SimulatorMixin, HttpCase):
    """An HttpCase (browser tours) with a fleet simulator."""


class FlowMixin:
    """Accounts, products and jobs of a windshield shop."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fleet_account = cls.env["res.partner"].create({
            "name": "Enterprise Fleet Management",
            "is_company": True,
            "fleet_invoice_method": "autointegrate",
            "fleet_company_code": FLEET,
        })
        cls.driver = cls.env["res.partner"].create({"name": "Dana Driver", "parent_id": cls.fleet_account.id})
        cls.walk_in = cls.env["res.partner"].create({"name": "Walk-in Customer"})
        cls.windshield = cls.env["product.product"].create({
            "name": "Windshield FW05432 GTY",
            "type": "consu",
            "list_price": 412.0,
            "default_code": "GLASS-WS",
            "fleet_line_type": "glass",
            "taxes_id": [Command.clear()],
        })
        cls.labor = cls.env["product.product"].create({
            "name": "Install windshield",
            "type": "service",
            "list_price": 95.0,
            "fleet_service_code": "LAB-GLASS",
            "taxes_id": [Command.clear()],
        })

    def labor_job(self, partner, *hours):
        """A job of labour lines only (95.00 an hour, no tax), one per number of ``hours`` (one hour by default)."""
        repair = self.env["repair.order"].create({"partner_id": partner.id, "fleet_vin": "JH4KA7561PC008269"})
        repair.action_create_sale_order()
        repair.sale_order_id.order_line = [Command.create({
            "product_id": self.labor.id, "product_uom_qty": quantity, "tax_id": [Command.clear()]})
            for quantity in hours or (1.0,)]
        return repair

    def make_job(self, partner=None, labor_qty=1.5, with_quotation=True):
        """A job with the windshield as a part and labour on its quotation."""
        repair = self.env["repair.order"].create({
            "partner_id": (partner or self.driver).id,
            "fleet_complaint": "Windshield cracked across driver view",
            "fleet_vin": VIN,
            "fleet_plate": "7ABC123",
            "fleet_plate_region": "CA",
            "fleet_unit_number": "U-5521",
            "fleet_odometer": 48211,
            "fleet_vehicle_year": 2022,
            "fleet_vehicle_make": "Ford",
            "fleet_vehicle_model": "F-150",
            "move_ids": [Command.create({
                "product_id": self.windshield.id,
                "product_uom_qty": 1.0,
                "repair_line_type": "add",
                "company_id": self.company.id,
            })],
        })
        if with_quotation:
            repair.action_create_sale_order()
            repair.sale_order_id.order_line.tax_id = False
            self.env["sale.order.line"].create({
                "order_id": repair.sale_order_id.id,
                "product_id": self.labor.id,
                "product_uom_qty": labor_qty,
                "tax_id": [Command.clear()],
            })
        return repair

    def open_send_dialog(self, repair):
        action = repair.action_send_to_fleet()
        self.assertEqual((action["res_model"], action["target"]), ("autointegrate.send.wizard", "new"))
        return self.env[action["res_model"]].browse(action["res_id"])

    def send(self, repair, note=None, line_notes=None):
        """SEND TO FLEET, type the notes, SUBMIT REPAIR ORDER."""
        wizard = self.open_send_dialog(repair)
        with Form(wizard) as form:
            if note:
                form.note = note
            for index, text in (line_notes or {}).items():
                with form.line_ids.edit(index) as line:
                    line.note = text
        return wizard.action_submit()

    def line(self, repair, product):
        return repair.sale_order_id.order_line.filtered(lambda line: line.product_id == product)

    def attach(self, repair, name, content, mimetype=None):
        """:return: a file attached to the job, as its chatter's paperclip attaches it"""
        values = {"name": name, "raw": content, "res_model": "repair.order", "res_id": repair.id}
        if mimetype:
            values["mimetype"] = mimetype
        return self.env["ir.attachment"].create(values)

    def fleet_documents(self, repair):
        """:return: the documents of the job's RO at the fleet"""
        return self.admin_get(f"/ro/{repair.fleet_ro_id}")["documents"]

    def after_commit(self):
        """What Odoo does when the test's "request" ends: the commit (its precommit hooks: the tracking
        and chatter entries), then the work queued after it, each piece in a cursor of its own, as a
        server runs it (the test's cursor serves them, as in an HttpCase). Posted fleet invoices are
        sent to the fleet then."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        entered = not self.registry.in_test_mode()
        if entered:
            self.registry.enter_test_mode(self.env.cr)
        try:
            self.env.cr.postcommit.run()
        finally:
            if entered:
                self.registry.leave_test_mode()
        self.env.invalidate_all()

    def fleet_deny_labor(self, repair, reason, **body):
        """The fleet approves the windshield's line and denies the labour's, saying why."""
        return self.fleet_decide(repair, {
            self.line(repair, self.windshield).fleet_line_ref: {"status": "approved"},
            self.line(repair, self.labor).fleet_line_ref: {"status": "denied", "reason": reason},
        }, **body)


class AutoIntegrateFlowCase(FlowMixin, AutoIntegrateCase):
    """Flow tests against the simulator."""


def raise_if_refused(action):
    """What the Invoice dialog answers when nothing was invoiced (it closes, a notification says
    why), as the ``UserError`` whose message the user reads; any other answer is returned.

    :raise UserError: with the notification's message
    """
    if action.get("tag") == "display_notification" and action["params"]["type"] == "danger":
        assert action["params"]["next"] == {"type": "ir.actions.act_window_close"}, action
        raise UserError(action["params"]["message"])
    return action


def ensure_chart_of_accounts(company):
    """Give ``company`` Odoo's generic chart of accounts when it has none (what invoicing needs)."""
    if not company.chart_template:
        company.env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
