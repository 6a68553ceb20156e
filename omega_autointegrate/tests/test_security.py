"""Access and secrets: who may do what, companies kept apart, secrets kept in.

- groups and what they imply; repair users without fleet rights still work jobs;
- a record rule on every model of ours (dialogs: their creator's);
- a plain internal user reads no secret over JSON-RPC (read, search_read,
  fields_get, a search on it, the settings form);
- a user of company A neither sees nor sends company B's fleet data; each
  company talks to its own AutoIntegrate account (two simulators);
- secrets (client secret, webhook secret, access tokens) never reach the logs,
  the exchange log, events, chatter or error messages.
"""

import logging
import time
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, HttpCase, JsonRpcException, new_test_user, tagged

from ..lib import autointegrate as ai
from ..lib.autointegrate import signing
from ..lib.autointegrate.client import DEFAULT_TOKEN_CACHE
from .common import CLIENT_SECRET, FLEET, AutoIntegrateFlowCase, SimulatorMixin, SimulatorProcess, set_account

_logger = logging.getLogger(__name__)

WEBHOOK_SECRET = "odoo-test-webhook"
SECRET_FIELDS = ("client_secret", "webhook_secret")
SECRETS = (CLIENT_SECRET, WEBHOOK_SECRET)
B_CLIENT, B_SECRET, B_SHOP, B_WEBHOOK = "shop-b-client", "shop-b-secret-7Q", "SHOP-B", "webhook-b-secret"


@tagged("post_install", "-at_install")
class TestGroups(AutoIntegrateFlowCase):
    def test_groups_and_what_they_imply(self):
        user = self.env.ref("omega_autointegrate.group_autointegrate_user")
        manager = self.env.ref("omega_autointegrate.group_autointegrate_manager")
        self.assertEqual(user.category_id, manager.category_id)
        self.assertIn(user, manager.implied_ids)
        self.assertTrue({self.env.ref("stock.group_stock_user"),
                         self.env.ref("sales_team.group_sale_salesman_all_leads")} <= set(user.implied_ids))
        self.assertTrue(self.env.ref("base.user_admin").has_group("omega_autointegrate.group_autointegrate_manager"))
        # no Odoo group grants fleet rights by itself
        for xmlid in ("base.group_user", "stock.group_stock_user", "stock.group_stock_manager",
                      "account.group_account_invoice", "account.group_account_manager", "base.group_system"):
            self.assertNotIn(user, self.env.ref(xmlid).trans_implied_ids, xmlid)

    def test_a_record_rule_on_every_model(self):
        models = self.env["ir.model"].search([("model", "like", "autointegrate.%")])
        self.assertTrue(models)
        for model in models:
            with self.subTest(model=model.model):
                if self.env[model.model]._abstract:
                    continue
                rules = self.env["ir.rule"].search([("model_id", "=", model.id)])
                self.assertTrue(rules, f"{model.model} has no record rule")
                field = "create_uid" if self.env[model.model]._transient else "company_id"
                self.assertTrue(any(field in rule.domain_force for rule in rules), rules.mapped("domain_force"))

    def test_a_repair_user_without_fleet_rights_works_a_fleet_job(self):
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        repair.action_send_to_fleet()
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": "Fleet note", "author": "J. Rivera"})
        repair.action_fleet_communication()
        technician = new_test_user(self.env, login="ai_tech", groups="base.group_user,stock.group_stock_user")
        # the form as the web client loads it: every field of the view, the fleet's lines included
        form = Form(repair.with_user(technician))
        self.assertEqual(form.fleet_status, "approved")
        self.assertEqual(len(form.fleet_line_ids), 2)
        self.assertEqual(repair.with_user(technician).fleet_line_ids.mapped("fleet_note_count"), [0, 0])
        with self.assertRaises(AccessError):
            repair.with_user(technician).fleet_note_ids.mapped("text")
        with self.assertRaises(AccessError):
            self.env["autointegrate.send.wizard"].with_user(technician).create({"repair_id": repair.id})

    def test_dialogs_are_their_creators(self):
        repair = self.make_job()
        self.send(repair)
        first = new_test_user(self.env, login="ai_first", groups="omega_autointegrate.group_autointegrate_user")
        second = new_test_user(self.env, login="ai_second", groups="omega_autointegrate.group_autointegrate_user")
        send = self.env["autointegrate.send.wizard"].with_user(first).create({"repair_id": repair.id, "note": "x"})
        talk = self.env["autointegrate.communication.wizard"].with_user(first).create(
            {"repair_id": repair.id, "text": "draft"})
        invoice = self.env["autointegrate.repair.invoice.wizard"].with_user(first).create(
            {"repair_ids": [Command.set(repair.ids)]})
        self.assertTrue(send.line_ids.read(["unit_price"]) and talk.read(["text"]) and invoice.read(["repair_ids"]))
        for record in (send, send.line_ids, talk, invoice):
            with self.subTest(model=record._name), self.assertRaises(AccessError):
                record.with_user(second).read(["create_uid"])
            self.assertFalse(record.with_user(second).search([("id", "in", record.ids)]))


