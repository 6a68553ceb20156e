"""The fleet's side of a job (``repair.order``): its vehicle, its RO as the
fleet last sent it, sending it, storing the fleet's states and notes, and
whether its work may be invoiced.

Every way an RO state reaches the shop ends in :meth:`_fleet_apply_states`:
the webhook, the changes-feed poll, the nightly reconciliation and every call
whose answer is an RO state. A state not newer than the last applied is
ignored; the fleet's notes are stored once; a decision is one chatter entry
with the status change it brings; a denial or a question is a to-do.
"""

import hashlib
import logging
import re
from collections import defaultdict
from datetime import timedelta

import psycopg2
from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, float_compare, format_amount

from ..const import (
    APPROVED_STATUSES,
    CLOSED_STATUSES,
    DUE_SOON_SHARE,
    FLEET_DISPLAY_STATUSES,
    FLEET_INVOICE_WAITING,
    FLEET_STATUSES,
    GROUP_USER,
    INVOICEABLE_LINE_STATUSES,
    WAITING_STATUSES,
)
from ..lib import autointegrate as ai
from ..lib.autointegrate import bodies, contract, formatting
from ..tools import describe_problems, user_error

_logger = logging.getLogger(__name__)

#: the chatter subtypes of the fleet's messages on a job
SUBTYPE_FLEET_NOTE = "omega_autointegrate.mt_fleet_note"
SUBTYPE_FLEET_DECISION = "omega_autointegrate.mt_fleet_decision"
#: the activities of a fleet's request for documents and of an overdue decision
ACTIVITY_DOCUMENTS = "omega_autointegrate.mail_activity_type_fleet_documents"
ACTIVITY_OVERDUE = "omega_autointegrate.mail_activity_type_fleet_overdue"
#: the to-dos of a fleet's denial and of its question, one open per job and reason
ACTIVITY_DENIAL = "omega_autointegrate.mail_activity_type_fleet_denial"
ACTIVITY_INFO = "omega_autointegrate.mail_activity_type_fleet_info"
#: the bus notification that tells open browser tabs the fleet's state of jobs changed
#: (static/src/views/fleet_live.js)
BUS_FLEET_UPDATE = "omega_autointegrate/fleet_update"
#: the toast of a fleet decision, by the job's new fleet status
TOAST_TYPES = {"approved": "success", "completed": "success", "denied": "danger", "cancelled": "info"}
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
    "product_id.fleet_line_type", "product_id.fleet_service_code", "product_id.default_code",
)


