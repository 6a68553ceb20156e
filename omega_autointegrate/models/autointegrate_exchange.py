import logging
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models

from ..const import DEFAULT_RETENTION_DAYS, PARAM_LOG_RETENTION_DAYS

_logger = logging.getLogger(__name__)


class AutoIntegrateExchange(models.Model):
    """One HTTP exchange with AutoIntegrate: a call we made or an event the
    fleet sent us. Secrets never reach it: the client removes them."""

    _name = "autointegrate.exchange"
    _description = "AutoIntegrate exchange log"
    _order = "id desc"
    _rec_name = "endpoint"
    _check_company_auto = True

    direction = fields.Selection([("out", "To the fleet"), ("in", "From the fleet")], required=True, readonly=True)
    endpoint = fields.Char(required=True, readonly=True, help="Method and path, e.g. POST /v1/repair-orders")
    status = fields.Integer(string="HTTP Status", readonly=True)
    success = fields.Boolean(compute="_compute_success", store=True, index=True, precompute=True)
    idempotency_key = fields.Char(readonly=True, index="btree_not_null")
    event_id = fields.Char(string="Event ID", readonly=True, index="btree_not_null")
    request_body = fields.Text(readonly=True)
    response_body = fields.Text(readonly=True)
    error = fields.Text(readonly=True)
    duration_ms = fields.Integer(string="Duration (ms)", readonly=True)
    repair_id = fields.Many2one("repair.order", string="Repair Order", ondelete="set null", readonly=True,
                                index="btree_not_null", check_company=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)

    @api.depends("status", "error")
    def _compute_success(self):
        for entry in self:
            entry.success = bool(entry.status) and 200 <= entry.status < 300 and not entry.error

    @api.model
    def _values_from_client(self, entry, company, repair=None):
        return {
            "direction": "out",
            "endpoint": f"{entry['method']} {entry['path']}"[:512],
            "status": entry.get("status") or 0,
            "idempotency_key": entry.get("idempotency_key"),
            "request_body": entry.get("request_body"),
            "response_body": entry.get("response_body"),
            "error": entry.get("error"),
            "duration_ms": entry.get("duration_ms") or 0,
            "repair_id": repair.id if repair else False,
            "company_id": company.id,
        }

    @api.model
    def _logger_for(self, company, repair=None):
        """:return: an ``on_exchange`` callback for :class:`autointegrate.Client`.

        Each attempt is stored in the current transaction; if that
        transaction rolls back (the user saw an error), the entry is written
        again afterwards in a transaction of its own, so failures stay
        visible in the log.
        """
        # sudo: the log is the managers' to read; every user's calls are logged
        log = self.sudo()
        cr = self.env.cr
        registry = self.env.registry

        def log_exchange(entry):
            values = self._values_from_client(entry, company, repair)
            log.create(values)
            cr.postrollback.add(lambda: self._write_after_rollback(registry, values))

        return log_exchange

    @staticmethod
    def _write_after_rollback(registry, values):
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                if values.get("repair_id") and not env["repair.order"].browse(values["repair_id"]).exists():
                    values = dict(values, repair_id=False)
                env["autointegrate.exchange"].create(values)
        except Exception:  # logging must never hide the user's error
            _logger.exception("Could not keep the AutoIntegrate exchange log entry")

    @api.model
    def _gc_exchanges(self):
        """Cron: delete successful entries older than the retention (days)."""
        days = int(self.env["ir.config_parameter"].sudo().get_param(PARAM_LOG_RETENTION_DAYS)
                   or DEFAULT_RETENTION_DAYS)
        limit_date = fields.Datetime.now() - timedelta(days=days)
        old = self.sudo().search([("success", "=", True), ("create_date", "<", limit_date)])
        old.unlink()
        return len(old)
