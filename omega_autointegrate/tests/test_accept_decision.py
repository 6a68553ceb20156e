"""ACCEPT FLEET DECISION: a partially approved or adjusted job takes the
fleet's decision onto its quotation and can be worked and invoiced without
being sent again; sending it again stays possible."""

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import AutoIntegrateFlowCase, ensure_chart_of_accounts

DENIAL = "Labor exceeds 1.0 h rate card"


@tagged("post_install", "-at_install")
class TestAcceptDecision(AutoIntegrateFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_chart_of_accounts(cls.company)

    def setUp(self):
        super().setUp()
        self.repair = self.make_job()
        self.send(self.repair)
        self.glass_line = self.line(self.repair, self.windshield)
        self.labor_line = self.line(self.repair, self.labor)

    def decide(self, lines):
        self.fleet_decide(self.repair, lines)
        self.repair.action_send_to_fleet()  # reopening the job reads the fleet's decision

    def invoice(self):
        context = {"active_model": "repair.order", "active_ids": self.repair.ids, "active_id": self.repair.id}
        action = Form(self.env["autointegrate.repair.invoice.wizard"].with_context(**context)).save().action_confirm()
        self.assertEqual(action.get("res_model"), "account.move", action)
        return self.env["account.move"].browse(action["res_id"])

    def test_accept_a_partial_approval_then_work_and_invoice(self):
        self.decide({self.glass_line.fleet_line_ref: "approved",
                     self.labor_line.fleet_line_ref: {"status": "denied", "reason": DENIAL}})
        self.assertEqual(self.repair.fleet_status, "partially_approved")
        self.assertTrue(self.repair.fleet_needs_resubmit)
        self.assertTrue(self.repair.fleet_can_accept)
        requests = len(self.fleet_requests())

        action = self.repair.action_fleet_accept_decision()

        self.assertEqual(action["params"]["type"], "success")
        # the denied line leaves the quotation, and stays on it as the fleet's decision
        self.assertEqual((self.labor_line.product_uom_qty, self.labor_line.fleet_declined), (0.0, True))
        self.assertEqual((self.labor_line.fleet_status, self.labor_line.fleet_reason), ("denied", DENIAL))
        self.assertEqual(self.repair.sale_order_id.amount_untaxed, 412.0)
        self.assertEqual((self.glass_line.product_uom_qty, self.glass_line.fleet_declined), (1.0, False))
        # nothing was sent: the fleet was only read
        self.assertEqual({(item["method"], item["path"]) for item in self.fleet_requests()[requests:]},
                         {("GET", f"/v1/repair-orders/{self.repair.fleet_ro_id}")})
        self.assertEqual((self.repair.fleet_status, self.repair.fleet_revision), ("partially_approved", 1))
        self.assertFalse(self.repair.fleet_needs_resubmit)
        self.assertFalse(self.repair.fleet_changed)
        self.assertFalse(self.repair.fleet_can_accept)
        self.env.flush_all()
        self.env.cr.precommit.run()
        accepted = self.repair.message_ids.filtered(lambda m: "decision was accepted" in m.body)
        self.assertEqual(len(accepted), 1)
        self.assertIn("Install windshield: declined by the fleet", accepted.body)
        # worked and invoiced as it is: the approved glass only
        self.repair.action_validate()
        self.repair.action_repair_start()
        self.assertEqual(self.repair.state, "under_repair")
        invoice = self.invoice()
        self.assertEqual((invoice.state, invoice.amount_untaxed), ("posted", 412.0))
        self.assertEqual(invoice.invoice_line_ids.product_id, self.windshield)
        self.after_commit()  # the posted invoice goes to the fleet once committed
        self.assertEqual(invoice.fleet_invoice_status, "approved")
        self.assertEqual(self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["invoice"]["lines"],
                         [{"line_ref": self.glass_line.fleet_line_ref, "quantity": "1.000", "amount": "412.00"}])

    def test_adjusted_lines_take_the_approved_quantity_and_amount(self):
        self.decide({self.glass_line.fleet_line_ref: {"status": "approved", "approved_amount": "380.00"},
                     self.labor_line.fleet_line_ref: {"status": "approved", "approved_quantity": "1.000",
                                                 "approved_amount": "95.00"}})
        self.assertEqual(self.repair.fleet_status, "approved")
        self.assertEqual((self.glass_line.fleet_status, self.labor_line.fleet_status), ("adjusted", "adjusted"))
        self.assertTrue(self.repair.fleet_can_accept)
        self.repair.action_fleet_accept_decision()
        self.assertEqual((self.labor_line.product_uom_qty, self.labor_line.price_unit, self.labor_line.price_subtotal),
                         (1.0, 95.0, 95.0))
        self.assertEqual((self.glass_line.product_uom_qty, self.glass_line.price_unit, self.glass_line.price_subtotal),
                         (1.0, 380.0, 380.0))
        self.assertEqual(self.repair.sale_order_id.amount_untaxed, self.repair.fleet_approved_total)
        self.assertFalse(self.repair.fleet_changed)
        self.assertFalse(self.repair.fleet_can_accept)
        self.assertEqual(self.invoice().amount_untaxed, 475.0)

    def test_an_adjusted_part_changes_through_its_stock_move(self):
        self.repair = self.make_job()
        self.repair.move_ids.product_uom_qty = 2.0  # two windshields (Odoo sets the quotation line)
        self.send(self.repair)
        glass = self.line(self.repair, self.windshield)
        self.assertEqual(glass.product_uom_qty, 2.0)
        self.decide({glass.fleet_line_ref: {"status": "approved", "approved_quantity": "1.000",
                                            "approved_amount": "412.00"},
                     self.line(self.repair, self.labor).fleet_line_ref: "approved"})
        self.repair.action_fleet_accept_decision()
        self.assertEqual((self.repair.move_ids.product_uom_qty, glass.product_uom_qty), (1.0, 1.0))
        self.assertEqual(glass.price_subtotal, 412.0)
        self.assertFalse(self.repair.fleet_changed)

    def test_a_denied_part_leaves_the_repair_too(self):
        self.decide({self.glass_line.fleet_line_ref: {"status": "denied", "reason": "Glass covered by warranty"},
                     self.labor_line.fleet_line_ref: "approved"})
        move = self.glass_line.move_ids
        self.repair.action_fleet_accept_decision()
        # as Odoo removes a part from a repair: its move cancelled, its quotation line at 0
        self.assertEqual(move.state, "cancel")
        self.assertEqual((self.glass_line.product_uom_qty, self.glass_line.fleet_declined), (0.0, True))
        self.assertEqual(self.repair.sale_order_id.amount_untaxed, 142.5)
        self.assertFalse(self.repair.fleet_needs_resubmit)

    def test_sending_again_stays_possible(self):
        self.decide({self.glass_line.fleet_line_ref: "approved",
                     self.labor_line.fleet_line_ref: {"status": "denied", "reason": DENIAL}})
        self.repair.action_fleet_accept_decision()
        # the shop asks for the labour after all, at 1.0 h
        with Form(self.repair) as form, form.fleet_line_ids.edit(1) as line:
            line.product_uom_qty = 1.0
        self.assertFalse(self.labor_line.fleet_declined)
        self.assertTrue(self.repair.fleet_needs_resubmit)
        self.repair.action_fleet_save_and_send()
        self.assertEqual((self.repair.fleet_status, self.repair.fleet_revision), ("pending", 2))
        self.assertEqual(self.labor_line.fleet_status, "pending")
        body = self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["body"]
        self.assertEqual([line["quantity"] for line in body["lines"]], ["1.000", "1.000"])

    def test_a_declined_line_is_not_sent_again(self):
        self.decide({self.glass_line.fleet_line_ref: "approved",
                     self.labor_line.fleet_line_ref: {"status": "denied", "reason": DENIAL}})
        self.repair.action_fleet_accept_decision()
        wizard = self.open_send_dialog(self.repair)
        self.assertTrue(wizard.can_send_again)
        self.assertEqual(wizard.line_ids.sale_line_id, self.glass_line)
        wizard.action_send_again()
        self.assertEqual(self.repair.fleet_revision, 2)
        self.assertEqual([line["line_ref"] for line in self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["lines"]],
                         [self.glass_line.fleet_line_ref])
        # what the fleet once decided on the line stays on the job
        self.assertEqual((self.labor_line.fleet_declined, self.labor_line.product_uom_qty), (True, 0.0))

    def test_nothing_to_accept_is_refused(self):
        self.decide({self.glass_line.fleet_line_ref: "approved", self.labor_line.fleet_line_ref: "approved"})
        self.assertFalse(self.repair.fleet_can_accept)
        with self.assertRaisesRegex(UserError, "there is no decision to accept"):
            self.repair.action_fleet_accept_decision()

    def test_a_job_changed_since_the_decision_is_sent_again_instead(self):
        self.decide({self.glass_line.fleet_line_ref: "approved",
                     self.labor_line.fleet_line_ref: {"status": "denied", "reason": DENIAL}})
        self.labor_line.product_uom_qty = 1.0
        self.assertFalse(self.repair.fleet_can_accept)
        with self.assertRaisesRegex(UserError, "changed since the fleet decided on it"):
            self.repair.action_fleet_accept_decision()
        self.assertEqual(self.labor_line.product_uom_qty, 1.0)

    def test_the_fleets_latest_decision_is_the_one_accepted(self):
        self.decide({self.glass_line.fleet_line_ref: "approved",
                     self.labor_line.fleet_line_ref: {"status": "denied", "reason": DENIAL}})
        # meanwhile the fleet approves the labour after all; the shop has not seen it yet
        self.fleet_decide(self.repair, {self.labor_line.fleet_line_ref: "approved"})
        with self.assertRaisesRegex(UserError, "there is no decision to accept"):
            self.repair.action_fleet_accept_decision()
        self.assertEqual((self.labor_line.fleet_status, self.labor_line.product_uom_qty), ("approved", 1.5))
        self.assertEqual(self.repair.fleet_status, "approved")

    def test_a_fleet_that_cannot_be_read_accepts_nothing(self):
        self.decide({self.glass_line.fleet_line_ref: "approved",
                     self.labor_line.fleet_line_ref: {"status": "denied", "reason": DENIAL}})
        self.admin_post("/faults", {"next": [503] * 10})
        try:
            with self.assertRaisesRegex(UserError, "Nothing was accepted"):
                self.repair.action_fleet_accept_decision()
        finally:
            self.admin_post("/faults", {})
        self.assertEqual((self.labor_line.product_uom_qty, self.labor_line.fleet_declined), (1.5, False))
