"""The authorization history: each revision's requested and authorized lines,
who decided and when, the authorization number; a change after approval sent
as a supplement, its delta shown before sending; printed with the invoice."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .common import AUTO_FLEET, AutoIntegrateFlowCase

DENIAL = "Labor exceeds 1.0 h rate card"
RIVERA = "J. Rivera (Enterprise Fleet)"


@tagged("post_install", "-at_install")
class TestAuthorizationHistory(AutoIntegrateFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.adas = cls.env["product.product"].create({
            "name": "ADAS camera recalibration", "type": "service", "list_price": 180.0,
            "fleet_service_code": "ADAS-CAL", "taxes_id": [Command.clear()],
        })

    def rows(self, repair, revision):
        """:return: ``{line_ref: (change, quantity, amount, status, approved amount, reason, decided by)}``"""
        return {line.line_ref: (line.change, line.quantity, line.amount, line.status, line.approved_amount,
                                line.reason or None, line.decided_by or None)
                for line in repair.fleet_authorization_line_ids if line.revision == revision}

    def test_each_revision_keeps_what_was_requested_and_authorized(self):
        repair = self.make_job()
        self.send(repair)
        glass, labor = self.line(repair, self.windshield).fleet_line_ref, self.line(repair, self.labor).fleet_line_ref
        self.fleet_deny_labor(repair, DENIAL)
        repair._fleet_refresh()
        [first] = repair.fleet_authorization_ids
        self.assertEqual((first.revision, first.kind, first.status, first.decided_by, first.submitted_by),
                         (1, "submission", "partially_approved", RIVERA, self.env.user))
        self.assertEqual(first.authorization_number, repair.fleet_authorization_number)
        self.assertRegex(first.authorization_number, r"^AUTH-\d{6}$")
        self.assertEqual((first.requested_total, first.authorized_total), (554.5, 412.0))
        self.assertTrue(first.decided_at)
        self.assertEqual(self.rows(repair, 1), {
            glass: ("added", 1.0, 412.0, "approved", 412.0, None, RIVERA),
            labor: ("added", 1.5, 142.5, "denied", 0.0, DENIAL, RIVERA),
        })
        # fixed and sent again: the glass keeps its decision, the labour goes back to the fleet
        self.line(repair, self.labor).product_uom_qty = 1.0
        self.assertTrue(repair._fleet_send())
        self.fleet_decide(repair, {labor: {"status": "approved"}}, decided_by="M. Chen")
        repair._fleet_refresh()
        second = repair.fleet_authorization_ids.filtered(lambda r: r.revision == 2)
        self.assertEqual((second.kind, second.status, second.decided_by), ("resubmission", "approved", "M. Chen"))
        self.assertEqual(self.rows(repair, 2), {
            glass: ("unchanged", 1.0, 412.0, "approved", 412.0, None, RIVERA),
            labor: ("changed", 1.0, 95.0, "approved", 95.0, None, "M. Chen"),
        })
        self.assertEqual(self.rows(repair, 1)[labor][3:6], ("denied", 0.0, DENIAL), "what was said then stays")
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["revision"], 2)

    def test_a_change_after_approval_is_a_supplement_with_its_delta(self):
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        repair._fleet_refresh()
        self.assertFalse(repair.fleet_supplement_summary, "nothing changed")
        # the form says what sending again changes as soon as a line is edited, before it is saved
        labor = self.line(repair, self.labor)
        with Form(repair) as form:
            with form.fleet_line_ids.edit(list(repair.fleet_line_ids).index(labor)) as line:
                line.product_uom_qty = 2.0
            summary = form.fleet_supplement_summary
            self.assertIn(f"Supplement to authorization {repair.fleet_authorization_number}: 1 line(s) changed: "
                          "Install windshield; + $\xa047.50 ($\xa0554.50 → $\xa0602.00 untaxed).", summary)
            # the labour back as the fleet approved it
            with form.fleet_line_ids.edit(list(repair.fleet_line_ids).index(labor)) as line:
                line.product_uom_qty = 1.5
            self.assertFalse(form.fleet_supplement_summary, "back as approved: nothing to send")
        self.env["sale.order.line"].create({"order_id": repair.sale_order_id.id, "product_id": self.adas.id,
                                            "tax_id": [Command.clear()]})
        summary = repair.fleet_supplement_summary
        self.assertIn(f"Supplement to authorization {repair.fleet_authorization_number}", summary)
        self.assertIn("+ 1 line(s): ADAS camera recalibration", summary)
        self.assertIn("+ $\xa0180.00 ($\xa0554.50 → $\xa0734.50 untaxed)", summary)
        self.assertIn("2 unchanged line(s) keep the fleet's decision", summary)
        wizard = self.open_send_dialog(repair)
        self.assertEqual(wizard.supplement_summary, summary, "and so does SEND TO FLEET")
        wizard.action_submit()
        supplement = repair.fleet_authorization_ids.filtered(lambda r: r.revision == 2)
        self.assertEqual(supplement.kind, "supplement")
        states = {line["line_ref"]: line["status"] for line in self.admin_get(f"/ro/{repair.fleet_ro_id}")["lines"]}
        adas = self.line(repair, self.adas).fleet_line_ref
        self.assertEqual(sorted(states.values()), ["approved", "approved", "pending"])
        self.assertEqual(states[adas], "pending", "only the added line goes to the fleet's review")
        self.assertEqual({ref: row[0] for ref, row in self.rows(repair, 2).items()},
                         {ref: "unchanged" for ref in states if ref != adas} | {adas: "added"})
        self.assertFalse(repair.fleet_supplement_summary)
        # a line taken out is shown as such
        self.line(repair, self.adas).product_uom_qty = 0
        self.assertIn("− 1 line(s): ADAS camera recalibration", repair.fleet_supplement_summary)

    def test_an_auto_approved_submission_is_recorded_as_such(self):
        element = self.env["res.partner"].create({"name": "Element Fleet", "is_company": True,
                                                  "fleet_invoice_method": "autointegrate",
                                                  "fleet_company_code": AUTO_FLEET})
        repair = self.make_job(element, with_quotation=False)
        repair.action_create_sale_order()
        repair.sale_order_id.order_line.write({"price_unit": 200.0, "tax_id": [Command.clear()]})
        self.send(repair)
        self.assertEqual(repair.fleet_status, "approved")
        [revision] = repair.fleet_authorization_ids
        self.assertTrue(revision.auto_approved)
        self.assertEqual(revision.decided_by, "Auto-approval")
        self.assertEqual(revision.partner_id, element)

    def test_the_history_is_printed_with_the_invoice(self):
        repair = self.make_job()
        self.send(repair)
        self.fleet_deny_labor(repair, DENIAL)
        repair._fleet_refresh()
        self.line(repair, self.labor).product_uom_qty = 1.0
        repair._fleet_send()
        self.fleet_decide(repair, all="approved", decided_by="M. Chen")
        repair._fleet_refresh()
        invoice = repair._fleet_invoice_job()
        # the test database has no copy of the template's filestore: no company logo to read
        self.env.company.partner_id.image_1920 = False
        html = str(self.env["ir.actions.report"]._render_qweb_html("account.report_invoice", invoice.ids)[0])
        self.assertIn("Fleet authorization history", html)
        self.assertIn(repair.fleet_authorization_number, html)
        self.assertIn(DENIAL, html)
        self.assertIn("M. Chen", html)
        self.assertIn(RIVERA, html)
        # printed for a billing user without fleet or repair rights too
        billing = new_test_user(self.env, login="ai_billing_print", groups="account.group_account_invoice")
        html = str(self.env["ir.actions.report"].with_user(billing)._render_qweb_html(
            "account.report_invoice", invoice.ids)[0])
        self.assertIn("Fleet authorization history", html)

    def test_users_only_read_the_history(self):
        repair = self.make_job()
        self.send(repair)
        user = new_test_user(self.env, login="ai_history_user", groups="omega_autointegrate.group_autointegrate_user")
        lines = repair.with_user(user).fleet_authorization_line_ids
        self.assertEqual(len(lines), 2)
        with self.assertRaises(AccessError):
            lines[0].write({"status": "approved"})
        with self.assertRaises(AccessError):
            lines.authorization_id.write({"authorization_number": "AUTH-000001"})
        with self.assertRaises(AccessError):
            self.env["autointegrate.authorization"].with_user(user).create(
                {"repair_id": repair.id, "revision": 9})
        with self.assertRaises(AccessError):
            lines.unlink()