@tagged("post_install", "-at_install")
class TestSecretsOverRpc(SimulatorMixin, HttpCase):
    """A plain internal user asks for the secrets every way the web client's RPC allows."""

    def call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": model, "method": method, "args": list(args), "kwargs": kwargs})

    def test_plain_user_reads_no_secret(self):
        user = new_test_user(self.env, login="ai_plain_rpc", password="ai_plain_rpc",
                             groups="base.group_user,omega_autointegrate.group_autointegrate_manager")
        company_id, account_id = self.company.id, self.account.id
        self.authenticate("ai_plain_rpc", "ai_plain_rpc")
        # the company holds nothing of the account
        fields = self.call("res.company", "fields_get", attributes=["type"])
        self.assertFalse([name for name in fields if "autointegrate" in name])
        everything = self.call("res.company", "read", [company_id])
        for secret in SECRETS:
            self.assertNotIn(secret, str(everything))
        # the account itself is not this user's at all, its secrets nobody's
        self.assertFalse(set(SECRET_FIELDS) & set(self.call("autointegrate.account", "fields_get")))
        for field in SECRET_FIELDS:
            with self.subTest(field=field):
                asks = [
                    ("read", ([account_id], [field]), {}),
                    ("search_read", ([("id", "=", account_id)], [field]), {}),
                    ("web_read", ([account_id],), {"specification": {field: {}}}),
                    ("web_search_read", ([],), {"specification": {field: {}}}),
                    # a search on the secret would answer yes/no to a guess
                    ("search_count", ([(field, "=", CLIENT_SECRET)],), {}),
                    ("search", ([(field, "like", "odoo")],), {}),
                    ("read_group", ([], [field], [field]), {}),
                    ("write", ([account_id], {field: "stolen"}), {}),
                ]
                for method, args, kwargs in asks:
                    with self.subTest(method=method), self.assertRaises(JsonRpcException) as info:
                        self.call("autointegrate.account", method, *args, **kwargs)
                    self.assertIn("AccessError", str(info.exception))
        # the settings form: not for this user at all
        with self.assertRaises(JsonRpcException):
            self.call("res.config.settings", "web_read", [], specification={"autointegrate_client_secret": {}})
        with self.assertRaises(JsonRpcException):
            self.call("res.config.settings", "onchange", [], {}, [], {"autointegrate_client_secret": {}})
        with self.assertRaises(JsonRpcException):
            self.call("res.config.settings", "get_views", [[False, "form"]])
        self.assertEqual(self.account.client_secret, CLIENT_SECRET)
        self.assertFalse(user.has_group("base.group_system"))  # a plain user, not a settings administrator


