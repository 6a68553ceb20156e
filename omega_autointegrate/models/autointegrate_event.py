import json
import logging
from datetime import timedelta

import psycopg2

from odoo import _, api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import format_datetime

from ..const import EVENT_ORPHAN_DAYS, EVENT_RETRY_S, MAX_BODY_BYTES
from ..lib.autointegrate import signing
from ..lib.autointegrate.errors import SignatureError
from ..lib.autointegrate.events import parse_event
from ..lib.autointegrate.formatting import is_ref
from ..tools import quiet_sql_errors

_logger = logging.getLogger(__name__)

LOG_BODY_MAX = 64 * 1024
#: the cron that applies the events a delivery could not apply at once
APPLY_CRON = "omega_autointegrate.ir_cron_autointegrate_apply_events"


class AutoIntegrateEvent(models.Model):
    """A webhook event of the fleet (contract 7): verified, stored (once per
    ``event_id``) and acknowledged without waiting for any lock, then applied.

    A delivery applies its event at once when its job's row is free, with
    the other events of its RO still waiting, in ``sequence`` order (states
    not newer than the job's are skipped as already known). Otherwise the
    event waits (*received*) and the cron "AutoIntegrate: apply webhook
    events", triggered by the delivery, applies it shortly after: while
    another transaction holds the job (a submission waiting for the fleet's
    answer, another delivery), or while no job knows the RO yet (its
    submission has not committed: the job is found by the RO id, or by the
    state's ``shop_ro_ref``, and the submission applies what waits once it
    stored the fleet's answer). An event no job takes within
    ``EVENT_ORPHAN_DAYS`` is discarded, and says so. An event that could not
    be applied (*error*) is applied again by the polling cron.
    """

    _name = "autointegrate.event"
    _description = "AutoIntegrate webhook event"
    _order = "id desc"
    _rec_name = "event_id"
    _check_company_auto = True

    event_id = fields.Char(string="Event ID", required=True, readonly=True)
    event_type = fields.Char(string="Type", readonly=True)
    ro_id = fields.Char(string="Fleet RO", readonly=True, index=True)
    shop_ro_ref = fields.Char(string="Shop Reference", readonly=True,
                              help="The job's reference the fleet's RO carries")
    sequence = fields.Integer(readonly=True)
    payload = fields.Text(readonly=True)
    state = fields.Selection(
        [("received", "Waiting"), ("applied", "Applied"), ("stale", "Already known"), ("error", "Error"),
         ("discarded", "Discarded")],
        default="received", required=True, readonly=True, index=True,
        help="Waiting: stored and acknowledged, applied shortly (its job is busy, or does not know its RO "
             "yet). Already known: the job had a newer state. Discarded: no job took its RO in time.",
    )
    error = fields.Text(string="Details", readonly=True)
    repair_id = fields.Many2one("repair.order", string="Repair Order", readonly=True, ondelete="set null",
                                index="btree_not_null", check_company=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)

    _sql_constraints = [
        ("event_id_unique", "unique(event_id)", "An AutoIntegrate event is stored once."),
    ]

    @api.model
    def _receive(self, raw, signature, now=None):
        """Verify, store and acknowledge one webhook delivery; apply it when
        its job is free. Makes no outbound call and waits for no lock.

        :param raw: the raw request body (bytes)
        :param signature: the ``X-AutoIntegrate-Signature`` header
        :return: ``(http_status, json_body)``; a stored event is answered 200
            with its status: ``applied``, ``stale``, ``error`` (kept, applied
            again later), ``queued`` (applied shortly after) or ``duplicate``
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
        # stored first, once: a repeated event_id is acknowledged and not applied again
        stored = self._store(event, raw, company)
        if not stored:
            return 200, {"status": "duplicate"}
        status = stored._apply_now()
        self.env["autointegrate.exchange"].sudo().create({
            "direction": "in",
            "endpoint": "POST /autointegrate/webhook",
            "status": 200,
            "event_id": event["event_id"],
            "request_body": raw[:LOG_BODY_MAX].decode("utf-8", "replace"),
            "response_body": json.dumps({"status": status}),
            "error": stored.error if stored.state == "error" else False,
            "repair_id": stored.repair_id.id,
            "company_id": company.id,
        })
        return 200, {"status": status}

    @api.model
    def _store(self, event, raw, company):
        """Store a delivery of ``company``'s fleet, unless its event is stored already.

        :return: the event stored, or an empty recordset for a repeated ``event_id``
        """
        events = self.sudo()
        if events.search_count([("event_id", "=", event["event_id"])], limit=1):
            return events
        shop_ro_ref = event["data"].get("shop_ro_ref")
        shop_ro_ref = shop_ro_ref if is_ref(shop_ro_ref) else False
        values = {
            "event_id": event["event_id"],
            "event_type": event.get("type"),
            "ro_id": event["ro_id"],
            "shop_ro_ref": shop_ro_ref,
            "sequence": event["sequence"],
            "payload": raw.decode("utf-8", "replace"),
            "repair_id": self._find_job(company, event["ro_id"], shop_ro_ref).id,
            "company_id": company.id,
        }
        try:
            # the same event delivered twice at once: the unique index makes the second
            # transaction wait for the first, then refuses its row (no error for the log)
            with self.env.cr.savepoint(flush=False), quiet_sql_errors():
                return events.create(values)
        except psycopg2.errors.UniqueViolation:
            return events

    @api.model
    def _find_job(self, company, ro_id, shop_ro_ref):
        """:return: the job (sudo) of ``company`` an event of RO ``ro_id`` is for: the one bound to the RO,
        else the one whose reference the RO carries and that is not bound to another RO (its submission
        may not have committed yet); or an empty recordset"""
        repairs = self.env["repair.order"].sudo()
        job = repairs.search([("fleet_ro_id", "=", ro_id), ("company_id", "=", company.id)], limit=1)
        if job or not shop_ro_ref:
            return job
        domain = [("company_id", "=", company.id), ("fleet_ro_id", "=", False)]
        candidates = repairs.search(domain + [("name", "=", shop_ro_ref)], limit=1)
        if not candidates and "-" in shop_ro_ref:
            # a reference whose characters the fleet's charset does not take was sent with "-" in their place
            candidates = repairs.search(domain + [("name", "=like", shop_ro_ref.replace("-", "_"))])
        return candidates.filtered(lambda repair: repair._fleet_ro_ref() == shop_ro_ref)[:1]

    def _apply_now(self, trigger=True):
        """Apply this stored event, with the other waiting events of its RO,
        in ``sequence`` order, when its job knows the RO and no other
        transaction holds the job. Never waits for a lock.

        :param trigger: when it must wait, have the cron apply it at once
            (else: the caller, the cron, tries it again a little later)
        :return: ``applied``, ``stale`` or ``error``, or ``queued`` when it waits
        """
        self.ensure_one()
        if self.state != "received":
            return self.state
        job = self.repair_id
        if job.fleet_ro_id != self.ro_id:  # not found when stored, or its submission had not committed
            job = self._find_job(self.company_id, self.ro_id, self.shop_ro_ref)
            if job and job != self.repair_id:
                self.repair_id = job
        if not job or job.fleet_ro_id != self.ro_id:
            return self._waiting(job, trigger)
        try:
            with self.env.cr.savepoint():
                # a lock taken, or a job changed since this transaction began: the event waits
                job._fleet_lock_nowait()
                waiting = self.search([("company_id", "=", self.company_id.id), ("ro_id", "=", self.ro_id),
                                       ("state", "=", "received")], order="sequence, id")
                for event in waiting:
                    event._apply_locked(job)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            return self._waiting(job, trigger)
        return self.state

    def _apply_locked(self, job):
        """Apply this event's RO state on ``job``, whose row this transaction holds; an error is stored, not
        raised (another transaction storing the job meanwhile is raised: the caller tries again later)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                applied = job._fleet_apply_state(json.loads(self.payload)["data"])
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise
        except Exception as error:  # kept for the cron to apply again
            _logger.warning("AutoIntegrate event %s could not be applied; kept for a retry", self.event_id,
                            exc_info=True)
            self.write({"state": "error", "error": str(error)[:2000], "repair_id": job.id})
            return
        self.write({"state": "applied" if applied else "stale", "error": False, "repair_id": job.id})

    def _waiting(self, job, trigger):
        """This event waits: say why; :return: ``queued``"""
        if not job:
            until = (self.create_date or fields.Datetime.now()) + timedelta(days=EVENT_ORPHAN_DAYS)
            note = _("No job knows RO %(ro)s yet: kept until %(date)s and applied as soon as a job knows it.",
                     ro=self.ro_id, date=format_datetime(self.env, until))
        elif job.fleet_ro_id != self.ro_id:
            note = _("%(job)s has not stored the fleet's answer yet: applied once it has.", job=job.name)
        else:
            note = _("%(job)s was busy: applied shortly after.", job=job.name)
        if self.error != note:
            self.error = note
        if trigger:
            self.env.ref(APPLY_CRON).sudo()._trigger()
        return "queued"

    @api.model
    def _apply_waiting_of(self, job):
        """Apply the events that wait for ``job`` (whose row this transaction
        holds), once it stored the fleet's answer to its submission; the cron
        applies at once the ones this transaction cannot see yet."""
        waiting = self.sudo().search([("company_id", "=", job.company_id.id), ("state", "=", "received"), "|",
                                      ("ro_id", "=", job.fleet_ro_id), ("repair_id", "=", job.id)],
                                     order="sequence, id", limit=1)
        if waiting:
            waiting._apply_now(trigger=False)
        self.env.ref(APPLY_CRON).sudo()._trigger()

    @api.model
    def _cron_apply_waiting(self, limit=200):
        """Cron: apply the events deliveries left waiting, RO by RO in
        ``sequence`` order; those whose job is still busy are tried again a
        few seconds later; those no job took in ``EVENT_ORPHAN_DAYS`` are discarded."""
        events = self.sudo()
        limit_date = fields.Datetime.now() - timedelta(days=EVENT_ORPHAN_DAYS)
        orphans = events.search([("state", "=", "received"), ("create_date", "<", limit_date)])
        orphans.write({"state": "discarded", "error": _(
            "No job took this RO within %(days)s days: discarded.", days=EVENT_ORPHAN_DAYS)})
        waiting = events.search([("state", "=", "received")], order="id", limit=limit)
        done, busy, seen = 0, 0, set()
        for event in waiting:
            if (event.company_id.id, event.ro_id) in seen:
                continue  # applied with the first event of its RO
            seen.add((event.company_id.id, event.ro_id))
            if event._apply_now(trigger=False) != "queued":
                done += 1
            elif event.repair_id:  # its job is busy, or has not stored its submission's answer yet
                busy += 1
        if busy:
            self.env.ref(APPLY_CRON).sudo()._trigger(at=fields.Datetime.now() + timedelta(seconds=EVENT_RETRY_S))
        remaining = events.search_count([("state", "=", "received")]) if len(waiting) == limit else 0
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

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
