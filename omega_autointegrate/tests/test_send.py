from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from ..lib.autointegrate.formatting import body_digest
from .common import FLEET, SHOP_ID, VIN, AutoIntegrateFlowCase


@tagged("post_install", "-at_install")
class TestSendToFleet(AutoIntegrateFlowCase):
    def test_dialog_shows_exactly_what_is_sent(self):
        repair = self.make_job()
        wizard = self.open_send_dialog(repair)
        self.assertTrue(wizard.can_submit)
        self.assertIn(VIN, wizard.vehicle)
        self.assertIn("2022 · Ford · F-150", wizard.vehicle)
        rows = [(line.line_type, line.service_code, line.description, line.quantity, line.unit_price, line.amount)
                for line in wizard.line_ids]
        # the quotation's line reads "[GLASS-WS] Windshield…" as Odoo names it; the fleet reads the
        # description alone, the code being the line's service code
        self.assertEqual(self.line(repair, self.windshield).name, "[GLASS-WS] Windshield FW05432 GTY")
        self.assertEqual(rows, [
            ("glass", "GLASS-WS", "Windshield FW05432 GTY", 1.0, 412.0, 412.0),
            ("labor", "LAB-GLASS", "Install windshield", 1.5, 95.0, 142.5),
        ])
        self.assertEqual((wizard.amount_untaxed, wizard.amount_tax, wizard.amount_total), (554.5, 0.0, 554.5))
        self.send(repair, note="Customer reports rock chip spread overnight",
                  line_notes={0: "OEM glass required for ADAS camera"})
        body = self.admin_get(f"/ro/{repair.fleet_ro_id}")["body"]
        keys = ("type", "service_code", "description", "quantity", "unit_price", "amount")
        sent = [tuple(line[key] for key in keys) for line in body["lines"]]
        self.assertEqual(sent, [
            ("glass", "GLASS-WS", "Windshield FW05432 GTY", "1.000", "412.00", "412.00"),
            ("labor", "LAB-GLASS", "Install windshield", "1.500", "95.00", "142.50"),
        ])
        self.assertEqual(body["totals"], {"untaxed": "554.50", "tax": "0.00", "total": "554.50"})
        self.assertEqual((body["fleet_company_id"], body["shop_id"], body["shop_ro_ref"]),
                         (FLEET, SHOP_ID, repair.name))
        self.assertEqual(body["vehicle"]["vin"], VIN)
        self.assertEqual(body["complaint"], "Windshield cracked across driver view")

    def test_submit_stores_the_fleets_answer_and_notes(self):
        repair = self.make_job()
        self.send(repair, note="Rock chip spread overnight", line_notes={0: "OEM glass required"})
        self.assertTrue(repair.fleet_ro_id.startswith("AI-"))
        self.assertEqual((repair.fleet_status, repair.fleet_revision), ("pending", 1))
        lines = repair.sale_order_id.order_line
        self.assertEqual(lines.mapped("fleet_status"), ["pending", "pending"])
        self.assertEqual(len(set(lines.mapped("fleet_line_ref"))), 2)
        notes = {(n.line_ref or None, n.author_type, n.text) for n in repair.fleet_note_ids}
        glass_ref = self.line(repair, self.windshield).fleet_line_ref
        self.assertEqual(notes, {(None, "shop", "Rock chip spread overnight"),
                                 (glass_ref, "shop", "OEM glass required")})
        self.assertFalse(repair.fleet_needs_resubmit)
        self.assertEqual(repair.sale_order_id.fleet_status, "pending")
        # the digest stored with the submission (not computed again) is the job's, line refs included
        repair.invalidate_recordset()
        self.assertEqual(repair.fleet_digest, body_digest(repair._fleet_payload(), length=32))
        self.assertEqual(repair.fleet_sent_digest, repair.fleet_digest)

    def test_job_without_quotation_gets_one(self):
        repair = self.make_job(with_quotation=False)
        wizard = self.open_send_dialog(repair)
        self.assertTrue(repair.sale_order_id)
        self.assertEqual(wizard.line_ids.mapped("description"), ["Windshield FW05432 GTY"])

    def test_invalid_data_lists_every_field_and_stores_nothing(self):
        repair = self.make_job()
        self.account.shop_id = False
        repair.fleet_plate = "X" * 70
        labor = self.line(repair, self.labor)
        labor.price_unit = 10.0**13
        with self.assertRaises(UserError) as info:
            self.send(repair)
        message = str(info.exception)
        self.assertIn("Settings: AutoIntegrate Shop ID", message)
        self.assertIn("Vehicle: plate", message)
        self.assertIn(f"{repair.name}, line “Install windshield” (L{labor.id}): unit price", message)
        self.assertFalse(repair.fleet_ro_id)
        self.assertEqual(repair.fleet_status, "not_sent")
        self.assertEqual(self.fleet_requests("/v1/repair-orders"), [])

    def test_vin_is_checked_and_normalised(self):
        repair = self.make_job()
        with Form(repair) as form:
            form.fleet_vin = " 1ftfw1e50nfa00002 "
        self.assertEqual(repair.fleet_vin, "1FTFW1E50NFA00002")
        with self.assertRaisesRegex(ValidationError, "VIN"):
            repair.fleet_vin = "1FTFW1E50NFA0000I"

    def test_fleet_refusal_is_a_clear_error(self):
        repair = self.make_job()
        self.fleet_account.fleet_company_code = "NOPE-1"
        with self.assertRaisesRegex(UserError, "does not know this Fleet Company ID"):
            self.send(repair)
        self.assertFalse(repair.fleet_ro_id)

    def test_unreachable_fleet_is_a_clear_error(self):
        repair = self.make_job()
        self.admin_post("/faults", {"next": [503] * 10})
        try:
            with self.assertRaisesRegex(UserError, "temporarily unavailable"):
                self.send(repair)
        finally:
            self.admin_post("/faults", {})
        self.assertFalse(repair.fleet_ro_id)

    def test_reopening_shows_the_fleets_status(self):
        repair = self.make_job()
        self.send(repair)
        labor_ref = self.line(repair, self.labor).fleet_line_ref
        glass_ref = self.line(repair, self.windshield).fleet_line_ref
        self.fleet_deny_labor(repair, "Labor exceeds 1.0 h rate card")
        wizard = self.open_send_dialog(repair)
        self.assertEqual(wizard.fleet_status, "partially_approved")
        self.assertTrue(wizard.fleet_authorization_number.startswith("AUTH-"))
        self.assertEqual(wizard.fleet_decided_by, "J. Rivera (Enterprise Fleet)")
        self.assertTrue(wizard.fleet_decided_at)
        by_ref = {line.line_ref: (line.fleet_status, line.fleet_reason) for line in wizard.line_ids}
        self.assertEqual(by_ref, {glass_ref: ("approved", False),
                                  labor_ref: ("denied", "Labor exceeds 1.0 h rate card")})
        self.assertTrue(repair.fleet_needs_resubmit)
        self.assertTrue(wizard.can_submit)

    def test_a_dialog_never_sends_an_unchanged_ro_again(self):
        """SUBMIT called on a job the fleet has as it is (over RPC, or in a dialog left open while a
        colleague sent the job) sends nothing; the dialog's copies of the fleet's decisions, which
        its user can write, decide nothing."""
        repair = self.make_job()
        self.send(repair)
        wizard = self.open_send_dialog(repair)
        self.assertFalse(wizard.can_submit)
        with self.assertRaisesRegex(UserError, "has nothing new for the fleet"):
            wizard.action_submit()
        # denied: one dialog opened to resubmit; a colleague fixes the job and sends it meanwhile
        self.fleet_deny_labor(repair, "Labor exceeds 1.0 h rate card")
        left_open = self.open_send_dialog(repair)
        self.assertTrue(left_open.can_submit)
        self.line(repair, self.labor).product_uom_qty = 1.0
        repair.action_fleet_save_and_send()
        self.env.invalidate_all()  # the click is a request of its own
        with self.assertRaisesRegex(UserError, "has nothing new for the fleet"):
            left_open.action_submit()
        # approved in full: a dialog line written to read denied offers no Send Again
        self.fleet_decide(repair, all="approved")
        wizard = self.open_send_dialog(repair)
        wizard.line_ids[0].fleet_status = "denied"
        self.assertFalse(wizard.can_send_again)
        with self.assertRaisesRegex(UserError, "nothing for the fleet to look at again"):
            wizard.action_send_again()
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["revision"], 2)
        self.assertEqual(len(self.fleet_requests(f"/v1/repair-orders/{repair.fleet_ro_id}", "PUT")), 1)

    def test_adopts_the_fleets_ro_after_a_lost_commit(self):
        repair = self.make_job()
        # the fleet took our submit, but our transaction never committed it
        client = self.company._autointegrate_client()
        state = client.submit(dict(repair._fleet_payload(), notes=["sent from another terminal"]))
        self.send(repair)
        self.assertEqual(repair.fleet_ro_id, state["ro_id"])
        self.assertEqual(repair.fleet_revision, 2)  # adopted, then brought up to date
        self.assertEqual(len(self.fleet_ros()), 1)

    def test_retry_after_a_lost_answer_creates_one_ro(self):
        repair = self.make_job()
        self.admin_post("/faults", {"drop_after_processing_next": 1, "path_prefix": "/v1/repair-orders"})
        try:
            self.send(repair)
        finally:
            self.admin_post("/faults", {})
        self.assertEqual(len(self.fleet_ros()), 1)
        self.assertEqual(repair.fleet_ro_id, self.fleet_ros()[0]["ro_id"])
