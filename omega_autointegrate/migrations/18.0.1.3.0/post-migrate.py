"""18.0.1.3.0: each company's AutoIntegrate account moves from fields of
``res.company`` (which every user could export through ``company_id/...``)
into an ``autointegrate.account``, secrets included, so that a shop upgrading
keeps its account and its poll's place in the changes feed.

The old columns are read here, after the module's update created the new
model; at the end of the update Odoo drops the columns of the removed fields,
so the secrets do not stay behind in ``res_company``.
"""

import logging

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

#: the old column of res_company -> the field of autointegrate.account
MOVED = {
    "autointegrate_api_url": "api_url",
    "autointegrate_client_id": "client_id",
    "autointegrate_client_secret": "client_secret",
    "autointegrate_shop_id": "shop_id",
    "autointegrate_webhook_secret": "webhook_secret",
    "autointegrate_poll_since": "poll_since",
    "autointegrate_poll_next_since": "poll_next_since",
    "autointegrate_poll_cursor": "poll_cursor",
    "autointegrate_reconciled_at": "reconciled_at",
}


def migrate(cr, version):
    columns = [column for column in MOVED if column_exists(cr, "res_company", column)]
    if not version or not columns:
        return
    cr.execute(SQL("SELECT id, %s FROM res_company ORDER BY id",
                   SQL(", ").join(SQL.identifier(column) for column in columns)))
    rows = cr.dictfetchall()
    env = api.Environment(cr, SUPERUSER_ID, {})
    accounts = env["autointegrate.account"]
    known = set(accounts.search([]).company_id.ids)
    values = []
    for row in rows:
        moved = {MOVED[column]: row[column] for column in columns if row[column]}
        if moved and row["id"] not in known:
            values.append(dict(moved, company_id=row["id"]))
    accounts.create(values)
    _logger.info("AutoIntegrate: %d company account(s) moved into autointegrate.account", len(values))
