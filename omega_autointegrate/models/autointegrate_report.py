from odoo import fields, models
from odoo.tools import SQL

from ..const import FLEET_LINE_STATUSES, FLEET_LINE_TYPES, FLEET_STATUSES, INVOICEABLE_LINE_STATUSES


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
        "product.product": ["product_tmpl_id"],
        "product.template": ["type", "fleet_line_type"],
        "autointegrate.authorization": ["repair_id", "revision", "status"],
        "autointegrate.authorization.line": ["repair_id", "revision", "line_ref", "status", "reason"],
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
    line_type = fields.Selection(FLEET_LINE_TYPES, readonly=True)
    first_status = fields.Selection(FLEET_LINE_STATUSES, string="First Decision", readonly=True,
                                    help="The fleet's first decision on the line, before any resubmission.")
    first_reason = fields.Char(string="First Decision's Reason", readonly=True,
                               help="Why the fleet denied or cut the line the first time it decided it.")
    first_pass_rate = fields.Float(
        string="First-Pass Approval (%)", readonly=True, aggregator="avg",
        help="Share of the lines the fleet approved (fully or adjusted) the first time it decided them.")
    ro_first_pass_rate = fields.Float(
        string="RO First-Pass Approval (%)", readonly=True, aggregator="avg",
        help="Share of the repair orders the fleet approved entirely the first time it decided them.")

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
                        END AS decision_hours,
                   -- the line type as the RO sends it (repair.order._fleet_payload)
                   CASE WHEN sol.price_unit < 0 THEN 'discount'
                        ELSE COALESCE(pt.fleet_line_type, CASE WHEN pt.type = 'service' THEN 'labor' ELSE 'part' END)
                        END AS line_type,
                   first_line.status AS first_status,
                   first_line.reason AS first_reason,
                   CASE WHEN first_line.status = ANY(%(paid)s) THEN 100.0
                        WHEN first_line.status = 'denied' THEN 0.0 END AS first_pass_rate,
                   CASE WHEN ROW_NUMBER() OVER (PARTITION BY ro.id ORDER BY sol.id) = 1
                        THEN CASE WHEN first_revision.status = 'approved' THEN 100.0
                                  WHEN first_revision.status IS NOT NULL THEN 0.0 END
                        END AS ro_first_pass_rate
              FROM repair_order ro
              JOIN sale_order_line sol ON sol.order_id = ro.sale_order_id
              JOIN res_partner partner ON partner.id = ro.partner_id
              JOIN product_product pp ON pp.id = sol.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
              -- the history's first decision of the line, and of the whole RO
              LEFT JOIN LATERAL (
                    SELECT hl.status, hl.reason
                      FROM autointegrate_authorization_line hl
                     WHERE hl.repair_id = ro.id AND hl.line_ref = sol.fleet_line_ref
                       AND hl.status IN ('approved', 'adjusted', 'denied')
                  ORDER BY hl.revision
                     LIMIT 1) first_line ON TRUE
              LEFT JOIN LATERAL (
                    SELECT rev.status
                      FROM autointegrate_authorization rev
                     WHERE rev.repair_id = ro.id AND rev.status IN ('approved', 'partially_approved', 'denied')
                  ORDER BY rev.revision
                     LIMIT 1) first_revision ON TRUE
             WHERE ro.fleet_ro_id IS NOT NULL
               AND sol.fleet_status IS NOT NULL
        """, paid=list(INVOICEABLE_LINE_STATUSES))