class RepairOrder(models.Model):
    _name = "repair.order"
    _inherit = ["repair.order", "autointegrate.normalize.mixin", "autointegrate.chatter.mixin",
                "autointegrate.fleet.state.mixin"]
    # the fleet's RO as it last answered, what the shop last sent, and what the gates compute from them
    _fleet_state_fields = (
        "fleet_ro_id", "fleet_revision", "fleet_status", "fleet_authorization_number", "fleet_decided_by",
        "fleet_decided_at", "fleet_submitted_at", "fleet_sequence", "fleet_approved_total", "fleet_sent_digest",
        "fleet_denial_pending", "is_autointegrate", "fleet_currency_id", "fleet_digest", "fleet_changed",
        "fleet_needs_resubmit", "fleet_documents_requested", "fleet_waiting_since", "fleet_due_at", "fleet_escalated",
        "fleet_display_status",
    )

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
    # stored: the jobs' lists show it, sort and search by it
    fleet_vehicle = fields.Char(
        string="Vehicle", compute="_compute_fleet_vehicle", store=True,
        help="Year, make, model and plate of the vehicle, as the Fleet tab gives them.",
    )

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
    # stored: the lists and the kanban show it and group by it
    fleet_display_status = fields.Selection(
        FLEET_DISPLAY_STATUSES, string="Fleet Approval", compute="_compute_fleet_display_status", store=True,
        help="The fleet status, or Changed since approval when the job no longer matches what the fleet approved.",
    )
    fleet_can_accept = fields.Boolean(
        compute="_compute_fleet_can_accept",
        help="The fleet denied or cut lines of an RO it otherwise approved, and the job is as the fleet saw it: "
             "the shop may accept the decision instead of sending the job again.",
    )
    fleet_needs_resubmit = fields.Boolean(
        string="To Send Again", compute="_compute_fleet_needs_resubmit", store=True,
    )
    fleet_note_ids = fields.One2many("autointegrate.note", "repair_id", string="Fleet Notes")
    fleet_note_count = fields.Integer(compute="_compute_fleet_note_count")
    fleet_line_ids = fields.One2many(
        related="sale_order_id.order_line", string="Fleet Lines", readonly=False,
    )

    # documents of the RO, both sides' (contract 9), and what the fleet asks for (9.4)
    fleet_document_ids = fields.One2many(
        "autointegrate.document", "repair_id", string="Fleet Documents",
        groups="omega_autointegrate.group_autointegrate_user",
    )
    fleet_documents_requested = fields.Json(copy=False, readonly=True)
    fleet_documents_requested_text = fields.Text(
        string="Documents Requested", compute="_compute_fleet_documents_requested_text",
    )
    # the approval clock: how long the job has waited on its fleet's decision
    fleet_waiting_since = fields.Datetime(
        string="Waiting on Fleet Since", copy=False, readonly=True,
        help="When the job last went to the fleet for a decision; empty once the fleet decided.",
    )
    fleet_due_at = fields.Datetime(
        string="Fleet Decision Due", compute="_compute_fleet_due_at", store=True,
        help="When the fleet's agreed response time runs out.",
    )
    fleet_escalated = fields.Boolean(copy=False, readonly=True)
    fleet_waiting_label = fields.Char(string="Waiting on Fleet", compute="_compute_fleet_clock")
    fleet_clock = fields.Selection(
        [("on_time", "On time"), ("due_soon", "Due soon"), ("overdue", "Overdue")],
        compute="_compute_fleet_clock",
        help="How long the job has waited on its fleet against the fleet's agreed response time.",
    )
    fleet_overdue = fields.Boolean(
        string="Overdue at Fleet", compute="_compute_fleet_clock", search="_search_fleet_overdue",
    )
    # the authorization history: each revision as requested and as the fleet decided it
    fleet_authorization_ids = fields.One2many(
        "autointegrate.authorization", "repair_id", string="Fleet Revisions",
        groups="omega_autointegrate.group_autointegrate_user",
    )
    fleet_authorization_line_ids = fields.One2many(
        "autointegrate.authorization.line", "repair_id", string="Authorization History",
        groups="omega_autointegrate.group_autointegrate_user",
    )
    fleet_supplement_summary = fields.Char(
        string="To Send", compute="_compute_fleet_supplement_summary",
        help="What sending the job again changes in what the fleet reviewed.",
    )

    #=== COMPUTE METHODS ===#

    @api.depends("partner_id.commercial_partner_id.fleet_invoice_method", "fleet_ro_id")
    def _compute_is_autointegrate(self):
        for repair in self:
            # a job the fleet has stays the fleet's, whatever its customer becomes: the invoicing gate
            # keeps asking the fleet's approval, not a value a user can change
            repair.is_autointegrate = bool(repair.fleet_ro_id) or (
                bool(repair.partner_id) and repair.partner_id._is_autointegrate())

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
        accounts = self.filtered("is_autointegrate")._fleet_read_for_payloads()
        for repair in self:
            if repair.is_autointegrate and repair.sale_order_id:
                repair.fleet_digest = formatting.body_digest(
                    repair._fleet_payload(account=accounts[repair.company_id]), length=32)
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

    @api.depends("fleet_vehicle_year", "fleet_vehicle_make", "fleet_vehicle_model", "fleet_plate")
    def _compute_fleet_vehicle(self):
        for repair in self:
            name = " ".join(str(part) for part in (
                repair.fleet_vehicle_year, repair.fleet_vehicle_make, repair.fleet_vehicle_model) if part)
            repair.fleet_vehicle = " · ".join(part for part in (name, repair.fleet_plate) if part) or False

    @api.depends("fleet_status", "fleet_changed")
    def _compute_fleet_display_status(self):
        for repair in self:
            changed = repair.fleet_changed and repair.fleet_status in APPROVED_STATUSES
            repair.fleet_display_status = "changed" if changed else repair.fleet_status

    @api.depends(
        "fleet_status", "fleet_changed",
        "fleet_line_ids.fleet_status", "fleet_line_ids.product_uom_qty", "fleet_line_ids.price_subtotal",
        "fleet_line_ids.fleet_approved_qty", "fleet_line_ids.fleet_approved_amount",
    )
    def _compute_fleet_can_accept(self):
        for repair in self:
            repair.fleet_can_accept = (
                repair.fleet_status in APPROVED_STATUSES and not repair.fleet_changed
                and bool(repair._fleet_lines_to_accept())
            )

    @api.depends("fleet_note_ids")
    def _compute_fleet_note_count(self):
        for repair in self:
            repair.fleet_note_count = len(repair.fleet_note_ids)

    @api.depends("fleet_documents_requested")
    def _compute_fleet_documents_requested_text(self):
        kinds = dict(self.env["autointegrate.document"]._fields["kind"]._description_selection(self.env))
        asked = self.filtered("fleet_documents_requested")
        lines_of = asked._fleet_lines_by_ref() if asked else {}
        for repair in self:
            lines = lines_of.get(repair.id, {})
            repair.fleet_documents_requested_text = "\n".join(
                "- " + " · ".join(filter(None, (
                    kinds.get(item.get("kind"), item.get("kind")),
                    item.get("line_ref") and (lines[item["line_ref"]].name.splitlines()[0]
                                              if item["line_ref"] in lines else item["line_ref"]),
                    item.get("text"),
                )))
                for item in repair.fleet_documents_requested or []
            ) or False

    @api.depends("fleet_waiting_since", "partner_id.commercial_partner_id.fleet_response_hours")
    def _compute_fleet_due_at(self):
        for repair in self:
            hours = repair.partner_id.commercial_partner_id.fleet_response_hours
            repair.fleet_due_at = (repair.fleet_waiting_since + timedelta(hours=hours)
                                   if repair.fleet_waiting_since and hours else False)

    @api.depends("fleet_status", "fleet_waiting_since", "fleet_due_at")
    def _compute_fleet_clock(self):
        now = fields.Datetime.now()
        for repair in self:
            since = repair.fleet_status in WAITING_STATUSES and repair.fleet_waiting_since
            clock = False
            if since and repair.fleet_due_at:
                hours = repair.partner_id.commercial_partner_id.fleet_response_hours
                if now >= repair.fleet_due_at:
                    clock = "overdue"
                elif now - since >= timedelta(hours=hours * DUE_SOON_SHARE):
                    clock = "due_soon"
                else:
                    clock = "on_time"
            repair.fleet_waiting_label = self._fleet_duration_label(now - since) if since else False
            repair.fleet_clock = clock
            repair.fleet_overdue = clock == "overdue"

    def _search_fleet_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Overdue at Fleet can only be searched as true or false."))
        overdue = [("fleet_status", "in", WAITING_STATUSES), ("fleet_due_at", "<=", fields.Datetime.now())]
        return overdue if (operator == "=") == value else ["!", "&", *overdue]

    @api.depends("fleet_digest", "fleet_revision", "fleet_status")
    def _compute_fleet_supplement_summary(self):
        for repair in self:
            summary = False
            if repair.fleet_ro_id and repair.fleet_changed and repair.fleet_status not in CLOSED_STATUSES:
                summary = repair._fleet_delta_text(repair._fleet_revision_delta(repair._fleet_payload()))
            repair.fleet_supplement_summary = summary

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

    # named to run before repair's _unlink_except_confirmed (Odoo runs them in name order), which
    # would otherwise cancel a confirmed job, and so its RO at the fleet, on the way to deleting it
    @api.ondelete(at_uninstall=False)
    def _unlink_except_bound_to_fleet(self):
        """A job whose RO is open at the fleet is not deleted, draft or not: the
        fleet would keep an RO (approved, perhaps, its invoice awaited) that
        the shop no longer knows. Cancelling the job cancels the RO at the
        fleet; the job may then be deleted."""
        bound = self.filtered(lambda repair: repair.fleet_ro_id and repair.fleet_status not in CLOSED_STATUSES)
        if bound:
            raise UserError(_(
                "%(jobs)s cannot be deleted: the fleet has its repair order, still open there, and would keep it. "
                "Cancel the job instead (Cancel also cancels its RO at the fleet); once cancelled, it can be "
                "deleted.", jobs=", ".join(bound.mapped("name"))))

    #=== ACTION METHODS ===#

    def action_send_to_fleet(self):
        """SEND TO FLEET: the dialog of what will be sent, or of the fleet's
        current status when it was sent already."""
        self.ensure_one()
        self._fleet_check_rights("write")
        if not self.fleet_ro_id:
            self._fleet_check_can_send()
            self._fleet_ensure_quotation()
        warning = self._fleet_refresh()
        wizard = self.env["autointegrate.send.wizard"].create({"repair_id": self.id, "warning": warning})
        return wizard._action_open()

    def action_fleet_save_and_send(self):
        """SAVE AND SEND TO FLEET: the form saved the job; resubmit it."""
        self.ensure_one()
        self._fleet_check_rights("write")
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

    def action_fleet_accept_decision(self):
        """ACCEPT FLEET DECISION: the shop takes the fleet's partial approval as
        it is instead of sending the job again. The denied lines leave the
        quotation (they stay on it, at quantity 0, declined by the fleet) and
        the adjusted lines take the quantity and amount the fleet approved;
        the job then matches what the fleet approved, so it can be worked and
        invoiced. Sending it again stays possible.

        The fleet's current RO is read first: only its latest decision is accepted.

        :raise UserError: there is nothing to accept, or the fleet could not be read
        """
        self.ensure_one()
        self._fleet_check_rights("write")
        warning = self._fleet_refresh()
        if warning:
            raise UserError(_("%(warning)s\nNothing was accepted: accept the fleet's decision once it can be read.",
                              warning=warning))
        if not self.fleet_can_accept:
            if self.fleet_changed:
                raise UserError(_("%(job)s changed since the fleet decided on it: send it to the fleet again "
                                  "instead.", job=self.name))
            raise UserError(_("The fleet did not deny or cut any line of %(job)s (fleet status: %(status)s): "
                              "there is no decision to accept.", job=self.name, status=self._fleet_status_label()))
        lines = self._fleet_lines_to_accept()
        items = Markup("").join(Markup("<li>%s: %s</li>") % (line.name.splitlines()[0], line._fleet_accept())
                                for line in lines)
        # the job is now what the fleet approved: nothing is left to send
        self._fleet_write_state({"fleet_sent_digest": self.fleet_digest, "fleet_denial_pending": False})
        self.message_post(body=Markup("%s<ul>%s</ul>") % (_("The fleet's decision was accepted:"), items))
        self._fleet_end_denial(_("Accept Fleet Decision: the job now holds what the fleet approved."))
        return self._fleet_notification(
            "success", _("Fleet decision accepted"),
            _("%(job)s now holds what the fleet approved: it can be worked and invoiced.", job=self.name))

    def _fleet_open_communication(self, line=None):
        self.ensure_one()
        self._fleet_check_rights("read")
        if not self.fleet_ro_id:
            raise UserError(_("%(job)s has not been sent to the fleet yet.", job=self.name))
        warning = self._fleet_refresh()
        wizard = self.env["autointegrate.communication.wizard"].create({
            "repair_id": self.id,
            "sale_line_id": line.id if line else False,
            "warning": warning,
        })
        return wizard._action_open()

    def _fleet_dialog_note_key(self, dialog, text):
        """:return: the Idempotency-Key of the note ``text`` sent from ``dialog``
        (a record): a retry of the same dialog (a double click, a lost answer)
        gives the fleet the note once, while the same words sent from another
        dialog are a note of their own. Within the contract's 128 characters
        whatever the RO id and the database's name."""
        self.ensure_one()
        digest = formatting.body_digest([self.env.cr.dbname, self.fleet_ro_id, dialog._name, dialog.id, text], 32)
        return f"{self.fleet_ro_id[:80]}:note:{digest}"

    @api.model
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
        # cancelling a job the fleet has cancels its RO there: not a local cancel that leaves the RO open
        to_cancel._fleet_check_rights("write")
        result = super().action_repair_cancel()
        for repair in to_cancel:
            client = repair.company_id._autointegrate_client(repair)
            reason = _("Cancelled by the shop")
            try:
                state = client.cancel(repair.fleet_ro_id, reason)
            except ai.InvalidStateError:
                repair._fleet_refresh()
                continue
            except ai.AutoIntegrateError as error:
                raise user_error(self.env, error, client.base_url) from error
            repair._fleet_apply_state(state)
            # what the fleet was told, in FLEET COMMUNICATION (sudo: the entries are the fleet's record)
            self.env["autointegrate.note"].sudo().create({
                "repair_id": repair.id, "fleet_note_id": f"cancel:{repair.fleet_ro_id}", "kind": "cancel",
                "author_type": "shop", "author": self.env.user.name, "text": reason,
                "created_at": fields.Datetime.now(),
            })
        return result

    def action_fleet_send_documents(self):
        """SEND DOCUMENTS (and SEND THE REQUESTED DOCUMENTS): the job's
        attachments to send to the fleet, pre-filled with what it asked for."""
        self.ensure_one()
        self._fleet_check_rights("write")
        if not self.fleet_ro_id:
            raise UserError(_("%(job)s has not been sent to the fleet yet: send it first.", job=self.name))
        self._fleet_check_can_send()
        self._fleet_refresh()  # what the fleet asks for now
        wizard = self.env["autointegrate.document.wizard"].create({"repair_id": self.id})
        return wizard._action_open()

    #=== BUSINESS METHODS: the fleet's RO ===#

    def _fleet_lines(self):
        """:return: the quotation lines that make the fleet's RO."""
        self.ensure_one()
        # the quotation's lines, as the job's form shows (and edits) them
        return self.fleet_line_ids.filtered(
            lambda line: not line.display_type and line.product_id and not line.is_downpayment
            and (line.product_uom_qty > 0 or line.price_unit < 0)
        )

    def _fleet_lines_to_accept(self):
        """:return: the lines of the RO whose fleet decision the shop has not taken
        on the quotation yet: denied ones, and adjusted ones above what the fleet approved."""
        self.ensure_one()
        return self._fleet_lines().filtered(lambda line: line.fleet_status == "denied" or (
            line.fleet_status == "adjusted" and line._fleet_above_approval()))

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

    def _fleet_read_for_payloads(self):
        """Read at once what building the RO of each job of ``self`` reads
        (else each job's quotation lines are read apart).

        :return: ``{company: its AutoIntegrate account}`` of the jobs' companies
            (see :meth:`_fleet_payload`)
        """
        self.fleet_line_ids.mapped("tax_id")
        return {company: company._autointegrate_account() for company in self.company_id}

    def _fleet_payload(self, notes=(), line_notes=None, account=None):
        """The submit body of this job (contract 4.1), built from its quotation.

        It does not validate: :func:`autointegrate.bodies.validate_ro_body`
        does, so every problem is reported at once.

        :param notes: notes on the whole request
        :param line_notes: ``{line_ref: [note, ...]}``
        :param account: the job's company's AutoIntegrate account, when the
            caller read it already for many jobs (else it is read here)
        :return: the body, a dict
        """
        return self._fleet_payload_and_lines(notes, line_notes, account=account)[0]

    def _fleet_payload_and_lines(self, notes=(), line_notes=None, account=None):
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
                "description": line._fleet_description(),
                "quantity": formatting.format_quantity(line.product_uom_qty),
                "unit_price": formatting.format_amount(unit_price),
                "amount": formatting.format_amount(amount),
                "taxable": bool(line.tax_id),
                "notes": [note for note in line_notes.get(ref, ()) if note],
            })
        tax = formatting.round_cents(order.amount_tax or 0.0)
        if account is None:
            account = self.company_id._autointegrate_account()
        body = {
            "fleet_company_id": self.fleet_company_code or None,
            "shop_id": account.shop_id or None,
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

    def _fleet_check_rights(self, operation="write"):
        """Refuse, before anything reaches the fleet, a user who may not talk
        to it about these jobs. Every server method that calls the fleet or
        changes a job's fleet state asks this first: the views hiding a
        button is no rule.

        It asks for the AutoIntegrate / User group and the jobs' access rules
        (their company), from the database: not values a sudo read left in
        the cache. The addon's own calls in sudo (the crons, the webhook, the
        invoice posting) pass.

        :param operation: the access the call needs on the jobs: ``read`` to
            read the fleet's RO and store it, ``write`` to change it
        :raise AccessError: naming the jobs and the right to ask for
        """
        if self.env.su or not self:
            return
        if not self.env.user.has_group(GROUP_USER):
            raise AccessError(_(
                "%(jobs)s: only users with the AutoIntegrate / User right may talk to the fleet about a job "
                "(send it, read its fleet status or notes, cancel its fleet RO). Ask your administrator for "
                "that right, or a colleague who has it.", jobs=", ".join(self.mapped("name"))))
        self.check_access(operation)

    def _fleet_status_label(self):
        return dict(self._fields["fleet_status"]._description_selection(self.env)).get(self.fleet_status)

    def _fleet_lock(self):
        """Lock the job's row while it is sent, so that two users sending the
        same job at once cannot both reach the fleet."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint(flush=False):
                self._fleet_lock_nowait()
        except psycopg2.errors.LockNotAvailable as error:
            raise UserError(
                _("%(job)s is being sent to the fleet by someone else right now. Wait a moment and reopen it.",
                  job=self.name)
            ) from error

    def _fleet_lock_nowait(self):
        """Lock the job's row, or fail at once (``LockNotAvailable``) when another
        transaction holds it: the caller holds a savepoint and says what to do."""
        self.ensure_one()
        # NO KEY: rows of other transactions may still reference this job; a lock
        # already taken is the expected answer here, not an error for the log
        self.env.cr.execute("SELECT id FROM repair_order WHERE id = %s FOR NO KEY UPDATE NOWAIT", [self.id],
                            log_exceptions=False)

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
        self._fleet_check_rights("write")
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
        # what is sent, and what _fleet_payload() gives now the refs are stored (the job's digest):
        # the body without this submission's notes, which follow it one by one, each signed by the
        # user who wrote it (contract 5.2: a body's notes would be signed by the shop)
        core = dict(body, notes=[], lines=[dict(line, notes=[]) for line in body["lines"]])
        core_digest = formatting.body_digest(core, length=32)
        client = self.company_id._autointegrate_client(self)
        adopted = False
        try:
            if self.fleet_ro_id:
                state = client.resubmit(self.fleet_ro_id, dict(core, base_revision=self.fleet_revision))
            else:
                try:
                    state = client.submit(core)
                except ai.DuplicateROError as error:
                    # the fleet already has this job (our earlier commit was lost): adopt
                    # its RO and bring it up to date instead of creating another
                    existing = error.state or {}
                    if not existing.get("ro_id"):
                        raise
                    _logger.info("Adopting fleet RO %s for %s", existing["ro_id"], self.name)
                    adopted = True  # what the fleet decided before this answer is not known
                    state = client.resubmit(existing["ro_id"], dict(core, base_revision=existing["revision"]))
        except ai.RevisionConflictError as error:
            if error.state:
                self._fleet_apply_state(error.state)
            return False
        except ai.ValidationError as error:
            raise UserError(_("The fleet refused %(job)s. Fix the following:\n%(problems)s",
                              job=self.name,
                              problems=describe_problems(self.env, error.details, body, self))) from error
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error, client.base_url) from error
        self._fleet_record_revision(body, sale_lines, state, answered=not adopted)
        denial_pending = self.fleet_denial_pending
        self._fleet_apply_state(state)
        self._fleet_send_notes(client, body)
        vals = {"fleet_sent_digest": core_digest, "fleet_denial_pending": False}
        if not self.fleet_submitted_at:
            vals["fleet_submitted_at"] = fields.Datetime.now()
        self._fleet_write_state(vals)
        if denial_pending:
            self._fleet_end_denial(_("Fixed and sent to the fleet again (revision %(revision)s).",
                                     revision=self.fleet_revision))
        # webhooks the fleet sent while this waited for its answer: applied now the job knows its RO
        self.env["autointegrate.event"]._apply_waiting_of(self)
        return True

    def _fleet_send_notes(self, client, body):
        """Send the notes of a (re)submission ``body`` (on the RO and on its
        lines) to the RO just sent, signed by the user (contract 5.2), and
        store them.

        Each note's idempotency key is derived from what it sends, as a
        body's notes were: a retry after a lost answer sends it once, and the
        same note with a later submission is not added twice.

        :raise UserError: the fleet could not be reached; the submission's
            transaction is rolled back, and sending again is safe
        """
        self.ensure_one()
        author = self.env.user.name[:128]
        sent = [(None, text) for text in body["notes"]]
        sent += [(line["line_ref"], text) for line in body["lines"] for text in line["notes"]]
        notes = []
        try:
            for line_ref, text in sent:
                notes.append(client.add_note(self.fleet_ro_id, text, line_ref=line_ref, author=author))
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error, client.base_url) from error
        if notes:
            self._fleet_store_notes(notes)

    def _fleet_refresh(self):
        """Read the fleet's current RO and store it.

        :return: an error message when the fleet could not be read, else ``False``
        """
        self.ensure_one()
        self._fleet_check_rights("read")  # from the database, like _fleet_send
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
        before = {repair.id: (bool(repair.fleet_documents_requested), repair.fleet_escalated) for repair, _s in todo}
        changed = []  # the jobs whose fleet status the state changes
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
                values = _line_decision(line_state)
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
            if vals["fleet_ro_id"] == repair.fleet_ro_id:
                # unchanged: written again, it would recompute what follows it (the job's digest of the RO)
                del vals["fleet_ro_id"]
            if newly_denied:
                vals["fleet_denial_pending"] = True
            elif repair.fleet_denial_pending and not any(
                    line_state.get("status") == "denied" for line_state in state.get("lines") or []):
                vals["fleet_denial_pending"] = False  # the fleet took its denial back: nothing to answer
            asked_now = vals["fleet_status"] == "info_requested" and repair.fleet_status != "info_requested"
            # a request for documents has a to-do of its own (_fleet_after_states)
            newly_asked = asked_now and not state.get("documents_requested")
            if vals["fleet_status"] != repair.fleet_status:
                changed.append(repair.id)
            vals.update(repair._fleet_clock_and_request_vals(state, vals["fleet_status"]))
            repair._fleet_write_state(vals)
            new_notes = repair._fleet_new_note_values(state.get("notes") or [], lines, known_notes[repair.id])
            if asked_now:
                new_notes += repair._fleet_info_request_values(new_notes, state)
            # FLEET COMMUNICATION keeps the fleet's words on the lines too (the lines hold the latest only)
            note_values += new_notes + repair._fleet_decision_entry_values(state, decided)
            if decided:
                decisions.append((repair, decided))
            if newly_denied or newly_asked:
                followups.append((repair, newly_asked))

        # sudo: the fleet's decision on the quotation, not an edit of it by the user
        SaleLine = self.env["sale.order.line"].sudo()
        for values, line_ids in line_writes.items():
            SaleLine.browse(line_ids)._fleet_write_state(dict(zip(LINE_FLEET_FIELDS, values, strict=True)))
        notes = self.env["autointegrate.note"].sudo().create(note_values)
        # the chatter, in the order each job always had: the fleet's notes, then its decision,
        # which goes with the status change it brings (see _track_subtype)
        self._fleet_post_notes(notes)
        labels = dict(SaleLine._fields["fleet_status"]._description_selection(self.env))
        for repair, decided in decisions:
            repair._fleet_say(repair._fleet_decision_body(decided, labels), SUBTYPE_FLEET_DECISION)
        repairs._fleet_schedule_followups(followups)
        self.browse(changed)._fleet_end_followups()
        repairs._fleet_apply_documents(todo, lines_of)
        repairs._fleet_apply_history(todo)
        repairs._fleet_after_states(todo, before)
        repairs._fleet_tell_browsers(self.browse(changed))
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
            lines.browse(line_id)._fleet_write_state({"fleet_line_ref": ref})

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

    def _fleet_info_request_values(self, new_notes, state):
        """The fleet asks for information in ``state``: the fleet's notes that
        came with it are its question (``new_notes``, their values are
        marked); without any, the question is an entry of its own, with what
        the fleet asked for (contract 9.4), if anything.

        :return: the values of the entry to add, if one is needed
        """
        self.ensure_one()
        asked = [values for values in new_notes if values["author_type"] == "fleet"]
        for values in asked:
            values["kind"] = "info_request"
        if asked:
            return []
        texts = [item["text"] for item in state.get("documents_requested") or []
                 if isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"]]
        return [{
            "repair_id": self.id,
            "fleet_note_id": f"state:{state.get('sequence')}:info_request",
            "kind": "info_request",
            "author_type": "fleet",
            "text": "\n".join(texts) or False,
            "created_at": _parse_timestamp(state.get("updated_at")) or fields.Datetime.now(),
        }]

    def _fleet_decision_entry_values(self, state, decided):
        """:return: the values of FLEET COMMUNICATION's entries of the fleet's
        line decisions in ``state`` that say something: one with a reason, a
        denial, an adjustment, or a decision that replaces a denial or an
        adjustment (a first plain approval says nothing the chatter does not)

        :param decided: ``[(line, line state)]``, the lines the state decided
            anew; the lines still hold their earlier decision
        """
        self.ensure_one()
        at = (_parse_timestamp(state.get("decided_at")) or _parse_timestamp(state.get("updated_at"))
              or fields.Datetime.now())
        said = ("denied", "adjusted")
        return [{
            "repair_id": self.id,
            "fleet_note_id": f"state:{state.get('sequence')}:{line.fleet_line_ref}",
            "kind": "decision",
            "decision": line_state["status"],
            "line_ref": line.fleet_line_ref,
            "sale_line_id": line.id,
            "author_type": "fleet",
            "author": state.get("decided_by") or False,
            "text": line_state.get("reason") or False,
            "created_at": at,
        } for line, line_state in decided
            if line_state.get("reason") or line_state["status"] in said or line.fleet_status in said]

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
        # a decision's reason is in the decision's own entry
        for note in notes.filtered(lambda n: n.author_type == "fleet" and n.kind in ("note", "info_request")):
            note.repair_id.message_post(body=self._fleet_note_body(note), subtype_xmlid=SUBTYPE_FLEET_NOTE)

    def _fleet_note_body(self, note):
        """A note of the fleet, for the chatter."""
        where = Markup(" <i>(%s)</i>") % note.line_label if note.line_ref else ""
        # a question the fleet asked by its status alone carries no text
        text = note.text or _("asks for information, without saying what: ask the fleet what it needs.")
        return Markup("<b>%s</b>%s: %s") % (note.author or _("Fleet"), where, text)

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
        today = fields.Date.context_today(self)
        for (info_requested, user_id), repair_ids in groups.items():
            summary = (_("The fleet asks for information") if info_requested
                       else _("The fleet denied work: fix the job and send it again"))
            kind = ACTIVITY_INFO if info_requested else ACTIVITY_DENIAL
            repairs = self.browse(repair_ids)
            # a job's to-do of this reason still open is due again, not doubled
            rescheduled = repairs.activity_reschedule([kind], date_deadline=today)
            (repairs - self.browse(rescheduled.mapped("res_id"))).activity_schedule(
                kind, summary=summary, user_id=user_id)

    def _fleet_end_followups(self):
        """Close the to-dos of a denial and of a question of the fleet on
        these jobs that the fleet status they now have answers: a question
        once the fleet no longer waits on the shop, a denial once the fleet
        approved the job or its RO is completed. A cancelled RO leaves
        nothing to do: its to-dos are removed, not done."""
        answered = self.filtered(lambda r: r.fleet_status != "info_requested")
        # sudo: the fleet's to-dos of the job, whoever they were given to
        todos = answered.sudo().activity_search([ACTIVITY_DENIAL, ACTIVITY_INFO]) if answered else None
        if not todos:
            return
        denial = self.env.ref(ACTIVITY_DENIAL)
        labels = dict(self._fields["fleet_status"]._description_selection(self.env))
        done = defaultdict(lambda: todos.browse())  # feedback -> to-dos (False: to remove)
        for activity in todos:
            status = self.browse(activity.res_id).fleet_status
            if status == "cancelled":
                done[False] |= activity
            elif activity.activity_type_id != denial:
                done[_("The fleet no longer waits for an answer: its RO is %(status)s.",
                       status=labels.get(status, status))] |= activity
            elif status in ("approved", "completed"):
                done[_("The fleet approved the job: nothing is left to fix (its RO is %(status)s).",
                       status=labels.get(status, status))] |= activity
        done.pop(False, todos.browse()).unlink()
        for feedback, finished in done.items():
            finished.action_feedback(feedback=feedback)

    def _fleet_end_denial(self, feedback):
        """The shop answered the fleet's denial of this job: its to-do is done, saying how."""
        self.ensure_one()
        # sudo: the to-do may be a colleague's
        self.sudo().activity_feedback([ACTIVITY_DENIAL], feedback=feedback)

    def _fleet_clock_and_request_vals(self, state, status):
        """What an RO state being applied sets of the approval clock and of
        the fleet's requests for documents (9.4), written with the job's other
        fleet fields (:meth:`_fleet_apply_states`): the clock starts when the
        job goes to the fleet for a decision and stops when the fleet decided
        or asks the shop something.

        :param status: the RO status the state brings
        """
        self.ensure_one()
        vals = {}
        requested = [item for item in state.get("documents_requested") or [] if isinstance(item, dict)]
        if requested != (self.fleet_documents_requested or []):
            vals["fleet_documents_requested"] = requested or False
        if status in WAITING_STATUSES:
            if self.fleet_status not in WAITING_STATUSES or not self.fleet_waiting_since:
                vals.update(fleet_waiting_since=fields.Datetime.now(), fleet_escalated=False)
        elif self.fleet_waiting_since:
            vals["fleet_waiting_since"] = False
        return vals

    def _fleet_apply_documents(self, todo, lines_of):
        """Store the documents of the states applied that are not stored yet,
        both sides' (one read); the fleet's are then downloaded by a cron,
        outside this transaction (a webhook makes no outbound call).

        :param todo: ``[(job, RO state)]``
        :param lines_of: ``{job id: {line_ref: quotation line}}``
        """
        todo = [(repair, state) for repair, state in todo if state.get("documents")]
        if not todo:
            return
        Document = self.env["autointegrate.document"].sudo()
        known = defaultdict(set)
        for document in Document.search_fetch([("repair_id", "in", [repair.id for repair, _s in todo])],
                                              ["repair_id", "fleet_document_id"]):
            known[document.repair_id.id].add(document.fleet_document_id)
        values = []
        for repair, state in todo:
            for document in state["documents"]:
                document_id = isinstance(document, dict) and document.get("document_id")
                if document_id and document_id not in known[repair.id]:
                    known[repair.id].add(document_id)
                    values.append(repair._fleet_document_values(document, lines_of.get(repair.id, {})))
        created = Document.create(values)
        if any(document.author_type == "fleet" for document in created):
            self.env.ref("omega_autointegrate.ir_cron_autointegrate_fetch_documents")._trigger()

    def _fleet_document_values(self, document, lines, attachment=None):
        """:return: the values of an ``autointegrate.document`` of this job from a document object (9.1)"""
        self.ensure_one()
        line_ref = document.get("line_ref") or False
        kind = document.get("kind")
        return {
            "repair_id": self.id,
            "fleet_document_id": document["document_id"],
            "author_type": "fleet" if document.get("author_type") == "fleet" else "shop",
            "kind": kind if kind in contract.DOCUMENT_KINDS else "other",
            "line_ref": line_ref,
            "sale_line_id": lines[line_ref].id if line_ref in lines else False,
            "file_name": document.get("file_name") or document["document_id"],
            "content_type": document.get("content_type") or False,
            "size": document.get("size") or 0,
            "sha256": (document.get("sha256") or "").lower() or False,
            "description": (document.get("description") or "")[:contract.TEXT_MAX] or False,
            "uploaded_at": _parse_timestamp(document.get("uploaded_at")) or fields.Datetime.now(),
            "attachment_id": attachment.id if attachment else False,
        }

    def _fleet_after_states(self, todo, before):
        """What the states applied start or end on their jobs: a request for
        documents is a to-do of its own until the fleet no longer waits for
        them; an escalated wait ends with the fleet's decision.

        :param before: ``{job id: (documents were requested, escalated)}`` before the states
        """
        asked, answered, decided = self.browse(), self.browse(), self.browse()
        for repair, _state in todo:
            had_requests, escalated = before[repair.id]
            if repair.fleet_documents_requested and not had_requests:
                asked |= repair
            elif had_requests and not repair.fleet_documents_requested:
                answered |= repair
            if escalated and repair.fleet_status not in WAITING_STATUSES:
                decided |= repair
        for repair in asked:
            items = Markup("").join(Markup("<li>%s</li>") % item.lstrip("- ")
                                    for item in repair.fleet_documents_requested_text.splitlines())
            repair.activity_schedule(
                ACTIVITY_DOCUMENTS, summary=_("The fleet asks for documents"),
                note=Markup("<p>%s</p><ul>%s</ul>") % (
                    _("Attach them to the job and click Send the Requested Documents:"), items),
                user_id=repair.user_id.id or self.env.user.id)
        if answered:
            answered.activity_feedback([ACTIVITY_DOCUMENTS])
        if decided:
            decided.activity_feedback([ACTIVITY_OVERDUE])

    #=== BUSINESS METHODS: the authorization history ===#

    def _fleet_last_revision(self):
        """:return: the latest revision recorded of this job's RO (sudo), or an empty recordset"""
        self.ensure_one()
        Revision = self.env["autointegrate.authorization"].sudo()
        if not self._origin.id:
            return Revision
        return Revision.search([("repair_id", "=", self._origin.id)], order="revision desc", limit=1)

    @api.model
    def _fleet_same_request(self, history_line, sent):
        """:return: whether a line of the history requested what the body line ``sent``
        requests: contract 4.2's test (every field but the notes, decimals as numbers)"""
        return (
            history_line.line_type == sent["type"]
            and (history_line.service_code or None) == sent["service_code"]
            and (history_line.description or "") == sent["description"]
            and history_line.taxable == sent["taxable"]
            and formatting.format_quantity(history_line.quantity) == sent["quantity"]
            and formatting.format_amount(history_line.unit_price) == sent["unit_price"]
            and formatting.format_amount(history_line.amount) == sent["amount"]
        )

    def _fleet_revision_delta(self, body, previous=None):
        """What sending ``body`` changes against the last revision recorded:
        lines are matched by ``line_ref``, and one equal in everything but its
        notes keeps the fleet's decision (contract 4.2).

        :param previous: the last revision recorded, when the caller read it
            already for many jobs (else it is read here; an empty recordset: none)
        :return: a dict: ``previous`` (the revision, or an empty recordset);
            ``added`` and ``unchanged`` (body lines); ``changed``
            (``[(history line, body line)]``); ``removed`` (history lines);
            ``before`` and ``after`` (untaxed amounts, Decimals)
        """
        self.ensure_one()
        previous = self._fleet_last_revision() if previous is None else previous
        old = {line.line_ref: line for line in previous.line_ids if line.change != "removed"}
        delta = {"previous": previous, "added": [], "changed": [], "unchanged": [], "removed": [],
                 "before": formatting.round_cents(previous.requested_untaxed if previous else 0),
                 "after": formatting.to_decimal(body["totals"]["untaxed"])}
        for sent in body["lines"]:
            line = old.pop(sent["line_ref"], None)
            if line is None:
                delta["added"].append(sent)
            elif self._fleet_same_request(line, sent):
                delta["unchanged"].append(sent)
            else:
                delta["changed"].append((line, sent))
        delta["removed"] = list(old.values())
        return delta

    def _fleet_delta_text(self, delta):
        """:return: what a delta (:meth:`_fleet_revision_delta`) changes, in one sentence for the shop"""
        self.ensure_one()
        if not delta["previous"]:
            return False
        currency = self.fleet_currency_id

        def names(lines):
            texts = (line["description"] if isinstance(line, dict) else line.description or "" for line in lines)
            return ", ".join((text.splitlines() or [""])[0][:60] for text in texts)

        parts = []
        if delta["added"]:
            parts.append(_("+ %(count)s line(s): %(lines)s", count=len(delta["added"]), lines=names(delta["added"])))
        if delta["changed"]:
            parts.append(_("%(count)s line(s) changed: %(lines)s", count=len(delta["changed"]),
                           lines=names(sent for _line, sent in delta["changed"])))
        if delta["removed"]:
            parts.append(_("− %(count)s line(s): %(lines)s", count=len(delta["removed"]),
                           lines=names(delta["removed"])))
        if not parts:
            parts.append(_("the lines are unchanged"))
        change = delta["after"] - delta["before"]
        amounts = _("%(sign)s%(change)s (%(before)s → %(after)s untaxed)",
                    sign="+ " if change >= 0 else "− ",
                    change=format_amount(self.env, float(abs(change)), currency),
                    before=format_amount(self.env, float(delta["before"]), currency),
                    after=format_amount(self.env, float(delta["after"]), currency))
        if self._fleet_is_supplement():
            what = _("Supplement to authorization %(number)s", number=self.fleet_authorization_number or "-")
        else:
            what = _("Revision %(revision)s", revision=(delta["previous"].revision or 0) + 1)
        kept = len(delta["unchanged"])
        return _("%(what)s: %(changes)s; %(amounts)s.%(kept)s", what=what, changes="; ".join(parts),
                 amounts=amounts,
                 kept=_(" %(count)s unchanged line(s) keep the fleet's decision.", count=kept) if kept else "")

    def _fleet_is_supplement(self):
        """:return: whether sending the job now adds to what the fleet authorized (a change after
        approval), rather than answering a denial or a question"""
        self.ensure_one()
        return self.fleet_status in APPROVED_STATUSES and not self.fleet_denial_pending

    def _fleet_record_revision(self, body, sale_lines, state, answered=True):
        """Record what a submission or resubmission asked for, as revision
        ``state["revision"]`` of the history (sudo: the history is the
        fleet's bookkeeping; users only read it). Lines it does not change
        keep their decisions, as the fleet keeps them (contract 4.2); the
        fleet's decisions are stored by :meth:`_fleet_apply_history`.

        :param sale_lines: the quotation line of each of the body's lines
        :param answered: ``state`` is the fleet's answer to sending ``body``
            (else a later state: who decided what in it is not known)
        :return: the revision (an existing one when it is recorded already)
        """
        self.ensure_one()
        return self._fleet_record_revisions([(self, body, sale_lines, state)], answered=answered)[self.id]

    @api.model
    def _fleet_record_revisions(self, items, answered=True):
        """:meth:`_fleet_record_revision` of many jobs at once (a page of
        states whose revisions were not recorded): one read of their last
        revisions, one create.

        :param items: ``[(job, body, sale lines, RO state)]``, one per job
        :param answered: as for :meth:`_fleet_record_revision`
        :return: ``{job id: revision}``
        """
        Revision = self.env["autointegrate.authorization"].sudo()
        last = {}
        for recorded in Revision.search([("repair_id", "in", [item[0].id for item in items])],
                                        order="repair_id, revision desc"):
            last.setdefault(recorded.repair_id.id, recorded)
        values, revisions = [], {}
        for repair, body, sale_lines, state in items:
            revision = state.get("revision") or 0
            delta = repair._fleet_revision_delta(body, last.get(repair.id, Revision))
            if delta["previous"].revision >= revision:
                # recorded already (the state came first by another way), or older than what is recorded
                revisions[repair.id] = Revision.search([("repair_id", "=", repair.id), ("revision", "=", revision)])
            else:
                values.append(repair._fleet_revision_values(body, sale_lines, state, delta, answered))
        revisions.update((created.repair_id.id, created) for created in Revision.create(values))
        return revisions

    def _fleet_revision_values(self, body, sale_lines, state, delta, answered=True):
        """:return: the values of the revision that :meth:`_fleet_record_revision`
        records, ``delta`` being :meth:`_fleet_revision_delta` of ``body``"""
        self.ensure_one()
        revision = state.get("revision") or 0
        previous = delta["previous"]
        kept = {id(sent) for sent in delta["unchanged"]}
        changed = {id(sent) for _line, sent in delta["changed"]}
        old = {line.line_ref: line for line in previous.line_ids}
        lines = []
        for sequence, (sent, sale_line) in enumerate(zip(body["lines"], sale_lines, strict=True)):
            values = {
                "sequence": sequence,
                "sale_line_id": sale_line.id,
                "line_ref": sent["line_ref"],
                "line_type": sent["type"],
                "service_code": sent["service_code"] or False,
                "description": sent["description"],
                "quantity": float(sent["quantity"]),
                "unit_price": float(sent["unit_price"]),
                "amount": float(sent["amount"]),
                "taxable": sent["taxable"],
            }
            if id(sent) in kept:
                line = old[sent["line_ref"]]
                values.update(change="unchanged", status=line.status, approved_quantity=line.approved_quantity,
                              approved_amount=line.approved_amount, reason=line.reason, decided_by=line.decided_by,
                              decided_at=line.decided_at)
            else:
                values.update(change="changed" if id(sent) in changed else "added", status="pending")
            lines.append(values)
        for sequence, line in enumerate(delta["removed"], start=len(lines)):
            lines.append({
                "sequence": sequence, "sale_line_id": line.sale_line_id.id, "line_ref": line.line_ref,
                "change": "removed", "line_type": line.line_type, "service_code": line.service_code,
                "description": line.description, "quantity": line.quantity, "unit_price": line.unit_price,
                "amount": line.amount, "taxable": line.taxable,
            })
        if not previous:
            kind = "submission"
        elif self._fleet_is_supplement():
            kind = "supplement"
        else:
            kind = "resubmission"
        return {
            "repair_id": self.id,
            "partner_id": self.partner_id.commercial_partner_id.id,
            "currency_id": self.fleet_currency_id.id,
            "revision": revision,
            "kind": kind,
            "submitted_at": fields.Datetime.now(),
            "submitted_by": self.env.uid,
            "auto_approved": answered and self._fleet_auto_approved(body, delta, state),
            "requested_untaxed": float(body["totals"]["untaxed"]),
            "requested_total": float(body["totals"]["total"]),
            "line_ids": [Command.create(values) for values in lines],
        }

    @api.model
    def _fleet_auto_approved(self, body, delta, state):
        """:return: whether ``state``, the fleet's answer to sending ``body``,
        approved it by the fleet's rules, in full and as it was sent: the RO
        approved, every line approved as requested (none adjusted), for the
        untaxed total ``body`` requested. No person decides inside the answer
        to a submission (contract 4.1: approved directly when the fleet's
        rules auto-approve it), so the lines it sent for review (added or
        changed) were approved by the rules; the lines it kept hold the
        decision of the revision before, which must have been the rules' too.

        :param delta: what ``body`` changes (:meth:`_fleet_revision_delta`)
        """
        if state.get("status") != "approved" or not (delta["added"] or delta["changed"]):
            return False
        if delta["unchanged"] and not delta["previous"].auto_approved:
            return False  # a person's decision is part of what the fleet approved
        statuses = {line.get("line_ref"): line.get("status") for line in state.get("lines") or []
                    if isinstance(line, dict)}
        return (all(statuses.get(sent["line_ref"]) == "approved" for sent in body["lines"])
                and formatting.safe_decimal(state.get("approved_total"))
                == formatting.to_decimal(body["totals"]["untaxed"]))

    def _fleet_apply_history(self, todo):
        """Store the fleet's decisions of each state in the history's revision
        of that state (one read, grouped writes). A revision not recorded yet
        (the commit of its submission was lost, or the job was sent before the
        history existed) is recorded first, from the job as it is: those of
        the page at once.

        :param todo: ``[(job, RO state)]``
        """
        HistoryLine = self.env["autointegrate.authorization.line"].sudo()
        names = ("status", "approved_quantity", "approved_amount", "reason", "decided_by", "decided_at")
        # every revision has lines (an RO has one at least): its lines find it
        lines_of = defaultdict(dict)  # (job id, revision) -> {line_ref: history line}
        domain = [("repair_id", "in", [repair.id for repair, _s in todo]),
                  ("revision", "in", list({state.get("revision") or 0 for _r, state in todo}))]
        for line in HistoryLine.search_fetch(domain, ["authorization_id", "repair_id", "revision", "line_ref",
                                                      *names[:4]]):
            lines_of[(line.repair_id.id, line.revision)][line.line_ref] = line
        unrecorded = [(repair, state) for repair, state in todo
                      if (repair.id, state.get("revision") or 0) not in lines_of]
        if unrecorded:
            accounts = self.browse([repair.id for repair, _state in unrecorded])._fleet_read_for_payloads()
            recorded = self._fleet_record_revisions([
                (repair, *repair._fleet_payload_and_lines(account=accounts[repair.company_id]), state)
                for repair, state in unrecorded], answered=False)
            for repair, state in unrecorded:
                lines_of[(repair.id, state.get("revision") or 0)] = {
                    line.line_ref: line for line in recorded[repair.id].line_ids}
        line_writes = defaultdict(list)  # values -> history line ids
        for repair, state in todo:
            key = (repair.id, state.get("revision") or 0)
            lines = lines_of[key]
            if not lines:
                continue
            decided_at = _parse_timestamp(state.get("decided_at"))
            decided = False
            for line_state in state.get("lines") or []:
                line = lines.get(line_state.get("line_ref"))
                status = line_state.get("status")
                if not line or status not in ("pending", *INVOICEABLE_LINE_STATUSES, "denied"):
                    continue
                values = _line_decision(line_state)
                if values != (line.status, line.approved_quantity, line.approved_amount, line.reason or False):
                    who = (state.get("decided_by") or False, decided_at) if status != "pending" else (False, False)
                    line_writes[values + who].append(line.id)
                    decided |= status != "pending"
            vals = {
                "authorization_number": state.get("authorization_number") or False,
                "authorized_total": float(formatting.safe_decimal(state.get("approved_total")) or 0),
            }
            if state.get("status") not in CLOSED_STATUSES:  # the revision keeps the fleet's decision on it
                vals["status"] = state.get("status") or "pending"
            if decided:
                vals.update(decided_by=state.get("decided_by") or False, decided_at=decided_at)
            next(iter(lines.values())).authorization_id.write(vals)
        for values, line_ids in line_writes.items():
            HistoryLine.browse(line_ids).write(dict(zip(names, values, strict=True)))

    #=== BUSINESS METHODS: documents ===#

    @api.model
    def _fleet_attachment_type(self, attachment):
        """:return: the contract's content type of an attachment, as Odoo knows its type"""
        mimetype = (attachment.mimetype or "").lower()
        mimetype = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/heif": "image/heic"}.get(
            mimetype, mimetype)
        if mimetype not in contract.DOCUMENT_CONTENT_TYPES and (attachment.name or "").lower().endswith(
                (".heic", ".heif")):
            return "image/heic"  # Python's mimetypes does not know HEIC photos
        return mimetype

    def _fleet_foreign_document(self, attachment, line=None):
        """Why a file (and the line it is about) may not be a document of this
        job's RO, if it may not: only the job's own attachments and the lines
        of its own quotation may, not another job's or another company's,
        whatever a dialog's row says.

        :param attachment: an ``ir.attachment`` (or empty: only the line is checked)
        :param line: a quotation line, or empty
        :return: why not, or ``None``
        """
        self.ensure_one()
        # sudo: what is read here is only compared, never shown (another company's file stays unread)
        if attachment and (attachment.sudo().res_model, attachment.sudo().res_id) != (self._name, self.id):
            return _("the file is not an attachment of %(job)s: attach it to the job first", job=self.name)
        if line and line.sudo().order_id != self.sudo().sale_order_id:
            return _("its line is not a line of the quotation of %(job)s", job=self.name)
        return None

    def _fleet_document_problems(self, items):
        """What the fleet would refuse in the documents ``items``, checked
        without sending anything: the type, the size, the content against its
        type, the file name, the description, the line.

        :param items: ``[(attachment, kind, quotation line or empty, description)]``
        :return: one line per problem, naming the file
        """
        self.ensure_one()
        problems = []
        for attachment, kind, line, description in items:
            foreign = self._fleet_foreign_document(attachment, line)
            if foreign:
                problems.append(_("- File %(id)s: %(problem)s.", id=attachment.id, problem=foreign))
                continue
            name = attachment.name or _("(no name)")
            if attachment.type != "binary":
                problems.append(_("- “%(file)s” is a link, not a file: attach the file itself to the job.",
                                  file=name))
                continue
            content = attachment.raw or b""
            content_type = self._fleet_attachment_type(attachment)
            if content_type not in contract.DOCUMENT_CONTENT_TYPES:
                problems.append(_("- “%(file)s” is a file of type %(type)s: the fleet takes photos (JPEG, PNG or "
                                  "HEIC) and PDF files only.", file=name, type=content_type or _("unknown")))
            elif not content:
                problems.append(_("- “%(file)s” is empty.", file=name))
            elif len(content) > contract.DOCUMENT_MAX_BYTES:
                problems.append(_("- “%(file)s” is %(size)s MB: the fleet takes files of at most 10 MB.",
                                  file=name, size=round(len(content) / 1024 / 1024, 1)))
            elif bodies.validate_document_content(content_type, content):
                problems.append(_("- “%(file)s” is not a real %(type)s file: its content does not match its type "
                                  "(was it renamed?).", file=name, type=content_type))
            details = bodies.validate_document_fields({
                "file_name": name, "content_type": contract.DOCUMENT_CONTENT_TYPES[0], "kind": kind,
                "line_ref": line.fleet_line_ref or None, "description": description or None,
            })
            for detail in details:
                field = detail["field"]
                if field == "file_name":
                    problems.append(_("- “%(file)s”: the fleet does not take this file name (%(problem)s): rename "
                                      "the attachment.", file=name, problem=detail["message"]))
                elif field == "description":
                    problems.append(_("- “%(file)s”: the description is too long (at most %(max)s characters).",
                                      file=name, max=contract.TEXT_MAX))
                elif field == "kind":
                    problems.append(_("- “%(file)s”: choose what kind of document it is.", file=name))
            if line and not line.fleet_line_ref and line not in self._fleet_lines():
                problems.append(_("- “%(file)s”: its line “%(line)s” was not sent to the fleet.", file=name,
                                  line=line.name.splitlines()[0]))
        return problems

    def _fleet_check_documents(self, items):
        """:raise UserError: listing every problem of the documents ``items``
        (:meth:`_fleet_document_problems`); nothing is sent then"""
        self.ensure_one()
        problems = self._fleet_document_problems(items)
        if problems:
            raise UserError(_("Nothing was sent to the fleet. Fix these files first:\n%(problems)s",
                              problems="\n".join(problems)))

    def _fleet_upload_documents(self, items):
        """Send documents of this job (its attachments) to the fleet's RO
        (contract 9.2), every one checked first: a bad file stops all of them
        before anything is sent. A document the fleet has already (the same
        content for the same line and kind) is not sent again.

        :param items: ``[(attachment, kind, quotation line or empty, description)]``
        :return: ``(documents sent, items the fleet had already)``
        :raise UserError: a bad file, or the fleet refused one or could not be reached
        """
        self.ensure_one()
        self._fleet_check_rights("write")
        if not self.fleet_ro_id:
            raise UserError(_("%(job)s has not been sent to the fleet yet: send it first.", job=self.name))
        self._fleet_check_can_send()
        self._fleet_check_documents(items)
        self._fleet_lock()
        Document = self.env["autointegrate.document"].sudo()
        documents = Document.search([("repair_id", "=", self.id)])
        known = {(document.sha256, document.line_ref or None, document.kind) for document in documents}
        lines = self._fleet_lines_by_ref().get(self.id, {})
        client = self.company_id._autointegrate_client(self)
        sent, skipped = Document, []
        for attachment, kind, line, description in items:
            content = attachment.raw
            line_ref = line.fleet_line_ref or None
            key = (hashlib.sha256(content).hexdigest(), line_ref, kind)
            if key in known:
                skipped.append((attachment, kind, line, description))
                continue
            try:
                document = client.upload_document(
                    self.fleet_ro_id, attachment.name, self._fleet_attachment_type(attachment), content, kind,
                    line_ref=line_ref, description=description or None)
            except ai.ValidationError as error:
                raise UserError(_("The fleet refused “%(file)s”:\n%(problems)s", file=attachment.name,
                                  problems=describe_problems(self.env, error.details))) from error
            except ai.AutoIntegrateError as error:
                raise user_error(self.env, error, client.base_url) from error
            known.add(key)
            existing = documents.filtered(lambda d, doc=document: d.fleet_document_id == doc["document_id"])
            if existing:  # the fleet had it (answered 200): the state brought it here already
                skipped.append((attachment, kind, line, description))
                existing.filtered(lambda d: not d.attachment_id).attachment_id = attachment
                continue
            created = Document.create(self._fleet_document_values(document, lines, attachment))
            documents |= created
            sent |= created
        if sent:
            kinds = dict(Document._fields["kind"]._description_selection(self.env))
            self.message_post(body=Markup("%s<ul>%s</ul>") % (
                _("Sent to the fleet:"),
                Markup("").join(Markup("<li>%s (%s)%s</li>") % (
                    document.file_name, kinds.get(document.kind),
                    Markup(" <i>%s</i>") % document.line_name if document.line_ref else "") for document in sent)),
                attachment_ids=sent.attachment_id.ids)
        return sent, skipped

    #=== BUSINESS METHODS: the fleet's rules before sending ===#

    def _fleet_send_check(self, lines, total, documents=()):
        """What the fleet's rules, as the shop keeps them on the fleet's
        account, and what the shop learnt of the fleet, say of sending these
        lines now.

        :param lines: the lines to send, as the body has them (``line_ref``,
            ``type``, ``service_code``, ``description``, ``unit_price``), each
            with its quotation line as ``sale_line``
        :param total: the total to send
        :param documents: ``(kind, line_ref or None)`` of the documents sent with it
        :return: ``(verdict, notes, risks, missing)``: ``auto`` (will be
            approved at once), ``review`` (a person at the fleet decides) or
            ``risk``; sentences saying what the fleet will do, what it is
            likely to refuse and why, and ``(kind, line)`` of the documents it
            needs that are neither at the fleet nor sent with it
        """
        self.ensure_one()
        fleet = self.partner_id.commercial_partner_id
        currency = self.fleet_currency_id

        def amount(value):
            return format_amount(self.env, value, currency)

        risks = []
        excluded = fleet._fleet_excluded_codes()
        cap = fleet.fleet_labor_rate_cap
        labels = {line["line_ref"]: (line["description"] or line["line_ref"]).splitlines()[0] for line in lines}
        for line in lines:
            label = labels[line["line_ref"]]
            code = (line["service_code"] or "").upper()
            if code and code in excluded:
                risks.append(_("“%(line)s”: %(fleet)s excludes service code %(code)s.", line=label,
                               fleet=fleet.name, code=code))
            if cap and line["type"] == "labor" and currency.compare_amounts(float(line["unit_price"]), cap) > 0:
                risks.append(_("“%(line)s”: the labor rate %(rate)s is above the %(cap)s per hour %(fleet)s pays.",
                               line=label, rate=amount(float(line["unit_price"])), cap=amount(cap),
                               fleet=fleet.name))
        # what this fleet denied before, with the same service codes
        codes = {line["service_code"] for line in lines if line["service_code"]}
        denied = {}
        if codes:
            for code, reason, count in self.env["autointegrate.authorization.line"].sudo()._read_group(
                    [("partner_id", "=", fleet.id), ("status", "=", "denied"), ("change", "!=", "unchanged"),
                     ("service_code", "in", list(codes)), ("reason", "!=", False)],
                    ["service_code", "reason"], ["__count"], order="__count desc"):
                denied.setdefault(code, (reason, count))
        for line in lines:
            if line["service_code"] in denied:
                reason, count = denied[line["service_code"]]
                risks.append(_("“%(line)s”: %(fleet)s denied %(code)s %(count)s time(s) before: “%(reason)s”.",
                               line=labels[line["line_ref"]], fleet=fleet.name, code=line["service_code"],
                               count=count, reason=reason))
        missing = self._fleet_missing_documents(lines, documents)
        # at once, or by a person
        limit = fleet.fleet_auto_approve_limit
        learnt = fleet.sudo().fleet_learnt_auto_approved
        if limit:
            at_once = currency.compare_amounts(total, limit) <= 0
            notes = [_("The total %(total)s is within %(fleet)s's auto-approval limit of %(limit)s.", total=amount(
                total), fleet=fleet.name, limit=amount(limit)) if at_once else _(
                "The total %(total)s is above %(fleet)s's auto-approval limit of %(limit)s: a person at the fleet "
                "reviews it.", total=amount(total), fleet=fleet.name, limit=amount(limit))]
        elif learnt and currency.compare_amounts(total, learnt) <= 0:
            at_once = True
            notes = [_("%(fleet)s approved totals up to %(learnt)s at once before; this one is %(total)s.",
                       fleet=fleet.name, learnt=amount(learnt), total=amount(total))]
        else:
            at_once = False
            notes = [_("No auto-approval limit is known for %(fleet)s: a person at the fleet reviews it.",
                       fleet=fleet.name)]
        verdict = "risk" if risks or missing else "auto" if at_once else "review"
        return verdict, notes, risks, missing

    def _fleet_missing_documents(self, lines, documents=()):
        """:param lines: as :meth:`_fleet_send_check` takes them
        :param documents: ``(kind, line_ref or None)`` of the documents sent with them
        :return: ``[(kind, line)]``: the documents the fleet's rules ask for with
            these lines that are neither at the fleet (the shop's, for the line or
            the whole RO) nor in ``documents``
        """
        self.ensure_one()
        rules = self.partner_id.commercial_partner_id.fleet_document_rule_ids
        if not rules:
            return []
        have = {(document.kind, document.line_ref or None) for document in self.sudo().fleet_document_ids
                if document.author_type == "shop"} | set(documents)
        missing = []
        for line in lines:
            product = line["sale_line"].product_id.product_tmpl_id
            for rule in rules:
                if rule._fleet_applies(line["type"], product) and not (
                        {(rule.kind, line["line_ref"]), (rule.kind, None)} & have):
                    missing.append((rule.kind, line))
        return missing

    #=== BUSINESS METHODS: the approval clock ===#

    @api.model
    def _fleet_duration_label(self, delta):
        """:return: a waiting time as a shop reads it: ``2 d 3 h``, ``5 h 20 min``, ``12 min``"""
        minutes = max(int(delta.total_seconds() // 60), 0)
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        if days:
            return _("%(days)s d %(hours)s h", days=days, hours=hours)
        if hours:
            return _("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
        return _("%(minutes)s min", minutes=minutes)

    @api.model
    def _cron_fleet_escalate(self):
        """Cron: a job that has waited on its fleet longer than the fleet's
        agreed response time gets one escalation activity, with the fleet's
        contact; it is not repeated while the job waits."""
        overdue = self.sudo().search([("fleet_overdue", "=", True), ("fleet_escalated", "=", False)])
        for repair in overdue:
            fleet = repair.partner_id.commercial_partner_id
            contact = fleet.fleet_escalation_contact_id
            reach = Markup("").join(
                Markup("<li>%s</li>") % value for value in (contact.name, contact.phone or contact.mobile,
                                                            contact.email) if value) if contact else ""
            repair.activity_schedule(
                ACTIVITY_OVERDUE,
                summary=_("Call %(fleet)s: decision overdue", fleet=fleet.name),
                note=Markup("<p>%s</p>%s") % (
                    _("%(fleet)s agreed to decide within %(hours)s h; RO %(ro)s has waited %(waited)s.",
                      fleet=fleet.name, hours=f"{fleet.fleet_response_hours:g}", ro=repair.fleet_ro_id,
                      waited=repair.fleet_waiting_label),
                    Markup("<ul>%s</ul>") % reach if contact else Markup("<p>%s</p>") % _(
                        "No escalation contact is set on the fleet's account.")),
                user_id=repair.user_id.id or fleet.user_id.id or repair.create_uid.id)
        overdue._fleet_write_state({"fleet_escalated": True})

    def _fleet_tell_browsers(self, changed):
        """Tell the browser tabs that the fleet's state of the jobs ``self``
        changed: an open form or list of them shows it without a reload
        (static/src/views/fleet_live.js), and the responsible of a job whose
        fleet status the fleet changed gets a toast, unless they brought the
        change themselves (a denial or a question is also their to-do, see
        :meth:`_fleet_schedule_followups`). Odoo's bus sends once the
        transaction is committed, nothing when it rolls back.

        :param changed: the jobs whose fleet status changed
        """
        repair_users = self.env.ref("stock.group_stock_user", raise_if_not_found=False)
        if repair_users:
            # the ids only: each tab reads what its user may see of them
            self.env["bus.bus"]._sendone(repair_users, BUS_FLEET_UPDATE, {"repair_ids": self.ids})
        for repair in changed:
            user = repair.user_id
            if not user or user == self.env.user or repair.fleet_status == "pending":
                continue
            env = repair.with_context(lang=user.lang).env
            status = dict(self._fields["fleet_status"]._description_selection(env)).get(repair.fleet_status)
            user.partner_id._bus_send("simple_notification", {
                "type": TOAST_TYPES.get(repair.fleet_status, "warning"),
                "title": env._("Fleet decision"),
                "message": env._("%(job)s (%(vehicle)s): %(status)s", job=repair.name,
                                 vehicle=repair.fleet_vehicle or repair.partner_id.display_name, status=status),
                "sticky": False,
            })

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
            return _("The fleet denied lines of %(job)s: fix them and send the job again, or accept the fleet's "
                     "decision (Accept Fleet Decision), before invoicing it.", job=self.name)
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


def _line_decision(line_state):
    """:return: ``(status, approved quantity, approved amount, reason)`` of the
    fleet's state of one line, as the job's lines and the history store them."""
    return (
        line_state.get("status"),
        float(formatting.safe_decimal(line_state.get("approved_quantity")) or 0),
        float(formatting.safe_decimal(line_state.get("approved_amount")) or 0),
        line_state.get("reason") or False,
    )
