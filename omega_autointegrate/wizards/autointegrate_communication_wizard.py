from odoo import _, api, fields, models

from ..lib import autointegrate as ai
from ..tools import user_error


class AutoIntegrateCommunicationWizard(models.TransientModel):
    """FLEET COMMUNICATION: the notes of a job (or of one of its lines) and
    a box to write one."""

    _name = "autointegrate.communication.wizard"
    _description = "Fleet communication"

    repair_id = fields.Many2one("repair.order", required=True, ondelete="cascade", readonly=True)
    sale_line_id = fields.Many2one("sale.order.line", string="Line", readonly=True)
    warning = fields.Char(readonly=True)
    note_ids = fields.Many2many("autointegrate.note", compute="_compute_note_ids", string="Notes")
    text = fields.Text(string="New note")
    # both sides' documents of the RO (or of the line), beside the notes
    document_ids = fields.Many2many("autointegrate.document", compute="_compute_document_ids", string="Documents")

    @api.model_create_multi
    def create(self, vals_list):
        # from the database: a job of another company is not shown, whatever the cache holds
        repair_ids = [vals["repair_id"] for vals in vals_list if vals.get("repair_id")]
        self.env["repair.order"].browse(repair_ids)._fleet_check_rights("read")
        return super().create(vals_list)

    @api.depends("repair_id.fleet_note_ids", "sale_line_id")
    def _compute_note_ids(self):
        for wizard in self:
            notes = wizard.repair_id.fleet_note_ids
            line_ref = wizard.sale_line_id.fleet_line_ref
            if wizard.sale_line_id:
                notes = notes.filtered(lambda note, ref=line_ref: note.line_ref == ref)
            wizard.note_ids = notes

    @api.depends("repair_id.fleet_document_ids", "sale_line_id")
    def _compute_document_ids(self):
        for wizard in self:
            documents = wizard.repair_id.fleet_document_ids
            if wizard.sale_line_id:
                documents = documents.filtered(lambda d, ref=wizard.sale_line_id.fleet_line_ref: d.line_ref == ref)
            wizard.document_ids = documents

    def _action_open(self):
        self.ensure_one()
        title = _("Fleet Communication")
        if self.sale_line_id:
            title = _("Fleet Communication: %(line)s", line=self.sale_line_id.name.splitlines()[0])
        return {
            "type": "ir.actions.act_window",
            "name": title,
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "context": {"dialog_size": "extra-large"},
        }

    def action_send_note(self):
        """Send the note to the fleet (contract 5.2), store it, show the thread."""
        self.ensure_one()
        text = (self.text or "").strip()
        repair = self.repair_id
        repair._fleet_check_rights("write")
        if not text:
            return self._action_open()
        line_ref = self.sale_line_id.fleet_line_ref or None
        client = repair.company_id._autointegrate_client(repair)
        try:
            note = client.add_note(
                repair.fleet_ro_id, text, line_ref=line_ref, author=self.env.user.name[:128],
                idempotency_key=repair._fleet_dialog_note_key(self, text),
            )
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error, client.base_url) from error
        repair._fleet_store_notes([note])
        repair._fleet_refresh()
        wizard = self.create({"repair_id": repair.id, "sale_line_id": self.sale_line_id.id})
        return wizard._action_open()
