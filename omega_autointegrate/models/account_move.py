"""The invoice side of AutoIntegrate: the posting gate and the fleet invoice.

``account.move._post`` is the one place every posting goes through: the
Post button, the ``validate.account.move`` wizard, the auto-post cron and
the online-payment flow (``account_payment``'s transaction post-processing
posts the invoices ``sale`` made for the paid orders). So the gate is
called there: a customer invoice holding AutoIntegrate work is posted only
when that work is what the fleet approved (the rule is the job's, in
``repair.order._fleet_invoice_problems``; the Invoice action asks its
``_fleet_invoice_refusal`` before it creates anything). A refusal raises
``UserError`` and nothing is posted.

Posting does not wait for the fleet. The posted invoice is committed with
its fleet invoice (contract 6.1) frozen on it (``fleet_invoice_body``, which
names the invoice: its number is never given to another invoice, so the
fleet can never hold two ROs under one number), then sent right after the
commit, in a cursor of its own (``_fleet_send_after_commit``), and again by
a cron until the fleet answered: the same body each time, so the same
idempotency key, and a retry never invoices twice. The invoice shows the
fleet's answer (``fleet_invoice_status``: to send, sent without an answer
yet, fleet approved, refused). A lost answer is also settled from any RO
state that names the invoice the fleet holds (webhook, poll, reconciliation,
a read): see ``_fleet_settle_invoices``. A refusal is a badge, a message in
the invoice's and the job's chatter and a to-do; the invoice is never
rolled back because of the fleet. The job turns *Invoiced* when the fleet's
RO is completed, that is when the fleet accepted.

The online-payment flow must not raise (it would break the processing of a
payment the customer made): there, invoices the gate refuses are left in
draft with a note (see ``payment.transaction``); the others are posted and
sent as any posting.
"""

import json
import logging
from datetime import timedelta
from decimal import Decimal
from functools import partial

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, format_datetime

from ..const import (
    FLEET_INVOICE_RETRY_MAX_S,
    FLEET_INVOICE_RETRY_S,
    FLEET_INVOICE_STATUSES,
    FLEET_INVOICE_TRIES_AT_ONCE,
    FLEET_INVOICE_WAITING,
    ONLINE_PAYMENT_CONTEXT,
)
from ..lib import autointegrate as ai
from ..lib.autointegrate import bodies, formatting
from ..tools import describe_problems, user_message

#: postcommit data: the ids of the invoices posted in the transaction, sent once it is committed
TO_SEND = "omega_autointegrate.invoices_to_send"
#: the cron that sends again what the fleet has not answered
SEND_CRON = "omega_autointegrate.ir_cron_autointegrate_send_invoices"
#: the to-do of a refused invoice: one open per invoice, done once the refusal is settled
ACTIVITY_REFUSED = "omega_autointegrate.mail_activity_type_fleet_invoice_refused"

