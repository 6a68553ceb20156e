"""The fleet's side of a job (``repair.order``): its vehicle, its RO as the
fleet last sent it, sending it, storing the fleet's states and notes, and
whether its work may be invoiced.

Every way an RO state reaches the shop ends in :meth:`_fleet_apply_states`:
the webhook, the changes-feed poll, the nightly reconciliation and every call
whose answer is an RO state. A state not newer than the last applied is
ignored; the fleet's notes are stored once; a decision is one chatter entry
with the status change it brings; a denial or a question is a to-do.
"""

import logging
import re
from collections import defaultdict

import psycopg2
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, float_compare

from ..const import (
    APPROVED_STATUSES,
    CLOSED_STATUSES,
    FLEET_INVOICE_WAITING,
    FLEET_STATUSES,
    INVOICEABLE_LINE_STATUSES,
)
from ..lib import autointegrate as ai
from ..lib.autointegrate import bodies, formatting
from ..tools import describe_problems, user_error

_logger = logging.getLogger(__name__)

#: the chatter subtypes of the fleet's messages on a job
SUBTYPE_FLEET_NOTE = "omega_autointegrate.mt_fleet_note"
SUBTYPE_FLEET_DECISION = "omega_autointegrate.mt_fleet_decision"
#: what a fleet decision sets on a quotation line
LINE_FLEET_FIELDS = ("fleet_status", "fleet_approved_qty", "fleet_approved_amount", "fleet_reason")

#: what a fleet decision or a shop edit can change; the RO's digest covers it
VEHICLE_FIELDS = (
    "fleet_vin",
    "fleet_plate",
    "fleet_plate_region",
    "fleet_unit_number",
    "fleet_odometer",
    "fleet_odometer_unit",
    "fleet_vehicle_year",
    "fleet_vehicle_make",
    "fleet_vehicle_model",
)
#: what the RO takes of each quotation line; the job's digest covers it
DIGEST_LINE_FIELDS = (
    "product_id", "name", "product_uom_qty", "price_unit", "discount", "tax_id", "display_type", "fleet_line_ref",
    "product_id.fleet_line_type", "product_id.fleet_service_code",
)


