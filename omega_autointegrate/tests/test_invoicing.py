import re
from contextlib import contextmanager
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import AutoIntegrateFlowCase, raise_if_refused


@tagged("post_install", "-at_install")
class TestInvoicing(AutoIntegrateFlowCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company, install_demo=False)
        cls.tax = cls.env["account.tax"].create({
            "name": "Sales tax 10%",
            "amount": 10.0,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "company_id": cls.company.id,
        })

    # ------------------------------------------------------------ helpers
    def refs(self, repair):
        return self.line(repair, self.windshield).fleet_line_ref, self.line(repair, self.labor).fleet_line_ref

    def approved_job(self, lines=None, partner=None):
        """A job the fleet decided (every line approved unless ``lines``
        says otherwise), its decision pulled the way a user does."""
        repair = self.make_job(partner)
        self.send(repair)
        if lines is None:
            self.fleet_decide(repair, all="approved")
        else:
            glass_ref, labor_ref = self.refs(repair)
            self.fleet_decide(repair, {{"glass": glass_ref, "labor": labor_ref}[key]: value
                                       for key, value in lines.items()})
        repair.action_send_to_fleet()
        return repair

    def invoice_dialog(self, repairs):
        """Invoice in the list's Action menu: the YES / NO dialog."""
        action = self.env.ref("omega_autointegrate.action_repair_invoice_wizard")
        self.assertEqual((action.binding_model_id.model, action.binding_view_types), ("repair.order", "list,form"))
        context = {"active_model": "repair.order", "active_ids": repairs.ids, "active_id": repairs[:1].id}
        return Form(self.env[action.res_model].with_context(**context)).save()

    def invoice_jobs(self, repairs):
        """Invoice → YES. :return: the invoices the action opens.

        :raise UserError: with the message shown when nothing was invoiced (the dialog then closes)
        """
        action = raise_if_refused(self.invoice_dialog(repairs).action_confirm())
        self.assertEqual(action["res_model"], "account.move")
        if action.get("res_id"):
            return self.env["account.move"].browse(action["res_id"])
        return self.env["account.move"].search(action["domain"], order="id")

    def invoices_of(self, repair):
        return self.env["account.move"].search([("invoice_line_ids.sale_line_ids.order_id", "=",
                                                 repair.sale_order_id.id)])

    def quotation_invoice(self, repair, method="delivered", context=None, **values):
        """The quotation's Create Invoice wizard."""
        order = repair.sale_order_id
        if order.state in ("draft", "sent"):
            order.action_confirm()
        wizard = self.env["sale.advance.payment.inv"].with_context(
            active_model="sale.order", active_ids=order.ids, active_id=order.id, **(context or {}),
        ).create(dict({"advance_payment_method": method}, **values))
        before = order.invoice_ids
        wizard.create_invoices()
        return order.invoice_ids - before

    def fleet_invoice(self, repair):
        return self.admin_get(f"/ro/{repair.fleet_ro_id}")["invoice"]

    def product_lines(self, invoice):
        return invoice.invoice_line_ids.filtered(lambda line: line.display_type == "product")

    def report_html(self, invoice):
        html, _type = self.env["ir.actions.report"]._render_qweb_html("account.account_invoices", invoice.ids)
        return html.decode()

    # ------------------------------------------------------ Invoice action
    def test_invoice_a_fleet_job_and_a_standard_job(self):
        fleet_job = self.make_job()
        self.line(fleet_job, self.windshield).tax_id = self.tax
        self.send(fleet_job)
        self.fleet_decide(fleet_job, all="approved")
        fleet_job.action_send_to_fleet()
        standard_job = self.make_job(self.walk_in)
        self.assertEqual(self.invoice_dialog(fleet_job).message, "Invoice 1 job?")
        self.assertEqual(self.invoice_dialog(fleet_job | standard_job).message, "Invoice 2 jobs?")

        invoices = self.invoice_jobs(fleet_job | standard_job)
        # posted and committed first, then sent to the fleet
        self.assertEqual(invoices.mapped("state"), ["posted", "posted"])
        self.assertEqual(set(invoices.mapped("fleet_invoice_status")), {"to_send", False})
        self.assertFalse(self.fleet_invoice(fleet_job))
        self.after_commit()

        self.assertEqual(len(invoices), 2)
        self.assertEqual(invoices.mapped("state"), ["posted", "posted"])
        fleet_invoice = invoices.filtered(lambda move: move.partner_id.commercial_partner_id == self.fleet_account)
        standard_invoice = invoices - fleet_invoice
        # the fleet job: approved, with the authorization number, sent to the fleet
        self.assertTrue(fleet_job.fleet_authorization_number.startswith("AUTH-"))
        self.assertEqual(fleet_invoice.fleet_invoice_status, "approved")
        self.assertEqual(fleet_invoice.fleet_authorization_number, fleet_job.fleet_authorization_number)
        self.assertEqual(fleet_invoice.fleet_repair_id, fleet_job)
        self.assertEqual((fleet_invoice.amount_untaxed, fleet_invoice.amount_tax), (554.5, 41.2))
        self.assertEqual(fleet_job.fleet_status, "completed")
        self.assertEqual(self.admin_get(f"/ro/{fleet_job.fleet_ro_id}")["status"], "completed")
        glass_ref, labor_ref = self.refs(fleet_job)
        self.assertEqual(self.fleet_invoice(fleet_job), {
            "invoice_number": fleet_invoice.name,
            "invoice_date": fields.Date.to_string(fleet_invoice.invoice_date),
            "odometer": 48211,
            "lines": [{"line_ref": glass_ref, "quantity": "1.000", "amount": "412.00"},
                      {"line_ref": labor_ref, "quantity": "1.500", "amount": "142.50"}],
            "totals": {"untaxed": "554.50", "tax": "41.20", "total": "595.70"},
        })
        # said once in each chatter, in the entry that tracks what changed
        said = fleet_invoice.message_ids.filtered(lambda m: "the fleet approved the invoice" in m.body)
        self.assertEqual(len(said), 1)
        self.assertIn("fleet_invoice_status", said.tracking_value_ids.field_id.mapped("name"))
        done = fleet_job.message_ids.filtered(lambda m: "was sent to the fleet and approved" in m.body)
        self.assertEqual(len(done), 1)
        status = done.tracking_value_ids.filtered(lambda value: value.field_id.name == "fleet_status")
        self.assertEqual(status.new_value_char, "Invoiced")
        html = self.report_html(fleet_invoice)
        self.assertIn("Fleet approved", html)
        self.assertIn(fleet_job.fleet_authorization_number, html)
        # the standard job: every line, nothing of the fleet
        self.assertEqual(standard_invoice.amount_untaxed, 554.5)
        self.assertFalse(standard_invoice.fleet_invoice_status)
        self.assertFalse(standard_invoice.fleet_authorization_number)
        self.assertNotIn("Fleet approved", self.report_html(standard_invoice))
        self.assertEqual(standard_job.sale_order_id.invoice_status, "invoiced")

    def test_adjusted_line_is_invoiced_at_its_approved_quantity_and_amount(self):
        repair = self.approved_job({"glass": "approved",
                                    "labor": {"status": "approved", "approved_quantity": "1.000",
                                              "approved_amount": "95.00"}})
        self.assertEqual(self.line(repair, self.labor).fleet_status, "adjusted")
        invoice = self.invoice_jobs(repair)
        self.after_commit()
        labor = self.product_lines(invoice).filtered(lambda line: line.product_id == self.labor)
        self.assertEqual((labor.quantity, labor.price_subtotal), (1.0, 95.0))
        self.assertEqual(invoice.amount_untaxed, 507.0)
        glass_ref, labor_ref = self.refs(repair)
        sent = self.fleet_invoice(repair)
        self.assertEqual(sent["lines"], [{"line_ref": glass_ref, "quantity": "1.000", "amount": "412.00"},
                                         {"line_ref": labor_ref, "quantity": "1.000", "amount": "95.00"}])
        self.assertEqual(sent["totals"]["untaxed"], "507.00")
        self.assertEqual(repair.fleet_status, "completed")

    def test_adjusted_amount_is_never_exceeded(self):
        # 100.00 for 1.5 h cannot be reached with a 2-decimal unit price: a cent under it
        repair = self.approved_job({"glass": "approved",
                                    "labor": {"status": "approved", "approved_amount": "100.00"}})
        labor_line = self.line(repair, self.labor)
        self.assertEqual((labor_line.fleet_status, labor_line.fleet_approved_qty), ("adjusted", 1.5))
        invoice = self.invoice_jobs(repair)
        self.after_commit()
        labor = self.product_lines(invoice).filtered(lambda line: line.product_id == self.labor)
        self.assertEqual((labor.quantity, labor.price_unit, labor.price_subtotal), (1.5, 66.66, 99.99))
        self.assertEqual(self.fleet_invoice(repair)["lines"][1]["amount"], "99.99")

    def test_denied_line_is_left_out(self):
        repair = self.approved_job({"glass": "approved", "labor": {"status": "denied", "reason": "Max 1.0 h"}})
        self.assertEqual(repair.fleet_status, "partially_approved")
        # a fresh denial is for the shop to look at first
        with self.assertRaisesRegex(UserError, f"The fleet denied lines of {repair.name}"):
            self.invoice_jobs(repair)
        repair.action_fleet_save_and_send()  # sent again as it is: the denial is accepted
        self.assertEqual((repair.fleet_status, repair.fleet_needs_resubmit), ("partially_approved", False))
        invoice = self.invoice_jobs(repair)
        self.after_commit()
        self.assertEqual(self.product_lines(invoice).product_id, self.windshield)
        self.assertEqual(invoice.amount_untaxed, 412.0)
        glass_ref, _labor_ref = self.refs(repair)
        self.assertEqual(self.fleet_invoice(repair)["lines"],
                         [{"line_ref": glass_ref, "quantity": "1.000", "amount": "412.00"}])
        self.assertEqual(repair.fleet_status, "completed")

    def test_unapproved_job_is_refused_and_nothing_is_posted(self):
        approved = self.approved_job()
        pending = self.make_job()
        self.send(pending)
        # assertRaisesRegex keeps what was done (no savepoint): it shows that nothing was
        message = (f"The fleet has not approved {pending.name} (fleet status: Awaiting fleet): it cannot be "
                   "invoiced.")
        with self.assertRaisesRegex(UserError, f"^{re.escape(message)}$"):
            self.invoice_jobs(approved | pending)
        for repair in approved | pending:
            self.assertFalse(self.invoices_of(repair))
            self.assertEqual(repair.sale_order_id.state, "draft")
        self.assertEqual(self.admin_get(f"/ro/{approved.fleet_ro_id}")["status"], "approved")
        self.assertFalse(self.fleet_invoice(approved))
        self.assertEqual(approved.fleet_status, "approved")

    def test_jobs_that_cannot_be_invoiced_say_why(self):
        not_sent = self.make_job()
        no_quotation = self.make_job(self.walk_in, with_quotation=False)
        with self.assertRaisesRegex(UserError, f"{not_sent.name} has not been sent to the fleet"):
            self.invoice_jobs(not_sent)
        with self.assertRaisesRegex(UserError, f"{no_quotation.name} has no quotation"):
            self.invoice_jobs(no_quotation)
        done = self.approved_job()
        invoice = self.invoice_jobs(done)
        # until the fleet answered, its invoice waits: nothing else is invoiced meanwhile
        with self.assertRaisesRegex(UserError, f"Invoice {invoice.name} of {done.name} waits for the fleet's answer"):
            self.invoice_jobs(done)
        self.after_commit()
        with self.assertRaisesRegex(UserError, f"{done.name} was invoiced to the fleet already"):
            self.invoice_jobs(done)

    def test_job_changed_since_approval_is_refused(self):
        repair = self.approved_job()
        self.line(repair, self.labor).product_uom_qty = 2.0
        self.assertTrue(repair.fleet_changed)
        with self.assertRaisesRegex(UserError, f"{repair.name} changed since the fleet approved it"):
            self.invoice_jobs(repair)
        self.assertFalse(self.invoices_of(repair))
        # nor through the quotation: the invoice is made, its posting refused
        invoice = self.quotation_invoice(repair)
        with self.assertRaisesRegex(UserError, f"{repair.name} changed since the fleet approved it"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")

    # ------------------------------------------------- every posting path
    def test_create_invoice_wizard_on_unapproved_order_cannot_post(self):
        repair = self.make_job()
        self.send(repair)
        invoice = self.quotation_invoice(repair)
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.amount_untaxed, 554.5)  # a draft of every line is harmless
        with self.assertRaises(UserError) as info:
            invoice.action_post()
        message = str(info.exception)
        self.assertIn(f"The fleet has not approved {repair.name}", message)
        self.assertIn(f"{repair.name}, line “Install windshield”: the fleet has not approved it (Awaiting fleet)",
                      message)
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(self.fleet_invoice(repair))

    def test_create_invoice_wizard_on_approved_order_posts_to_the_fleet(self):
        repair = self.approved_job({"glass": "approved", "labor": {"status": "approved",
                                                                   "approved_quantity": "1.000",
                                                                   "approved_amount": "95.00"}})
        invoice = self.quotation_invoice(repair)
        self.assertEqual(invoice.fleet_authorization_number, repair.fleet_authorization_number)
        self.assertEqual(invoice.amount_untaxed, 507.0)  # approved work only
        # the draft is saved; the accountant posts it later
        self.env.flush_all()
        self.env.cr.precommit.run()
        invoice.action_post()
        self.after_commit()
        self.assertEqual((invoice.state, invoice.fleet_invoice_status), ("posted", "approved"))
        self.assertEqual(self.fleet_invoice(repair)["invoice_number"], invoice.name)
        self.assertEqual(repair.fleet_status, "completed")
        # the posting is one entry (posted, to send to the fleet), the fleet's approval the next one
        posting = invoice.message_ids.filtered(lambda m: m.subtype_id == self.env.ref("account.mt_invoice_validated"))
        self.assertEqual(len(posting), 1)
        said = invoice.message_ids.filtered(lambda m: "the fleet approved the invoice" in m.body)
        self.assertEqual(len(said), 1)
        self.assertGreater(said.id, posting.id)
        values = said.tracking_value_ids.filtered(lambda value: value.field_id.name == "fleet_invoice_status")
        self.assertEqual((values.old_value_char, values.new_value_char), ("To send to the fleet", "Fleet approved"))

    def test_down_payment_is_refused(self):
        repair = self.approved_job()
        with self.assertRaisesRegex(UserError, f"AutoIntegrate job {repair.name}: .* takes no down payment"):
            self.quotation_invoice(repair, method="percentage", amount=50)
        self.assertFalse(repair.sale_order_id.order_line.filtered("is_downpayment"))
        self.assertFalse(self.invoices_of(repair))
        # made anyway (the online payment flow may not refuse it), its posting is
        down_payment = self.quotation_invoice(repair, method="fixed", fixed_amount=100,
                                              context={"autointegrate_online_payment": True})
        with self.assertRaisesRegex(UserError, f"{repair.name}, line .*a down payment is not approved work"):
            down_payment.action_post()
        self.assertEqual(down_payment.state, "draft")

    def test_amount_raised_above_approval_is_refused_at_posting(self):
        repair = self.approved_job()
        invoice = self.quotation_invoice(repair)
        with Form(invoice) as form:
            index = next(i for i, line in enumerate(invoice.invoice_line_ids) if line.product_id == self.labor)
            with form.invoice_line_ids.edit(index) as line:
                line.quantity = 2.0
        with self.assertRaises(UserError) as info:
            invoice.action_post()
        message = str(info.exception)
        self.assertIn(f"{repair.name}, line “Install windshield”: quantity 2.000 is more than the 1.500 the fleet "
                      "approved.", message)
        self.assertIn(f"{repair.name}, line “Install windshield”: amount 190.00 is more than the 142.50 the fleet "
                      "approved.", message)
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(self.fleet_invoice(repair))

    def test_auto_post_cron_leaves_unapproved_invoice_in_draft(self):
        pending = self.make_job()
        self.send(pending)
        unapproved = self.quotation_invoice(pending)
        approved_job = self.approved_job()
        approved = self.quotation_invoice(approved_job)
        today = fields.Date.context_today(self.env.user)
        (unapproved | approved).write({"auto_post": "at_date", "invoice_date": today})
        self.env["account.move"]._autopost_draft_entries()  # no exception: the cron goes on
        self.after_commit()
        self.assertEqual(unapproved.state, "draft")
        self.assertIn(f"The fleet has not approved {pending.name}", unapproved.message_ids[:1].body)
        self.assertIn("could not be posted", unapproved.message_ids[:1].body)
        self.assertEqual((approved.state, approved.fleet_invoice_status), ("posted", "approved"))
        self.assertEqual(approved_job.fleet_status, "completed")

    def test_manual_invoice_to_a_fleet_account_is_refused(self):
        def manual_invoice(partner):
            with Form(self.env["account.move"].with_context(default_move_type="out_invoice")) as form:
                form.partner_id = partner
                with form.invoice_line_ids.new() as line:
                    line.product_id = self.labor
                    line.quantity = 1.0
            return form.record

        invoice = manual_invoice(self.driver)
        with self.assertRaisesRegex(UserError, "Enterprise Fleet Management is invoiced through AutoIntegrate: "
                                               "invoice AutoIntegrate accounts from their repair order"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        walk_in = manual_invoice(self.walk_in)
        walk_in.action_post()
        self.assertEqual(walk_in.state, "posted")

    # ------------------------------------------------------ fleet answers
    def test_a_fleet_refusal_is_told_and_never_rolls_the_invoice_back(self):
        repair = self.approved_job()
        _glass_ref, labor_ref = self.refs(repair)
        # the fleet lowers its approval; we have not read it yet
        self.fleet_decide(repair, {labor_ref: {"status": "approved", "approved_quantity": "1.000",
                                               "approved_amount": "95.00"}})
        invoice = self.invoice_jobs(repair)
        self.after_commit()
        # posted, its number kept: the fleet's refusal is on it, in both chatters and as a to-do
        self.assertEqual((invoice.state, invoice.fleet_invoice_status), ("posted", "refused"))
        message = invoice.fleet_invoice_message
        self.assertIn(f"The fleet refused invoice {invoice.name} of {repair.name}", message)
        self.assertIn(f"{repair.name}, line “Install windshield” ({labor_ref}): quantity exceeds the approved "
                      "quantity 1.000", message)
        self.assertIn("amount exceeds the approved amount 95.00", message)
        said = invoice.message_ids.filtered(lambda m: "The fleet refused this invoice." in m.body)
        self.assertEqual(len(said), 1)
        self.assertIn("quantity exceeds the approved quantity 1.000", said.body)
        self.assertTrue(repair.message_ids.filtered(lambda m: f"The fleet refused invoice {invoice.name}" in m.body))
        self.assertEqual(invoice.activity_ids.summary, "The fleet refused this invoice")
        # the job shows what the fleet approves now; the fleet's RO is still approved and holds no invoice
        self.assertEqual((repair.fleet_status, self.line(repair, self.labor).fleet_status), ("approved", "adjusted"))
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["status"], "approved")
        self.assertFalse(self.fleet_invoice(repair))
        # sending it again is safe and changes nothing: the fleet still refuses it
        action = invoice.action_fleet_send_invoice()
        self.assertEqual((action["params"]["type"], invoice.fleet_invoice_status), ("warning", "refused"))
        # the shop reverses it, then invoices what the fleet approves now
        invoice._reverse_moves(cancel=True)
        self.assertEqual(invoice.payment_state, "reversed")
        second = self.invoice_jobs(repair)
        self.after_commit()
        labor = self.product_lines(second).filtered(lambda line: line.product_id == self.labor)
        self.assertEqual((labor.quantity, labor.price_subtotal), (1.0, 95.0))
        self.assertEqual((second.fleet_invoice_status, repair.fleet_status), ("approved", "completed"))
        self.assertEqual(self.fleet_invoice(repair)["invoice_number"], second.name)
        self.assertNotEqual(second.name, invoice.name)

    # ---------------------------------------------------- online payment
    @contextmanager
    def _none_payment_method(self):
        Method = self.env.registry["account.payment.method"]
        original = Method._get_payment_method_information

        def _get_payment_method_information(model):
            info = original(model)
            info["none"] = {"mode": "electronic", "type": ("bank",)}
            return info

        with patch.object(Method, "_get_payment_method_information", _get_payment_method_information):
            yield

    def pay_online(self, order, amount):
        """A customer pays ``order`` online; the transaction is processed."""
        self.env["ir.config_parameter"].sudo().set_param("sale.automatic_invoice", "True")
        method = self.env.ref("payment.payment_method_unknown")
        with self._none_payment_method():
            self.env["account.payment.method"].sudo().create(
                {"name": "Dummy method", "code": "none", "payment_type": "inbound"})
            provider = self.env["payment.provider"].create({
                "name": "Dummy Provider", "code": "none", "state": "test", "company_id": self.company.id,
                "payment_method_ids": [Command.set(method.ids)],
            })
            method.active = True
            provider.journal_id = self.env["account.journal"].search(
                [("type", "=", "bank"), ("company_id", "=", self.company.id)], limit=1)
        tx = self.env["payment.transaction"].create({
            "provider_id": provider.id, "payment_method_id": method.id, "amount": amount,
            "currency_id": order.currency_id.id, "partner_id": order.partner_invoice_id.id,
            "reference": f"TX-{order.name}", "operation": "online_redirect",
            "sale_order_ids": [Command.set(order.ids)],
        })
        tx._set_done()
        tx._post_process()
        return tx

    def test_online_payment_posts_an_approved_fleet_invoice_and_sends_it(self):
        repair = self.approved_job()
        order = repair.sale_order_id
        tx = self.pay_online(order, order.amount_total)
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(order.state, "sale")
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        # the gate passes: posted with the payment and reconciled with it, then sent once committed
        self.assertEqual((invoice.state, invoice.fleet_invoice_status), ("posted", "to_send"))
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.after_commit()
        self.assertEqual((invoice.fleet_invoice_status, repair.fleet_status), ("approved", "completed"))
        self.assertEqual(self.fleet_invoice(repair)["invoice_number"], invoice.name)

    def test_online_down_payment_of_unapproved_job_does_not_break_the_payment(self):
        repair = self.make_job()
        self.send(repair)
        order = repair.sale_order_id
        order.require_payment = True
        order.prepayment_percent = 0.5
        tx = self.pay_online(order, 300.0)
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.is_post_processed)
        self.assertTrue(tx.payment_id)
        down_payment = order.invoice_ids
        self.assertEqual(len(down_payment), 1)
        self.assertTrue(down_payment.invoice_line_ids.sale_line_ids.is_downpayment)
        self.assertEqual(down_payment.state, "draft")
        self.assertIn(repair.name, down_payment.message_ids[:1].body)
        self.assertIn("a down payment is not approved work", down_payment.message_ids[:1].body)
