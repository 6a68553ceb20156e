"""The invoice side of AutoIntegrate: the posting gate and the fleet invoice.

``account.move._post`` is the one place every posting goes through: the
Post button, the ``validate.account.move`` wizard, the auto-post cron and
the online-payment flow (``account_payment``'s transaction post-processing
posts the invoices ``sale`` made for the paid orders). So the gate is
called there: a customer invoice holding AutoIntegrate work is posted only
when that work is what the fleet approved (the rule is the job's, in
``repair.order._fleet_invoice_problems``; the Invoice action asks its
``_fleet_invoice_refusal`` before it creates anything), and posting it
sends it to the fleet (contract 6.1), in the same transaction. A refusal or
a failure raises ``UserError``, so nothing stays half done: the caller's
transaction (or the cron's savepoint) rolls the posting back, and because
the call's idempotency key is derived from its body, posting again replays
the fleet's stored answer instead of invoicing twice.

The online-payment flow must not raise (it would break the processing of a
payment the customer made): there, invoices holding AutoIntegrate work are
left in draft with a note (see ``payment.transaction``).
"""

import logging
from decimal import Decimal

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..const import ONLINE_PAYMENT_CONTEXT
from ..lib import autointegrate as ai
from ..lib.autointegrate import formatting
from ..tools import describe_problems, user_error

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "autointegrate.chatter.mixin", "autointegrate.fleet.state.mixin"]
    # stamped by the job's quotation (sale's invoicing runs in sudo) and by the fleet's answer
    _fleet_state_fields = ("fleet_repair_id", "fleet_authorization_number", "fleet_invoice_status")

    fleet_repair_id = fields.Many2one(
        "repair.order", string="AutoIntegrate Job", copy=False, readonly=True, index="btree_not_null",
        check_company=True, groups="stock.group_stock_user",
    )
    fleet_authorization_number = fields.Char(
        string="Fleet Authorization", copy=False, readonly=True, tracking=True,
        help="The fleet's authorization number of the invoiced work; printed on the invoice.",
    )
    fleet_invoice_status = fields.Selection(
        [("approved", "Fleet approved")], copy=False, readonly=True,
        tracking=True, help="Fleet approved: the fleet accepted this invoice through AutoIntegrate.",
    )

    # ---------------------------------------------------------------- gate
    def _fleet_job(self):
        """:return: the AutoIntegrate jobs (sudo) whose work this invoice holds."""
        self.ensure_one()
        orders = self.sudo().invoice_line_ids.sale_line_ids.order_id
        return orders.repair_order_ids.filtered("is_autointegrate")

    def _fleet_posting_problems(self):
        """:return: ``{move: [problem, ...]}`` for the customer invoices of
        ``self`` that may not be posted, every problem naming the job and,
        when it is one, the line."""
        problems = {}
        for move in self.filtered(lambda m: m.move_type == "out_invoice"):
            found = move.sudo()._fleet_check_posting()
            if found:
                problems[move] = found
        return problems

    def _fleet_check_posting(self):
        """:return: why this customer invoice may not be posted (see ``repair.order._fleet_invoice_problems``)."""
        self.ensure_one()
        jobs = self._fleet_job()
        if not jobs:
            lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
            if not lines.sale_line_ids and self.partner_id and self.partner_id._is_autointegrate():
                return [_("%(partner)s is invoiced through AutoIntegrate: invoice AutoIntegrate accounts from "
                          "their repair order (Invoice on the job), not with a manual invoice.",
                          partner=self.partner_id.commercial_partner_id.display_name)]
            return []
        if len(jobs) > 1:
            return [_("This invoice holds the work of several AutoIntegrate jobs (%(jobs)s): invoice each job on "
                      "its own.", jobs=", ".join(jobs.mapped("name")))]
        if jobs.company_id != self.company_id:
            # posting sends the invoice with the job's company's account: never another company's invoice
            return [_("%(job)s is a job of %(company)s: invoice it in that company.", job=jobs.name,
                      company=jobs.company_id.name)]
        return jobs._fleet_invoice_problems(self)

    @api.model
    def _fleet_line_label(self, line):
        """:return: how an invoice line is named in the messages of the gate and the fleet's refusals."""
        text = (line.name or line.product_id.display_name or "").strip()
        return text.splitlines()[0] if text else _("(no description)")

    def _fleet_problems_message(self, problems):
        parts = []
        for move, found in problems.items():
            name = move.name if move.name and move.name != "/" else move.display_name
            parts.append(_("%(invoice)s cannot be posted:\n%(problems)s", invoice=name,
                           problems="\n".join(f"- {problem}" for problem in found)))
        return "\n\n".join(parts)

    def _fleet_defer(self, problems=()):
        """Leave this invoice in draft, say why in its chatter and the log.

        Its payment transactions are unlinked from it: ``account_payment``
        reconciles a transaction's payment with the transaction's invoices
        and cannot reconcile a draft. The payment is then posted as the
        customer's outstanding payment, to reconcile with the invoice once
        the shop posted it.
        """
        self.ensure_one()
        jobs = self._fleet_job()
        transactions = self.sudo().transaction_ids
        if transactions:
            self.sudo().transaction_ids = [Command.clear()]
        reasons = Markup("").join(Markup("<li>%s</li>") % problem for problem in problems)
        body = Markup("%s%s%s") % (
            _("Not posted with the online payment: this invoice holds work of AutoIntegrate job %(jobs)s. "
              "AutoIntegrate invoices are posted from the job (Invoice), which sends them to the fleet.",
              jobs=", ".join(jobs.mapped("name")) or "-"),
            Markup(" %s") % _("The payment of %(transactions)s is kept as the customer's outstanding payment: "
                              "reconcile it with this invoice once the invoice is posted.",
                              transactions=", ".join(transactions.mapped("reference"))) if transactions else "",
            Markup("<ul>%s</ul>") % reasons if problems else "",
        )
        self.sudo().message_post(body=body)
        _logger.warning("AutoIntegrate: invoice %s (id %s) of job(s) %s left in draft by the online payment flow%s",
                        self.display_name, self.id, ", ".join(jobs.mapped("name")) or "-",
                        (": " + "; ".join(problems)) if problems else "")

    def _post(self, soft=True):
        problems = self._fleet_posting_problems()
        if self.env.context.get(ONLINE_PAYMENT_CONTEXT):
            # The online-payment flow: never raise there. Every invoice holding
            # AutoIntegrate work (or refused) stays in draft with a note.
            deferred = self.filtered(
                lambda m: m in problems or (m.move_type == "out_invoice" and m._fleet_job())
            )
            for move in deferred:
                move._fleet_defer(problems.get(move, ()))
            to_post = self - deferred
            if not to_post:
                return to_post
            posted = super(AccountMove, to_post)._post(soft)
        else:
            if problems:
                raise UserError(self._fleet_problems_message(problems))
            posted = super()._post(soft)
        for move in posted.filtered(lambda m: m.move_type == "out_invoice"):
            job = move._fleet_job()
            if job:
                move._fleet_send_invoice(job)
        return posted

    # ------------------------------------------------------ fleet invoice
    def _fleet_invoice_lines(self, job):
        """:return: ``[(line_ref, quantity, amount, label)]`` of this invoice,
        one per fleet line, quantities and amounts as Decimals."""
        self.ensure_one()
        out = {}
        for line in self.sudo().invoice_line_ids.filtered(lambda ln: ln.display_type == "product"):
            sale_line = line.sale_line_ids.filtered(lambda sl: sl.order_id == job.sale_order_id)[:1]
            ref = sale_line.fleet_line_ref
            quantity = line.product_uom_id._compute_quantity(line.quantity, sale_line.product_uom)
            entry = out.setdefault(ref, [Decimal(0), Decimal(0), self._fleet_line_label(line)])
            entry[0] += formatting.to_decimal(quantity)
            entry[1] += formatting.round_cents(line.price_subtotal)
        return [(ref, quantity, amount, label) for ref, (quantity, amount, label) in out.items()]

    def _fleet_invoice_body(self, job):
        """The invoice body of contract 6.1."""
        self.ensure_one()
        lines = self._fleet_invoice_lines(job)
        untaxed = sum((amount for _ref, _qty, amount, _label in lines), Decimal(0))
        tax = formatting.round_cents(self.amount_tax)
        body = {
            "invoice_number": self.name,
            "invoice_date": fields.Date.to_string(self.invoice_date),
            "lines": [{"line_ref": ref, "quantity": formatting.format_quantity(quantity),
                       "amount": formatting.format_amount(amount)} for ref, quantity, amount, _label in lines],
            "totals": {"untaxed": formatting.format_amount(untaxed), "tax": formatting.format_amount(tax),
                       "total": formatting.format_amount(untaxed + tax)},
        }
        if job.fleet_odometer:
            body["odometer"] = job.fleet_odometer
        return body

    def _fleet_send_invoice(self, job):
        """Send this posted invoice to the fleet and store its answer.

        :param job: the AutoIntegrate job (sudo) whose work it holds
        :raise UserError: the fleet refused it (the offending lines named) or
            could not be reached; the caller's transaction rolls back
        """
        self.ensure_one()
        job._fleet_lock()
        body = self._fleet_invoice_body(job)
        company = job.company_id
        client = company._autointegrate_client()
        try:
            state = client.invoice(job.fleet_ro_id, body)
        except ai.ValidationError as error:
            labels = {ref: label for ref, _qty, _amount, label in self._fleet_invoice_lines(job)}
            raise UserError(_("The fleet refused invoice %(invoice)s of %(job)s:\n%(problems)s",
                              invoice=self.name, job=job.name,
                              problems=describe_problems(self.env, error.details, body, job, labels))) from error
        except ai.InvalidStateError as error:
            state = self._fleet_invoice_conflict(job, client, error)
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error, client.base_url) from error
        job._fleet_apply_state(state)
        # header bookkeeping only: account's resynchronisation of the invoice's lines has nothing to do
        self.with_context(skip_invoice_sync=True)._fleet_write_state({
            "fleet_repair_id": job.id,
            "fleet_invoice_status": "approved",
            "fleet_authorization_number": state.get("authorization_number") or job.fleet_authorization_number,
        })
        # said once in each chatter, in the entry that tracks what changed (see _fleet_say)
        self._fleet_say(Markup("<p>%s</p>") % _(
            "Sent to the fleet with AutoIntegrate (RO %(ro)s, authorization %(auth)s): the fleet approved the "
            "invoice.", ro=job.fleet_ro_id, auth=self.fleet_authorization_number or "-"))
        job._fleet_say(Markup("<p>%s</p>") % _(
            "Invoice %(invoice)s was sent to the fleet and approved; the fleet's RO is completed.", invoice=self.name))

    def _fleet_invoice_conflict(self, job, client, error):
        """409 on the invoice: the fleet's RO is not invoiceable. When it is
        completed with this very invoice (an earlier answer was lost), that
        is success; otherwise refuse.

        :return: the RO state
        """
        try:
            state = client.get_ro(job.fleet_ro_id)
        except ai.AutoIntegrateError:
            state = None
        if state and state.get("status") == "completed" and state.get("invoice_number") == self.name:
            return state
        status = (state or {}).get("status")
        label = dict(job._fields["fleet_status"]._description_selection(self.env)).get(status, status or "?")
        raise UserError(_("The fleet cannot take invoice %(invoice)s of %(job)s now: its RO is %(status)s at the "
                          "fleet. Open the job to see the fleet's current status.",
                          invoice=self.name, job=job.name, status=label)) from error

    # ------------------------------------------------------ mail.thread hooks
    def _track_get_default_log_message(self, tracked_fields):
        return self._fleet_said_body() or super()._track_get_default_log_message(tracked_fields)
