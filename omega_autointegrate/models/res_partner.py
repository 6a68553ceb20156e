from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.autointegrate import formatting

#: what the shop agreed with the fleet: commercial fields, its contacts follow it
FLEET_RULE_FIELDS = ["fleet_response_hours", "fleet_escalation_contact_id"]


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "autointegrate.normalize.mixin"]

    # Not account's invoice_sending_method (how a PDF travels): this says who
    # must approve the work before it is invoiced.
    fleet_invoice_method = fields.Selection(
        [("standard", "Standard"), ("autointegrate", "AutoIntegrate")],
        string="Invoice Method",
        default="standard",
        required=True,
        help="AutoIntegrate: repair orders of this account are approved by its fleet through AutoIntegrate "
        "before they are invoiced.",
    )
    fleet_company_code = fields.Char(
        string="Fleet Company ID",
        help="The fleet's company identifier at AutoIntegrate, e.g. ENT-0042.",
    )

    # what the fleet agreed to: how long it takes to decide, whom to call when it takes longer
    fleet_response_hours = fields.Float(
        string="Agreed Response Time",
        help="Hours within which the fleet agreed to decide. A job waiting longer is escalated to the fleet's "
        "contact. 0: no agreed time.",
    )
    fleet_escalation_contact_id = fields.Many2one(
        "res.partner", string="Escalation Contact",
        help="Whom to call at the fleet when a decision is overdue.",
    )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + ["fleet_invoice_method", "fleet_company_code", *FLEET_RULE_FIELDS]

    @api.model
    def _fleet_normalize(self, vals):
        if isinstance(vals.get("fleet_company_code"), str):
            vals["fleet_company_code"] = vals["fleet_company_code"].strip() or False

    @api.constrains("fleet_invoice_method", "fleet_company_code")
    def _check_fleet_company_code(self):
        for partner in self:
            code = partner.fleet_company_code
            if partner.fleet_invoice_method == "autointegrate" and not code:
                raise ValidationError(
                    _("%(partner)s is invoiced through AutoIntegrate: enter its Fleet Company ID.",
                      partner=partner.display_name)
                )
            if code and not formatting.is_ref(code):
                raise ValidationError(
                    _("The Fleet Company ID “%(code)s” of %(partner)s is not valid: use 1 to 64 letters, digits "
                      "and . _ : / - (no spaces).", code=code, partner=partner.display_name)
                )

    def _is_autointegrate(self):
        """:return: whether this account's jobs go through AutoIntegrate."""
        self.ensure_one()
        return self.commercial_partner_id.fleet_invoice_method == "autointegrate"
