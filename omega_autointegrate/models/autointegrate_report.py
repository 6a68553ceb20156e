from odoo import fields, models
from odoo.tools import SQL

from ..const import FLEET_LINE_STATUSES, FLEET_STATUSES, INVOICEABLE_LINE_STATUSES


class AutoIntegrateReport(models.Model):
    """Fleet approvals analysis: one row per line of every repair order sent
    to a fleet, with what was requested, what the fleet decided and how long
    it took.

    Per-RO measures (decision time, RO count) sit on the RO's first line only,
    so that averages and sums count each RO once.
    """

    _name = "autointegrate.report"
    _description = "Fleet Approvals Analysis"
    _auto = False
    _rec_name = "repair_id"
    _order = "submitted_at desc, id"
    _depends = {
        "repair.order": [
            "company_id", "partner_id", "sale_order_id", "fleet_ro_id", "fleet_status", "fleet_company_code",
            "fleet_submitted_at", "fleet_decided_at",
        ],
        "sale.order.line": [
            "order_id", "product_id", "currency_id", "price_unit", "discount", "product_uom_qty", "fleet_line_ref",
            "fleet_status", "fleet_approved_amount", "fleet_reason",
        ],
        "res.partner": ["commercial_partner_id"],
    }

    repair_id = fields.Many2one("repair.order", string="Repair Order", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Fleet Account", readonly=True)
    fleet_company_code = fields.Char(string="Fleet", readonly=True)
    ro_status = fields.Selection(FLEET_STATUSES, string="RO Fleet Status", readonly=True)
    line_status = fields.Selection(FLEET_LINE_STATUSES, string="Line Decision", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    reason = fields.Char(string="Fleet Reason", readonly=True,
                         help="Why the fleet denied or cut the line, in its own words.")
    submitted_at = fields.Datetime(string="Submitted", readonly=True)
    decided_at = fields.Datetime(string="Decided", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    requested_amount = fields.Monetary(string="Requested", readonly=True, aggregator="sum")
    approved_amount = fields.Monetary(string="Approved", readonly=True, aggregator="sum")
    line_count = fields.Integer(string="Lines", readonly=True, aggregator="sum")
    approved_line_count = fields.Integer(string="Lines Approved", readonly=True, aggregator="sum",
                                         help="Lines the fleet approved, fully or adjusted.")
    denied_line_count = fields.Integer(string="Lines Denied", readonly=True, aggregator="sum")
    approval_rate = fields.Float(string="Approval Rate (%)", readonly=True, aggregator="avg",
                                 help="Share of the decided lines the fleet approved (fully or adjusted).")
    ro_count = fields.Integer(string="Repair Orders", readonly=True, aggregator="sum")
    decision_hours = fields.Float(string="Hours to Decision", readonly=True, aggregator="avg",
                                  help="From the first submission to the fleet's latest decision.")

    @property
    def _table_query(self):
        return SQL("""
            SELECT sol.id AS id,
                   ro.id AS repair_id,
                   ro.company_id AS company_id,
                   partner.commercial_partner_id AS partner_id,
                   ro.fleet_company_code AS fleet_company_code,
                   ro.fleet_status AS ro_status,
                   sol.fleet_status AS line_status,
                   sol.product_id AS product_id,
                   sol.fleet_reason AS reason,
                   ro.fleet_submitted_at AS submitted_at,
                   ro.fleet_decided_at AS decided_at,
                   sol.currency_id AS currency_id,
                   ROUND(sol.price_unit * (1 - COALESCE(sol.discount, 0) / 100.0), 2) * sol.product_uom_qty
                       AS requested_amount,
                   CASE WHEN sol.fleet_status = ANY(%(paid)s)
                        THEN COALESCE(sol.fleet_approved_amount, 0) ELSE 0 END AS approved_amount,
                   1 AS line_count,
                   CASE WHEN sol.fleet_status = ANY(%(paid)s) THEN 1 ELSE 0 END AS approved_line_count,
                   CASE WHEN sol.fleet_status = 'denied' THEN 1 ELSE 0 END AS denied_line_count,
                   CASE WHEN sol.fleet_status = ANY(%(paid)s) THEN 100.0
                        WHEN sol.fleet_status = 'denied' THEN 0.0 END AS approval_rate,
                   CASE WHEN ROW_NUMBER() OVER (PARTITION BY ro.id ORDER BY sol.id) = 1 THEN 1 ELSE 0 END
                       AS ro_count,
                   CASE WHEN ROW_NUMBER() OVER (PARTITION BY ro.id ORDER BY sol.id) = 1
                             AND ro.fleet_decided_at IS NOT NULL
                             AND ro.fleet_submitted_at IS NOT NULL
                        THEN GREATEST(EXTRACT(EPOCH FROM ro.fleet_decided_at - ro.fleet_submitted_at), 0) / 3600.0
                        END AS decision_hours
              FROM repair_order ro
              JOIN sale_order_line sol ON sol.order_id = ro.sale_order_id
              JOIN res_partner partner ON partner.id = ro.partner_id
             WHERE ro.fleet_ro_id IS NOT NULL
               AND sol.fleet_status IS NOT NULL
        """, paid=list(INVOICEABLE_LINE_STATUSES))
