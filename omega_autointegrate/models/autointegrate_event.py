import json
import logging

import psycopg2

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import mute_logger

from ..const import MAX_BODY_BYTES
from ..lib.autointegrate import signing
from ..lib.autointegrate.errors import SignatureError
from ..lib.autointegrate.events import parse_event

_logger = logging.getLogger(__name__)

LOG_BODY_MAX = 64 * 1024


class AutoIntegrateEvent(models.Model):
    """A webhook event of the fleet (contract 7), stored before it is
    acknowledged: a repeated ``event_id`` is recognised, an event that could
    not be applied is kept and applied again by the polling cron."""

    _name = "autointegrate.event"
    _description = "AutoIntegrate webhook event"
    _order = "id desc"
    _rec_name = "event_id"
    _check_company_auto = True

    event_id = fields.Char(string="Event ID", required=True, readonly=True)
    event_type = fields.Char(string="Type", readonly=True)
    ro_id = fields.Char(string="Fleet RO", readonly=True, index=True)
    sequence = fields.Integer(readonly=True)
    payload = fields.Text(readonly=True)
    state = fields.Selection(
        [("received", "Received"), ("applied", "Applied"), ("stale", "Already known"), ("error", "Error")],
        default="received", required=True, readonly=True, index=True,
    )
    error = fields.Text(readonly=True)
    repair_id = fields.Many2one("repair.order", string="Repair Order", readonly=True, ondelete="set null",
                                index="btree_not_null", check_company=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)

    _sql_constraints = [
        ("event_id_unique", "unique(event_id)", "An AutoIntegrate event is stored once."),
    ]

    @api.model
    def _receive(self, raw, signature, now=None):
        """Verify, store and apply one webhook delivery. Makes no outbound call.

        :param raw: the raw request body (bytes)
        :param signature: the ``X-AutoIntegrate-Signature`` header
        :return: ``(http_status, json_body)``
        """
        if len(raw) > MAX_BODY_BYTES:
            return 413, error_body("bad_request", "body over 1 MB")
        company = self._company_for_signature(raw, signature, now)
        if not company:
            return 401, error_body("unauthorized", "missing, stale or wrong signature")
        # ids, counters and every string checked before any of them reaches SQL
        event, problem = parse_event(raw)
        if problem:
            return 400, error_body("bad_request", problem)
        repair = self.env["repair.order"].sudo().search(
            [("fleet_ro_id", "=", event["ro_id"]), ("company_id", "=", company.id)], limit=1)
        if not repair:
            # maybe our submit has not committed yet: a 404 makes the fleet retry
            return 404, error_body("not_found", "unknown RO")
        # stored first, once: a repeated event_id is acknowledged and not applied again
        stored = self._store(event, raw, repair)
        if not stored:
            return 200, {"status": "duplicate"}
        stored._apply(event["data"])
        self.env["autointegrate.exchange"].sudo().create({
            "direction": "in",
            "endpoint": "POST /autointegrate/webhook",
            "status": 200,
            "event_id": event["event_id"],
            "request_body": raw[:LOG_BODY_MAX].decode("utf-8", "replace"),
            "response_body": json.dumps({"status": stored.state}),
            "error": stored.error,
            "repair_id": repair.id,
            "company_id": company.id,
        })
        return 200, {"status": stored.state}

    @api.model
    def _store(self, event, raw, repair):
        """Store a delivery, unless its event is stored already.

        :return: the event stored, or an empty recordset for a repeated ``event_id``
        """
        events = self.sudo()
        if events.search_count([("event_id", "=", event["event_id"])], limit=1):
            return events
        values = {
            "event_id": event["event_id"],
            "event_type": event.get("type"),
            "ro_id": event["ro_id"],
            "sequence": event["sequence"],
            "payload": raw.decode("utf-8", "replace"),
            "repair_id": repair.id,
            "company_id": repair.company_id.id,
        }
        try:
            # the same event delivered twice at once: the unique index makes the second
            # transaction wait for the first, then refuses its row (no error for the log)
            with self.env.cr.savepoint(flush=False), mute_logger("odoo.sql_db"):
                return events.create(values)
        except psycopg2.errors.UniqueViolation:
            return events

    def _apply(self, state):
        """Apply the event's RO state; an error is stored, not raised."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                applied = self.repair_id._fleet_apply_state(state)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # another transaction is applying this RO: Odoo runs the request again
        except Exception as error:  # kept for the cron to apply again
            _logger.warning("AutoIntegrate event %s could not be applied; kept for a retry", self.event_id,
                            exc_info=True)
            self.write({"state": "error", "error": str(error)[:2000]})
            return False
        self.write({"state": "applied" if applied else "stale", "error": False})
        return applied

    @api.model
    def _retry_failed(self, limit=100):
        """Apply again the events stored with an error (called by the poll cron)."""
        events = self.sudo().search([("state", "=", "error")], limit=limit, order="id")
        for event in events:
            event._apply(json.loads(event.payload)["data"])
        return events

    @api.model
    def _company_for_signature(self, raw, signature, now=None):
        # the secrets are not prefetched: fetched here with the accounts, in one query
        accounts = self.env["autointegrate.account"].sudo().search_fetch(
            [("webhook_secret", "!=", False)], ["company_id", "webhook_secret"])
        for account in accounts:
            try:
                signing.verify(account.webhook_secret, raw, signature, now=now)
            except SignatureError:
                continue
            return account.company_id
        return self.env["res.company"]


def error_body(code, message):
    """:return: the body of an error answer, in the shape of contract 1."""
    return {"error": {"code": code, "message": message, "details": []}}
