"""The fleet's word on an invoice is never lost (issue 13): an invoice is
posted and committed before it is sent, so its number is never freed nor
given to another invoice; it is sent with a key derived from its frozen body
until the fleet answers; a lost answer is settled by a retry (at once or by
the cron), by a webhook or by the poll, all naming the invoice the fleet
holds (the RO state's ``invoice``)."""

import json
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from ..lib import autointegrate as ai
from ..lib.autointegrate import signing
from ..lib.autointegrate.client import DEFAULT_TOKEN_CACHE
from .common import CLIENT_ID, CLIENT_SECRET, AutoIntegrateFlowCase

WEBHOOK_SECRET = "odoo-test-webhook"
#: what a retry "later" settles with: the cron an hour on
SETTLED_BY = ("at once", "later", "webhook", "poll")


@tagged("post_install", "-at_install")
class TestLostInvoiceAnswers(AutoIntegrateFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company, install_demo=False)

    def setUp(self):
        super().setUp()
        self.without_backoff()
        self.addCleanup(self.simulator.set_faults, {})

    # ------------------------------------------------------------ helpers
    def approved_job(self):
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        repair.action_send_to_fleet()
        return repair

    def invoice_jobs(self, repairs):
        """Invoice → YES on ``repairs``; :return: their posted invoices (not sent yet: the request goes on)."""
        context = {"active_model": "repair.order", "active_ids": repairs.ids, "active_id": repairs[:1].id}
        Form(self.env["autointegrate.repair.invoice.wizard"].with_context(**context)).save().action_confirm()
        return repairs.sale_order_id.invoice_ids.sorted("id")

    def lose_answers(self, times):
        """The fleet processes the next ``times`` calls on ROs, and every answer is lost."""
        self.simulator.set_faults({"drop_after_processing_next": times, "path_prefix": "/v1/repair-orders/"})

    def fleet_ro(self, repair):
        """The RO state as the client API gives it (its ``invoice`` the summary of the accepted one)."""
        return next(ro for ro in self.fleet_ros() if ro["ro_id"] == repair.fleet_ro_id)

    def deliver_webhook(self, repair):
        """The fleet's webhook of the RO's current state."""
        state = self.fleet_ro(repair)
        raw = json.dumps({"event_id": f"evt_{state['ro_id']}_{state['sequence']}", "type": "ro.updated",
                          "occurred_at": state["updated_at"], "ro_id": state["ro_id"],
                          "sequence": state["sequence"], "data": state}).encode()
        return self.env["autointegrate.event"]._receive(raw, signing.sign(WEBHOOK_SECRET, raw))

    def an_hour_later(self, invoices):
        """The cron's run once the invoices' next try is due."""
        invoices.sudo().fleet_invoice_next_try = fields.Datetime.now() - timedelta(seconds=1)
        return self.env["account.move"]._cron_fleet_send_invoices()

    def invoice_posts(self, repair):
        return self.fleet_requests(f"/v1/repair-orders/{repair.fleet_ro_id}/invoice", "POST")

    def assert_settled(self, repair, invoice):
        """Fleet approved here, completed with this very invoice there, sent under one key and one body,
        and every exchange of it logged under its job."""
        self.assertEqual((invoice.state, invoice.fleet_invoice_status), ("posted", "approved"))
        self.assertEqual(repair.fleet_status, "completed")
        ro = self.fleet_ro(repair)
        self.assertEqual((ro["status"], ro["invoice"]["invoice_number"]), ("completed", invoice.name))
        posts = self.invoice_posts(repair)
        self.assertEqual(len({post["headers"]["Idempotency-Key"] for post in posts}), 1, posts)
        self.assertEqual(len({json.dumps(post["body"], sort_keys=True) for post in posts}), 1)
        logged = self.env["autointegrate.exchange"].search(
            [("endpoint", "=", f"POST /v1/repair-orders/{repair.fleet_ro_id}/invoice")])
        self.assertEqual(len(logged), len(posts))
        self.assertEqual(logged.repair_id, repair)

    # -------------------------------------------------------------- tests
    def test_a_lost_answer_for_1_to_5_tries_is_settled_every_way(self):
        """The fleet took the invoice; its answer is lost on 1 to 5 consecutive tries. Right after the
        commit, the send tries twice; then a retry at once (Send to Fleet), the cron an hour later, the
        fleet's webhook (webhooks on) or the poll (webhooks off) settles it."""
        for times in range(1, 6):
            for how in SETTLED_BY:
                with self.subTest(lost=times, settled_by=how), self.env.cr.savepoint():
                    repair = self.approved_job()
                    invoice = self.invoice_jobs(repair)
                    self.assertEqual(invoice.fleet_invoice_status, "to_send")
                    name = invoice.name
                    self.lose_answers(times)
                    self.after_commit()
                    self.assertEqual(invoice.name, name)  # posted and committed: the number is kept
                    self.assertEqual(self.fleet_ro(repair)["invoice"]["invoice_number"], name)
                    if times < 2:  # the second try of the send got the fleet's stored answer
                        self.assertEqual(invoice.fleet_invoice_status, "approved")
                    else:
                        self.assertEqual((invoice.fleet_invoice_status, repair.fleet_status), ("sent", "approved"))
                        self.assertIn("its answer was lost", invoice.fleet_invoice_message)
                        self.assertIn("sent again automatically", invoice.fleet_invoice_message)
                        if how == "at once":
                            action = invoice.action_fleet_send_invoice()
                            self.assertEqual(action["params"]["type"], "success")
                        elif how == "later":
                            self.assertEqual(self.env["account.move"]._cron_fleet_send_invoices(), invoice.browse())
                            self.assertEqual(self.an_hour_later(invoice), invoice)
                        elif how == "webhook":
                            self.simulator.set_faults({})
                            self.assertEqual(self.deliver_webhook(repair), (200, {"status": "applied"}))
                            self.assertEqual(len(self.invoice_posts(repair)), 2)  # no call was needed
                        else:
                            self.simulator.set_faults({})
                            self.env["autointegrate.sync"]._poll_company(self.company)
                        self.after_commit()
                    self.simulator.set_faults({})
                    self.assert_settled(repair, invoice)
                    said = invoice.message_ids.filtered(lambda m: "the fleet approved the invoice" in m.body)
                    self.assertEqual(len(said), 1)

    def test_a_batch_of_invoices_under_lost_answers(self):
        """Invoice → YES on six jobs while the fleet's answers are lost on five calls: every invoice is
        posted under its own number at once, the fleet holds each number once, the cron settles the rest."""
        repairs = self.env["repair.order"]
        for _n in range(6):
            repairs |= self.approved_job()
        invoices = self.invoice_jobs(repairs)
        self.assertEqual(len(invoices), 6)
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        self.lose_answers(5)
        self.after_commit()
        # sent one after the other: the first two lost both tries, the third one, the others none
        self.assertEqual(invoices.mapped("fleet_invoice_status"), ["sent", "sent"] + ["approved"] * 4)
        self.simulator.set_faults({})
        self.an_hour_later(invoices.filtered(lambda m: m.fleet_invoice_status == "sent"))
        self.after_commit()
        numbers = invoices.mapped("name")
        self.assertEqual(len(set(numbers)), 6)
        sequences = sorted(invoices.mapped("sequence_number"))
        self.assertEqual(sequences, list(range(sequences[0], sequences[0] + 6)))  # no number freed
        held = [ro["invoice"]["invoice_number"] for ro in self.fleet_ros() if ro["ro_id"] in repairs.mapped(
            "fleet_ro_id")]
        self.assertEqual(sorted(held), sorted(numbers))
        self.assertEqual(invoices.sudo().fleet_repair_id, repairs)
        for invoice in invoices:  # each job with its own invoice, whatever order they were made in
            self.assert_settled(invoice.sudo().fleet_repair_id, invoice)

    def test_the_number_the_fleet_holds_is_never_given_to_another_invoice(self):
        """The issue's case: the fleet took invoice A, every answer lost; then job B is invoiced. A keeps
        its number (posted, committed), B gets the next one, and the fleet's state settles A."""
        job_a, job_b = self.approved_job(), self.approved_job()
        invoice_a = self.invoice_jobs(job_a)
        self.lose_answers(50)
        self.after_commit()
        self.assertEqual(invoice_a.fleet_invoice_status, "sent")
        # the cron keeps trying while the network is cut: the same key, answers lost again
        self.an_hour_later(invoice_a)
        self.assertEqual((invoice_a.fleet_invoice_status, invoice_a.fleet_invoice_tries), ("sent", 2))
        self.simulator.set_faults({})
        invoice_b = self.invoice_jobs(job_b)
        self.after_commit()
        self.assertNotEqual(invoice_b.name, invoice_a.name)
        self.assertEqual(invoice_b.sequence_number, invoice_a.sequence_number + 1)
        self.assertEqual(invoice_b.fleet_invoice_status, "approved")
        self.env["autointegrate.sync"]._poll_company(self.company)
        self.after_commit()
        self.assert_settled(job_a, invoice_a)
        self.assert_settled(job_b, invoice_b)

    def test_a_fleet_that_is_down_never_stops_invoicing(self):
        repair = self.approved_job()
        url = self.account.api_url
        self.account.api_url = "http://127.0.0.1:9"  # nothing listens there
        DEFAULT_TOKEN_CACHE.clear()
        invoice = self.invoice_jobs(repair)
        self.after_commit()
        self.assertEqual((invoice.state, invoice.fleet_invoice_status), ("posted", "to_send"))
        self.assertIn("could not be reached at http://127.0.0.1:9, so nothing was sent", invoice.fleet_invoice_message)
        self.assertIn("sent again automatically", invoice.fleet_invoice_message)
        self.assertEqual(repair.fleet_status, "approved")
        self.assertGreater(invoice.fleet_invoice_next_try, fields.Datetime.now())
        # every exchange of the invoice's send names its job, the token's too
        tried = self.env["autointegrate.exchange"].search([("create_date", ">=", invoice.write_date),
                                                            ("direction", "=", "out")])
        self.assertTrue(tried)
        self.assertEqual(tried.repair_id, repair)
        # not due yet: the cron leaves it; once due and the fleet back, it is sent
        self.assertFalse(self.env["account.move"]._cron_fleet_send_invoices())
        self.account.api_url = url
        self.an_hour_later(invoice)
        self.after_commit()
        self.assert_settled(repair, invoice)

    def test_a_fleet_holding_another_invoice_refuses_ours(self):
        """Another system invoiced the RO first: the fleet's 409 names the invoice it holds; ours is refused,
        said on the invoice and the job, with a to-do, and stays posted."""
        repair = self.approved_job()
        body = {"invoice_number": "EXT/0001", "invoice_date": "2026-11-29",
                "lines": [{"line_ref": line["line_ref"], "quantity": line["approved_quantity"],
                           "amount": line["approved_amount"]} for line in self.fleet_ro(repair)["lines"]],
                "totals": {"untaxed": "554.50", "tax": "0.00", "total": "554.50"}}
        ai.Client(self.simulator.url, CLIENT_ID, CLIENT_SECRET).invoice(repair.fleet_ro_id, body)
        invoice = self.invoice_jobs(repair)
        self.after_commit()
        self.assertEqual((invoice.state, invoice.fleet_invoice_status), ("posted", "refused"))
        self.assertIn("The fleet holds another invoice, EXT/0001", invoice.fleet_invoice_message)
        self.assertEqual(invoice.activity_ids.summary, "The fleet refused this invoice")
        self.assertTrue(repair.message_ids.filtered(lambda m: f"The fleet refused invoice {invoice.name}" in m.body))
        self.assertEqual(repair.fleet_status, "completed")  # as the fleet says
        self.assertEqual(self.fleet_ro(repair)["invoice"]["invoice_number"], "EXT/0001")

    def test_a_state_naming_another_invoice_refuses_a_waiting_one(self):
        repair = self.approved_job()
        invoice = self.invoice_jobs(repair)
        self.lose_answers(50)
        self.after_commit()
        self.simulator.set_faults({})
        self.assertEqual(invoice.fleet_invoice_status, "sent")
        state = dict(self.fleet_ro(repair), sequence=self.fleet_ro(repair)["sequence"] + 1)
        state["invoice"] = dict(state["invoice"], invoice_number="EXT/0002")
        repair._fleet_apply_state(state)
        self.assertEqual(invoice.fleet_invoice_status, "refused")
        self.assertIn("EXT/0002", invoice.fleet_invoice_message)

    def test_an_invoice_the_fleet_may_have_seen_is_never_reset_to_draft(self):
        repair = self.approved_job()
        invoice = self.invoice_jobs(repair)
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            invoice.button_draft()  # to send: the fleet may see it any moment
        self.after_commit()
        with self.assertRaisesRegex(UserError, "cannot be reset to draft"):
            invoice.button_draft()
        self.assertEqual(invoice.state, "posted")
