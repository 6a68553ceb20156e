from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import AutoIntegrateFlowCase


@tagged("post_install", "-at_install")
class TestResubmitAndReapproval(AutoIntegrateFlowCase):
    def setUp(self):
        super().setUp()
        self.repair = self.make_job()
        self.send(self.repair)
        self.glass_ref = self.line(self.repair, self.windshield).fleet_line_ref
        self.labor_ref = self.line(self.repair, self.labor).fleet_line_ref

    def deny_labor(self):
        self.fleet_deny_labor(self.repair, "Max 1.0 h")
        self.repair.action_send_to_fleet()  # reopening reads the fleet's decision

    def approve_all(self):
        self.fleet_decide(self.repair, all="approved")
        self.repair.action_send_to_fleet()

    def test_denial_then_fix_then_save_and_send(self):
        self.deny_labor()
        self.assertTrue(self.repair.fleet_needs_resubmit)
        with Form(self.repair) as form:
            with form.fleet_line_ids.edit(1) as line:
                line.product_uom_qty = 1.0
        self.assertTrue(self.repair.fleet_changed)
        action = self.repair.action_fleet_save_and_send()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.repair.fleet_revision, 2)
        self.assertEqual(self.repair.fleet_status, "pending")
        statuses = {line.fleet_line_ref: line.fleet_status for line in self.repair.sale_order_id.order_line}
        self.assertEqual(statuses, {self.glass_ref: "approved", self.labor_ref: "pending"})
        self.assertFalse(self.repair.fleet_needs_resubmit)
        self.assertFalse(self.repair.fleet_changed)

    def test_form_says_at_once_that_an_edited_approved_job_goes_back_to_the_fleet(self):
        """What the save control reads (static/src/views/repair_form.js): the form's onchange
        flags the job as soon as a line or the vehicle of an approved RO is edited, unsaved."""
        self.approve_all()
        self.assertFalse(self.repair.fleet_needs_resubmit)
        form = Form(self.repair)
        self.assertFalse(form.fleet_needs_resubmit)
        with form.fleet_line_ids.edit(1) as line:
            line.name = "Labor, windshield R&R (1.5 h)"
        self.assertTrue(form.fleet_changed)
        self.assertTrue(form.fleet_needs_resubmit)
        form = Form(self.repair)
        form.fleet_plate = "8ABC124"
        self.assertTrue(form.fleet_needs_resubmit)
        self.assertFalse(self.repair.fleet_needs_resubmit)  # nothing saved

    def test_information_request_is_answered_by_resubmitting(self):
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/notes",
                        {"text": "Which glass brand?", "request_info": True, "author": "J. Rivera"})
        self.repair.action_send_to_fleet()
        self.assertEqual(self.repair.fleet_status, "info_requested")
        self.assertTrue(self.repair.fleet_needs_resubmit)
        self.repair.action_fleet_save_and_send()
        self.assertEqual(self.repair.fleet_status, "pending")
        self.assertFalse(self.repair.fleet_needs_resubmit)

    def test_nothing_to_send_when_nothing_changed(self):
        self.approve_all()
        action = self.repair.action_fleet_save_and_send()
        self.assertEqual(action["params"]["type"], "info")
        self.assertEqual(self.repair.fleet_revision, 1)

    def test_revision_conflict_refreshes_and_tells(self):
        self.deny_labor()
        # someone else resubmitted this RO meanwhile
        client = self.company._autointegrate_client()
        body = dict(self.repair._fleet_payload(), complaint="Updated elsewhere", base_revision=1)
        client.resubmit(self.repair.fleet_ro_id, body)
        action = self.repair.action_fleet_save_and_send()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertEqual(self.repair.fleet_revision, 2)  # the fleet's current state is stored

    def test_changes_that_alter_the_ro_need_reapproval(self):
        self.approve_all()
        self.assertEqual(self.repair.fleet_status, "approved")
        self.assertFalse(self.repair.fleet_changed)
        # not part of the RO
        self.repair.write({"internal_notes": "<p>Customer waits</p>", "user_id": self.env.user.id,
                           "schedule_date": "2026-12-01 09:00:00"})
        self.assertFalse(self.repair.fleet_changed)
        # each of these alters the RO
        for change in (
            lambda: self.line(self.repair, self.labor).write({"price_unit": 99.0}),
            lambda: self.line(self.repair, self.labor).write({"name": "Install windshield and moulding"}),
            lambda: self.line(self.repair, self.labor).write({"product_uom_qty": 2.0}),
            lambda: self.repair.write({"fleet_odometer": 48300}),
            lambda: self.labor.write({"fleet_service_code": "LAB-2"}),
            lambda: self.line(self.repair, self.labor).unlink(),
        ):
            with self.subTest(change=change):
                savepoint = self.env.cr.savepoint()
                change()
                self.assertTrue(self.repair.fleet_changed)
                self.assertTrue(self.repair.fleet_needs_resubmit)
                savepoint.rollback()
                self.env.invalidate_all()
                savepoint.close()

    def test_adding_a_line_needs_reapproval_and_blocks_work(self):
        self.approve_all()
        self.repair.action_validate()
        self.env["sale.order.line"].create({"order_id": self.repair.sale_order_id.id, "product_id": self.labor.id,
                                            "name": "Calibrate ADAS camera", "product_uom_qty": 1.0})
        self.assertTrue(self.repair.fleet_changed)
        with self.assertRaisesRegex(UserError, "not approved"):
            self.repair.action_repair_start()
        self.repair.action_fleet_save_and_send()
        self.assertEqual(self.repair.fleet_status, "pending")
        self.approve_all()
        self.repair.action_repair_start()
        self.assertEqual(self.repair.state, "under_repair")

    def test_work_starts_only_when_approved(self):
        self.repair.action_validate()
        with self.assertRaisesRegex(UserError, "not approved"):
            self.repair.action_repair_start()
        self.approve_all()
        self.repair.action_repair_start()
        self.assertEqual(self.repair.state, "under_repair")

    def test_a_denial_the_fleet_takes_back_leaves_nothing_to_send(self):
        """The fleet denies the labour, then approves it after all (its reviewer changed their mind):
        the job is approved as it is, with nothing to send again."""
        self.deny_labor()
        self.assertTrue(self.repair.fleet_needs_resubmit)
        self.approve_all()
        self.assertEqual(self.repair.fleet_status, "approved")
        self.assertFalse(self.repair.fleet_needs_resubmit)
        self.repair.action_validate()
        self.repair.action_repair_start()
        self.assertEqual(self.repair.state, "under_repair")
        # and a later denial is pending again
        self.fleet_deny_labor(self.repair, "Max 1.0 h after all")
        self.repair.action_send_to_fleet()
        self.assertTrue(self.repair.fleet_needs_resubmit)

    def test_non_fleet_jobs_start_as_usual(self):
        job = self.make_job(self.walk_in)
        job.action_validate()
        job.action_repair_start()
        self.assertEqual(job.state, "under_repair")

    def test_cancelling_the_job_cancels_the_ro(self):
        self.repair.action_repair_cancel()
        self.assertEqual(self.repair.fleet_status, "cancelled")
        self.assertEqual(self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["status"], "cancelled")
        self.assertFalse(self.repair.fleet_needs_resubmit)