_logger = logging.getLogger(__name__)


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "autointegrate.chatter.mixin", "autointegrate.fleet.state.mixin"]
    # stamped by the job's quotation (sale's invoicing runs in sudo), at posting and by the fleet's answer
    _fleet_state_fields = ("fleet_repair_id", "fleet_authorization_number", "fleet_invoice_status",
                           "fleet_invoice_message", "fleet_invoice_body", "fleet_invoice_tries",
                           "fleet_invoice_next_try")

    fleet_repair_id = fields.Many2one(
        "repair.order", string="AutoIntegrate Job", copy=False, readonly=True, index="btree_not_null",
        check_company=True, groups="stock.group_stock_user",
    )
    fleet_authorization_number = fields.Char(
        string="Fleet Authorization", copy=False, readonly=True, tracking=True,
        help="The fleet's authorization number of the invoiced work; printed on the invoice.",
    )
    fleet_invoice_status = fields.Selection(
        FLEET_INVOICE_STATUSES, copy=False, readonly=True, tracking=True,
        index="btree_not_null",
        help="Where the fleet stands on this invoice: to send (it will be sent to the fleet), sent without an "
             "answer yet (it is sent again automatically, never twice), fleet approved (the fleet accepted it), "
             "refused (the fleet's answer says why).",
    )
    fleet_invoice_message = fields.Text(
        string="Fleet's Answer", copy=False, readonly=True,
        help="What the fleet answered to this invoice, or why it has not answered yet.",
    )
    # the invoice as sent to the fleet (contract 6.1), frozen at posting: every try sends the same
    # bytes, so the same idempotency key
    fleet_invoice_body = fields.Text(copy=False, readonly=True)
    fleet_invoice_tries = fields.Integer(copy=False, readonly=True)
    fleet_invoice_next_try = fields.Datetime(copy=False, readonly=True)

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
        """Leave this invoice in draft, say why (the gate's problems) in its chatter and the log.

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
            _("Not posted with the online payment: this invoice holds work of AutoIntegrate job %(jobs)s that "
              "may not be invoiced now (see below). Post it from the job (Invoice) once the fleet approved the "
              "work; posting sends it to the fleet.", jobs=", ".join(jobs.mapped("name")) or "-"),
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
        online = self.env.context.get(ONLINE_PAYMENT_CONTEXT)
        if online:
            # The online-payment flow: never raise there. An invoice the gate
            # refuses stays in draft with a note; the others are posted.
            deferred = self.filtered(lambda m: m in problems)
            for move in deferred:
                move._fleet_defer(problems[move])
            to_post = self - deferred
            if not to_post:
                return to_post
            posted = super(AccountMove, to_post)._post(soft)
        else:
            if problems:
                raise UserError(self._fleet_problems_message(problems))
            posted = super()._post(soft)
        posted._fleet_queue_invoices(check=not online)
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

    # ---------------------------------------------- sent after the commit
    def _fleet_queue_invoices(self, check=True):
        """Freeze the fleet invoice of these posted invoices that hold an
        AutoIntegrate job's work, and send them once the posting is committed.

        :param check: refuse a fleet invoice that breaks the contract
            (``UserError``: the posting rolls back before the fleet saw its number)
        """
        now = fields.Datetime.now()
        queued = self.browse()
        for move in self.filtered(lambda m: m.move_type == "out_invoice"):
            job = move._fleet_job()
            if not job:
                continue
            body = move._fleet_invoice_body(job)
            details = bodies.validate_invoice_body(body)
            if details and check:
                labels = {ref: label for ref, _qty, _amount, label in move._fleet_invoice_lines(job)}
                raise UserError(_("%(invoice)s cannot be sent to the fleet of %(job)s. Fix the following:\n"
                                  "%(problems)s", invoice=move.name, job=job.name,
                                  problems=describe_problems(self.env, details, body, job, labels)))
            # header bookkeeping only: account's resynchronisation of the invoice's lines has nothing to do
            move.with_context(skip_invoice_sync=True)._fleet_write_state({
                "fleet_repair_id": job.id,
                "fleet_invoice_status": "to_send",
                "fleet_invoice_body": formatting.canonical_json(body),
                "fleet_invoice_message": False,
                "fleet_invoice_tries": 0,
                "fleet_invoice_next_try": now,
                "fleet_authorization_number": job.fleet_authorization_number or move.fleet_authorization_number,
            })
            queued |= move
        if queued:
            queued._fleet_send_after_commit()

    def _fleet_send_after_commit(self):
        """Send these invoices once this transaction is committed, in a cursor
        of its own (the invoices of one transaction in one go, in order); the
        cron sends what this leaves unanswered."""
        data = self.env.cr.postcommit.data
        if TO_SEND not in data:
            data[TO_SEND] = []
            context = {key: self.env.context[key] for key in ("lang", "tz") if self.env.context.get(key)}
            self.env.cr.postcommit.add(partial(_send_committed, self.env.registry, self.env.uid, context,
                                               data[TO_SEND]))
        data[TO_SEND].extend(self.ids)

    def _fleet_send_invoices(self, max_attempts=None, refused=False):
        """Send each of these posted invoices that waits for the fleet's answer
        (with ``refused``: or that the fleet refused), unless another
        transaction is sending it right now.

        :param max_attempts: the client's tries of each (default: its own)
        :return: the invoices sent
        """
        sent = self.browse()
        for move in self:
            if move._fleet_claim(refused):
                move._fleet_send_invoice(move.sudo().fleet_repair_id, max_attempts)
                sent |= move
        return sent

    def _fleet_claim(self, refused=False):
        """Lock this invoice's row when it still waits for the fleet's answer
        (posted, to send or sent; with ``refused``: or refused). Never waits: an
        invoice another transaction is sending, or has just sent, is skipped.

        :return: whether this transaction may send it or settle it
        """
        self.ensure_one()
        statuses = (*FLEET_INVOICE_WAITING, "refused") if refused else FLEET_INVOICE_WAITING
        self.flush_recordset(["state", "fleet_invoice_status"])
        try:
            with self.env.cr.savepoint(flush=False):
                # a lock taken, or a row changed since this transaction began, is the expected answer
                # here, not an error for the log
                self.env.cr.execute(SQL(
                    "SELECT id FROM account_move WHERE id = %s AND state = 'posted' AND fleet_invoice_status IN %s "
                    "FOR NO KEY UPDATE NOWAIT", self.id, tuple(statuses)), log_exceptions=False)
                claimed = bool(self.env.cr.fetchone())
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            return False
        self.invalidate_recordset(["state", "fleet_invoice_status"])
        return claimed

    def _fleet_send_invoice(self, job, max_attempts=None):
        """Send this posted invoice to the fleet and store its answer. The body
        is the one frozen at posting, so every try carries the same
        idempotency key: the fleet replays its answer instead of invoicing
        twice. Nothing is raised for the fleet's sake: the answer, or why
        there is none, is stored on the invoice (see ``fleet_invoice_status``).

        :param job: the AutoIntegrate job (sudo) whose work it holds
        :param max_attempts: the client's tries (default: its own)
        :return: the invoice's fleet status once answered
        """
        self.ensure_one()
        move = self.sudo()
        body = json.loads(move.fleet_invoice_body) if move.fleet_invoice_body else move._fleet_invoice_body(job)
        company = job.company_id
        url = company._autointegrate_account().api_url
        try:
            # the job's client: every exchange-log row of the invoice names its job
            client = company._autointegrate_client(job, **({"max_attempts": max_attempts} if max_attempts else {}))
            state = client.invoice(job.fleet_ro_id, body)
        except ai.ValidationError as error:
            labels = {ref: label for ref, _qty, _amount, label in move._fleet_invoice_lines(job)}
            move._fleet_invoice_refused(job, _(
                "The fleet refused invoice %(invoice)s of %(job)s:\n%(problems)s", invoice=move.name, job=job.name,
                problems=describe_problems(self.env, error.details, body, job, labels)), client)
        except ai.ConflictError as error:
            move._fleet_invoice_conflict(job, client, error)
        except (ai.TransientError, ai.AuthError) as error:
            # the fleet may have acted when the request was sent, or it answered something unreadable
            sent = isinstance(error, ai.ProtocolError) or (isinstance(error, ai.TransportError) and error.request_sent)
            move._fleet_invoice_unanswered(user_message(self.env, error, url), sent)
        except ai.AutoIntegrateError as error:
            move._fleet_invoice_refused(job, user_message(self.env, error, url))
        except UserError as error:  # the account is not configured (any more)
            move._fleet_invoice_unanswered(error.args[0], False)
        else:
            move._fleet_invoice_accepted(job, state, apply=True)
        return move.fleet_invoice_status

    def _fleet_invoice_conflict(self, job, client, error):
        """409 on the invoice: the fleet's RO is not invoiceable now. The RO
        state it carries (or a read of it) names the invoice the fleet holds
        (contract 4.4): this one means an earlier answer was lost, which is
        success; another one, or none, is a refusal."""
        state = error.state
        if state is None:
            try:
                state = client.get_ro(job.fleet_ro_id)
            except ai.AutoIntegrateError as read_error:
                return self._fleet_invoice_unanswered(
                    user_message(self.env, read_error, client.base_url), False)
        held = (state.get("invoice") or {}).get("invoice_number")
        if held == self.name:
            return self._fleet_invoice_accepted(job, state, apply=True)
        if held:
            return self._fleet_invoice_refused(job, self._fleet_other_invoice_reason(job, held), state=state)
        status = state.get("status")
        label = dict(job._fields["fleet_status"]._description_selection(self.env)).get(status, status or "?")
        return self._fleet_invoice_refused(job, _(
            "The fleet cannot take invoice %(invoice)s of %(job)s now: its RO is %(status)s at the fleet. Once the "
            "fleet approved the job again, send the invoice again (Send to Fleet); otherwise reverse it with a "
            "credit note.", invoice=self.name, job=job.name, status=label), state=state)

    def _fleet_other_invoice_reason(self, job, held):
        return _("The fleet holds another invoice, %(other)s, for %(job)s (RO %(ro)s) and takes one invoice per "
                 "RO: it did not take %(invoice)s. Reverse %(invoice)s with a credit note.",
                 other=held, job=job.name, ro=job.fleet_ro_id, invoice=self.name)

    @api.model
    def _fleet_settle_invoices(self, states):
        """Settle the invoices waiting for the fleet's answer from RO states
        just stored on their jobs (webhook, poll, reconciliation, a read):
        each names the invoice the fleet accepted (contract 4.4). The same
        number: accepted (its answer was lost); another: refused. An invoice
        another transaction is sending is left to it (it gets the answer).

        :param states: ``{job: RO state}``, states that name an invoice
        """
        if not states:
            return
        by_job = {job.id: (job, state) for job, state in states.items()}
        moves = self.sudo().search([
            ("fleet_repair_id", "in", list(by_job)), ("state", "=", "posted"), ("move_type", "=", "out_invoice"),
            ("fleet_invoice_status", "in", FLEET_INVOICE_WAITING)], order="id")
        for move in moves:
            if not move._fleet_claim():
                continue
            job, state = by_job[move.fleet_repair_id.id]
            held = state["invoice"].get("invoice_number")
            if held == move.name:
                move._fleet_invoice_accepted(job, state)
            else:
                move._fleet_invoice_refused(job, move._fleet_other_invoice_reason(job, held))

    def _fleet_apply_job_state(self, job, state):
        """Store the fleet's RO state on the job, unless another transaction
        stored one since this one began (a webhook, the poll: the job has it)."""
        job.flush_model()
        try:
            # no flushing savepoint: it would end the tracking of what this transaction changed so far
            with self.env.cr.savepoint(flush=False):
                job._fleet_lock_rows(SQL("id = %s", job.id))
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            _logger.info("AutoIntegrate: RO %s of %s was stored by another transaction meanwhile", job.fleet_ro_id,
                         job.name)
            return
        job._fleet_apply_states({job.id: state}, locked=True)

    def _fleet_invoice_accepted(self, job, state, apply=False):
        """The fleet accepted this invoice: say so on it and on its job.

        :param apply: ``state`` is the fleet's answer, to store on the job (else the job has it)
        """
        self.ensure_one()
        self.with_context(skip_invoice_sync=True)._fleet_write_state({
            "fleet_invoice_status": "approved",
            "fleet_invoice_message": _("The fleet accepted this invoice (RO %(ro)s).", ro=job.fleet_ro_id),
            "fleet_invoice_next_try": False,
            "fleet_authorization_number": (state.get("authorization_number") or job.fleet_authorization_number
                                           or self.fleet_authorization_number),
        })
        if apply:
            self._fleet_apply_job_state(job, state)
        self._fleet_end_refusal(_("The fleet accepted the invoice."))
        # said once in each chatter, in the entry that tracks what changed (see _fleet_say)
        self._fleet_say(Markup("<p>%s</p>") % _(
            "Sent to the fleet with AutoIntegrate (RO %(ro)s, authorization %(auth)s): the fleet approved the "
            "invoice.", ro=job.fleet_ro_id, auth=self.fleet_authorization_number or "-"))
        job._fleet_say(Markup("<p>%s</p>") % _(
            "Invoice %(invoice)s was sent to the fleet and approved; the fleet's RO is completed.", invoice=self.name))

    def _fleet_invoice_refused(self, job, reason, client=None, state=None):
        """The fleet refused this posted invoice: a badge, a message in the
        invoice's and the job's chatter, a to-do for its salesperson (or the
        job's responsible). The invoice stays posted: the shop reverses it, or
        sends it again once the fleet changed its mind.

        :param client: read the fleet's RO with it, so the job shows the fleet's current decisions
        :param state: the fleet's RO state that came with the refusal, to store on the job
        """
        self.ensure_one()
        # first: the job's state, stored next, then finds no invoice waiting to settle
        self.with_context(skip_invoice_sync=True)._fleet_write_state({
            "fleet_invoice_status": "refused", "fleet_invoice_message": reason, "fleet_invoice_next_try": False})
        if client:
            try:
                state = client.get_ro(job.fleet_ro_id)
            except ai.AutoIntegrateError as error:
                _logger.info("AutoIntegrate: could not read RO %s after its invoice was refused: %s",
                             job.fleet_ro_id, error)
        if state:
            self._fleet_apply_job_state(job, state)
        text = Markup("<br/>").join(reason.splitlines())
        self._fleet_say(Markup("<p>%s</p><p>%s</p>") % (_("The fleet refused this invoice."), text))
        job._fleet_say(Markup("<p>%s</p><p>%s</p>") % (
            _("The fleet refused invoice %(invoice)s.", invoice=self.name), text))
        self._fleet_refusal_todo(text, job)

    def _fleet_refusal_todo(self, text, job):
        """The to-do of the fleet's refusal of this invoice, for its
        salesperson (or the job's responsible): one per invoice. A refusal
        repeated (a retry, Send to Fleet, a later answer) updates the open
        one: due again, with the fleet's latest reason.

        :param text: the fleet's reason (HTML)
        """
        self.ensure_one()
        todo = self.activity_search([ACTIVITY_REFUSED])
        if todo:
            todo.write({"note": text, "date_deadline": fields.Date.context_today(self)})
            return
        user = self.invoice_user_id or job.user_id or self.env.user
        self.activity_schedule(ACTIVITY_REFUSED, summary=_("The fleet refused this invoice"), note=text,
                               user_id=user.id)

    def _fleet_end_refusal(self, feedback):
        """The fleet's refusal of these invoices is settled: their to-dos are done, saying how."""
        # sudo: the to-do may be a colleague's
        self.sudo().activity_feedback([ACTIVITY_REFUSED], feedback=feedback)

    def _fleet_invoice_unanswered(self, message, sent):
        """The fleet has not answered (it could not be reached, its answer was
        lost, it is busy or the account is not set up): the cron sends the same
        invoice again later, waiting longer each time.

        :param sent: the request may have reached the fleet
        """
        self.ensure_one()
        tries = self.fleet_invoice_tries + 1
        next_try = fields.Datetime.now() + timedelta(
            seconds=min(FLEET_INVOICE_RETRY_MAX_S, FLEET_INVOICE_RETRY_S * 2 ** (tries - 1)))
        self.with_context(skip_invoice_sync=True)._fleet_write_state({
            "fleet_invoice_status": "sent" if sent or self.fleet_invoice_status == "sent" else "to_send",
            "fleet_invoice_tries": tries,
            "fleet_invoice_next_try": next_try,
            "fleet_invoice_message": _(
                "The fleet has not answered yet. %(error)s\n\nThis invoice is sent again automatically (the same "
                "invoice, which the fleet never takes twice), next at %(when)s, or now with Send to Fleet.",
                error=message, when=format_datetime(self.env, next_try)),
        })
        self.env.ref(SEND_CRON).sudo()._trigger(at=next_try)

    def action_fleet_send_invoice(self):
        """SEND TO FLEET on posted invoices the fleet has not accepted: send
        them now. Safe whatever happened before: the same invoice carries the
        same key, so the fleet never takes it twice."""
        self.check_access("write")
        moves = self.filtered(lambda m: m.state == "posted" and m.fleet_invoice_status in
                              (*FLEET_INVOICE_WAITING, "refused"))
        if not moves:
            raise UserError(_("There is nothing to send to the fleet: these invoices are not posted, not "
                              "AutoIntegrate's, or approved by the fleet already."))
        moves._fleet_send_invoices(refused=True)
        waiting = moves.filtered(lambda m: m.fleet_invoice_status != "approved")
        if waiting:
            kind, title = "warning", _("Not approved by the fleet")
            message = "\n\n".join(f"{move.name}: {move.fleet_invoice_message or ''}" for move in waiting)
        else:
            kind, title = "success", _("Approved by the fleet")
            message = _("The fleet accepted %(invoices)s.", invoices=", ".join(moves.mapped("name")))
        return self.env["repair.order"]._fleet_notification(kind, title, message)

    @api.model
    def _cron_fleet_send_invoices(self, limit=20):
        """Cron: send again the posted invoices the fleet has not answered whose time has come, the longest
        waiting first; runs again at once while more are due."""
        domain = [("state", "=", "posted"), ("move_type", "=", "out_invoice"),
                  ("fleet_invoice_status", "in", FLEET_INVOICE_WAITING),
                  "|", ("fleet_invoice_next_try", "=", False), ("fleet_invoice_next_try", "<=", fields.Datetime.now())]
        moves = self.sudo().search(domain, order="fleet_invoice_next_try, id", limit=limit)
        sent = moves._fleet_send_invoices()
        remaining = self.sudo().search_count(domain) if len(moves) == limit else 0
        self.env["ir.cron"]._notify_progress(done=len(sent), remaining=remaining)
        return sent

    def button_draft(self):
        # a number the fleet may have seen is never freed: an invoice sent to the fleet, or about to be,
        # stays posted (one the fleet refused may be reset, fixed and posted again under its number)
        sent = self.filtered(lambda m: m.state == "posted" and m.fleet_invoice_status in
                             (*FLEET_INVOICE_WAITING, "approved"))
        if sent:
            raise UserError(_(
                "%(invoices)s went to the fleet with AutoIntegrate (or is about to): it cannot be reset to draft. "
                "Reverse it with a credit note instead.", invoices=", ".join(sent.mapped("name"))))
        return super().button_draft()

    def button_cancel(self):
        result = super().button_cancel()
        self.filtered(lambda m: m.state == "cancel" and m.fleet_invoice_status)._fleet_end_refusal(
            _("The invoice was cancelled."))
        return result

    def _reverse_moves(self, default_values_list=None, cancel=False):
        reversals = super()._reverse_moves(default_values_list=default_values_list, cancel=cancel)
        for move in self.filtered("fleet_invoice_status"):
            credit_notes = reversals.filtered(lambda r, move=move: r.reversed_entry_id == move)
            if credit_notes:
                move._fleet_end_refusal(_("The invoice was reversed by credit note %(credit_note)s.",
                                          credit_note=", ".join(credit_notes.mapped("display_name"))))
        return reversals

    # ------------------------------------------------------ mail.thread hooks
    def _track_get_default_log_message(self, tracked_fields):
        return self._fleet_said_body() or super()._track_get_default_log_message(tracked_fields)


def _send_committed(registry, uid, context, move_ids):
    """After the posting's commit: send its fleet invoices, in a cursor of
    their own (a few quick tries; the cron sends what is left)."""
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, uid, context)
            env["account.move"].browse(move_ids)._fleet_send_invoices(max_attempts=FLEET_INVOICE_TRIES_AT_ONCE)
    except Exception:  # the invoices are posted and committed: the cron sends them
        _logger.exception("AutoIntegrate: invoices %s were posted, but sending them to the fleet failed; the cron "
                          "sends them again", move_ids)
