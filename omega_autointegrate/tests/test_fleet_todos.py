"""The fleet's to-dos: a denial, a question and an invoice refusal each give
one to-do (a repeat makes it due again, never a second one), done, saying
why, once their reason goes away; a cancelled RO's are removed."""

from datetime import timedelta

from odoo import fields
from odoo.tests import Form, tagged

from .common import AutoIntegrateFlowCase, ensure_chart_of_accounts

DENIAL = "Labor exceeds 1.0 h rate card"
ACTIVITY_DENIAL = "omega_autointegrate.mail_activity_type_fleet_denial"
ACTIVITY_INFO = "omega_autointegrate.mail_activity_type_fleet_info"
ACTIVITY_REFUSED = "omega_autointegrate.mail_activity_type_fleet_invoice_refused"


@tagged("post_install", "-at_install")
class TestFleetTodos(AutoIntegrateFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ensure_chart_of_accounts(cls.company)

    # ------------------------------------------------------------ helpers
    def todos(self, record, xmlid):
        """:return: the open to-dos of ``record`` of the activity type ``xmlid``"""
        record.invalidate_recordset(["activity_ids"])
        return record.activity_ids.filtered(lambda a: a.activity_type_id == self.env.ref(xmlid))

    def done(self, record, xmlid):
        """:return: the chatter's entries of ``record``'s to-dos of type ``xmlid`` marked done"""
        record.invalidate_recordset(["message_ids"])
        return record.message_ids.filtered(lambda m: m.mail_activity_type_id == self.env.ref(xmlid))

    def sent_denied(self):
        """A job the fleet partly approved (the labour denied), as the shop reads it."""
        repair = self.make_job()
        self.send(repair)
        self.fleet_deny_labor(repair, DENIAL)
        repair.action_send_to_fleet()
        self.assertEqual(len(self.todos(repair, ACTIVITY_DENIAL)), 1)
        return repair

    def ask(self, repair, text):
        """The fleet asks a question; the shop reads it."""
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": text, "request_info": True})
        repair.action_send_to_fleet()

    def answer(self, repair, text):
        """FLEET COMMUNICATION: the shop answers with a note."""
        action = repair.action_fleet_communication()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        with Form(wizard) as form:
            form.text = text
        wizard.action_send_note()

    def refused_invoice(self):
        """A job invoiced for more than the fleet approves now: posted, sent after the commit, refused."""
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        repair.action_send_to_fleet()
        labor = self.line(repair, self.labor).fleet_line_ref
        # the fleet lowers its approval; the shop has not read it yet
        self.fleet_decide(repair, {labor: {"status": "approved", "approved_quantity": "1.000",
                                           "approved_amount": "95.00"}})
        context = {"active_model": "repair.order", "active_ids": repair.ids, "active_id": repair.id}
        Form(self.env["autointegrate.repair.invoice.wizard"].with_context(**context)).save().action_confirm()
        invoice = repair.sale_order_id.invoice_ids
        self.after_commit()
        self.assertEqual(invoice.fleet_invoice_status, "refused")
        self.assertEqual(len(self.todos(invoice, ACTIVITY_REFUSED)), 1)
        return repair, invoice

    # ------------------------------------------------------------- denial
    def test_a_denial_is_one_todo_until_the_job_is_sent_again(self):
        repair = self.sent_denied()
        todo = self.todos(repair, ACTIVITY_DENIAL)
        self.assertEqual(todo.summary, "The fleet denied work: fix the job and send it again")
        todo.date_deadline = fields.Date.today() - timedelta(days=3)
        # the fleet denies another line of the job: the same to-do, due again
        glass = self.line(repair, self.windshield).fleet_line_ref
        self.fleet_decide(repair, {glass: {"status": "denied", "reason": "Use aftermarket glass"}})
        repair.action_send_to_fleet()
        self.assertEqual(repair.fleet_status, "denied")
        self.assertEqual(self.todos(repair, ACTIVITY_DENIAL), todo, "not a second to-do")
        self.assertEqual(todo.date_deadline, fields.Date.today())
        # fixed and sent again: done, saying so
        self.line(repair, self.labor).product_uom_qty = 1.0
        repair.action_fleet_save_and_send()
        self.assertEqual(repair.fleet_status, "pending")
        self.assertFalse(self.todos(repair, ACTIVITY_DENIAL))
        self.assertIn("Fixed and sent to the fleet again (revision 2).", self.done(repair, ACTIVITY_DENIAL).body)
        # denied again after that: a new to-do, the only one open
        self.fleet_deny_labor(repair, DENIAL)
        repair.action_send_to_fleet()
        self.assertEqual(len(self.todos(repair, ACTIVITY_DENIAL)), 1)
        self.assertNotEqual(self.todos(repair, ACTIVITY_DENIAL), todo)

    def test_accepting_the_decision_is_the_denial_done(self):
        repair = self.sent_denied()
        repair.action_fleet_accept_decision()
        self.assertFalse(self.todos(repair, ACTIVITY_DENIAL))
        self.assertIn("Accept Fleet Decision: the job now holds what the fleet approved.",
                      self.done(repair, ACTIVITY_DENIAL).body)

    def test_the_fleet_approving_the_job_is_the_denial_done(self):
        repair = self.sent_denied()
        self.fleet_decide(repair, all="approved")
        repair.action_send_to_fleet()
        self.assertFalse(self.todos(repair, ACTIVITY_DENIAL))
        self.assertIn("The fleet approved the job: nothing is left to fix (its RO is Approved).",
                      self.done(repair, ACTIVITY_DENIAL).body)

    # ----------------------------------------------------------- question
    def test_a_question_is_one_todo_until_answered(self):
        repair = self.make_job()
        self.send(repair)
        self.ask(repair, "Which glass brand?")
        todo = self.todos(repair, ACTIVITY_INFO)
        self.assertEqual(todo.summary, "The fleet asks for information")
        self.answer(repair, "Pilkington, OEM for the ADAS camera")
        self.assertEqual(repair.fleet_status, "pending")
        self.assertFalse(self.todos(repair, ACTIVITY_INFO))
        self.assertIn("The fleet no longer waits for an answer: its RO is Awaiting fleet.",
                      self.done(repair, ACTIVITY_INFO).body)
        # a second question after the answer: one to-do open, the new one
        self.ask(repair, "And the calibration?")
        self.assertEqual(len(self.todos(repair, ACTIVITY_INFO)), 1)
        # answered by sending the job again
        self.line(repair, self.labor).product_uom_qty = 1.0
        repair.action_fleet_save_and_send()
        self.assertFalse(self.todos(repair, ACTIVITY_INFO))
        self.assertEqual(len(self.done(repair, ACTIVITY_INFO)), 2)

    def test_a_cancelled_ro_leaves_nothing_to_do(self):
        repair = self.sent_denied()
        self.ask(repair, "Which glass brand?")
        self.assertEqual(len(self.todos(repair, ACTIVITY_INFO)), 1)
        repair.action_repair_cancel()
        self.assertEqual(repair.fleet_status, "cancelled")
        self.assertFalse(self.todos(repair, ACTIVITY_DENIAL) | self.todos(repair, ACTIVITY_INFO))
        self.assertFalse(self.done(repair, ACTIVITY_DENIAL) | self.done(repair, ACTIVITY_INFO),
                         "removed, not done: nothing was fixed or answered")

    # ---------------------------------------------------- invoice refusal
    def test_a_refused_invoice_is_one_todo_until_the_fleet_accepts_it(self):
        repair, invoice = self.refused_invoice()
        todo = self.todos(invoice, ACTIVITY_REFUSED)
        self.assertEqual(todo.summary, "The fleet refused this invoice")
        self.assertIn("quantity exceeds the approved quantity 1.000", str(todo.note))
        todo.date_deadline = fields.Date.today() - timedelta(days=3)
        # refused again (Send to Fleet): still the one to-do, due again
        invoice.action_fleet_send_invoice()
        self.assertEqual(invoice.fleet_invoice_status, "refused")
        self.assertEqual(self.todos(invoice, ACTIVITY_REFUSED), todo, "not a second to-do")
        self.assertEqual(todo.date_deadline, fields.Date.today())
        # the fleet approves the work again as invoiced: the invoice goes through, the to-do is done
        labor = self.line(repair, self.labor).fleet_line_ref
        self.fleet_decide(repair, {labor: {"status": "approved"}})
        invoice.action_fleet_send_invoice()
        self.assertEqual(invoice.fleet_invoice_status, "approved")
        self.assertFalse(self.todos(invoice, ACTIVITY_REFUSED))
        self.assertIn("The fleet accepted the invoice.", self.done(invoice, ACTIVITY_REFUSED).body)

    def test_a_refused_invoice_reversed_or_cancelled_is_its_todo_done(self):
        _repair, invoice = self.refused_invoice()
        [credit_note] = invoice._reverse_moves(cancel=True)
        self.assertFalse(self.todos(invoice, ACTIVITY_REFUSED))
        self.assertIn(f"The invoice was reversed by credit note {credit_note.name}",
                      self.done(invoice, ACTIVITY_REFUSED).body)
        _repair, invoice = self.refused_invoice()
        invoice.button_cancel()
        self.assertEqual(invoice.state, "cancel")
        self.assertFalse(self.todos(invoice, ACTIVITY_REFUSED))
        self.assertIn("The invoice was cancelled.", self.done(invoice, ACTIVITY_REFUSED).body)