class TwoCompaniesMixin:
    """Company B with its own AutoIntegrate account on a simulator of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator_b = SimulatorProcess(fleets={FLEET: None}, client_id=B_CLIENT, client_secret=B_SECRET,
                                           shop_id=B_SHOP)
        cls.addClassCleanup(cls.simulator_b.stop)
        cls.company_b = cls.env["res.company"].create({"name": "Shop B"})
        cls.account_b = set_account(cls.company_b, api_url=cls.simulator_b.url, client_id=B_CLIENT,
                                    client_secret=B_SECRET, shop_id=B_SHOP, webhook_secret=B_WEBHOOK)

    def setUp(self):
        super().setUp()
        self.simulator_b.reset(tokens=True)

    def job_of(self, company):
        env = self.env(context=dict(self.env.context, allowed_company_ids=company.ids))
        repair = env["repair.order"].create({
            "partner_id": self.driver.id, "fleet_complaint": "Cracked", "fleet_vin": "1FTFW1E50NFA00001",
            "move_ids": [Command.create({"product_id": self.windshield.id, "product_uom_qty": 1.0,
                                         "repair_line_type": "add", "company_id": company.id})],
        })
        self.assertEqual(repair.company_id, company)
        repair.action_create_sale_order()
        repair.sale_order_id.order_line.tax_id = False
        return repair

    def requests_b(self, path=None):
        return [item for item in self.simulator_b.admin("GET", "/requests")["items"]
                if path is None or item["path"].split("?")[0] == path]


@tagged("post_install", "-at_install")
class TestCompanies(TwoCompaniesMixin, AutoIntegrateFlowCase):
    def test_each_company_sends_with_its_own_account(self):
        job_a, job_b = self.job_of(self.company), self.job_of(self.company_b)
        # a user of both companies, working in A, sends B's job: B's account, B's shop id
        both = new_test_user(self.env, login="ai_both", company_id=self.company.id,
                             company_ids=[Command.set((self.company | self.company_b).ids)],
                             groups="omega_autointegrate.group_autointegrate_user")
        for job in (job_a, job_b):
            env = job.env(user=both, context={"allowed_company_ids": [self.company.id, self.company_b.id]})
            job.with_env(env)._fleet_send()
        self.assertEqual([ro["shop_ro_ref"] for ro in self.fleet_ros()], [job_a._fleet_ro_ref()])
        ros_b = self.simulator_b.admin("GET", "/ros")["items"]
        self.assertEqual([ro["shop_ro_ref"] for ro in ros_b], [job_b._fleet_ro_ref()])
        self.assertEqual(self.admin_get(f"/ro/{job_a.fleet_ro_id}")["client_id"], self.account.client_id)
        ro_b = self.simulator_b.admin("GET", f"/ro/{job_b.fleet_ro_id}")
        self.assertEqual(ro_b["client_id"], B_CLIENT)
        self.assertEqual(ro_b["body"]["shop_id"], B_SHOP)
        # each simulator saw one client only
        self.assertEqual({item["body"].split("client_id=")[1].split("&")[0]
                          for item in self.requests_b("/oauth/token")}, {B_CLIENT})
        self.assertNotIn(B_CLIENT, str(self.fleet_requests("/oauth/token")))
        logs = self.env["autointegrate.exchange"].search([("repair_id", "in", (job_a | job_b).ids)])
        self.assertEqual({(log.repair_id, log.company_id) for log in logs},
                         {(job_a, self.company), (job_b, self.company_b)})
        # the poll reads each account's feed into its own company's jobs
        self.simulator_b.admin("POST", f"/ro/{job_b.fleet_ro_id}/decide",
                               {"all": "approved", "decided_by": "B's fleet"})
        self.env["autointegrate.sync"]._cron_poll()
        self.assertEqual((job_a.fleet_status, job_b.fleet_status), ("pending", "approved"))

    def test_a_user_of_a_neither_sees_nor_sends_bs_fleet_data(self):
        job_b = self.job_of(self.company_b)
        job_b._fleet_send(["B's own note"])
        self.env.flush_all()
        self.assertTrue(job_b.fleet_note_ids)
        self.assertTrue(self.env["autointegrate.exchange"].search([("company_id", "=", self.company_b.id)]))
        raw = b'{"event_id": "evt_b", "type": "ro.updated", "ro_id": "%s", "sequence": 1}' % job_b.fleet_ro_id.encode()
        self.env["autointegrate.event"].create({"event_id": "evt_b", "ro_id": job_b.fleet_ro_id, "payload": raw,
                                                "repair_id": job_b.id, "company_id": self.company_b.id})
        user_a = new_test_user(self.env, login="ai_user_a", company_id=self.company.id,
                               company_ids=[Command.set(self.company.ids)],
                               groups="omega_autointegrate.group_autointegrate_manager")
        env_a = self.env(user=user_a, context={"allowed_company_ids": self.company.ids})
        before = len(self.requests_b())
        # sees nothing of B
        self.assertFalse(env_a["repair.order"].search([("id", "=", job_b.id)]))
        for model in ("autointegrate.note", "autointegrate.exchange", "autointegrate.event"):
            with self.subTest(model=model):
                self.assertFalse(env_a[model].search([("company_id", "=", self.company_b.id)]))
                self.assertFalse(env_a[model].search([]).filtered(lambda r: r.sudo().company_id == self.company_b))
        with self.assertRaises(AccessError):
            job_b.with_env(env_a).read(["fleet_ro_id"])
        # sends nothing of B, whichever way it asks
        attempts = [
            lambda: env_a["autointegrate.send.wizard"].create({"repair_id": job_b.id}).action_submit(),
            lambda: env_a["autointegrate.communication.wizard"].create(
                {"repair_id": job_b.id, "text": "hello"}).action_send_note(),
            lambda: job_b.with_env(env_a)._fleet_send(),
            lambda: job_b.with_env(env_a).action_send_to_fleet(),
            lambda: job_b.with_env(env_a).action_fleet_communication(),
            lambda: env_a["autointegrate.repair.invoice.wizard"].with_context(
                active_model="repair.order", active_ids=job_b.ids).create({}).action_confirm(),
        ]
        for n, attempt in enumerate(attempts):
            with self.subTest(attempt=n), self.assertRaises(Exception) as info, self.env.cr.savepoint():
                attempt()
            self.assertIsInstance(info.exception, (AccessError, UserError))
            self.assertEqual(len(self.requests_b()), before, (n, info.exception, self.requests_b()[before:]))
        self.assertEqual(self.fleet_requests("/v1/repair-orders"), [])
        # A's webhook secret signs nothing about B's RO
        state = self.simulator_b.admin("GET", f"/ro/{job_b.fleet_ro_id}")
        event = {"event_id": "evt_cross", "type": "ro.updated", "ro_id": job_b.fleet_ro_id,
                 "sequence": state["sequence"] + 1, "data": dict(state, sequence=state["sequence"] + 1,
                                                                  status="approved")}
        raw = __import__("json").dumps(event).encode()
        # kept as an RO no job of A knows (aged out if none ever does), never applied to B's job
        self.assertEqual(self.env["autointegrate.event"]._receive(raw, signing.sign(WEBHOOK_SECRET, raw)),
                         (200, {"status": "queued"}))
        self.env["autointegrate.event"]._cron_apply_waiting()
        kept = self.env["autointegrate.event"].search([("event_id", "=", "evt_cross")])
        self.assertEqual((kept.state, kept.repair_id, kept.company_id), ("received", job_b.browse(), self.company))
        self.assertEqual(job_b.fleet_status, "pending")

    def test_an_invoice_of_a_holds_no_job_of_b(self):
        """Posting sends the invoice with its job's company's account: an invoice of A linked to B's
        approved work is refused, and B's fleet hears nothing."""
        if not self.company.chart_template:
            self.env["account.chart.template"].try_loading("generic_coa", company=self.company, install_demo=False)
        job_b = self.job_of(self.company_b)
        job_b._fleet_send()
        self.simulator_b.admin("POST", f"/ro/{job_b.fleet_ro_id}/decide", {"all": "approved", "decided_by": "B"})
        job_b._fleet_refresh()
        self.assertEqual(job_b.fleet_status, "approved")
        sale_line = job_b.sale_order_id.order_line
        invoice = self.env["account.move"].create({
            "move_type": "out_invoice", "partner_id": self.driver.id, "company_id": self.company.id,
            "invoice_line_ids": [Command.create({
                "product_id": self.windshield.id, "quantity": 1, "price_unit": sale_line.price_unit, "tax_ids": [],
                "sale_line_ids": [Command.set(sale_line.ids)]})],
        })
        with self.assertRaisesRegex(UserError, f"{job_b.name} is a job of Shop B"):
            invoice.action_post()
        self.assertEqual(invoice.state, "draft")
        self.assertFalse(self.requests_b(f"/v1/repair-orders/{job_b.fleet_ro_id}/invoice"))


