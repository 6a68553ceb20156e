import socket

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

from .common import CLIENT_SECRET, SHOP_ID, AutoIntegrateCase


@tagged("post_install", "-at_install")
class TestSettings(AutoIntegrateCase):
    def test_settings_round_trip(self):
        with Form(self.env["res.config.settings"]) as form:
            form.autointegrate_api_url = "https://api.autointegrate.example"
            form.autointegrate_client_id = "shop-a"
            form.autointegrate_client_secret = "secret-a"
            form.autointegrate_webhook_secret = "whsec-a"
            form.autointegrate_shop_id = "SHOP-A"
            form.autointegrate_connect_timeout = 7
            form.autointegrate_read_timeout = 45
        form.record.execute()
        reopened = Form(self.env["res.config.settings"])
        self.assertEqual(reopened.autointegrate_api_url, "https://api.autointegrate.example")
        self.assertEqual(reopened.autointegrate_client_id, "shop-a")
        self.assertEqual(reopened.autointegrate_shop_id, "SHOP-A")
        # the secrets are saved, and only said to be
        self.assertEqual((reopened.autointegrate_client_secret, reopened.autointegrate_webhook_secret), (False, False))
        self.assertTrue(reopened.autointegrate_client_secret_set and reopened.autointegrate_webhook_secret_set)
        self.assertEqual((reopened.autointegrate_connect_timeout, reopened.autointegrate_read_timeout), (7, 45))
        self.assertEqual((self.account.client_id, self.account.client_secret, self.account.webhook_secret),
                         ("shop-a", "secret-a", "whsec-a"))
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param("omega_autointegrate.read_timeout"), "45")
        client = self.company._autointegrate_client()
        self.assertEqual((client.base_url, client.timeout), ("https://api.autointegrate.example", (7.0, 45.0)))

    def test_test_connection_succeeds_against_the_simulator(self):
        settings = self.env["res.config.settings"].create({})
        action = settings.action_autointegrate_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn(self.simulator.url, action["params"]["message"])
        tokens = self.fleet_requests("/oauth/token")
        self.assertEqual([t["status"] for t in tokens], [200])
        self.assertNotIn(CLIENT_SECRET, str(tokens))

    def test_test_connection_closed_port(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.account.api_url = f"http://127.0.0.1:{port}"
        settings = self.env["res.config.settings"].create({})
        with self.assertRaisesRegex(UserError, "could not be reached"):
            settings.action_autointegrate_test_connection()

    def test_test_connection_tls_failure_is_named(self):
        # https to a server that speaks plain http: the TLS handshake fails
        self.account.api_url = self.simulator.url.replace("http://", "https://")
        settings = self.env["res.config.settings"].create({})
        with self.assertRaisesRegex(UserError, r"secure \(TLS\) connection"):
            settings.action_autointegrate_test_connection()

    def test_test_connection_wrong_secret(self):
        self.account.client_secret = "not-the-secret"
        settings = self.env["res.config.settings"].create({})
        with self.assertRaises(UserError) as info:
            settings.action_autointegrate_test_connection()
        self.assertIn("refused the client ID or client secret", str(info.exception))
        self.assertNotIn("not-the-secret", str(info.exception))

    def test_missing_configuration_says_what_to_set(self):
        self.account.client_secret = False
        with self.assertRaisesRegex(UserError, "Client Secret"):
            self.company._autointegrate_client()

    def test_plain_http_to_a_public_host_is_refused(self):
        self.account.api_url = "http://fleet.example.com"
        with self.assertRaisesRegex(UserError, "https"):
            self.company._autointegrate_client()

    def test_secrets_are_for_administrators_only(self):
        """The account is the administrators' (of its company), and its secrets nobody's but the addon's."""
        user = new_test_user(self.env, login="ai_plain", groups="base.group_user,stock.group_stock_user")
        with self.assertRaises(AccessError):
            self.env["autointegrate.account"].with_user(user).search([])
        with self.assertRaises(AccessError):
            self.account.with_user(user).read(["shop_id"])
        admin = self.account.with_user(self.env.ref("base.user_admin")).sudo(False)
        self.assertEqual(admin.read(["shop_id", "client_id"])[0]["shop_id"], SHOP_ID)
        self.assertTrue(admin.client_secret_set and admin.webhook_secret_set)
        self.assertFalse({"client_secret", "webhook_secret"} & set(admin.fields_get()))
        self.assertFalse({"client_secret", "webhook_secret"} & set(admin.read()[0]))
        for field in ("client_secret", "webhook_secret"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                admin.read([field])
        self.assertEqual(self.account.client_secret, CLIENT_SECRET)  # the addon's code, in sudo
        # nothing on the company, and no relation leads to the account
        self.assertFalse([name for name in self.env["res.company"]._fields if "autointegrate" in name])
        self.assertFalse(self.env["ir.model.fields"].search([("relation", "=", "autointegrate.account")]))
