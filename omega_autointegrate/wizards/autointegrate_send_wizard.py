from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..const import CLOSED_STATUSES, FLEET_LINE_STATUSES, FLEET_LINE_TYPES

#: the dialog's fields that show the job's payload, all from one build of it (:meth:`_payload_values`)
PAYLOAD_FIELDS = frozenset(
    ("currency_id", "vehicle", "complaint", "amount_untaxed", "amount_tax", "amount_total", "line_ids")
)


class AutoIntegrateSendWizard(models.TransientModel):
    """SEND TO FLEET: exactly what will be sent, with notes, and the fleet's
    current status when the job was sent before."""

    _name = "autointegrate.send.wizard"
    _description = "Send a repair order to the fleet"

    repair_id = fields.Many2one("repair.order", required=True, ondelete="cascade", readonly=True)
    # what will be sent: the lines and the summary around them, all from one build of the job's
    # payload when the dialog is created (PAYLOAD_FIELDS)
    currency_id = fields.Many2one("res.currency", readonly=True)
    warning = fields.Char(readonly=True)
    note = fields.Text(string="Note to the fleet", help="A note on the whole request, sent with it.")
    line_ids = fields.One2many("autointegrate.send.wizard.line", "wizard_id", string="Lines")
    fleet_company_code = fields.Char(related="repair_id.fleet_company_code", string="Fleet Company ID")
    partner_id = fields.Many2one(related="repair_id.partner_id", string="Customer")
    shop_ro_ref = fields.Char(related="repair_id.name", string="Repair Order")
    vehicle = fields.Char(readonly=True)
    complaint = fields.Char(readonly=True)
    amount_untaxed = fields.Monetary(string="Untaxed", readonly=True)
    amount_tax = fields.Monetary(string="Taxes", readonly=True)
    amount_total = fields.Monetary(string="Total", readonly=True)
    fleet_ro_id = fields.Char(related="repair_id.fleet_ro_id")
    fleet_status = fields.Selection(related="repair_id.fleet_status")
    fleet_revision = fields.Integer(related="repair_id.fleet_revision")
    fleet_authorization_number = fields.Char(related="repair_id.fleet_authorization_number")
    fleet_decided_by = fields.Char(related="repair_id.fleet_decided_by")
    fleet_decided_at = fields.Datetime(related="repair_id.fleet_decided_at")
    fleet_approved_total = fields.Monetary(related="repair_id.fleet_approved_total")
    can_submit = fields.Boolean(compute="_compute_can_submit")
    can_send_again = fields.Boolean(
        compute="_compute_can_submit",
        help="The fleet decided on the RO as the job still is, and did not approve all of it as asked: the shop "
             "may have it looked at again, unchanged (with notes saying why).",
    )
    # before submitting: what the fleet's rules say of it, what it changes, the documents sent with it
    check_verdict = fields.Selection(
        [("auto", "Will be auto-approved"), ("review", "Reviewed by the fleet"), ("risk", "Likely to be refused")],
        string="Fleet's Rules", compute="_compute_fleet_check",
    )
    check_html = fields.Html(string="What the Fleet's Rules Say", compute="_compute_fleet_check", sanitize=False)
    supplement_summary = fields.Char(related="repair_id.fleet_supplement_summary", string="Changes")
    document_line_ids = fields.One2many(
        "autointegrate.document.wizard.line", "send_wizard_id", string="Documents",
        help="Attachments of the job sent with the repair order, pre-filled with what the fleet's rules ask for.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        # from the database, before the lines copy the job: its values cached by the related
        # fields' sudo reads would otherwise show (and send) another company's job
        repair_ids = [vals["repair_id"] for vals in vals_list if vals.get("repair_id")]
        self.env["repair.order"].browse(repair_ids)._fleet_check_rights("write")
        # values, not precomputed fields: the lines of a job are then created once, instead
        # of as new records first, converted to values after (sudo: the payload is built
        # for showing it, from a job the user was checked for)
        repairs = self.env["repair.order"].sudo()
        vals_list = [
            dict(vals, **self._payload_values(repairs.browse(vals["repair_id"])))
            if vals.get("repair_id") and not PAYLOAD_FIELDS.intersection(vals) else vals
            for vals in vals_list
        ]
        wizards = super().create(vals_list)
        wizards._prefill_documents()
        return wizards

    @api.model
    def _payload_values(self, repair):
        """What the dialog shows of ``repair``'s payload, from one build of it.

        :return: the values of :data:`PAYLOAD_FIELDS`
        """
        body, sale_lines = repair._fleet_payload_and_lines()
        vehicle = body["vehicle"]
        currency = repair.fleet_currency_id.id
        return {
            "currency_id": currency,
            "vehicle": " · ".join(str(part) for part in (
                vehicle["year"], vehicle["make"], vehicle["model"],
                vehicle["vin"] and _("VIN %s", vehicle["vin"]),
                vehicle["plate"] and " ".join(filter(None, (vehicle["plate"], vehicle["plate_region"]))),
                vehicle["unit_number"] and _("Unit %s", vehicle["unit_number"]),
                vehicle["odometer"] and f"{vehicle['odometer']} {vehicle['odometer_unit'] or ''}".strip(),
            ) if part) or _("No vehicle data"),
            "complaint": body["complaint"],
            "amount_untaxed": float(body["totals"]["untaxed"]),
            "amount_tax": float(body["totals"]["tax"]),
            "amount_total": float(body["totals"]["total"]),
            "line_ids": [fields.Command.clear()] + [
                fields.Command.create({
                    "currency_id": currency,
                    "sale_line_id": line.id,
                    "line_ref": sent["line_ref"],
                    "line_type": sent["type"],
                    "service_code": sent["service_code"],
                    "description": sent["description"],
                    "quantity": float(sent["quantity"]),
                    "unit_price": float(sent["unit_price"]),
                    "amount": float(sent["amount"]),
                    "taxable": sent["taxable"],
                    "fleet_status": line.fleet_status,
                    "fleet_approved_qty": line.fleet_approved_qty,
                    "fleet_approved_amount": line.fleet_approved_amount,
                    "fleet_reason": line.fleet_reason,
                })
                for line, sent in zip(sale_lines, body["lines"], strict=True)
            ],
        }

    @api.depends("repair_id.fleet_ro_id", "repair_id.fleet_needs_resubmit", "repair_id.fleet_status",
                 "repair_id.fleet_changed", "repair_id.fleet_line_ids.fleet_status")
    def _compute_can_submit(self):
        for wizard in self:
            repair = wizard.repair_id
            open_ro = repair.fleet_status not in CLOSED_STATUSES
            # the job's own lines, as the fleet decided them: not the dialog's copies, which the user can write
            wizard.can_send_again = open_ro and bool(repair.fleet_ro_id) and not repair.fleet_changed and (
                repair.fleet_status in ("denied", "partially_approved", "info_requested")
                or any(line.fleet_status in ("adjusted", "denied") for line in repair._fleet_lines())
            )
            wizard.can_submit = open_ro and (
                not repair.fleet_ro_id or repair.fleet_needs_resubmit or wizard.can_send_again
            )

    def _check_lines(self):
        """:return: the dialog's lines as ``repair.order._fleet_send_check`` takes them"""
        self.ensure_one()
        return [{"line_ref": line.line_ref, "type": line.line_type, "service_code": line.service_code or None,
                 "description": line.description or "", "unit_price": line.unit_price,
                 "sale_line": line.sale_line_id} for line in self.line_ids]

    def _check_documents(self):
        """:return: ``(kind, line_ref or None)`` of the documents sent with the repair order"""
        self.ensure_one()
        return [(row.kind, self.repair_id._fleet_line_ref(row.sale_line_id) if row.sale_line_id else None)
                for row in self.document_line_ids if row.send]

    @api.depends("can_submit", "line_ids", "amount_total", "document_line_ids.send", "document_line_ids.kind",
                 "document_line_ids.sale_line_id")
    def _compute_fleet_check(self):
        kinds = dict(self.env["autointegrate.document"]._fields["kind"]._description_selection(self.env))
        for wizard in self:
            if not wizard.can_submit or not wizard.line_ids:
                wizard.check_verdict = wizard.check_html = False
                continue
            verdict, notes, risks, missing = wizard.repair_id._fleet_send_check(
                wizard._check_lines(), wizard.amount_total, wizard._check_documents())
            html = Markup("").join(Markup("<p>%s</p>") % note for note in notes)
            if risks:
                html += Markup("<p><b>%s</b></p><ul>%s</ul>") % (
                    _("Likely to be refused:"), Markup("").join(Markup("<li>%s</li>") % risk for risk in risks))
            if missing:
                html += Markup("<p><b>%s</b></p><ul>%s</ul>") % (
                    _("Documents the fleet needs, not sent:"),
                    Markup("").join(Markup("<li>%s</li>") % wizard.env._(
                        "%(kind)s for “%(line)s”", kind=kinds.get(kind, kind),
                        line=(line["description"] or line["line_ref"]).splitlines()[0]) for kind, line in missing))
            wizard.check_verdict = verdict
            wizard.check_html = html

    def _prefill_documents(self):
        """Rows of the job's attachments that give the fleet the documents its rules ask for."""
        Row = self.env["autointegrate.document.wizard.line"]
        values = []
        for wizard in self.filtered(lambda w: w.can_submit and w.line_ids):
            repair = wizard.repair_id
            if not repair.partner_id.commercial_partner_id.fleet_document_rule_ids:
                continue
            missing = repair._fleet_missing_documents(wizard._check_lines())
            values += [dict(row, send_wizard_id=wizard.id)
                       for row in Row._prefill(repair, [(kind, line["sale_line"]) for kind, line in missing])]
        Row.create(values)

    def _send_documents(self, items):
        """Send the documents chosen with the repair order just sent. The RO
        stays sent when they cannot be.

        :return: why they were not sent, or ``False``
        """
        self.ensure_one()
        if not items:
            return False
        repair = self.repair_id
        try:
            with self.env.cr.savepoint():
                repair._fleet_upload_documents(items)
        except UserError as error:
            return _("%(job)s was sent to the fleet, but not its documents: %(error)s\nSend them with Send "
                     "Documents on the job.", job=repair.name, error=error.args[0])
        return False

    def _action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Send to Fleet"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            # its lines' columns, reasons included, fit a screen 1440 pixels wide
            "context": {"dialog_size": "extra-large"},
        }

    def action_send_again(self):
        """SEND AGAIN: the RO as it is, for the fleet to look at again (with the notes typed)."""
        self.ensure_one()
        if not self.can_send_again:
            raise UserError(_("%(job)s has nothing for the fleet to look at again: its RO is %(status)s.",
                              job=self.repair_id.name, status=self.repair_id._fleet_status_label()))
        return self.action_submit()

    def action_submit(self):
        """SUBMIT REPAIR ORDER."""
        self.ensure_one()
        repair = self.repair_id
        # the job as it is now, not as the dialog found it: a colleague may have sent it meanwhile
        repair._fleet_check_can_send()
        if not self.can_submit:
            raise UserError(_("%(job)s has nothing new for the fleet: its RO is %(status)s and the job has not "
                              "changed since it was sent. Close this dialog and open Send to Fleet again to see "
                              "the fleet's current status.", job=repair.name, status=repair._fleet_status_label()))
        documents = self.document_line_ids._items()
        repair._fleet_check_documents(documents)  # a bad file stops everything before anything is sent
        line_notes = {}
        for line in self.line_ids.filtered("note"):
            line_notes.setdefault(line.line_ref, []).append(line.note.strip())
        notes = [self.note.strip()] if self.note and self.note.strip() else []
        if repair._fleet_send(notes, line_notes):
            failure = self._send_documents(documents)
            if failure:
                return repair._fleet_notification("warning", _("Sent to the fleet, without its documents"), failure)
            return repair._fleet_notification(
                "success", _("Sent to the fleet"),
                _("%(job)s was sent to %(fleet)s: %(status)s.", job=repair.name,
                  fleet=repair.fleet_company_code, status=repair._fleet_status_label()))
        # the fleet changed the RO meanwhile: show its state, keep the notes typed
        wizard = self.create({
            "repair_id": repair.id,
            "note": self.note,
            "warning": _("The fleet updated this RO meanwhile; its current status is shown. Check it and "
                         "submit again."),
        })
        return wizard._action_open()


