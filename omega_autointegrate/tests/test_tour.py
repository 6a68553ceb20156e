"""The shop's whole story with a fleet, in the browser.

The fleet decides in the simulator, outside the browser: the story is split
into tours (static/tests/tours/autointegrate_tour.js) with the fleet's
decisions made in Python between them.
"""

from odoo.tests import tagged

from .common import FLEET, AutoIntegrateHttpCase, FlowMixin

ACCOUNT = "Enterprise Fleet Management"
REQUEST_NOTE = "Customer waits in the lobby: please approve today"
LINE_NOTE = "1.5 h includes the ADAS camera recalibration"
FLEET_LINE_NOTE = "Rate card allows 1.0 h for this glass"
DENIAL = "Labor exceeds 1.0 h rate card"
REPAIRS = "/web#action=repair.action_repair_order_tree"
LABOR_CHANGED = "Install windshield and moulding"


@tagged("post_install", "-at_install")
class TestFleetTour(FlowMixin, AutoIntegrateHttpCase):
    def test_fleet_story(self):
        # the account is created in the browser: FlowMixin's namesake must not be offered
        (self.driver | self.fleet_account).action_archive()
        # a job of a standard account, which tour A opens to see it has no Send to Fleet
        walk_in_job = self.make_job(self.walk_in)

        # A: account setup, the job, SEND TO FLEET with notes
        self.start_tour("/web#action=base.action_partner_form", "autointegrate_tour_send", login="admin")
        self.env.invalidate_all()
        account = self.env["res.partner"].search([("name", "=", ACCOUNT)])
        self.assertEqual(len(account), 1)
        self.assertTrue(account.is_company)
        self.assertEqual((account.fleet_invoice_method, account.fleet_company_code), ("autointegrate", FLEET))
        repair = self.env["repair.order"].search([("partner_id", "=", account.id)])
        self.assertEqual(len(repair), 1)
        self.assertTrue(repair.is_autointegrate)
        self.assertEqual((repair.fleet_vin, repair.fleet_vehicle_make, repair.fleet_odometer),
                         ("1FTFW1E50NFA00001", "Ford", 48211))
        glass, labor = self.line(repair, self.windshield), self.line(repair, self.labor)
        self.assertEqual((glass.product_uom_qty, labor.product_uom_qty), (1.0, 1.5))
        self.assertEqual((repair.fleet_status, repair.fleet_revision), ("pending", 1))
        self.assertEqual((walk_in_job.is_autointegrate, walk_in_job.fleet_status), (False, "not_sent"))
        ro = self.admin_get(f"/ro/{repair.fleet_ro_id}")
        self.assertEqual((ro["fleet_company_id"], ro["shop_ro_ref"], ro["revision"]), (FLEET, repair.name, 1))
        self.assertEqual(ro["body"]["vehicle"]["vin"], "1FTFW1E50NFA00001")
        self.assertEqual([line["quantity"] for line in ro["body"]["lines"]], ["1.000", "1.500"])
        notes = {(note["line_ref"], note["text"]) for note in ro["notes"] if note["author_type"] == "shop"}
        self.assertEqual(notes, {(None, REQUEST_NOTE), (labor.fleet_line_ref, LINE_NOTE)})

        # the fleet denies the labour, approves the glass, and says why on the line
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes",
                        {"text": FLEET_LINE_NOTE, "line_ref": labor.fleet_line_ref, "author": "J. Rivera"})
        self.fleet_deny_labor(repair, DENIAL)

        # B: read the denial and the notes, fix the labour, SAVE AND SEND TO FLEET
        self.start_tour(REPAIRS, "autointegrate_tour_resubmit", login="admin")
        self.env.invalidate_all()
        self.assertEqual(labor.product_uom_qty, 1.0)
        self.assertEqual((repair.fleet_status, repair.fleet_revision), ("pending", 2))
        self.assertFalse(repair.fleet_needs_resubmit)
        ro = self.admin_get(f"/ro/{repair.fleet_ro_id}")
        self.assertEqual(ro["revision"], 2)
        self.assertEqual([line["quantity"] for line in ro["body"]["lines"]], ["1.000", "1.000"])
        self.assertEqual({line["line_ref"]: line["status"] for line in ro["lines"]},
                         {glass.fleet_line_ref: "approved", labor.fleet_line_ref: "pending"})

        # the fleet approves all
        self.fleet_decide(repair, all="approved")
        repair._fleet_refresh()  # what reopening the job, the webhook or the sync would read
        self.assertEqual(repair.fleet_status, "approved")
        authorization = repair.fleet_authorization_number
        self.assertRegex(authorization or "", r"^AUTH-\d{6}$")

        # D: a change to the approved RO goes back to the fleet; meanwhile Invoice → YES is refused
        self.start_tour(REPAIRS, "autointegrate_tour_reapproval", login="admin")
        self.env.invalidate_all()
        self.assertEqual(labor.name, LABOR_CHANGED)
        self.assertEqual((repair.fleet_status, repair.fleet_revision), ("pending", 3))
        self.assertFalse(repair.sale_order_id.invoice_ids)
        ro = self.admin_get(f"/ro/{repair.fleet_ro_id}")
        self.assertEqual((ro["status"], ro["revision"]), ("pending", 3))
        self.assertEqual([line["description"] for line in ro["body"]["lines"]][1], LABOR_CHANGED)
        self.assertEqual({line["line_ref"]: line["status"] for line in ro["lines"]},
                         {glass.fleet_line_ref: "approved", labor.fleet_line_ref: "pending"})

        # the fleet approves it again
        self.fleet_decide(repair, all="approved")
        repair._fleet_refresh()
        self.assertEqual(repair.fleet_status, "approved")
        self.assertEqual(repair.fleet_authorization_number, authorization)

        # C: invoice it
        self.start_tour(REPAIRS, "autointegrate_tour_invoice", login="admin")
        # posted and committed by the tour's request; what its post-commit send does, the cron does here
        # (a test server keeps no post-commit work)
        self.env["account.move"]._cron_fleet_send_invoices()
        self.env.invalidate_all()
        invoice = repair.sale_order_id.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual((invoice.state, invoice.partner_id), ("posted", account))
        self.assertEqual((invoice.fleet_invoice_status, invoice.fleet_authorization_number),
                         ("approved", authorization))
        self.assertEqual(invoice.amount_untaxed, 412.0 + 95.0)
        ro = self.admin_get(f"/ro/{repair.fleet_ro_id}")
        self.assertEqual((ro["status"], ro["invoice_number"]), ("completed", invoice.name))
        self.assertEqual(repair.fleet_status, "completed")
