"""The approval clock: how long each job has waited on its fleet, against the
fleet's agreed response time; an escalation when overdue; and the analysis's
first-pass approval rate and denial reasons by line type and fleet."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AutoIntegrateFlowCase

ACTIVITY_OVERDUE = "omega_autointegrate.mail_activity_type_fleet_overdue"
DENIAL = "Labor exceeds 1.0 h rate card"


@tagged("post_install", "-at_install")
class TestApprovalClock(AutoIntegrateFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rivera = cls.env["res.partner"].create({
            "name": "J. Rivera", "parent_id": cls.fleet_account.id, "phone": "+1 916 555 0142",
            "email": "j.rivera@enterprise-fleet.example",
        })
        cls.fleet_account.write({"fleet_response_hours": 4.0, "fleet_escalation_contact_id": cls.rivera.id})

    def waited(self, repair, hours):
        """Pretend the job went to the fleet ``hours`` ago."""
        repair.fleet_waiting_since = fields.Datetime.now() - timedelta(hours=hours)
        repair.invalidate_recordset(["fleet_waiting_label", "fleet_clock", "fleet_overdue"])

    def test_the_clock_runs_while_the_fleet_decides(self):
        repair = self.make_job()
        self.assertFalse(repair.fleet_waiting_label)
        self.send(repair)
        self.assertTrue(repair.fleet_waiting_since)
        self.assertEqual(repair.fleet_due_at, repair.fleet_waiting_since + timedelta(hours=4))
        self.assertEqual((repair.fleet_waiting_label, repair.fleet_clock), ("0 min", "on_time"))
        self.waited(repair, 1.25)
        self.assertEqual((repair.fleet_waiting_label, repair.fleet_clock), ("1 h 15 min", "on_time"))
        self.waited(repair, 3.5)
        self.assertEqual(repair.fleet_clock, "due_soon")
        self.waited(repair, 50)
        self.assertEqual((repair.fleet_waiting_label, repair.fleet_clock), ("2 d 2 h", "overdue"))
        self.assertIn(repair, self.env["repair.order"].search([("fleet_overdue", "=", True)]))
        self.assertNotIn(repair, self.env["repair.order"].search([("fleet_overdue", "=", False)]))
        self.fleet_decide(repair, all="approved")
        repair._fleet_refresh()
        self.assertFalse(repair.fleet_waiting_since)
        self.assertFalse(repair.fleet_waiting_label)
        self.assertFalse(repair.fleet_overdue)

    def test_no_agreed_time_no_colour(self):
        self.fleet_account.fleet_response_hours = 0.0
        repair = self.make_job()
        self.send(repair)
        self.waited(repair, 30)
        self.assertEqual((repair.fleet_waiting_label, repair.fleet_clock, repair.fleet_due_at), ("1 d 6 h", False,
                                                                                                 False))

    def test_a_question_stops_the_clock_and_the_answer_restarts_it(self):
        repair = self.make_job()
        self.send(repair)
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": "Photo?", "request_info": True})
        repair._fleet_refresh()
        self.assertEqual(repair.fleet_status, "info_requested")
        self.assertFalse(repair.fleet_waiting_since, "the fleet waits on the shop now")
        client = self.company._autointegrate_client()
        client.add_note(repair.fleet_ro_id, "Attached")
        repair._fleet_refresh()
        self.assertEqual(repair.fleet_status, "pending")
        self.assertTrue(repair.fleet_waiting_since)

    def test_an_overdue_job_is_escalated_once_with_the_fleets_contact(self):
        late, fresh = self.make_job(), self.make_job()
        for repair in late | fresh:
            self.send(repair)
        self.waited(late, 5)
        self.env["repair.order"]._cron_fleet_escalate()
        activity = late.activity_ids
        self.assertEqual(activity.activity_type_id, self.env.ref(ACTIVITY_OVERDUE))
        self.assertEqual(activity.summary, "Call Enterprise Fleet Management: decision overdue")
        self.assertIn("agreed to decide within 4 h", activity.note)
        self.assertIn("+1 916 555 0142", activity.note)
        self.assertIn("j.rivera@enterprise-fleet.example", activity.note)
        self.assertEqual(activity.user_id, late.user_id or self.env.user)
        self.assertFalse(fresh.activity_ids)
        self.env["repair.order"]._cron_fleet_escalate()
        self.assertEqual(len(late.activity_ids), 1, "not repeated")
        # the fleet decides: the escalation is done
        self.fleet_decide(late, all="approved")
        late._fleet_refresh()
        self.assertFalse(late.activity_ids)
        self.assertTrue(late.message_ids.filtered(lambda m: m.mail_activity_type_id == self.env.ref(ACTIVITY_OVERDUE)))


@tagged("post_install", "-at_install")
class TestFirstPassAnalysis(AutoIntegrateFlowCase):
    def test_first_pass_rate_and_first_denials_by_line_type_and_fleet(self):
        first_time = self.make_job()
        self.send(first_time)
        self.fleet_decide(first_time, all="approved")
        first_time._fleet_refresh()
        fixed = self.make_job()
        self.send(fixed)
        self.fleet_deny_labor(fixed, DENIAL)
        fixed._fleet_refresh()
        self.line(fixed, self.labor).product_uom_qty = 1.0
        fixed._fleet_send()
        self.fleet_decide(fixed, all="approved")
        fixed._fleet_refresh()
        self.assertEqual(fixed.fleet_status, "approved")
        self.assertFalse(self.line(fixed, self.labor).fleet_reason, "the latest decision has no reason")

        Report = self.env["autointegrate.report"]
        domain = [("repair_id", "in", (first_time | fixed).ids)]
        by_type = {(line_type, fleet): (rate, count) for line_type, fleet, rate, count in Report._read_group(
            domain + [("first_status", "!=", False)], ["line_type", "fleet_company_code"],
            ["first_pass_rate:avg", "__count"])}
        self.assertEqual(by_type, {("glass", "ENT-0042"): (100.0, 2), ("labor", "ENT-0042"): (50.0, 2)})
        reasons = Report._read_group(domain + [("first_status", "=", "denied")], ["line_type", "first_reason"],
                                     ["__count"])
        self.assertEqual(reasons, [("labor", DENIAL, 1)])
        [[ro_rate, ro_count]] = Report._read_group(domain, [], ["ro_first_pass_rate:avg", "ro_count:sum"])
        self.assertEqual((ro_rate, ro_count), (50.0, 2))