@tagged("post_install", "-at_install")
class TestSecretsStayIn(TwoCompaniesMixin, AutoIntegrateFlowCase):
    """Every path that talks to a fleet or logs, run with the log at DEBUG; then
    the secrets are looked for everywhere."""

    def test_secrets_never_leak(self):
        if not self.company.chart_template:
            self.env["account.chart.template"].try_loading("generic_coa", company=self.company, install_demo=False)
        records = []

        class Keep(logging.Handler):
            def emit(self, record):
                records.append(record)

        handler = Keep(level=logging.DEBUG)
        root = logging.getLogger()
        loggers = [logging.getLogger(name) for name in ("odoo", "autointegrate", "urllib3", "requests", "werkzeug")]
        levels = [logger.level for logger in loggers]
        root.addHandler(handler)
        for logger in loggers:
            logger.setLevel(logging.DEBUG)
        errors = []
        # every token the fleets gave the addon, as its clients cache them
        tokens = []
        real_set = DEFAULT_TOKEN_CACHE.set
        try:
            with patch.object(DEFAULT_TOKEN_CACHE, "set",
                              lambda key, token: (tokens.append(token.access_token), real_set(key, token))):
                errors += self.exercise()
        finally:
            root.removeHandler(handler)
            for logger, level in zip(loggers, levels, strict=True):
                logger.setLevel(level)

        self.assertTrue(tokens)
        secrets = {"client secret": CLIENT_SECRET, "client secret B": B_SECRET, "webhook secret": WEBHOOK_SECRET,
                   "webhook secret B": B_WEBHOOK, **{f"token {n}": token for n, token in enumerate(tokens)}}
        self.env.flush_all()
        places = {
            "log": "\n".join(self.format(record) for record in records),
            "errors": "\n".join(errors),
            "exchange log": self.texts("autointegrate.exchange", ["endpoint", "idempotency_key", "request_body",
                                                                  "response_body", "error"]),
            "events": self.texts("autointegrate.event", ["payload", "error"]),
            "chatter": self.texts("mail.message", ["body", "subject"]),
            "tracking": self.texts("mail.tracking.value", ["old_value_char", "new_value_char"]),
            "activities": self.texts("mail.activity", ["summary", "note"]),
            "notes": self.texts("autointegrate.note", ["text", "author"]),
        }
        self.assertGreater(len(records), 50)
        self.assertIn("POST /v1/repair-orders", places["exchange log"])
        for place, text in places.items():
            for name, secret in secrets.items():
                with self.subTest(place=place, secret=name):
                    self.assertNotIn(secret, text)
        _logger.info("secrets: %d log records (DEBUG), %d user errors, %d exchange-log entries, %d events, "
                     "%d messages searched for %d secrets and tokens: none found", len(records), len(errors),
                     self.env["autointegrate.exchange"].sudo().search_count([]),
                     self.env["autointegrate.event"].sudo().search_count([]),
                     self.env["mail.message"].sudo().search_count([]), len(secrets))

    @staticmethod
    def format(record):
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            text += logging.Formatter().formatException(record.exc_info)
        return text + (record.exc_text or "")

    def texts(self, model, fields):
        return "\n".join(str(value) for row in self.env[model].sudo().search_read([], fields)
                         for key, value in row.items() if key != "id")

    def exercise(self):
        """Run every path that talks to a fleet or logs. :return: the error messages users saw"""
        errors = []

        def expect_error(func):
            try:
                with self.env.cr.savepoint():
                    func()
            except (UserError, ai.AutoIntegrateError) as error:
                errors.append(str(error))
            else:
                self.fail("an error was expected")

        settings = self.env["res.config.settings"].create({})
        settings.action_autointegrate_test_connection()
        # a job sent through faults (retries are logged), decided, noted, refreshed, invoiced
        repair = self.make_job()
        self.admin_post("/faults", {"next": [503], "drop_after_processing_next": 1, "path_prefix": "/v1/"})
        with patch.object(ai.Client, "_backoff", lambda client, attempt: 0.0):
            self.send(repair, note="Please approve")
        self.admin_post("/faults", {})
        self.fleet_decide(repair, all="approved")
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": "Fleet says hi", "author": "J. Rivera"})
        action = repair.action_fleet_communication()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        wizard.text = "Shop says hi"
        wizard.action_send_note()
        context = {"active_model": "repair.order", "active_ids": repair.ids, "active_id": repair.id}
        Form(self.env["autointegrate.repair.invoice.wizard"].with_context(**context)).save().action_confirm()
        # B's job, and the poll of both accounts
        self.job_of(self.company_b)._fleet_send()
        self.env["autointegrate.sync"]._cron_poll()
        self.env["autointegrate.sync"]._cron_reconcile()
        # webhooks: valid, badly signed, stale
        state = self.admin_get(f"/ro/{repair.fleet_ro_id}")
        state.pop("body", None)
        raw = __import__("json").dumps({"event_id": "evt_secret", "type": "ro.updated", "ro_id": repair.fleet_ro_id,
                                        "sequence": state["sequence"], "data": state}).encode()
        events = self.env["autointegrate.event"]
        self.assertEqual(events._receive(raw, signing.sign(WEBHOOK_SECRET, raw))[0], 200)
        self.assertEqual(events._receive(raw, signing.sign("guess", raw))[0], 401)
        self.assertEqual(events._receive(raw, signing.sign(WEBHOOK_SECRET, raw, time.time() - 3600))[0], 401)
        # failures a user sees: refused credentials, an expired token, a fleet down, a refusal
        expect_error(lambda: (self.account.write({"client_secret": CLIENT_SECRET + "-wrong"}),
                              DEFAULT_TOKEN_CACHE.clear(),
                              self.env["res.config.settings"].create({}).action_autointegrate_test_connection()))
        self.admin_post("/expire_tokens", {})
        repair.action_send_to_fleet()  # a 401, a new token, the call again
        self.admin_post("/faults", {"next": [503] * 8})
        with patch.object(ai.Client, "_backoff", lambda client, attempt: 0.0):
            expect_error(lambda: self.send(self.make_job()))
        self.admin_post("/faults", {})
        self.fleet_account.fleet_company_code = "NOPE-1"
        expect_error(lambda: self.send(self.make_job()))
        self.fleet_account.fleet_company_code = FLEET
        self.account.api_url = "http://127.0.0.1:9"
        expect_error(lambda: self.send(self.make_job()))
        return errors
