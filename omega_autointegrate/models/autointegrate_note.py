from odoo import api, fields, models


class AutoIntegrateNote(models.Model):
    """A note of the fleet communication of one job, shop's or fleet's.

    ``mail.message`` cannot hang off a quotation line, so the RO's notes,
    line notes included, live here, keyed by the fleet's note id.
    """

    _name = "autointegrate.note"
    _description = "AutoIntegrate fleet note"
    _order = "created_at, id"
    _check_company_auto = True

    repair_id = fields.Many2one(
        "repair.order", string="Repair Order", required=True, ondelete="cascade", index=True, check_company=True
    )
    # precomputed: part of the INSERT, not an UPDATE after it
    company_id = fields.Many2one(related="repair_id.company_id", store=True, index=True, precompute=True)
    sale_line_id = fields.Many2one("sale.order.line", string="Line", ondelete="set null", index="btree_not_null")
    line_ref = fields.Char(string="Line Reference")
    line_label = fields.Char(string="On Line", compute="_compute_line_label")
    fleet_note_id = fields.Char(string="Fleet Note ID", required=True, readonly=True)
    author_type = fields.Selection([("shop", "Shop"), ("fleet", "Fleet")], required=True, readonly=True)
    author = fields.Char(readonly=True)
    text = fields.Text(required=True, readonly=True)
    created_at = fields.Datetime(string="Date", readonly=True)

    _sql_constraints = [
        ("fleet_note_unique", "unique(repair_id, fleet_note_id)", "A fleet note is stored once per repair order."),
    ]

    @api.depends("line_ref", "sale_line_id.name")
    def _compute_line_label(self):
        for note in self:
            if note.sale_line_id:
                note.line_label = f"{note.line_ref}: {note.sale_line_id.name.splitlines()[0]}"
            else:
                note.line_label = note.line_ref or False