class RepairOrder(models.Model):
    _name = "repair.order"
    _inherit = ["repair.order", "autointegrate.normalize.mixin", "autointegrate.chatter.mixin"]

    #=== FIELDS ===#

    is_autointegrate = fields.Boolean(
        string="AutoIntegrate Job", compute="_compute_is_autointegrate", store=True,
        help="The customer's account is invoiced through AutoIntegrate: its fleet approves this job.",
    )
    # stored: jobs are grouped and reported by fleet
    fleet_company_code = fields.Char(
        string="Fleet Company ID", related="partner_id.commercial_partner_id.fleet_company_code", store=True,
        index="btree_not_null",
    )
    # stored: the fleet's approved total is rounded in it, and a page of decisions
    # would otherwise read every job's quotation for it
    fleet_currency_id = fields.Many2one("res.currency", compute="_compute_fleet_currency_id", store=True)

    # the vehicle, as fleets know it
    fleet_vin = fields.Char(string="VIN", size=17, tracking=True)
    fleet_plate = fields.Char(string="Plate")
    fleet_plate_region = fields.Char(string="Plate Region", help="State or province of the plate, e.g. CA")
    fleet_unit_number = fields.Char(string="Unit Number", help="The fleet's own number for this vehicle")
    fleet_odometer = fields.Integer(string="Odometer")
    fleet_odometer_unit = fields.Selection([("mi", "mi"), ("km", "km")], string="Odometer Unit", default="mi")
    fleet_vehicle_year = fields.Integer(string="Year")
    fleet_vehicle_make = fields.Char(string="Make")
    fleet_vehicle_model = fields.Char(string="Model")
    fleet_complaint = fields.Text(string="Complaint", help="What the driver or the fleet reported; sent with the RO.")

    # the fleet's RO, as last seen
    fleet_ro_id = fields.Char(string="Fleet RO", copy=False, readonly=True, index="btree_not_null")
    fleet_revision = fields.Integer(copy=False, readonly=True)
    fleet_status = fields.Selection(
        FLEET_STATUSES, default="not_sent", required=True, copy=False, readonly=True,
        tracking=True,
    )
    fleet_authorization_number = fields.Char(string="Authorization Number", copy=False, readonly=True)
    fleet_decided_by = fields.Char(string="Decided By", copy=False, readonly=True)
    fleet_decided_at = fields.Datetime(string="Decided At", copy=False, readonly=True)
    fleet_submitted_at = fields.Datetime(
        string="Submitted At", copy=False, readonly=True, help="When the job was first sent to the fleet."
    )
    fleet_sequence = fields.Integer(copy=False, readonly=True)
    fleet_approved_total = fields.Monetary(
        string="Approved Total", currency_field="fleet_currency_id", copy=False, readonly=True
    )
    fleet_sent_digest = fields.Char(copy=False, readonly=True)
    fleet_digest = fields.Char(compute="_compute_fleet_digest", store=True)
    fleet_changed = fields.Boolean(
        string="Changed Since Sent", compute="_compute_fleet_changed", store=True,
        help="The job no longer matches what the fleet approved: it must be sent again.",
    )
    fleet_denial_pending = fields.Boolean(copy=False, readonly=True)
    fleet_needs_resubmit = fields.Boolean(
        string="To Send Again", compute="_compute_fleet_needs_resubmit", store=True,
    )
    fleet_note_ids = fields.One2many("autointegrate.note", "repair_id", string="Fleet Notes")
    fleet_note_count = fields.Integer(compute="_compute_fleet_note_count")
    fleet_line_ids = fields.One2many(
        related="sale_order_id.order_line", string="Fleet Lines", readonly=False,
    )

    #=== COMPUTE METHODS ===#

    @api.depends("partner_id.commercial_partner_id.fleet_invoice_method")
    def _compute_is_autointegrate(self):
        for repair in self:
            repair.is_autointegrate = bool(repair.partner_id) and repair.partner_id._is_autointegrate()

    @api.depends("sale_order_id.currency_id", "company_id.currency_id")
    def _compute_fleet_currency_id(self):
        for repair in self:
            repair.fleet_currency_id = repair.sale_order_id.currency_id or repair.company_id.currency_id

    @api.depends(
        "is_autointegrate", "name", "fleet_complaint", "repair_request", "partner_id", *VEHICLE_FIELDS,
        "sale_order_id.currency_id", "sale_order_id.amount_tax",
        *(f"sale_order_id.order_line.{name}" for name in DIGEST_LINE_FIELDS),
    )
    def _compute_fleet_digest(self):
        for repair in self:
            if repair.is_autointegrate and repair.sale_order_id:
                repair.fleet_digest = formatting.body_digest(repair._fleet_payload(), length=32)
            else:
                repair.fleet_digest = False

    @api.depends("fleet_digest", "fleet_sent_digest")
    def _compute_fleet_changed(self):
        for repair in self:
            repair.fleet_changed = bool(repair.fleet_sent_digest) and repair.fleet_digest != repair.fleet_sent_digest

    @api.depends("fleet_ro_id", "fleet_status", "fleet_changed", "fleet_denial_pending")
    def _compute_fleet_needs_resubmit(self):
        for repair in self:
            repair.fleet_needs_resubmit = (
                bool(repair.fleet_ro_id)
                and repair.fleet_status not in CLOSED_STATUSES
                and (repair.fleet_changed or repair.fleet_denial_pending or repair.fleet_status == "info_requested")
            )

    @api.depends("fleet_note_ids")
    def _compute_fleet_note_count(self):
        for repair in self:
            repair.fleet_note_count = len(repair.fleet_note_ids)

    #=== ONCHANGE METHODS ===#

    @api.onchange("fleet_line_ids")
    def _onchange_fleet_line_ids(self):
        """The job's form edits the quotation's lines: the digest follows at once, so the
        form shows that the RO changed (the save control reads SAVE AND SEND TO FLEET)."""
        self._compute_fleet_digest()

    #=== CONSTRAINT METHODS ===#

    @api.constrains("fleet_vin")
    def _check_fleet_vin(self):
        for repair in self:
            if repair.fleet_vin and not formatting.is_vin(repair.fleet_vin):
                raise ValidationError(
                    _("The VIN “%(vin)s” is not valid: it has 17 letters and digits, without I, O or Q.",
                      vin=repair.fleet_vin)
                )

    #=== CRUD METHODS ===#

    @api.model
    def _fleet_normalize(self, vals):
        if isinstance(vals.get("fleet_vin"), str):
            vals["fleet_vin"] = re.sub(r"\s+", "", vals["fleet_vin"]).upper() or False

    #=== ACTION METHODS ===#

    def action_send_to_fleet(self):
        """SEND TO FLEET: the dialog of what will be sent, or of the fleet's
        current status when it was sent already."""
        self.ensure_one()
        if not self.fleet_ro_id:
            self._fleet_check_can_send()
            self._fleet_ensure_quotation()
        warning = self._fleet_refresh()
        wizard = self.env["autointegrate.send.wizard"].create({"repair_id": self.id, "warning": warning})
        return wizard._action_open()

    def action_fleet_save_and_send(self):
        """SAVE AND SEND TO FLEET: the form saved the job; resubmit it."""
        self.ensure_one()
        if not self.fleet_needs_resubmit:
            return self._fleet_notification(
                "info", _("Saved"), _("Nothing the fleet reviewed has changed: there is nothing to send."))
        if self._fleet_send():
            return self._fleet_notification(
                "success", _("Sent to the fleet"), _("%(job)s was sent again; the fleet will review it.",
                                                      job=self.name))
        return self._fleet_notification(
            "warning", _("The fleet's RO changed meanwhile"),
            _("The fleet updated %(job)s while you edited it. Its current status is shown: check it, then "
              "send again.", job=self.name))

    def action_fleet_communication(self):
        """FLEET COMMUNICATION on the job: every note, line notes included."""
        self.ensure_one()
        return self._fleet_open_communication()

    def _fleet_open_communication(self, line=None):
        self.ensure_one()
        if not self.fleet_ro_id:
            raise UserError(_("%(job)s has not been sent to the fleet yet.", job=self.name))
        warning = self._fleet_refresh()
        wizard = self.env["autointegrate.communication.wizard"].create({
            "repair_id": self.id,
            "sale_line_id": line.id if line else False,
            "warning": warning,
        })
        return wizard._action_open()

    def _fleet_notification(self, kind, title, message):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": kind, "title": title, "message": message, "sticky": kind != "success",
                       "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    def action_repair_start(self):
        blocked = self.filtered(
            lambda r: r.is_autointegrate and (r.fleet_status not in APPROVED_STATUSES or r.fleet_needs_resubmit)
        )
        if blocked:
            raise UserError(_(
                "The fleet has not approved %(jobs)s yet (or it changed since approval). Send it to the fleet "
                "and wait for its approval before starting the work.",
                jobs=", ".join(blocked.mapped("name"))))
        return super().action_repair_start()

    def action_repair_cancel(self):
        to_cancel = self.filtered(lambda r: r.fleet_ro_id and r.fleet_status not in CLOSED_STATUSES)
        result = super().action_repair_cancel()
        for repair in to_cancel:
            client = repair.company_id._autointegrate_client(repair)
            try:
                state = client.cancel(repair.fleet_ro_id, _("Cancelled by the shop"))
            except ai.InvalidStateError:
                repair._fleet_refresh()
                continue
            except ai.AutoIntegrateError as error:
                raise user_error(self.env, error, repair.company_id.autointegrate_api_url) from error
            repair._fleet_apply_state(state)
        return result

    #=== BUSINESS METHODS: the fleet's RO ===#

    def _fleet_lines(self):
        """:return: the quotation lines that make the fleet's RO."""
        self.ensure_one()
        # the quotation's lines, as the job's form shows (and edits) them
        return self.fleet_line_ids.filtered(
            lambda line: not line.display_type and line.product_id and not line.is_downpayment
            and (line.product_uom_qty > 0 or line.price_unit < 0)
        )

    @staticmethod
    def _fleet_line_ref(line):
        if line.fleet_line_ref:
            return line.fleet_line_ref
        origin = line._origin.id
        return f"L{origin}" if origin else "L-new"

    def _fleet_ro_ref(self):
        """:return: the job's reference as the fleet's id charset allows
        (a warehouse code may hold spaces or accents)."""
        return re.sub(r"[^A-Za-z0-9._:/-]", "-", self.name or "")[:64]

    def _fleet_payload(self, notes=(), line_notes=None):
        """The submit body of this job (contract 4.1), built from its quotation.

        It does not validate: :func:`autointegrate.bodies.validate_ro_body`
        does, so every problem is reported at once.

        :param notes: notes on the whole request
        :param line_notes: ``{line_ref: [note, ...]}``
        :return: the body, a dict
        """
        return self._fleet_payload_and_lines(notes, line_notes)[0]

    def _fleet_payload_and_lines(self, notes=(), line_notes=None):
        """:meth:`_fleet_payload`, with the quotation lines it was built from.

        :return: ``(body, lines)``: ``lines[i]`` is the sale line of ``body["lines"][i]``
        """
        self.ensure_one()
        line_notes = line_notes or {}
        order = self.sale_order_id
        vehicle = {
            "vin": self.fleet_vin or None,
            "plate": self.fleet_plate or None,
            "plate_region": self.fleet_plate_region or None,
            "unit_number": self.fleet_unit_number or None,
            "odometer": self.fleet_odometer or None,
            "odometer_unit": self.fleet_odometer_unit or None,
            "year": self.fleet_vehicle_year or None,
            "make": self.fleet_vehicle_make or None,
            "model": self.fleet_vehicle_model or None,
        }
        lines = []
        untaxed = 0
        sale_lines = self._fleet_lines()
        for line in sale_lines:
            ref = self._fleet_line_ref(line)
            unit_price = formatting.round_cents(line.price_unit * (1 - (line.discount or 0.0) / 100.0))
            amount = formatting.line_amount(formatting.format_quantity(line.product_uom_qty), unit_price)
            untaxed += amount
            product = line.product_id.product_tmpl_id
            lines.append({
                "line_ref": ref,
                "type": "discount" if unit_price < 0 else product._fleet_line_type(),
                "service_code": product._fleet_service_code(),
                "description": (line.name or product.display_name or "").strip()[:1000],
                "quantity": formatting.format_quantity(line.product_uom_qty),
                "unit_price": formatting.format_amount(unit_price),
                "amount": formatting.format_amount(amount),
                "taxable": bool(line.tax_id),
                "notes": [note for note in line_notes.get(ref, ()) if note],
            })
        tax = formatting.round_cents(order.amount_tax or 0.0)
        body = {
            "fleet_company_id": self.fleet_company_code or None,
            "shop_id": self.company_id.autointegrate_shop_id or None,
            "shop_ro_ref": self._fleet_ro_ref(),
            "currency": (order.currency_id or self.company_id.currency_id).name,
            "vehicle": vehicle,
            "complaint": (self.fleet_complaint or self.repair_request or "").strip() or None,
            "notes": [note for note in notes if note],
            "lines": lines,
            "totals": {
                "untaxed": formatting.format_amount(untaxed),
                "tax": formatting.format_amount(tax),
                "total": formatting.format_amount(untaxed + tax),
            },
        }
        return body, sale_lines

    def _fleet_check_can_send(self):
        self.ensure_one()
        if not self.is_autointegrate:
            raise UserError(_("%(job)s is not for an AutoIntegrate account: set the customer's Invoice Method "
                              "to AutoIntegrate first.", job=self.name))
        if self.state == "cancel":
            raise UserError(_("%(job)s is cancelled: it cannot be sent to the fleet.", job=self.name))
        if self.fleet_status in CLOSED_STATUSES:
            raise UserError(_("The fleet's RO of %(job)s is %(status)s: it cannot change any more.",
                              job=self.name, status=self._fleet_status_label()))

    def _fleet_status_label(self):
        return dict(self._fields["fleet_status"]._description_selection(self.env)).get(self.fleet_status)

    def _fleet_lock(self):
        """Lock the job's row while it is sent, so that two users sending the
        same job at once cannot both reach the fleet."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                # NO KEY: rows of other transactions may still reference this job; a lock
                # already taken is the expected answer here, not an error for the log
                self.env.cr.execute("SELECT id FROM repair_order WHERE id = %s FOR NO KEY UPDATE NOWAIT", [self.id],
                                    log_exceptions=False)
        except psycopg2.errors.LockNotAvailable as error:
            raise UserError(
                _("%(job)s is being sent to the fleet by someone else right now. Wait a moment and reopen it.",
                  job=self.name)
            ) from error

    def _fleet_ensure_quotation(self):
        self.ensure_one()
        if not self.sale_order_id:
            # action_create_sale_order reads self.partner_id: one job at a time
            self.action_create_sale_order()

    def _fleet_send(self, notes=(), line_notes=None):
        """Submit the job to the fleet, or resubmit it when it was sent before.

        :param notes: notes on the whole request
        :param line_notes: ``{line_ref: [note, ...]}``
        :return: ``True`` when the fleet took it; ``False`` when it had
            changed meanwhile (409): its current state is then stored
        :raise UserError: the data is invalid (every field listed) or the
            fleet could not be reached; nothing is stored as sent
        :raise AccessError: the user may not change this job (another company's, say)
        """
        self.ensure_one()
        # first, from the database: values cached by a sudo read (a dialog's related
        # fields) would otherwise let another company's job reach its fleet
        self.check_access("write")
        self._fleet_check_can_send()
        self._fleet_ensure_quotation()
        self._fleet_lock()
        self.flush_recordset()
        body, sale_lines = self._fleet_payload_and_lines(notes, line_notes)
        details = bodies.validate_ro_body(body)
        if details:
            raise UserError(_("%(job)s cannot be sent to the fleet yet. Fix the following:\n%(problems)s",
                              job=self.name, problems=describe_problems(self.env, details, body, self)))
        # the line refs travel now: keep them so the fleet's answers find their lines (sudo: this
        # bookkeeping is the fleet's, and a colleague's quotation is not writable with "own documents")
        self._fleet_store_line_refs({line.id: sent["line_ref"] for line, sent in zip(
            sale_lines, body["lines"], strict=True) if not line.fleet_line_ref})
        # what _fleet_payload() gives now the refs are stored (the job's digest): the body without
        # this submission's notes
        core = dict(body, notes=[], lines=[dict(line, notes=[]) for line in body["lines"]])
        core_digest = formatting.body_digest(core, length=32)
        client = self.company_id._autointegrate_client(self)
        try:
            if self.fleet_ro_id:
                state = client.resubmit(self.fleet_ro_id, dict(body, base_revision=self.fleet_revision))
            else:
                try:
                    state = client.submit(body)
                except ai.DuplicateROError as error:
                    # the fleet already has this job (our earlier commit was lost): adopt
                    # its RO and bring it up to date instead of creating another
                    existing = error.state or {}
                    if not existing.get("ro_id"):
                        raise
                    _logger.info("Adopting fleet RO %s for %s", existing["ro_id"], self.name)
                    state = client.resubmit(existing["ro_id"], dict(body, base_revision=existing["revision"]))
        except ai.RevisionConflictError as error:
            if error.state:
                self._fleet_apply_state(error.state)
            return False
        except ai.ValidationError as error:
            raise UserError(_("The fleet refused %(job)s. Fix the following:\n%(problems)s",
                              job=self.name,
                              problems=describe_problems(self.env, error.details, body, self))) from error
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error, self.company_id.autointegrate_api_url) from error
        self._fleet_apply_state(state)
        vals = {"fleet_sent_digest": core_digest, "fleet_denial_pending": False}
        if not self.fleet_submitted_at:
            vals["fleet_submitted_at"] = fields.Datetime.now()
        self.write(vals)
        # webhooks the fleet sent while this waited for its answer: applied now the job knows its RO
        self.env["autointegrate.event"]._apply_waiting_of(self)
        return True

    def _fleet_refresh(self):
        """Read the fleet's current RO and store it.

        :return: an error message when the fleet could not be read, else ``False``
        """
        self.ensure_one()
        self.check_access("read")  # from the database, like _fleet_send
        if not self.fleet_ro_id:
            return False
        try:
            state = self.company_id._autointegrate_client(self, max_attempts=2).get_ro(self.fleet_ro_id)
        except ai.AutoIntegrateError as error:
            _logger.info("Could not refresh fleet RO %s: %s", self.fleet_ro_id, error)
            return _("The fleet's current status could not be read, so what is shown may be out of date. "
                     "%(error)s", error=error.message)
        self._fleet_apply_state(state)
        return False

    #=== BUSINESS METHODS: the fleet's states ===#

    def _fleet_apply_state(self, state):
        """Store an RO state of the fleet (contract 4.4) on the job, its lines
        and its notes. States not newer than the last applied are ignored.

        :return: whether the state was applied
        """
        self.ensure_one()
        return bool(self._fleet_apply_states({self.id: state}))

    def _fleet_apply_states(self, states, locked=False):
        """Store RO states of the fleet on the jobs ``self``, a page at once.

        :param states: ``{job id: RO state}``, one state per job of ``self``
        :param locked: whether the caller locked the jobs' rows already
            (:meth:`_fleet_lock_rows`)
        :return: the jobs whose state was applied
        """
        if not self:
            return self
        if not locked:
            self._fleet_lock_rows(SQL("id = ANY(%s)", list(self.ids)))
        todo = []
        for repair in self:
            state = states[repair.id]
            if repair.fleet_ro_id and state.get("ro_id") != repair.fleet_ro_id:
                _logger.warning("Ignoring RO state %s for %s, which is bound to %s",
                                state.get("ro_id"), repair.name, repair.fleet_ro_id)
                continue
            if repair.fleet_ro_id and (state.get("sequence") or 0) <= repair.fleet_sequence:
                continue
            todo.append((repair, state))
        if not todo:
            return self.browse()
        repairs = self.browse([repair.id for repair, _state in todo])
        lines_of = repairs._fleet_lines_by_ref()
        known_notes = repairs._fleet_known_note_ids(any(state.get("notes") for _repair, state in todo))

        line_writes = defaultdict(list)  # values -> line ids
        note_values = []
        decisions = []  # (job, [(line, line state)])
        followups = []  # (job, info requested)
        for repair, state in todo:
            lines = lines_of.get(repair.id, {})
            newly_denied = False
            decided = []
            seen = set()
            for line_state in state.get("lines") or []:
                line = lines.get(line_state.get("line_ref"))
                if not line:
                    continue
                seen.add(line.id)
                status = line_state.get("status")
                newly_denied |= status == "denied" and line.fleet_status != "denied"
                if status != "pending" and (status != line.fleet_status
                                            or (line_state.get("reason") or False) != line.fleet_reason):
                    decided.append((line, line_state))
                values = (
                    status,
                    formatting.safe_decimal(line_state.get("approved_quantity")) or 0.0,
                    formatting.safe_decimal(line_state.get("approved_amount")) or 0.0,
                    line_state.get("reason") or False,
                )
                if values != tuple(line[name] for name in LINE_FLEET_FIELDS):
                    line_writes[values].append(line.id)
            for line in lines.values():
                if line.fleet_status and line.id not in seen:  # dropped from the fleet's RO
                    line_writes[(False, 0.0, 0.0, False)].append(line.id)
            vals = {
                "fleet_ro_id": state["ro_id"],
                "fleet_revision": state.get("revision") or 0,
                "fleet_status": state.get("status") or "pending",
                "fleet_authorization_number": state.get("authorization_number") or False,
                "fleet_decided_by": state.get("decided_by") or False,
                "fleet_decided_at": _parse_timestamp(state.get("decided_at")),
                "fleet_sequence": state.get("sequence") or 0,
                "fleet_approved_total": formatting.safe_decimal(state.get("approved_total")) or 0.0,
            }
            if newly_denied:
                vals["fleet_denial_pending"] = True
            newly_asked = vals["fleet_status"] == "info_requested" and repair.fleet_status != "info_requested"
            repair.write(vals)
            note_values += repair._fleet_new_note_values(state.get("notes") or [], lines, known_notes[repair.id])
            if decided:
                decisions.append((repair, decided))
            if newly_denied or newly_asked:
                followups.append((repair, newly_asked))

        # sudo: the fleet's decision on the quotation, not an edit of it by the user
        SaleLine = self.env["sale.order.line"].sudo()
        for values, line_ids in line_writes.items():
            SaleLine.browse(line_ids).write(dict(zip(LINE_FLEET_FIELDS, values, strict=True)))
        notes = self.env["autointegrate.note"].sudo().create(note_values)
        # the chatter, in the order each job always had: the fleet's notes, then its decision,
        # which goes with the status change it brings (see _track_subtype)
        self._fleet_post_notes(notes)
        labels = dict(SaleLine._fields["fleet_status"]._description_selection(self.env))
        for repair, decided in decisions:
            repair._fleet_say(repair._fleet_decision_body(decided, labels), SUBTYPE_FLEET_DECISION)
        repairs._fleet_schedule_followups(followups)
        # a state naming the invoice the fleet holds settles an invoice whose answer was lost
        self.env["account.move"]._fleet_settle_invoices(
            {repair: state for repair, state in todo if state.get("invoice")})
        return repairs

    @api.model
    def _fleet_lock_rows(self, where):
        """Lock the jobs matching ``where`` for applying fleet states, in one statement.

        Webhook, poll and reconciliation may race on a job: the first to lock
        its row applies a sequence, the others then meet a serialization
        failure, which Odoo retries: the state is then seen as applied. Rows
        are locked in id order, so two pages never deadlock.

        :param where: an ``SQL`` condition on ``repair_order``
        :return: the jobs locked
        """
        self.flush_model(["fleet_sequence", "fleet_ro_id", "fleet_status", "company_id"])
        # raw: a lost race is a retried serialization failure, not an error to log
        self.env.cr.execute(SQL("SELECT id FROM repair_order WHERE %s ORDER BY id FOR NO KEY UPDATE", where),
                            log_exceptions=False)
        repairs = self.browse(row[0] for row in self.env.cr.fetchall())
        repairs.invalidate_recordset(["fleet_sequence", "fleet_ro_id", "fleet_status"])
        return repairs

    def _fleet_store_line_refs(self, refs):
        """Keep on the quotation lines the refs they were sent to the fleet
        with (sudo: the refs are the fleet's bookkeeping, not an edit of the
        quotation by the user, who was checked for access to the job before
        sending).

        :param refs: ``{sale line id: line_ref}``
        """
        lines = self.env["sale.order.line"].sudo()
        for line_id, ref in refs.items():
            lines.browse(line_id).fleet_line_ref = ref

    def _fleet_lines_by_ref(self):
        """:return: ``{job id: {line_ref: quotation line}}`` of the lines sent to the fleet (one query)."""
        orders = self.sale_order_id
        if not orders:
            return {}
        lines = self.env["sale.order.line"].sudo().search_fetch(
            [("order_id", "in", orders.ids), ("fleet_line_ref", "!=", False)],
            ["order_id", "fleet_line_ref", "name", *LINE_FLEET_FIELDS])
        by_order = defaultdict(dict)
        for line in lines:
            by_order[line.order_id.id][line.fleet_line_ref] = line
        return {repair.id: by_order.get(repair.sale_order_id.id, {}) for repair in self}

    def _fleet_known_note_ids(self, needed=True):
        """:return: ``{job id: {fleet note ids stored}}`` (one query, none when not ``needed``)."""
        known = defaultdict(set)
        if needed:
            notes = self.env["autointegrate.note"].sudo().search_fetch(
                [("repair_id", "in", self.ids)], ["repair_id", "fleet_note_id"])
            for note in notes:
                known[note.repair_id.id].add(note.fleet_note_id)
        return known

    def _fleet_new_note_values(self, notes, lines, known):
        """:return: the values of the fleet's notes not stored yet (``known`` is updated)."""
        self.ensure_one()
        values = []
        for note in notes:
            note_id = note.get("note_id")
            if not note_id or note_id in known or not isinstance(note.get("text"), str):
                continue
            known.add(note_id)
            line_ref = note.get("line_ref") or False
            values.append({
                "repair_id": self.id,
                "fleet_note_id": note_id,
                "line_ref": line_ref,
                "sale_line_id": lines[line_ref].id if line_ref in lines else False,
                "author_type": "fleet" if note.get("author_type") == "fleet" else "shop",
                "author": note.get("author") or False,
                "text": note["text"],
                "created_at": _parse_timestamp(note.get("created_at")) or fields.Datetime.now(),
            })
        return values

    def _fleet_store_notes(self, notes):
        """Store the fleet's notes not stored yet; post the fleet's in the chatter.

        :return: the notes created
        """
        self.ensure_one()
        lines = self._fleet_lines_by_ref().get(self.id, {})
        known = self._fleet_known_note_ids()[self.id]
        created = self.env["autointegrate.note"].sudo().create(self._fleet_new_note_values(notes, lines, known))
        self._fleet_post_notes(created)
        return created

    def _fleet_post_notes(self, notes):
        """Post the fleet's notes among ``notes`` in their jobs' chatter (the followers of fleet notes are told)."""
        for note in notes.filtered(lambda n: n.author_type == "fleet"):
            note.repair_id.message_post(body=self._fleet_note_body(note), subtype_xmlid=SUBTYPE_FLEET_NOTE)

    def _fleet_note_body(self, note):
        """A note of the fleet, for the chatter."""
        where = Markup(" <i>(%s)</i>") % note.line_label if note.line_ref else ""
        return Markup("<b>%s</b>%s: %s") % (note.author or _("Fleet"), where, note.text)

    def _fleet_decision_body(self, decided, labels=None):
        """The fleet's decision on each line, for the chatter."""
        self.ensure_one()
        if labels is None:
            labels = dict(self.env["sale.order.line"]._fields["fleet_status"]._description_selection(self.env))
        items = Markup("").join(
            Markup("<li>%s: <b>%s</b>%s%s</li>") % (
                line.name.splitlines()[0],
                labels.get(line_state["status"], line_state["status"]),
                Markup(" (%s %s)") % (line_state.get("approved_quantity"), line_state.get("approved_amount"))
                if line_state["status"] == "adjusted" else "",
                Markup("<br/><i>%s</i>") % line_state["reason"] if line_state.get("reason") else "",
            )
            for line, line_state in decided
        )
        return Markup("%s<ul>%s</ul>") % (
            _("Fleet decision by %(who)s:", who=self.fleet_decided_by or _("the fleet")), items)

    def _fleet_schedule_followups(self, followups):
        """A denial or a question of the fleet becomes a to-do for the job's responsible.

        :param followups: ``[(job, info requested)]``
        """
        groups = defaultdict(list)
        for repair, info_requested in followups:
            groups[(bool(info_requested), repair.user_id.id or self.env.user.id)].append(repair.id)
        for (info_requested, user_id), repair_ids in groups.items():
            summary = (_("The fleet asks for information") if info_requested
                       else _("The fleet denied work: fix the job and send it again"))
            self.browse(repair_ids).activity_schedule("mail.mail_activity_data_todo", summary=summary,
                                                      user_id=user_id)

    #=== BUSINESS METHODS: invoicing, and its gate ===#

    def _fleet_invoice_refusal(self):
        """:return: why this job's work cannot be invoiced now, or ``False``
        (always ``False`` for jobs that are not AutoIntegrate's)."""
        self.ensure_one()
        if not self.is_autointegrate:
            return False
        if not self.fleet_ro_id:
            return _("%(job)s has not been sent to the fleet: send it and wait for the fleet's approval before "
                     "invoicing it.", job=self.name)
        if self.fleet_status == "completed":
            return _("%(job)s was invoiced to the fleet already.", job=self.name)
        if self.fleet_status not in APPROVED_STATUSES:
            return _("The fleet has not approved %(job)s (fleet status: %(status)s): it cannot be invoiced.",
                     job=self.name, status=self._fleet_status_label())
        if self.fleet_changed:
            return _("%(job)s changed since the fleet approved it: send it to the fleet again and wait for its "
                     "approval before invoicing it.", job=self.name)
        if self.fleet_needs_resubmit:
            return _("The fleet denied lines of %(job)s: fix them, or send the job again as it is, before "
                     "invoicing it.", job=self.name)
        return False

    def _fleet_waiting_refusal(self):
        """:return: why this job cannot be invoiced while one of its posted
        invoices waits for the fleet's answer, or ``False`` (a query: asked
        by the gate and the Invoice action, not per line)"""
        self.ensure_one()
        waiting = self.env["account.move"].sudo().search([
            ("fleet_repair_id", "=", self.id), ("state", "=", "posted"), ("move_type", "=", "out_invoice"),
            ("fleet_invoice_status", "in", FLEET_INVOICE_WAITING)], limit=1)
        if not waiting:
            return False
        return _("Invoice %(invoice)s of %(job)s waits for the fleet's answer (it is sent again automatically): "
                 "the job cannot be invoiced again meanwhile.", invoice=waiting.name, job=self.name)

    def _fleet_invoice_problems(self, invoice):
        """The posting gate of this job's work: every posting of a customer
        invoice holding it goes through here (``account.move._post``: the Post
        button, the Invoice action, the auto-post cron, the online payment).

        :param invoice: a customer invoice holding this job's work, and no other job's
        :return: why it may not be posted, each problem naming the job and,
            when it is one, the line; empty when the fleet approved what it holds
        """
        self.ensure_one()
        lines = invoice.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        problems = []
        refusal = self._fleet_invoice_refusal() or self._fleet_waiting_refusal()
        if refusal:
            problems.append(refusal)
        totals = {}  # sale line -> [quantity in its unit, amount, invoice lines]
        for line in lines:
            sale_line = line.sale_line_ids.filtered(lambda sl, order=self.sale_order_id: sl.order_id == order)[:1]
            if not sale_line:
                problems.append(_("%(job)s, line “%(line)s”: it is not work the fleet approved on this job. "
                                  "Remove it from the invoice.", job=self.name, line=invoice._fleet_line_label(line)))
                continue
            if sale_line.is_downpayment:
                problems.append(_("%(job)s, line “%(line)s”: a down payment is not approved work; the fleet "
                                  "pays approved work only.", job=self.name, line=invoice._fleet_line_label(line)))
                continue
            if sale_line.fleet_status not in INVOICEABLE_LINE_STATUSES:
                status = dict(sale_line._fields["fleet_status"]._description_selection(self.env)).get(
                    sale_line.fleet_status) or _("not sent to the fleet")
                problems.append(_("%(job)s, line “%(line)s”: the fleet has not approved it (%(status)s). Remove "
                                  "it from the invoice.", job=self.name, line=invoice._fleet_line_label(line),
                                  status=status))
                continue
            entry = totals.setdefault(sale_line, [0.0, 0.0, line.browse()])
            entry[0] += line.product_uom_id._compute_quantity(line.quantity, sale_line.product_uom)
            entry[1] += line.price_subtotal
            entry[2] |= line
        currency = invoice.currency_id
        for sale_line, (quantity, amount, inv_lines) in totals.items():
            label = invoice._fleet_line_label(inv_lines[0])
            rounding = sale_line.product_uom.rounding or 0.001
            if float_compare(quantity, sale_line.fleet_approved_qty, precision_rounding=rounding) > 0:
                problems.append(_("%(job)s, line “%(line)s”: quantity %(quantity)s is more than the %(approved)s "
                                  "the fleet approved.", job=self.name, line=label,
                                  quantity=formatting.format_quantity(quantity),
                                  approved=formatting.format_quantity(sale_line.fleet_approved_qty)))
            if currency.compare_amounts(amount, sale_line.fleet_approved_amount) > 0:
                problems.append(_("%(job)s, line “%(line)s”: amount %(amount)s is more than the %(approved)s the "
                                  "fleet approved.", job=self.name, line=label,
                                  amount=formatting.format_amount(amount),
                                  approved=formatting.format_amount(sale_line.fleet_approved_amount)))
        return problems

    def _fleet_check_can_invoice(self):
        """Refuse, before anything is done, a job that the Invoice action
        cannot invoice.

        :raise UserError: naming the job
        """
        self.ensure_one()
        if self.state == "cancel":
            raise UserError(_("%(job)s is cancelled: it cannot be invoiced.", job=self.name))
        if not self.sale_order_id:
            raise UserError(_("%(job)s has no quotation: create it (Create Quotation) before invoicing the job.",
                              job=self.name))
        refusal = self.sudo()._fleet_invoice_refusal() or (self.is_autointegrate and self._fleet_waiting_refusal())
        if refusal:
            raise UserError(refusal)
        order = self.sale_order_id
        if order.state in ("draft", "sent"):
            # nothing is invoiceable before the quotation is confirmed: look at its lines
            if self.is_autointegrate:
                has_work = any(line._fleet_is_approved_work() for line in order.order_line)
            else:
                has_work = any(not line.display_type and line.product_uom_qty for line in order.order_line)
        else:
            drafts = order.invoice_ids.filtered(lambda move: move.state == "draft" and move.move_type == "out_invoice")
            has_work = bool(drafts or order._get_invoiceable_lines().filtered(lambda line: not line.display_type))
        if not has_work:
            raise UserError(_("%(job)s has nothing left to invoice.", job=self.name))

    def _fleet_invoice_job(self):
        """Invoice this job: confirm its quotation, create the invoice of what
        is left to invoice, post it with the job's draft invoices. An
        AutoIntegrate job's posted invoice is sent to the fleet once the
        posting is committed (:meth:`account.move._post`).

        :return: the posted invoices
        """
        self.ensure_one()
        self._fleet_check_can_invoice()
        order = self.sale_order_id
        if order.state in ("draft", "sent"):
            order.action_confirm()
        Move = self.env["account.move"]
        invoices = order.invoice_ids.filtered(lambda move: move.state == "draft" and move.move_type == "out_invoice")
        if order._get_invoiceable_lines().filtered(lambda line: not line.display_type):
            # created in sudo by sale (salespeople may create them); posted as the user
            invoices |= Move.browse(order._create_invoices(grouped=True).ids)
        invoices = Move.browse(invoices.ids)
        invoices.action_post()
        return invoices

    #=== MAIL.THREAD HOOKS ===#

    def _track_subtype(self, init_values):
        # a fleet decision is told with the status change it brings, to the followers of fleet decisions
        self.ensure_one()
        return self._fleet_said_subtype() or super()._track_subtype(init_values)

    def _track_get_default_log_message(self, tracked_fields):
        return self._fleet_said_body() or super()._track_get_default_log_message(tracked_fields)


def _parse_timestamp(value):
    """:return: an Odoo datetime string from an RFC 3339 UTC timestamp, or False."""
    if not isinstance(value, str) or len(value) < 19:
        return False
    try:
        return fields.Datetime.to_string(fields.Datetime.to_datetime(value[:19].replace("T", " ")))
    except ValueError:
        return False
