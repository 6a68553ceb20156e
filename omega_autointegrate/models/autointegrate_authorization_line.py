from odoo import fields, models

from ..const import FLEET_LINE_STATUSES, FLEET_LINE_TYPES

#: what a revision did to a line of the one before (contract 4.2 matches lines by line_ref)
LINE_CHANGES = [
    ("added", "Added"),
    ("changed", "Changed"),
    ("unchanged", "Unchanged"),
    ("removed", "Removed"),
]


class AutoIntegrateAuthorizationLine(models.Model):
    """A line of a revision of the RO: requested as sent, authorized as the fleet decided."""

    _name = "autointegrate.authorization.line"
    _description = "Fleet authorization line"
    _order = "revision, sequence, id"

    authorization_id = fields.Many2one(
        "autointegrate.authorization", required=True, ondelete="cascade", index=True, readonly=True,
    )
    repair_id = fields.Many2one(related="authorization_id.repair_id", store=True, index=True, precompute=True)
    company_id = fields.Many2one(related="authorization_id.company_id", store=True, precompute=True)
    partner_id = fields.Many2one(related="authorization_id.partner_id", store=True, precompute=True)
    revision = fields.Integer(related="authorization_id.revision", store=True, precompute=True)
    revision_kind = fields.Selection(related="authorization_id.kind", string="Revision Kind")
    submitted_at = fields.Datetime(related="authorization_id.submitted_at")
    authorization_number = fields.Char(related="authorization_id.authorization_number")
    currency_id = fields.Many2one(related="authorization_id.currency_id")
    sequence = fields.Integer(readonly=True)
    sale_line_id = fields.Many2one("sale.order.line", string="Quotation Line", ondelete="set null", readonly=True)
    line_ref = fields.Char(string="Ref", readonly=True)
    change = fields.Selection(LINE_CHANGES, readonly=True)
    line_type = fields.Selection(FLEET_LINE_TYPES, string="Type", readonly=True)
    service_code = fields.Char(readonly=True)
    description = fields.Char(readonly=True)
    quantity = fields.Float(string="Requested Qty", digits=(16, 3), readonly=True)
    unit_price = fields.Monetary(readonly=True)
    amount = fields.Monetary(string="Requested", readonly=True)
    taxable = fields.Boolean(readonly=True)
    status = fields.Selection(FLEET_LINE_STATUSES, string="Decision", readonly=True)
    approved_quantity = fields.Float(string="Authorized Qty", digits=(16, 3), readonly=True)
    approved_amount = fields.Monetary(string="Authorized", readonly=True)
    reason = fields.Char(string="Fleet Reason", readonly=True)
    decided_by = fields.Char(readonly=True)
    decided_at = fields.Datetime(readonly=True)
