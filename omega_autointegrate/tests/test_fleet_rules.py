"""The fleet's rules before sending: kept on the fleet's account, checked by
SEND TO FLEET before anything is submitted, and what the shop learnt of the
fleet from its decisions."""

from html import unescape

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import AUTO_FLEET, FLEET, JPEG, AutoIntegrateFlowCase

DENIAL = "Labor exceeds 1.0 h rate card"


@tagged("post_install", "-at_install")
class TestFleetRules(AutoIntegrateFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.element = cls.env["res.partner"].create({
            "name": "Element Fleet", "is_company": True, "fleet_invoice_method": "autointegrate",
            "fleet_company_code": AUTO_FLEET, "fleet_auto_approve_limit": 250.0,
        })
        cls.element_driver = cls.env["res.partner"].create({"name": "Chris Patel", "parent_id": cls.element.id})
        cls.tint = cls.env["product.product"].create({
            "name": "Window tint", "type": "service", "list_price": 60.0, "fleet_service_code": "TINT",
            "taxes_id": [Command.clear()],
        })

    @staticmethod
    def said(wizard):
        """:return: the text of what SEND TO FLEET says of the fleet's rules"""
        return unescape(str(wizard.check_html or ""))

    def test_the_rules_are_the_accounts_and_its_contacts(self):
        self.fleet_account.write({
            "fleet_auto_approve_limit": 300.0, "fleet_labor_rate_cap": 90.0, "fleet_excluded_codes": "tint, DETAIL",
            "fleet_response_hours": 4.0,
        })
        self.assertEqual((self.driver.fleet_auto_approve_limit, self.driver.fleet_labor_rate_cap,
                          self.driver.fleet_response_hours), (300.0, 90.0, 4.0))
        self.assertEqual(self.driver._fleet_excluded_codes(), {"TINT", "DETAIL"})
        with self.assertRaises(UserError):
            self.env["autointegrate.document.rule"].create({"partner_id": self.fleet_account.id, "kind": "photo"})

    def test_will_be_auto_approved_and_is(self):
        repair = self.labor_job(self.element_driver)
        wizard = self.open_send_dialog(repair)
        self.assertEqual(wizard.check_verdict, "auto")
        self.assertIn("within Element Fleet's auto-approval limit of $\xa0250.00", self.said(wizard))
        wizard.action_submit()
        self.assertEqual(repair.fleet_status, "approved", "the fleet approved it at once, as the dialog said")

    def test_above_the_limit_a_person_reviews_it(self):
        self.fleet_account.fleet_auto_approve_limit = 250.0
        wizard = self.open_send_dialog(self.make_job())
        self.assertEqual(wizard.check_verdict, "review")
        self.assertIn("above Enterprise Fleet Management's auto-approval limit of $\xa0250.00", self.said(wizard))
        donlen = self.env["res.partner"].create({"name": "Donlen", "is_company": True,
                                                 "fleet_invoice_method": "autointegrate", "fleet_company_code": FLEET})
        no_limit = self.open_send_dialog(self.make_job(donlen))
        self.assertEqual(no_limit.check_verdict, "review")
        self.assertIn("No auto-approval limit is known", self.said(no_limit))

    def test_what_the_fleet_is_likely_to_refuse_and_what_is_missing(self):
        self.fleet_account.write({
            "fleet_labor_rate_cap": 90.0, "fleet_excluded_codes": "TINT",
            "fleet_document_rule_ids": [
                Command.create({"line_type": "glass", "kind": "photo"}),
                Command.create({"product_tmpl_id": self.labor.product_tmpl_id.id, "kind": "calibration_report"}),
            ],
        })
        repair = self.make_job()
        self.env["sale.order.line"].create({"order_id": repair.sale_order_id.id, "product_id": self.tint.id,
                                            "tax_id": [Command.clear()]})
        wizard = self.open_send_dialog(repair)
        self.assertEqual(wizard.check_verdict, "risk")
        html = self.said(wizard)
        self.assertIn("“Install windshield”: the labor rate $\xa095.00 is above the $\xa090.00 per hour", html)
        self.assertIn("“Window tint”: Enterprise Fleet Management excludes service code TINT.", html)
        self.assertIn("Photo for “Windshield FW05432 GTY”", html)
        self.assertIn("Calibration report for “Install windshield”", html)
        self.assertFalse(wizard.document_line_ids, "no attachment to offer")
        self.assertEqual(self.fleet_requests(), [], "only looked, nothing sent")

    def test_the_documents_the_rules_ask_for_go_with_the_ro(self):
        self.fleet_account.fleet_document_rule_ids = [Command.create({"line_type": "glass", "kind": "photo"})]
        repair = self.make_job()
        photo = self.attach(repair, "crack.jpg", JPEG)
        wizard = self.open_send_dialog(repair)
        row = wizard.document_line_ids
        glass = self.line(repair, self.windshield)
        self.assertEqual((row.attachment_id, row.kind, row.sale_line_id, row.send), (photo, "photo", glass, True))
        self.assertNotIn("Documents the fleet needs", self.said(wizard))
        with Form(wizard) as form, form.document_line_ids.edit(0) as edit:
            edit.send = False
        self.assertIn("Photo for “Windshield FW05432 GTY”", self.said(wizard))
        with Form(wizard) as form, form.document_line_ids.edit(0) as edit:
            edit.send = True
        wizard.action_submit()
        documents = self.fleet_documents(repair)
        self.assertEqual([(d["file_name"], d["kind"], d["line_ref"]) for d in documents],
                         [("crack.jpg", "photo", glass.fleet_line_ref)])
        self.assertEqual(repair.fleet_document_ids.attachment_id, photo)

    def test_the_ro_stays_sent_when_its_documents_cannot_be(self):
        self.fleet_account.fleet_document_rule_ids = [Command.create({"line_type": "glass", "kind": "photo"})]
        repair = self.make_job()
        self.attach(repair, "crack.jpg", JPEG)
        wizard = self.open_send_dialog(repair)
        self.assertTrue(wizard.document_line_ids)
        # the fleet takes the RO, then cannot take documents for a while
        self.admin_post("/faults", {"next": [503] * 10, "path_prefix": "/v1/repair-orders/AI-"})
        try:
            action = wizard.action_submit()
        finally:
            self.admin_post("/faults", {})
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("was sent to the fleet, but not its documents", action["params"]["message"])
        self.assertEqual(repair.fleet_status, "pending", "the RO the fleet took is kept")
        self.assertFalse(repair.fleet_document_ids)
        self.assertEqual(self.fleet_documents(repair), [])

    def test_a_bad_document_stops_the_submission(self):
        repair = self.make_job()
        gif = self.attach(repair, "chip.gif", b"GIF89a\x01\x00\x01\x00")
        wizard = self.open_send_dialog(repair)
        wizard.document_line_ids = [Command.create({"repair_id": repair.id, "attachment_id": gif.id,
                                                    "kind": "photo"})]
        with self.assertRaisesRegex(UserError, "“chip.gif” is a file of type image/gif"):
            wizard.action_submit()
        self.assertEqual(self.fleet_requests("/v1/repair-orders", "POST"), [], "the RO was not sent either")
        self.assertFalse(repair.fleet_ro_id)

    def test_what_the_shop_learnt_of_the_fleet(self):
        approved = self.labor_job(self.element_driver, 2.0)
        self.send(approved)
        self.assertEqual(approved.fleet_status, "approved")
        self.assertEqual(self.element.fleet_learnt_auto_approved, 190.0)
        self.assertFalse(self.element.fleet_learnt_denials)
        for _job in range(2):
            repair = self.make_job()
            self.send(repair)
            self.fleet_deny_labor(repair, DENIAL)
            repair._fleet_refresh()
            # sent again as it is, the same denial is not counted twice
            repair._fleet_send()
            repair._fleet_refresh()
        self.fleet_account.invalidate_recordset(["fleet_learnt_denials"])
        self.assertEqual(self.fleet_account.fleet_learnt_denials, f"{DENIAL} (2 lines)")
        self.assertEqual(self.driver.fleet_learnt_denials, f"{DENIAL} (2 lines)", "its contacts show it too")
        self.assertFalse(self.fleet_account.fleet_learnt_auto_approved)
        wizard = self.open_send_dialog(self.make_job())
        self.assertEqual(wizard.check_verdict, "risk")
        self.assertIn(f"“Install windshield”: Enterprise Fleet Management denied LAB-GLASS 2 time(s) before: "
                      f"“{DENIAL}”.", self.said(wizard))
        # Element's limit unknown: what it approved at once before says it likely does again
        self.element.fleet_auto_approve_limit = 0.0
        wizard = self.open_send_dialog(self.labor_job(self.element_driver, 1.0))
        self.assertEqual(wizard.check_verdict, "auto")
        self.assertIn("approved totals up to $\xa0190.00 at once before", self.said(wizard))
