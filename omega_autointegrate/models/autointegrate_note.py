from odoo import api, fields, models

from ..const import FLEET_LINE_STATUSES

#: what an entry of FLEET COMMUNICATION is; a new kind of entry (a document, say) joins this list
COMMUNICATION_KINDS = [
    ("note", "Note"),
    ("info_request", "Information request"),
    ("decision", "Decision"),
    ("cancel", "Cancellation"),
]


class AutoIntegrateNote(models.Model):
    """An entry of the fleet communication of one job, shop's or fleet's:
    FLEET COMMUNICATION lists them in time order.

    ``mail.message`` cannot hang off a quotation line, so the RO's notes,
    line notes included, live here, keyed by the fleet's note id; so do the
    fleet's other words, which the RO state carries and a later state
    replaces (a line decision and its reason, a question): each is kept as
    the entry of the state that brought it, keyed by that state's sequence
    (``state:<sequence>:...``), and never overwritten.
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
    kind = fields.Selection(COMMUNICATION_KINDS, string="Type", required=True, default="note", readonly=True)
    # a line decision's: what the fleet decided on the line; its reason, if it gave one, is the text
    decision = fields.Selection(FLEET_LINE_STATUSES, readonly=True)
    text = fields.Text(readonly=True)
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
