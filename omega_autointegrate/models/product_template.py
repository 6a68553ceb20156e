from odoo import fields, models

from ..const import FLEET_LINE_TYPES


class ProductTemplate(models.Model):
    _inherit = "product.template"

    fleet_line_type = fields.Selection(
        FLEET_LINE_TYPES,
        help="How this product is reported to fleets. Empty: Labor for services, Part for goods.",
    )
    fleet_service_code = fields.Char(
        help="Code fleets know this product by. Empty: the product's internal reference.",
    )

    def _fleet_line_type(self):
        self.ensure_one()
        return self.fleet_line_type or ("labor" if self.type == "service" else "part")

    def _fleet_service_code(self):
        self.ensure_one()
        code = self.fleet_service_code or self.default_code
        return code[:64] if code else None
