from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..lib.autointegrate import formatting

#: the fleet's rules the shop keeps on the account: commercial fields, its contacts follow it
FLEET_RULE_FIELDS = [
    "fleet_auto_approve_limit", "fleet_labor_rate_cap", "fleet_excluded_codes", "fleet_response_hours",
    "fleet_escalation_contact_id",
]
#: how many of a fleet's usual denial reasons the account shows
DENIAL_REASONS_SHOWN = 5


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

    # the fleet's rules, as the shop knows them: SEND TO FLEET checks a job against them
    fleet_auto_approve_limit = fields.Monetary(
        string="Auto-Approval Limit", currency_field="currency_id",
        help="The fleet approves at once a repair order whose total is at or below this amount. 0: a person at "
        "the fleet reviews every repair order.",
    )
    fleet_labor_rate_cap = fields.Monetary(
        string="Labor Rate Cap", currency_field="currency_id",
        help="The highest labor rate (per hour) the fleet pays. 0: no cap known.",
    )
    fleet_excluded_codes = fields.Char(
        string="Excluded Service Codes",
        help="Service codes the fleet does not pay for, separated by commas or spaces, e.g. TINT, DETAIL.",
    )
    fleet_document_rule_ids = fields.One2many(
        "autointegrate.document.rule", "partner_id", string="Required Documents",
        help="Documents the fleet wants with some lines: glass needs a photo, an ADAS calibration its report.",
    )
    fleet_response_hours = fields.Float(
        string="Agreed Response Time",
        help="Hours within which the fleet agreed to decide. A job waiting longer is escalated to the fleet's "
        "contact. 0: no agreed time.",
    )
    fleet_escalation_contact_id = fields.Many2one(
        "res.partner", string="Escalation Contact",
        help="Whom to call at the fleet when a decision is overdue.",
    )
    # what the shop has learnt of the fleet, from its stored decisions
    fleet_learnt_auto_approved = fields.Monetary(
        string="Highest Total Approved at Once", currency_field="currency_id",
        compute="_compute_fleet_learnt", groups="omega_autointegrate.group_autointegrate_user",
        help="The highest total this fleet's rules approved in full, as sent, in their answer to a submission or "
        "a supplement, with no person's decision in it.",
    )
    fleet_learnt_denials = fields.Text(
        string="Usual Denial Reasons", compute="_compute_fleet_learnt",
        groups="omega_autointegrate.group_autointegrate_user",
    )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + ["fleet_invoice_method", "fleet_company_code", *FLEET_RULE_FIELDS]

    @api.depends("fleet_invoice_method")
    def _compute_fleet_learnt(self):
        # sudo: figures of the shop's own history with the fleet, shown on its account
        fleets = self.filtered(lambda p: p.fleet_invoice_method == "autointegrate").commercial_partner_id.ids
        maxima, reasons = {}, {}
        if fleets:
            Revision = self.env["autointegrate.authorization"].sudo()
            maxima = dict(Revision._read_group([("partner_id", "in", fleets), ("auto_approved", "=", True)],
                                               ["partner_id"], ["requested_total:max"]))
            # a line denied once, then sent again unchanged, is one denial
            groups = self.env["autointegrate.authorization.line"].sudo()._read_group(
                [("partner_id", "in", fleets), ("status", "=", "denied"), ("reason", "!=", False),
                 ("change", "!=", "unchanged")],
                ["partner_id", "reason"], ["__count"], order="__count desc")
            for partner, reason, count in groups:
                reasons.setdefault(partner, []).append((reason, count))
        for partner in self:
            fleet = partner.commercial_partner_id
            partner.fleet_learnt_auto_approved = maxima.get(fleet, 0.0)
            partner.fleet_learnt_denials = "\n".join(
                self.env._("%(reason)s (%(count)s lines)", reason=reason, count=count) if count > 1 else reason
                for reason, count in reasons.get(fleet, [])[:DENIAL_REASONS_SHOWN]) or False

    def _fleet_excluded_codes(self):
        """:return: the service codes this account's fleet excludes, upper case"""
        self.ensure_one()
        codes = (self.commercial_partner_id.fleet_excluded_codes or "").replace(",", " ").replace(";", " ")
        return {code.upper() for code in codes.split()}

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
