from odoo import fields, models

from .repair_order import FLEET_STATUSES


class SaleOrder(models.Model):
    _inherit = "sale.order"

    fleet_status = fields.Selection(FLEET_STATUSES, string="Fleet Status", compute="_compute_fleet_status")

    def _compute_fleet_status(self):
        for order in self:
            repair = order.sudo().repair_order_ids.filtered("is_autointegrate")[:1]
            order.fleet_status = repair.fleet_status if repair else False
