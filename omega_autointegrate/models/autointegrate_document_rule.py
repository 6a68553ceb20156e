from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..const import FLEET_DOCUMENT_KINDS, FLEET_LINE_TYPES


class AutoIntegrateDocumentRule(models.Model):
    """A document a fleet wants with some lines: glass needs a photo, an ADAS
    calibration its report. SEND TO FLEET says which are missing."""

    _name = "autointegrate.document.rule"
    _description = "Document a fleet requires"
    _order = "partner_id, id"

    partner_id = fields.Many2one("res.partner", string="Fleet Account", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="partner_id.company_id", store=True)
    line_type = fields.Selection(FLEET_LINE_TYPES, help="Lines of this type need the document. Empty: any type.")
    product_tmpl_id = fields.Many2one(
        "product.template", string="Product", ondelete="cascade",
        help="Lines of this product need the document. Empty: any product.",
    )
    kind = fields.Selection(FLEET_DOCUMENT_KINDS, string="Document", required=True)

    @api.constrains("line_type", "product_tmpl_id", "kind")
    def _check_criterion(self):
        for rule in self:
            if not rule.line_type and not rule.product_tmpl_id:
                raise ValidationError(_("A document rule of %(fleet)s names a line type or a product.",
                                        fleet=rule.partner_id.display_name))

    def _fleet_applies(self, line_type, product_tmpl):
        """:return: whether this rule asks for its document with a line of ``line_type`` and ``product_tmpl``"""
        self.ensure_one()
        return (not self.line_type or self.line_type == line_type) and (
            not self.product_tmpl_id or self.product_tmpl_id == product_tmpl)
