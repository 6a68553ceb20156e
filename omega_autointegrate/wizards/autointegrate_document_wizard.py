from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..const import FLEET_DOCUMENT_KINDS
from ..lib import autointegrate as ai
from ..tools import user_error

#: words in a PDF's name that tell what kind of document it is
KIND_HINTS = (
    ("calibration_report", ("calib", "adas")),
    ("estimate", ("estimat", "quote")),
    ("purchase_order", ("purchase", "po-", "po_")),
)


class AutoIntegrateDocumentWizard(models.TransientModel):
    """SEND DOCUMENTS: attachments of a job sent to its fleet's RO, each as a
    kind of document and, where it applies, for one line; pre-filled with
    what the fleet asked for."""

    _name = "autointegrate.document.wizard"
    _description = "Send documents to the fleet"

    repair_id = fields.Many2one("repair.order", required=True, ondelete="cascade", readonly=True)
    requested = fields.Text(string="The Fleet Asks For", readonly=True)
    line_ids = fields.One2many("autointegrate.document.wizard.line", "wizard_id", string="Files")
    note = fields.Text(
        string="Note to the fleet",
        help="Sent after the documents. It answers the fleet's request, so that the fleet reviews the job again.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        # from the database: another company's job is neither shown nor sent
        repair_ids = [vals["repair_id"] for vals in vals_list if vals.get("repair_id")]
        self.env["repair.order"].browse(repair_ids).check_access("write")
        Line = self.env["autointegrate.document.wizard.line"]
        for vals in vals_list:
            if not vals.get("repair_id") or "line_ids" in vals:
                continue
            repair = self.env["repair.order"].browse(vals["repair_id"])
            vals["line_ids"] = [Command.create(row) for row in Line._prefill(repair, Line._requested(repair),
                                                                              everything=True)]
            if repair.fleet_documents_requested:
                vals.setdefault("requested", repair.fleet_documents_requested_text)
                vals.setdefault("note", _("Here are the documents you asked for."))
        return super().create(vals_list)

    def _action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Send Documents to the Fleet"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_send(self):
        """SEND: the chosen files, then the note, which answers the fleet's request."""
        self.ensure_one()
        repair = self.repair_id
        repair._fleet_check_rights("write")
        items = self.line_ids._items()
        if not items:
            raise UserError(_("Choose the files to send (tick Send on their rows)."))
        sent, skipped = repair._fleet_upload_documents(items)
        text = (self.note or "").strip()
        if text:
            names = "\n".join(f"- {attachment.name}" for attachment, _kind, _line, _description in items)
            text = f"{text}\n{names}"
            client = repair.company_id._autointegrate_client(repair)
            try:
                note = client.add_note(repair.fleet_ro_id, text, author=self.env.user.name[:128],
                                       idempotency_key=repair._fleet_dialog_note_key(self, text))
            except ai.AutoIntegrateError as error:
                raise user_error(self.env, error, client.base_url) from error
            repair._fleet_store_notes([note])
        repair._fleet_refresh()
        if sent:
            message = _("%(count)s document(s) sent to the fleet.", count=len(sent))
        else:
            message = _("The fleet has these documents already: nothing was sent again.")
        if sent and skipped:
            message += " " + _("%(count)s it had already were not sent again.", count=len(skipped))
        return repair._fleet_notification("success", _("Documents"), message)


class AutoIntegrateDocumentWizardLine(models.TransientModel):
    """A file of the job to send to the fleet, in SEND DOCUMENTS or with the RO in SEND TO FLEET."""

    _name = "autointegrate.document.wizard.line"
    _description = "Document to send to the fleet"

    wizard_id = fields.Many2one("autointegrate.document.wizard", ondelete="cascade", index=True)
    send_wizard_id = fields.Many2one("autointegrate.send.wizard", ondelete="cascade", index=True)
    repair_id = fields.Many2one("repair.order", required=True, ondelete="cascade")
    order_id = fields.Many2one(related="repair_id.sale_order_id")
    send = fields.Boolean(default=True)
    attachment_id = fields.Many2one(
        "ir.attachment", string="File", required=True, ondelete="cascade",
        domain="[('res_model', '=', 'repair.order'), ('res_id', '=', repair_id), ('type', '=', 'binary')]",
    )
    mimetype = fields.Char(related="attachment_id.mimetype", string="Type")
    file_size = fields.Integer(related="attachment_id.file_size", string="Size")
    kind = fields.Selection(FLEET_DOCUMENT_KINDS, required=True, default="photo")
    sale_line_id = fields.Many2one(
        "sale.order.line", string="Line", domain="[('order_id', '=', order_id), ('display_type', '=', False)]",
        help="The line the document is about. Empty: the whole repair order.",
    )
    description = fields.Char()
    requested = fields.Boolean(string="Asked For", readonly=True, help="The fleet asked for this document.")
    at_fleet = fields.Boolean(string="At the Fleet", compute="_compute_at_fleet",
                              help="The fleet has this file already, as this kind of document for this line.")

    @api.constrains("repair_id", "wizard_id", "send_wizard_id", "attachment_id", "sale_line_id")
    def _check_of_the_job(self):
        """A row sends a file of its dialog's job, about a line of that job's quotation."""
        for row in self:
            job = (row.wizard_id or row.send_wizard_id).repair_id or row.repair_id
            if row.repair_id != job:
                problem = _("the row is of another job")
            else:
                problem = job._fleet_foreign_document(row.attachment_id, row.sale_line_id)
            if problem:
                raise ValidationError(_("This file cannot be sent to the fleet with %(job)s: %(problem)s.",
                                        job=job.name, problem=problem))

    @api.depends("attachment_id", "kind", "sale_line_id")
    def _compute_at_fleet(self):
        for row in self:
            documents = row.repair_id.sudo().fleet_document_ids
            row.at_fleet = any(
                document.attachment_id == row.attachment_id and document.kind == row.kind
                and (document.line_ref or False) == (row.sale_line_id.fleet_line_ref or False)
                for document in documents)

    def _items(self):
        """:return: the rows to send, as ``repair.order._fleet_upload_documents`` takes them"""
        return [(row.attachment_id, row.kind, row.sale_line_id, row.description) for row in self if row.send]

    @api.model
    def _requested(self, repair):
        """:return: ``[(kind, quotation line or empty)]`` the fleet asks for (9.4)"""
        lines = repair._fleet_lines_by_ref().get(repair.id, {})
        SaleLine = self.env["sale.order.line"]
        return [(item.get("kind"), lines.get(item.get("line_ref"), SaleLine).sudo(False))
                for item in repair.fleet_documents_requested or [] if item.get("kind") in dict(FLEET_DOCUMENT_KINDS)]

    @api.model
    def _prefill(self, repair, wanted, everything=False):
        """Rows of the job's attachments: for each document wanted, the one
        that fits it best, selected with that kind and line.

        :param wanted: ``[(kind, quotation line or empty)]``
        :param everything: list the job's other attachments too, not selected
        :return: the rows' values
        """
        attachments = self.env["ir.attachment"].search(
            [("res_model", "=", "repair.order"), ("res_id", "=", repair.id), ("type", "=", "binary")],
            order="id desc")
        # the fleet's own documents are not sent back to it
        attachments -= repair.sudo().fleet_document_ids.filtered(lambda d: d.author_type == "fleet").attachment_id
        rows, used = [], set()
        for kind, line in wanted:
            fitting = [a for a in attachments if a.id not in used and self._fits(repair, a, kind)]
            if not fitting:
                continue
            best = max(fitting, key=lambda a, kind=kind: self._guess_kind(repair, a) == kind)
            used.add(best.id)
            rows.append({"repair_id": repair.id, "attachment_id": best.id, "kind": kind, "sale_line_id": line.id,
                         "send": True, "requested": True})
        if everything:
            rows += [{"repair_id": repair.id, "attachment_id": a.id, "kind": self._guess_kind(repair, a),
                      "send": False} for a in attachments if a.id not in used]
        return rows

    @api.model
    def _fits(self, repair, attachment, kind):
        """:return: whether an attachment can be a document of ``kind``: photos are images, papers PDFs"""
        content_type = repair._fleet_attachment_type(attachment)
        return content_type.startswith("image/") if kind == "photo" else content_type == "application/pdf"

    @api.model
    def _guess_kind(self, repair, attachment):
        """:return: the kind of document an attachment likely is, from its type and name"""
        if repair._fleet_attachment_type(attachment).startswith("image/"):
            return "photo"
        name = (attachment.name or "").lower()
        return next((kind for kind, hints in KIND_HINTS if any(hint in name for hint in hints)), "other")
