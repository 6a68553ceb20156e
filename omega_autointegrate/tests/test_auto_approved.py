"""What the shop learns of a fleet's auto-approval: a revision is marked
auto-approved only when the fleet's answer to sending it approved it in full,
as sent, by its rules (no person's decision in it), and the account's highest
total approved at once is the total of such revisions only."""

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import AUTO_FLEET, AutoIntegrateFlowCase

#: the simulator's Element fleet approves at once an RO whose total is at or below this
LIMIT = 250.0
RIVERA = "J. Rivera (Element Fleet)"


@tagged("post_install", "-at_install")
class TestAutoApproved(AutoIntegrateFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.element = cls.env["res.partner"].create({
            "name": "Element Fleet", "is_company": True, "fleet_invoice_method": "autointegrate",
            "fleet_company_code": AUTO_FLEET,
        })

    def revision(self, repair, number):
        return repair.fleet_authorization_ids.filtered(lambda r: r.revision == number)

    def learnt(self, partner=None):
        partner = partner or self.element
        partner.invalidate_recordset(["fleet_learnt_auto_approved"])
        return partner.fleet_learnt_auto_approved

    def test_a_revision_learnt_from_a_later_state_is_not(self):
        """A resubmission the fleet took whose transaction rolled back (its notes could not follow):
        the revision is recorded from the person's decision that comes later, not as approved at once."""
        self.without_backoff()
        repair = self.make_job(self.driver)  # Enterprise: a person reviews every RO
        self.send(repair)
        self.fleet_deny_labor(repair, "Labor exceeds 1.0 h rate card")
        repair._fleet_refresh()
        self.assertFalse(self.revision(repair, 1).auto_approved, "a person decided")
        self.line(repair, self.labor).product_uom_qty = 1.0
        notes = f"/v1/repair-orders/{repair.fleet_ro_id}/notes"
        self.simulator.set_faults({"next": [503] * 10, "path_prefix": notes})
        self.addCleanup(self.simulator.set_faults, {})
        with self.assertRaises(UserError), self.env.cr.savepoint():
            repair._fleet_send(notes=["Labour cut to 1.0 h"])
        self.simulator.set_faults({})
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["revision"], 2, "the fleet took it")
        self.assertEqual(repair.fleet_revision, 1, "the shop did not keep it")
        self.fleet_decide(repair, all="approved", decided_by="M. Chen")
        repair._fleet_refresh()
        second = self.revision(repair, 2)
        self.assertEqual((second.status, second.decided_by), ("approved", "M. Chen"))
        self.assertFalse(second.auto_approved)
        self.assertFalse(self.learnt(self.fleet_account))

    def test_an_approval_holding_a_persons_adjustment_is_not(self):
        repair = self.labor_job(self.element, 2.0, 1.0)  # 285.00: a person reviews it
        self.send(repair)
        first, second = repair.sale_order_id.order_line
        self.fleet_decide(repair, {
            first.fleet_line_ref: {"status": "approved", "approved_amount": "150.00"},
            second.fleet_line_ref: {"status": "denied", "reason": "One hour is enough for the first line"},
        }, decided_by=RIVERA)
        repair._fleet_refresh()
        # the denied line cut to half an hour: 237.50, within the limit, so the fleet's rules approve
        # the changed line in their answer; the whole RO approved holds the person's adjustment
        second.product_uom_qty = 0.5
        self.assertTrue(repair._fleet_send())
        self.assertEqual(repair.fleet_status, "approved")
        self.assertEqual(first.fleet_status, "adjusted")
        self.assertFalse(self.revision(repair, 2).auto_approved)
        self.assertFalse(self.learnt())

    def test_supplements(self):
        # approved at once, then a supplement approved at once too: the rules approved it all
        repair = self.labor_job(self.element, 2.0)
        self.send(repair)
        self.assertEqual((self.revision(repair, 1).auto_approved, self.revision(repair, 1).decided_by),
                         (True, "Auto-approval"))
        self.assertEqual(self.learnt(), 190.0)
        repair.sale_order_id.order_line = [Command.create({
            "product_id": self.labor.id, "product_uom_qty": 0.5, "tax_id": [Command.clear()]})]
        self.assertTrue(repair._fleet_send())
        supplement = self.revision(repair, 2)
        self.assertEqual((supplement.kind, supplement.status, supplement.auto_approved),
                         ("supplement", "approved", True))
        self.assertEqual(self.learnt(), 237.5)
        # above the limit: a person approves the supplement
        repair.sale_order_id.order_line = [Command.create({
            "product_id": self.labor.id, "product_uom_qty": 1.0, "tax_id": [Command.clear()]})]
        self.assertTrue(repair._fleet_send())
        self.assertEqual(repair.fleet_status, "pending")
        self.fleet_decide(repair, all="approved", decided_by=RIVERA)
        repair._fleet_refresh()
        self.assertFalse(self.revision(repair, 3).auto_approved)
        # a job a person approved, then a supplement the rules approve in their answer (its total within
        # the limit): what the fleet approved holds the person's decision, not learnt as approved at once
        reviewed = self.labor_job(self.element, 2.0, 0.7)  # 256.50
        self.send(reviewed)
        self.fleet_decide(reviewed, all="approved", decided_by=RIVERA)
        reviewed._fleet_refresh()
        reviewed.sale_order_id.order_line[1].product_uom_qty = 0.6  # 247.00
        self.assertTrue(reviewed._fleet_send())
        self.assertEqual((self.revision(reviewed, 2).kind, reviewed.fleet_status), ("supplement", "approved"))
        self.assertFalse(self.revision(reviewed, 2).auto_approved)
        self.assertEqual(self.learnt(), 237.5)

    def test_an_answer_cutting_a_line_is_not_an_approval_in_full(self):
        """A fleet whose rules cut a line in their answer (the simulator's rules approve as sent)."""
        repair = self.labor_job(self.element, 2.0)
        body = repair._fleet_payload()
        delta = repair._fleet_revision_delta(body)  # a first submission: every line added
        self.send(repair)
        answer = self.admin_get(f"/ro/{repair.fleet_ro_id}")
        self.assertTrue(repair._fleet_auto_approved(body, delta, answer), "as the simulator answered")
        [line] = answer["lines"]
        # the hours cut, the amount kept (approved_total unchanged): adjusted is not approved as sent
        fewer_hours = dict(answer, lines=[dict(line, status="adjusted", approved_quantity="1.500")])
        self.assertFalse(repair._fleet_auto_approved(body, delta, fewer_hours))
        # a fleet calling approved what it paid less for: the total approved is not the total sent
        paid_less = dict(answer, approved_total="150.00", lines=[dict(line, approved_amount="150.00")])
        self.assertFalse(repair._fleet_auto_approved(body, delta, paid_less))