class AutoIntegrateSendWizardLine(models.TransientModel):
    _name = "autointegrate.send.wizard.line"
    _description = "Line of a repair order sent to the fleet"

    wizard_id = fields.Many2one("autointegrate.send.wizard", required=True, ondelete="cascade")
    # the dialog's, given at creation (a related field would be computed again for each amount of each line)
    currency_id = fields.Many2one("res.currency", readonly=True)
    sale_line_id = fields.Many2one("sale.order.line", readonly=True)
    line_ref = fields.Char(string="Ref", readonly=True)
    line_type = fields.Selection(FLEET_LINE_TYPES, string="Type", readonly=True)
    service_code = fields.Char(readonly=True)
    description = fields.Char(readonly=True)
    quantity = fields.Float(digits=(16, 3), readonly=True)
    unit_price = fields.Monetary(readonly=True)
    amount = fields.Monetary(readonly=True)
    taxable = fields.Boolean(readonly=True)
    note = fields.Char(help="A note on this line, sent with it.")
    fleet_status = fields.Selection(FLEET_LINE_STATUSES, readonly=True)
    fleet_approved_qty = fields.Float(string="Approved Qty", digits=(16, 3), readonly=True)
    fleet_approved_amount = fields.Monetary(string="Approved Amount", readonly=True)
    fleet_reason = fields.Char(string="Reason", readonly=True)
