from datetime import timedelta

from odoo import Command
from odoo.tests import tagged

from .common import AUTO_FLEET, FLEET, AutoIntegrateFlowCase

DENIAL = "Labor exceeds 1.0 h rate card"
AGGREGATES = ["ro_count:sum", "line_count:sum", "approved_line_count:sum", "denied_line_count:sum",
              "approval_rate:avg", "requested_amount:sum", "approved_amount:sum", "decision_hours:avg"]


@tagged("post_install", "-at_install")
class TestFleetReport(AutoIntegrateFlowCase):
    """Fleet Approvals Analysis over jobs the fleets decided."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.element = cls.env["res.partner"].create({
            "name": "Element Fleet",
            "is_company": True,
            "fleet_invoice_method": "autointegrate",
            "fleet_company_code": AUTO_FLEET,
        })
        cls.Report = cls.env["autointegrate.report"]

    def labor_only_job(self, partner, hours):
        """A job of labour only, small enough for a fleet that auto-approves."""
        repair = self.env["repair.order"].create({"partner_id": partner.id, "fleet_vin": "JH4KA7561PC008269"})
        repair.action_create_sale_order()
        repair.sale_order_id.order_line = [Command.create({
            "product_id": self.labor.id, "product_uom_qty": hours, "tax_id": [Command.clear()],
        })]
        return repair

    def decided_hours_ago(self, repair, hours):
        """Pretend the job was first submitted ``hours`` before the fleet decided."""
        repair.fleet_submitted_at = repair.fleet_decided_at - timedelta(hours=hours)

    def totals(self, domain, groupby):
        """:return: ``{group values: {aggregate: value}}`` of the report."""
        rows = self.Report._read_group(domain, groupby, AGGREGATES)
        return {tuple(row[:len(groupby)]): dict(zip(AGGREGATES, row[len(groupby):], strict=True)) for row in rows}

    def test_submitted_at_is_the_first_submission(self):
        repair = self.make_job()
        self.assertFalse(repair.fleet_submitted_at)
        self.send(repair)
        first = repair.fleet_submitted_at
        self.assertTrue(first)
        self.assertFalse(self.Report.search([("repair_id", "=", repair.id), ("line_status", "!=", "pending")]))
        self.fleet_decide(repair, {self.line(repair, self.labor).fleet_line_ref: {"status": "denied",
                                                                                   "reason": DENIAL}})
        repair._fleet_refresh()
        self.line(repair, self.labor).product_uom_qty = 1.0
        repair.fleet_submitted_at = first - timedelta(hours=1)
        self.assertTrue(repair._fleet_send())
        self.assertEqual(repair.fleet_revision, 2)
        self.assertEqual(repair.fleet_submitted_at, first - timedelta(hours=1), "a resubmission keeps it")

    def test_approvals_per_fleet(self):
        # Enterprise: the labour of one job denied, the other job approved whole
        denied = self.make_job()
        approved = self.make_job()
        for repair in denied | approved:
            self.send(repair)
        self.fleet_deny_labor(denied, DENIAL)
        self.fleet_decide(approved, all="approved")
        # Element approves small jobs at once
        auto = self.labor_only_job(self.element, 2.0)
        self.send(auto)
        for repair in denied | approved | auto:
            repair._fleet_refresh()
        self.assertEqual((denied.fleet_status, approved.fleet_status, auto.fleet_status),
                         ("partially_approved", "approved", "approved"))
        self.decided_hours_ago(denied, 2)
        self.decided_hours_ago(approved, 4)
        self.decided_hours_ago(auto, 0)

        jobs = [("repair_id", "in", (denied | approved | auto).ids)]
        per_fleet = self.totals(jobs, ["fleet_company_code"])
        self.assertEqual(set(per_fleet), {(FLEET,), (AUTO_FLEET,)})
        enterprise = per_fleet[(FLEET,)]
        self.assertEqual(
            {key: enterprise[key] for key in ("ro_count:sum", "line_count:sum", "approved_line_count:sum",
                                              "denied_line_count:sum")},
            {"ro_count:sum": 2, "line_count:sum": 4, "approved_line_count:sum": 3, "denied_line_count:sum": 1},
        )
        self.assertAlmostEqual(enterprise["approval_rate:avg"], 75.0)
        self.assertAlmostEqual(enterprise["requested_amount:sum"], 2 * (412.0 + 1.5 * 95.0))
        self.assertAlmostEqual(enterprise["approved_amount:sum"], 412.0 + 412.0 + 1.5 * 95.0)
        self.assertAlmostEqual(enterprise["decision_hours:avg"], 3.0, msg="each job counts once, not per line")
        element = per_fleet[(AUTO_FLEET,)]
        self.assertEqual((element["ro_count:sum"], element["line_count:sum"]), (1, 1))
        self.assertAlmostEqual(element["approval_rate:avg"], 100.0)
        self.assertAlmostEqual(element["approved_amount:sum"], 190.0)
        self.assertAlmostEqual(element["decision_hours:avg"], 0.0)

        # denial reasons, and the month of submission
        reasons = self.totals(jobs + [("line_status", "=", "denied")], ["reason"])
        self.assertEqual(list(reasons), [(DENIAL,)])
        self.assertAlmostEqual(reasons[(DENIAL,)]["requested_amount:sum"], 1.5 * 95.0)
        months = self.totals(jobs, ["submitted_at:month"])
        self.assertEqual(len(months), 1)
        self.assertEqual(next(iter(months.values()))["ro_count:sum"], 3)

    def test_report_follows_the_company_rule(self):
        repair = self.make_job()
        self.send(repair)
        other = self.env["res.company"].create({"name": "Other Glass Shop"})
        user = self.env["res.users"].create({
            "name": "Other shop user", "login": "other_shop_user", "company_id": other.id,
            "company_ids": [Command.set(other.ids)],
            "groups_id": [Command.set([self.env.ref("omega_autointegrate.group_autointegrate_user").id])],
        })
        self.assertTrue(self.Report.search([("repair_id", "=", repair.id)]))
        self.assertFalse(self.Report.with_user(user).search([("repair_id", "=", repair.id)]))
