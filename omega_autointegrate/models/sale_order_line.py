from odoo import api, fields, models

FLEET_LINE_STATUSES = [
    ("pending", "Awaiting fleet"),
    ("approved", "Approved"),
    ("adjusted", "Adjusted"),
    ("denied", "Denied"),
]


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    fleet_line_ref = fields.Char(string="Fleet Line Ref", copy=False, readonly=True)
    fleet_status = fields.Selection(FLEET_LINE_STATUSES, string="Fleet Status", copy=False, readonly=True)
    fleet_approved_qty = fields.Float(string="Approved Qty", digits="Product Unit of Measure", copy=False,
                                      readonly=True)
    fleet_approved_amount = fields.Monetary(string="Approved Amount", copy=False, readonly=True)
    fleet_reason = fields.Char(string="Fleet Reason", copy=False, readonly=True)
    fleet_note_count = fields.Integer(compute="_compute_fleet_note_count")

    @api.depends("fleet_line_ref")
    def _compute_fleet_note_count(self):
        counts = {}
        if self.ids:
            groups = self.env["autointegrate.note"]._read_group(
                [("sale_line_id", "in", self.ids)], ["sale_line_id"], ["__count"]
            )
            counts = {line.id: count for line, count in groups}
        for line in self:
            line.fleet_note_count = counts.get(line.id, 0)

    def _fleet_repair(self):
        """:return: the repair order whose quotation holds this line."""
        self.ensure_one()
        return self.order_id.sudo().repair_order_ids[:1].sudo(False)

    def action_fleet_communication(self):
        """FLEET COMMUNICATION from a line's own menu: that line's notes only."""
        self.ensure_one()
        return self._fleet_repair()._fleet_open_communication(line=self)
