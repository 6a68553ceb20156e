"""The upgrade to 18.0.1.3.0 moves each company's AutoIntegrate account off res.company."""

from pathlib import Path

from odoo.modules.migration import load_script
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

SCRIPT = Path(__file__).resolve().parents[1] / "migrations" / "18.0.1.3.0" / "post-migrate.py"


@tagged("post_install", "-at_install")
class TestMigration(TransactionCase):
    def test_an_upgraded_shop_keeps_its_account(self):
        script = load_script(str(SCRIPT), "omega_autointegrate_post_migrate_18_0_1_3_0")
        cr = self.env.cr
        company, other = self.env.company, self.env["res.company"].create({"name": "Shop Without Account"})
        # res_company as 18.0.1.2.0 left it (this transaction's own columns, rolled back with it)
        for column in script.MOVED:
            kind = SQL("timestamp") if column == "autointegrate_reconciled_at" else SQL("varchar")
            cr.execute(SQL("ALTER TABLE res_company ADD COLUMN %s %s", SQL.identifier(column), kind))
        old = {
            "autointegrate_api_url": "https://api.autointegrate.example",
            "autointegrate_client_id": "shop-17",
            "autointegrate_client_secret": "old-client-secret",
            "autointegrate_shop_id": "SHOP-17",
            "autointegrate_webhook_secret": "old-webhook-secret",
            "autointegrate_poll_since": "2026-11-28T16:05:00Z",
            "autointegrate_poll_next_since": None,
            "autointegrate_poll_cursor": "c:2",
            "autointegrate_reconciled_at": "2026-11-30 02:00:00",
        }
        cr.execute(SQL("UPDATE res_company SET %s WHERE id = %s", SQL(", ").join(
            SQL("%s = %s", SQL.identifier(column), value) for column, value in old.items()), company.id))
        self.env["autointegrate.account"].search([]).unlink()

        script.migrate(cr, "18.0.1.2.0")

        account = company._autointegrate_account()
        self.assertEqual(
            (account.api_url, account.client_id, account.client_secret, account.shop_id, account.webhook_secret,
             account.poll_since, account.poll_next_since, account.poll_cursor, str(account.reconciled_at)),
            ("https://api.autointegrate.example", "shop-17", "old-client-secret", "SHOP-17", "old-webhook-secret",
             "2026-11-28T16:05:00Z", False, "c:2", "2026-11-30 02:00:00"))
        self.assertFalse(other._autointegrate_account())  # nothing configured, no account
        # run twice (a retried upgrade): still one account
        script.migrate(cr, "18.0.1.2.0")
        self.assertEqual(self.env["autointegrate.account"].search_count([("company_id", "=", company.id)]), 1)
