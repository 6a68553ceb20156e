from odoo import fields, models

from ..const import FLEET_STATUSES

#: how a revision came to the fleet
REVISION_KINDS = [
    ("submission", "Submission"),
    ("supplement", "Supplement"),
    ("resubmission", "Resubmission"),
]


class AutoIntegrateAuthorization(models.Model):
    """One revision of a job's RO: what the shop requested and what the
    fleet authorized, who decided and when. The job's authorization history.

    Written by the submit and resubmit path (what was requested, see
    ``repair.order._fleet_record_revision``) and by the path every fleet
    state takes (what the fleet decided, ``_fleet_apply_history``); users
    only read it.
    """

    _name = "autointegrate.authorization"
    _description = "Fleet authorization (a revision of a repair order)"
    _order = "revision, id"
    _rec_name = "revision"
    _check_company_auto = True

    repair_id = fields.Many2one(
        "repair.order", string="Repair Order", required=True, ondelete="cascade", index=True, check_company=True,
        readonly=True,
    )
    # precomputed: part of the INSERT, not an UPDATE after it
    company_id = fields.Many2one(related="repair_id.company_id", store=True, index=True, precompute=True)
    # the fleet account it went to, for what the shop learns of each fleet
    partner_id = fields.Many2one("res.partner", string="Fleet Account", readonly=True, index="btree_not_null")
    currency_id = fields.Many2one("res.currency", readonly=True)
    revision = fields.Integer(required=True, readonly=True)
    kind = fields.Selection(REVISION_KINDS, readonly=True)
    submitted_at = fields.Datetime(string="Sent At", readonly=True)
    submitted_by = fields.Many2one("res.users", string="Sent By", readonly=True)
    status = fields.Selection(FLEET_STATUSES[1:], string="Fleet Status", readonly=True)
    authorization_number = fields.Char(readonly=True)
    decided_by = fields.Char(readonly=True)
    decided_at = fields.Datetime(readonly=True)
    auto_approved = fields.Boolean(
        readonly=True,
        help="The fleet's rules approved this revision in full, as sent, in their answer to it: no person decided "
        "any of its lines.",
    )
    requested_untaxed = fields.Monetary(string="Requested (untaxed)", readonly=True)
    requested_total = fields.Monetary(readonly=True)
    authorized_total = fields.Monetary(string="Authorized", readonly=True)
    line_ids = fields.One2many("autointegrate.authorization.line", "authorization_id", string="Lines", readonly=True)

    _sql_constraints = [
        ("revision_unique", "unique(repair_id, revision)", "A revision of a repair order is recorded once."),
    ]
