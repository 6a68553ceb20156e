import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..const import CLOSED_STATUSES
from ..lib import autointegrate as ai

_logger = logging.getLogger(__name__)

PAGE_SIZE = 100


class AutoIntegrateSync(models.AbstractModel):
    """Fallbacks of the webhooks: the changes-feed poll and the nightly
    reconciliation. Both apply states through ``_fleet_apply_states``, like
    the webhook, so any of them may see a state first."""

    _name = "autointegrate.sync"
    _description = "AutoIntegrate polling and reconciliation"

    @api.model
    def _companies(self):
        return self.env["autointegrate.account"].sudo().search([
            ("api_url", "!=", False), ("client_id", "!=", False),
            ("client_secret", "!=", False),  # a half-configured account must not stop the crons
        ], order="company_id").company_id

    @api.model
    def _apply_states(self, company, states):
        """Apply a batch of RO states of one company (a page of the changes
        feed), see ``_fleet_apply_states``.

        :return: how many were newer than what the jobs had
        """
        by_ro = {state["ro_id"]: state for state in states}
        if not by_ro:
            return 0
        # one statement finds and locks the page's jobs
        repairs = self.env["repair.order"].sudo()._fleet_lock_rows(
            SQL("company_id = %s AND fleet_ro_id = ANY(%s)", company.id, list(by_ro)))
        states = {repair.id: by_ro[repair.fleet_ro_id] for repair in repairs}
        return len(repairs._fleet_apply_states(states, locked=True))

    @api.model
    def _poll_company(self, company):
        """Read one page of the company's changes feed and apply it.

        The walk's filter and cursor are kept on the company's account, so a walk goes
        on where it stopped; the next walk starts at the newest ``updated_at``
        seen (the RO at that second comes again and is ignored by sequence).

        :return: whether more pages remain
        """
        client = company._autointegrate_client()
        account = company._autointegrate_account()
        since = account.poll_since or None
        cursor = account.poll_cursor or None
        try:
            page = client.changes(updated_since=since, limit=PAGE_SIZE, cursor=cursor)
        except ai.BadRequestError:
            if not cursor:
                raise  # the same call again would be refused the same way
            # an expired or foreign cursor: start this walk again
            account.poll_cursor = False
            page = client.changes(updated_since=since, limit=PAGE_SIZE)
        self._apply_states(company, page["items"])
        newest = max([account.poll_next_since or since or ""]
                     + [item["updated_at"] for item in page["items"] if isinstance(item.get("updated_at"), str)])
        if page["next_cursor"]:
            account.write({"poll_cursor": page["next_cursor"], "poll_next_since": newest or False})
        else:
            account.write({"poll_cursor": False, "poll_since": newest or False, "poll_next_since": False})
        return bool(page["next_cursor"])

    @api.model
    def _cron_poll(self):
        """Cron: one page per company per run; runs again at once while pages remain."""
        self.env["autointegrate.event"]._retry_failed()
        companies = self._companies()
        remaining = 0
        for company in companies:
            try:
                remaining += self._poll_company(company)
            except ai.AutoIntegrateError as error:
                _logger.warning("AutoIntegrate poll of %s failed: %s", company.name, error)
        self.env["ir.cron"]._notify_progress(done=len(companies), remaining=remaining)

    @api.model
    def _cron_reconcile(self):
        """Cron, nightly: read every open RO and store what a lost webhook left behind."""
        for company in self._companies():
            repairs = self.env["repair.order"].sudo().search([
                ("company_id", "=", company.id), ("fleet_ro_id", "!=", False),
                ("fleet_status", "not in", CLOSED_STATUSES),
            ])
            for repair in repairs:
                try:
                    # the job's client: its read is logged under the job
                    repair._fleet_apply_state(company._autointegrate_client(repair).get_ro(repair.fleet_ro_id))
                except ai.AutoIntegrateError as error:
                    _logger.warning("AutoIntegrate reconciliation of %s failed: %s", repair.name, error)
                    if not error.retryable:
                        continue
                    break  # the fleet is down: try again next night
            company._autointegrate_account().reconciled_at = fields.Datetime.now()
