"""A fleet simulator on loopback for the addon's tests.

Real HTTP against the project's own simulator: the addon's client, its token
handling and its error translation all run for real. Odoo only lets tests
reach 127.0.0.1, which is where the simulator listens.
"""

import requests

from odoo import Command
from odoo.tests import Form, HttpCase, TransactionCase

from autointegrate.client import DEFAULT_TOKEN_CACHE
from autointegrate_sim import Simulator

CLIENT_ID = "odoo-test-shop"
CLIENT_SECRET = "odoo-test-secret"
SHOP_ID = "SHOP-17"
FLEET = "ENT-0042"
AUTO_FLEET = "ELM-7"
VIN = "1FTFW1E50NFA00001"


class SimulatorMixin:
    """Starts one simulator per test class and points the company at it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = Simulator(
            fleets={FLEET: None, AUTO_FLEET: "250.00"},
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            shop_id=SHOP_ID,
            admin=True,
        ).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.company = cls.env.company
        cls.company.write({
            "autointegrate_api_url": cls.simulator.url,
            "autointegrate_client_id": CLIENT_ID,
            "autointegrate_client_secret": CLIENT_SECRET,
            "autointegrate_shop_id": SHOP_ID,
            "autointegrate_webhook_secret": "odoo-test-webhook",
        })

    def setUp(self):
        super().setUp()
        self.admin_post("/reset", {"tokens": True})
        # the reset revoked every token: start each test without a cached one
        DEFAULT_TOKEN_CACHE.clear()

    @classmethod
    def admin_post(cls, path, body=None):
        response = requests.post(f"{cls.simulator.url}/_admin{path}", json=body or {}, timeout=10)
        response.raise_for_status()
        return response.json()

    @classmethod
    def admin_get(cls, path):
        response = requests.get(f"{cls.simulator.url}/_admin{path}", timeout=10)
        response.raise_for_status()
        return response.json()

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

    def fleet_deny_labor(self, repair, reason, **body):
        """The fleet approves the windshield's line and denies the labour's, saying why."""
        return self.fleet_decide(repair, {
            self.line(repair, self.windshield).fleet_line_ref: {"status": "approved"},
            self.line(repair, self.labor).fleet_line_ref: {"status": "denied", "reason": reason},
        }, **body)


class AutoIntegrateFlowCase(FlowMixin, AutoIntegrateCase):
    """Flow tests against the simulator."""
