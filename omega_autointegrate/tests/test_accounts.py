from lxml import etree

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import FLEET, AutoIntegrateFlowCase


@tagged("post_install", "-at_install")
class TestAccounts(AutoIntegrateFlowCase):
    def test_autointegrate_needs_a_fleet_company_id(self):
        with self.assertRaisesRegex(ValidationError, "Fleet Company ID"):
            self.env["res.partner"].create({"name": "Element", "is_company": True,
                                            "fleet_invoice_method": "autointegrate"})
        with self.assertRaisesRegex(ValidationError, "not valid"):
            self.env["res.partner"].create({"name": "Element", "is_company": True,
                                            "fleet_invoice_method": "autointegrate",
                                            "fleet_company_code": "ELM 7"})

    def test_form_trims_and_contacts_follow_their_company(self):
        with Form(self.env["res.partner"]) as form:
            form.name = "Donlen"
            form.company_type = "company"
            form.fleet_invoice_method = "autointegrate"
            form.fleet_company_code = "  DON-77 "
        donlen = form.record
        self.assertEqual(donlen.fleet_company_code, "DON-77")
        contact = self.env["res.partner"].create({"name": "Pat", "parent_id": donlen.id})
        self.assertEqual((contact.fleet_invoice_method, contact.fleet_company_code), ("autointegrate", "DON-77"))
        donlen.fleet_invoice_method = "standard"
        self.assertEqual(contact.fleet_invoice_method, "standard")

    def test_standard_is_the_default_and_account_field_is_untouched(self):
        partner = self.env["res.partner"].create({"name": "Anyone"})
        self.assertEqual(partner.fleet_invoice_method, "standard")
        self.assertIn("invoice_sending_method", partner._fields)

    def test_only_autointegrate_jobs_can_be_sent(self):
        walk_in_job = self.make_job(self.walk_in)
        fleet_job = self.make_job()
        self.assertFalse(walk_in_job.is_autointegrate)
        self.assertTrue(fleet_job.is_autointegrate)
        self.assertEqual(fleet_job.fleet_company_code, FLEET)
        with self.assertRaisesRegex(UserError, "not for an AutoIntegrate account"):
            walk_in_job.action_send_to_fleet()
        fleet_job.action_repair_cancel()
        with self.assertRaisesRegex(UserError, "cancelled"):
            fleet_job.action_send_to_fleet()
        self.assertEqual(self.fleet_requests(), [])

    def test_button_only_for_autointegrate_jobs(self):
        arch = self.env["repair.order"].get_view(view_type="form")["arch"]
        self.assertIn('name="action_send_to_fleet"', arch)
        self.assertIn("not is_autointegrate", arch)
        # each Send to Fleet button of the form, not just some node, is hidden on other jobs
        buttons = etree.fromstring(arch).xpath("//button[@name='action_send_to_fleet']")
        self.assertEqual(len(buttons), 2)  # to send, and to read the fleet's answer
        for button in buttons:
            self.assertTrue(button.get("invisible", "").startswith("not is_autointegrate or "),
                            etree.tostring(button))
