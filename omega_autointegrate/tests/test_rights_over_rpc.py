"""Attackers with real logins over JSON-RPC, as the web client calls the server
(``/web/dataset/call_kw``): an administrator, a plain user allowed to export,
a repair user without the AutoIntegrate group, a technician, an AutoIntegrate
user, a manager of company A, a manager of company B, a billing user, a
portal user.

- the account's secrets reach no browser: not through a relation to the
  company (``company_id/...``), not from the account, not from the settings;
- the AutoIntegrate group and the job's company are checked on the server
  before anything reaches the fleet;
- the fields only the fleet changes are refused to every user, whichever
  way they are written, and the invoicing gate keeps reading them.
"""

import json

from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import CLIENT_SECRET, AutoIntegrateHttpCase, FlowMixin
from .test_security import B_SECRET, B_WEBHOOK, WEBHOOK_SECRET, TwoCompaniesMixin

CALL_KW = "/web/dataset/call_kw"
EXPORT = "base.group_allow_export"
#: login -> (groups, company: "a" or "b"); every password is the login
USERS = {
    "rpc_plain": (f"base.group_user,{EXPORT}", "a"),
    "rpc_repair": (f"stock.group_stock_user,sales_team.group_sale_salesman_all_leads,{EXPORT}", "a"),
    "rpc_tech": ("stock.group_stock_user", "a"),
    "rpc_fleet": (f"omega_autointegrate.group_autointegrate_user,{EXPORT}", "a"),
    "rpc_manager_a": (f"omega_autointegrate.group_autointegrate_manager,stock.group_stock_manager,{EXPORT}", "a"),
    "rpc_manager_b": (f"omega_autointegrate.group_autointegrate_manager,stock.group_stock_manager,{EXPORT}", "b"),
    "rpc_billing": ("account.group_account_invoice,stock.group_stock_user", "a"),
    "rpc_portal": ("base.group_portal", "a"),
}
#: who may not talk to the fleet about company A's jobs
NO_FLEET_RIGHTS = ("rpc_plain", "rpc_repair", "rpc_tech", "rpc_manager_b", "rpc_billing", "rpc_portal")
#: who may edit company A's jobs, and so try to set what the fleet decides
JOB_EDITORS = ("admin", "rpc_repair", "rpc_tech", "rpc_fleet", "rpc_manager_a")
#: column types whose values an export writes out as they are stored
PLAIN_TYPES = ("char", "text", "html", "selection", "integer", "float", "monetary", "boolean", "date", "datetime")
NEW_SECRET = "typed-in-settings-9Z"


class RpcMixin:
    """JSON-RPC calls as the web client makes them, logged in as one user after another."""

    _login = None

    def rpc(self, login, model, method, *args, **kwargs):
        """Call ``model.method(*args, **kwargs)`` through ``/web/dataset/call_kw`` as ``login``.

        :return: ``(result, error)``: ``error`` is the JSON-RPC error's data
            (``name``, ``message``), or ``None``
        """
        if login != self._login:
            self.authenticate(login, login)
            self._login = login
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "model": model, "method": method, "args": list(args), "kwargs": kwargs}})
        response = self.url_open(CALL_KW, data=body, headers={"Content-Type": "application/json"})
        response.raise_for_status()
        answer = response.json()
        error = answer.get("error")
        return answer.get("result"), (error["data"] if error else None)

    def ok(self, login, model, method, *args, **kwargs):
        result, error = self.rpc(login, model, method, *args, **kwargs)
        self.assertIsNone(error, f"{login}: {model}.{method}")
        return result

    def refused(self, login, model, method, *args, **kwargs):
        """:return: the error of a call that must fail (``name``, ``message``)"""
        result, error = self.rpc(login, model, method, *args, **kwargs)
        self.assertTrue(error, f"{login}: {model}.{method} was not refused: {result!r}")
        self.assertIn(error["name"], ("odoo.exceptions.AccessError", "odoo.exceptions.UserError"), error)
        return error


class RpcUsersMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = {"admin": cls.env.ref("base.user_admin")}
        for login, (groups, company) in USERS.items():
            company = cls.company if company == "a" else cls.company_b
            cls.users[login] = new_test_user(cls.env, login=login, password=login, groups=groups,
                                             company_id=company.id, company_ids=[Command.set(company.ids)])
        cls.secrets = (CLIENT_SECRET, WEBHOOK_SECRET, B_SECRET, B_WEBHOOK, NEW_SECRET)

    def fleet_calls(self):
        """:return: how many requests both fleets received (a token's included)"""
        return len(self.fleet_requests()) + len(self.requests_b())

    def assert_no_secret(self, where, answer):
        text = json.dumps(answer, default=str)
        for secret in self.secrets:
            self.assertNotIn(secret, text, where)


@tagged("post_install", "-at_install")
class TestAccountSecretsOverRpc(RpcMixin, RpcUsersMixin, TwoCompaniesMixin, FlowMixin, AutoIntegrateHttpCase):
    """No secret reaches a browser, whoever asks and however."""

    def test_no_secret_through_the_company(self):
        """Every field the company has, through every relation a user reads or exports
        (``company_id/...`` on the user's own user, ``company_ids/...``, a job's ``company_id``)."""
        job = self.make_job()
        fields = self.env["res.company"]._fields
        plain = [name for name, field in fields.items() if field.type in PLAIN_TYPES]
        self.assertFalse([name for name in fields if "autointegrate" in name])
        for login in ("admin", *USERS):
            user = self.users[login]
            with self.subTest(user=login):
                paths = [f"{relation}/{name}" for relation in ("company_id", "company_ids") for name in plain]
                can_export = user.has_group(EXPORT) or user.has_group("base.group_erp_manager")
                if not can_export:
                    self.refused(login, "res.users", "export_data", [user.id], paths)
                else:
                    exported = self.ok(login, "res.users", "export_data", [user.id], paths)
                    self.assertTrue(exported["datas"])
                    self.assert_no_secret("export_data", exported)
                if login == "rpc_portal":
                    continue
                spec = {"company_id": {"fields": dict.fromkeys(plain, {})},
                        "company_ids": {"fields": dict.fromkeys(plain, {})}}
                self.assert_no_secret("web_read", self.ok(login, "res.users", "web_read", [user.id],
                                                           specification=spec))
                self.assert_no_secret("read", self.ok(login, "res.company", "read", user.company_ids.ids, plain))
                self.assert_no_secret("fields_get", self.ok(login, "res.company", "fields_get"))
                if can_export and login in JOB_EDITORS:
                    self.assert_no_secret("job export", self.ok(
                        login, "repair.order", "export_data", job.ids, [f"company_id/{name}" for name in plain]))

    def test_the_account_is_nobodys_but_its_administrators(self):
        account = self.account
        asks = [
            ("read", ([account.id],), {}),
            ("search_read", ([],), {}),
            ("web_read", ([account.id],), {"specification": {"api_url": {}, "shop_id": {}}}),
            ("read_group", ([], ["client_id"], ["client_id"]), {}),
            ("export_data", ([account.id], ["api_url"]), {}),
            ("write", ([account.id], {"api_url": "https://fleet.attacker.example"}), {}),
        ]
        for login in USERS:
            for method, args, kwargs in asks:
                with self.subTest(user=login, method=method):
                    self.refused(login, "autointegrate.account", method, *args, **kwargs)
        # an administrator reads the account, never a secret: not even a yes/no to a guess
        everything = self.ok("admin", "autointegrate.account", "read", [account.id])
        self.assertEqual(everything[0]["shop_id"], account.shop_id)
        self.assertTrue(everything[0]["client_secret_set"] and everything[0]["webhook_secret_set"])
        self.assert_no_secret("read", everything)
        self.assert_no_secret("fields_get", self.ok("admin", "autointegrate.account", "fields_get"))
        for field in ("client_secret", "webhook_secret"):
            for method, args, kwargs in [
                ("read", ([account.id], [field]), {}),
                ("web_read", ([account.id],), {"specification": {field: {}}}),
                ("export_data", ([account.id], [field]), {}),
                # an export checks a field's access only when it fetches it: not when a sudo read cached it
                ("export_data", ([account.id], [f"{field}_set", "company_id/name", field]), {}),
                ("search_count", ([(field, "=", CLIENT_SECRET)],), {}),
                ("read_group", ([], [field], [field]), {}),
            ]:
                with self.subTest(field=field, method=method):
                    self.refused("admin", "autointegrate.account", method, *args, **kwargs)
        self.assertEqual(self.env["ir.model.fields"].search_count([("relation", "=", "autointegrate.account")]), 0)

    def test_the_settings_never_send_a_secret_back(self):
        """An administrator opens the settings, types a new secret, saves: no answer holds a secret."""
        views = self.ok("admin", "res.config.settings", "get_views", [[False, "form"]])
        self.assert_no_secret("get_views", views)
        # the form's fields, as the web client asks for them
        spec = dict.fromkeys(views["models"]["res.config.settings"]["fields"], {})
        self.assertIn("autointegrate_client_secret", spec)
        self.assert_no_secret("fields_get", self.ok("admin", "res.config.settings", "fields_get"))
        opened = self.ok("admin", "res.config.settings", "onchange", [], {}, [], spec)
        self.assert_no_secret("onchange", opened)
        self.assertEqual((opened["value"]["autointegrate_client_secret"],
                          opened["value"]["autointegrate_client_secret_set"]), (False, True))
        typed = self.ok("admin", "res.config.settings", "onchange", [],
                        dict(opened["value"], autointegrate_client_secret=NEW_SECRET),
                        ["autointegrate_client_secret"], spec)
        self.assert_no_secret("onchange", typed)
        saved = self.ok("admin", "res.config.settings", "web_save", [],
                        dict(opened["value"], autointegrate_client_secret=NEW_SECRET), specification=spec)
        self.assert_no_secret("web_save", saved)
        self.ok("admin", "res.config.settings", "execute", [saved[0]["id"]])
        self.assert_no_secret("web_read", self.ok("admin", "res.config.settings", "web_read", [saved[0]["id"]],
                                                  specification=spec))
        self.env.invalidate_all()
        self.assertEqual(self.account.client_secret, NEW_SECRET)
        self.assertEqual(self.account.webhook_secret, WEBHOOK_SECRET)  # not typed: kept
        # nobody else opens them
        for login in USERS:
            with self.subTest(user=login):
                self.refused(login, "res.config.settings", "onchange", [], {}, [], spec)
                self.refused(login, "res.config.settings", "web_save", [], {"autointegrate_client_secret": "x"},
                             specification={})


@tagged("post_install", "-at_install")
class TestFleetRightsOverRpc(RpcMixin, RpcUsersMixin, TwoCompaniesMixin, FlowMixin, AutoIntegrateHttpCase):
    """The AutoIntegrate group and the job's company, checked on the server before the fleet hears anything."""

    def denied_job(self):
        """A job the fleet denied in part: it waits for SAVE AND SEND TO FLEET."""
        repair = self.make_job()
        self.send(repair)
        self.fleet_deny_labor(repair, "Labor exceeds 1.0 h rate card")
        repair.action_send_to_fleet()
        self.assertTrue(repair.fleet_needs_resubmit)
        self.env.flush_all()
        return repair

    def test_no_fleet_call_without_the_group_or_the_company(self):
        repair = self.denied_job()
        line = self.line(repair, self.labor)
        revision, status = repair.fleet_revision, repair.fleet_status
        ro_status = self.admin_get(f"/ro/{repair.fleet_ro_id}")["status"]
        attempts = [
            ("repair.order", "action_send_to_fleet", [repair.id]),
            ("repair.order", "action_fleet_save_and_send", [repair.id]),
            ("repair.order", "action_fleet_communication", [repair.id]),
            ("repair.order", "action_fleet_accept_decision", [repair.id]),
            ("repair.order", "action_fleet_send_documents", [repair.id]),
            ("repair.order", "action_repair_cancel", [repair.id]),
            ("sale.order.line", "action_fleet_communication", [line.id]),
            ("autointegrate.send.wizard", "create", {"repair_id": repair.id}),
            ("autointegrate.communication.wizard", "create", {"repair_id": repair.id, "text": "hello"}),
            ("autointegrate.document.wizard", "create", {"repair_id": repair.id}),
        ]
        for login in NO_FLEET_RIGHTS:
            for model, method, arg in attempts:
                with self.subTest(user=login, call=f"{model}.{method}"):
                    before = self.fleet_calls()
                    self.refused(login, model, method, arg)
                    self.assertEqual(self.fleet_calls(), before, "the fleet heard of it")
        self.env.invalidate_all()
        self.assertEqual((repair.state, repair.fleet_revision, repair.fleet_status), ("draft", revision, status))
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["status"], ro_status)
        self.assertFalse(self.fleet_requests(f"/v1/repair-orders/{repair.fleet_ro_id}", "PUT"))

    def test_cancelling_a_fleet_job_needs_the_right(self):
        """A repair user cancelling a job the fleet has is told why, instead of leaving its RO open at the fleet."""
        repair = self.denied_job()
        error = self.refused("rpc_repair", "repair.order", "action_repair_cancel", [repair.id])
        self.assertIn(repair.name, error["message"])
        self.assertIn("AutoIntegrate / User", error["message"])
        self.env.invalidate_all()
        self.assertEqual(repair.state, "draft")
        # a job the fleet does not have is cancelled like any other
        unsent = self.make_job()
        self.env.flush_all()
        self.ok("rpc_repair", "repair.order", "action_repair_cancel", [unsent.id])
        # an AutoIntegrate user cancels it at the fleet too
        self.ok("rpc_fleet", "repair.order", "action_repair_cancel", [repair.id])
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["status"], "cancelled")

    def test_the_autointegrate_user_talks_to_the_fleet(self):
        repair = self.denied_job()
        before = len(self.fleet_requests(f"/v1/repair-orders/{repair.fleet_ro_id}", "GET"))
        action = self.ok("rpc_fleet", "repair.order", "action_send_to_fleet", [repair.id])
        self.assertEqual(action["res_model"], "autointegrate.send.wizard")
        self.assertEqual(len(self.fleet_requests(f"/v1/repair-orders/{repair.fleet_ro_id}", "GET")), before + 1)
        self.ok("rpc_fleet", "repair.order", "action_fleet_save_and_send", [repair.id])
        self.assertEqual(len(self.fleet_requests(f"/v1/repair-orders/{repair.fleet_ro_id}", "PUT")), 1)


@tagged("post_install", "-at_install")
class TestFleetFieldsOverRpc(RpcMixin, RpcUsersMixin, TwoCompaniesMixin, FlowMixin, AutoIntegrateHttpCase):
    """What the fleet decides is the fleet's: no user sets it, whichever way."""

    JOB_FIELDS = {
        "fleet_status": "approved", "fleet_authorization_number": "AUTH-FORGED", "fleet_approved_total": 99999.0,
        "fleet_ro_id": "AI-FORGED", "fleet_sequence": 1000000000, "fleet_revision": 42,
        "fleet_decided_by": "Nobody", "fleet_decided_at": "2026-01-01 00:00:00",
        "fleet_submitted_at": "2026-01-01 00:00:00", "fleet_sent_digest": "0" * 32, "fleet_denial_pending": True,
        "is_autointegrate": False, "fleet_changed": True, "fleet_needs_resubmit": True, "fleet_digest": "0" * 32,
        "fleet_display_status": "approved", "fleet_documents_requested": [{"type": "photo", "reason": "forged"}],
        "fleet_waiting_since": "2026-01-01 00:00:00", "fleet_due_at": "2026-01-01 00:00:00", "fleet_escalated": True,
    }
    LINE_FIELDS = {"fleet_status": "approved", "fleet_approved_qty": 9.0, "fleet_approved_amount": 9999.0,
                   "fleet_reason": "forged", "fleet_line_ref": "L-FORGED", "fleet_declined": True}

    def snapshot(self, repair):
        self.env.invalidate_all()
        lines = repair.sale_order_id.order_line
        return ([repair[name] for name in self.JOB_FIELDS],
                [[line[name] for name in self.LINE_FIELDS] for line in lines])

    def test_no_user_sets_what_the_fleet_decides(self):
        sent = self.make_job()
        self.send(sent)
        unsent = self.make_job()
        self.env.flush_all()
        before = {repair: self.snapshot(repair) for repair in (sent, unsent)}
        line = self.line(unsent, self.labor)
        calls = self.fleet_calls()
        for login in JOB_EDITORS:
            for name, value in self.JOB_FIELDS.items():
                with self.subTest(user=login, field=name):
                    for repair in (sent, unsent):
                        error = self.refused(login, "repair.order", "write", [repair.id], {name: value})
                        self.assertIn("Only the fleet changes", error["message"])
                        self.refused(login, "repair.order", "web_save", [repair.id], {name: value},
                                     specification={"fleet_status": {}})
            attacks = [
                # the job's embedded lines, as its form saves them
                ("repair.order", "web_save", [unsent.id], {"fleet_line_ids": [
                    Command.update(line.id, dict(self.LINE_FIELDS, fleet_line_ref=False))]}),
                ("repair.order", "web_save", [unsent.id], {"fleet_line_ids": [Command.create(
                    {"product_id": self.labor.id, "product_uom_qty": 1, "fleet_status": "approved",
                     "fleet_approved_qty": 1, "fleet_approved_amount": 95})]}),
                ("sale.order", "write", [unsent.sale_order_id.id], {"order_line": [
                    Command.update(line.id, {"fleet_status": "approved"})]}),
                ("sale.order.line", "write", [line.id], {"fleet_approved_amount": 9999.0}),
                ("sale.order.line", "create", {"order_id": unsent.sale_order_id.id, "product_id": self.labor.id,
                                               "fleet_status": "approved"}),
                # a job bound to another's RO would receive its notes and decisions
                ("repair.order", "create", {"partner_id": self.driver.id, "fleet_ro_id": sent.fleet_ro_id}),
                ("repair.order", "copy", [sent.id], {"fleet_ro_id": sent.fleet_ro_id, "fleet_status": "approved"}),
            ]
            for model, method, *args in attacks:
                with self.subTest(user=login, call=f"{model}.{method}"):
                    kwargs = {"specification": {}} if method == "web_save" else {}
                    error = self.refused(login, model, method, *args, **kwargs)
                    # a technician may not write quotations at all
                    if self.env[model].with_user(self.users[login]).has_access("write"):
                        self.assertIn("Only the fleet changes", error["message"])
            with self.subTest(user=login, call="load"):
                loaded = self.ok(login, "repair.order", "load", [".id", "fleet_status", "fleet_sequence"],
                                 [[str(unsent.id), "approved", "1000000000"]])
                self.assertFalse(loaded["ids"])
                self.assertIn("Only the fleet changes", str(loaded["messages"]))
            with self.subTest(user=login, call="fleet note"):
                self.refused(login, "autointegrate.note", "create", {
                    "repair_id": sent.id, "fleet_note_id": "N-FORGED", "author_type": "fleet", "text": "Approved"})
        self.assertEqual({repair: self.snapshot(repair) for repair in (sent, unsent)}, before)
        self.assertEqual(self.fleet_calls(), calls)
        self.assertEqual(self.env["repair.order"].search_count([("fleet_ro_id", "=", sent.fleet_ro_id)]), 1)
        # and the gate still holds: the unsent job's work cannot start
        error = self.refused("rpc_tech", "repair.order", "action_repair_start", [unsent.id])
        self.assertIn("has not approved", error["message"])

    def test_the_job_form_still_saves(self):
        """A form sends back the fleet's values unchanged with the user's edits: that is no forgery."""
        repair = self.make_job()
        self.send(repair)
        self.env.flush_all()
        line = self.line(repair, self.labor)
        self.ok("rpc_tech", "repair.order", "web_save", [repair.id], {
            "fleet_status": "pending", "fleet_ro_id": repair.fleet_ro_id, "fleet_odometer": 48300,
            "fleet_line_ids": [Command.update(line.id, {"product_uom_qty": 2.0, "fleet_status": "pending",
                                                        "fleet_line_ref": line.fleet_line_ref})],
        }, specification={"fleet_changed": {}})
        self.env.invalidate_all()
        self.assertEqual((repair.fleet_odometer, line.product_uom_qty, repair.fleet_changed), (48300, 2.0, True))

    def test_billing_users_set_no_fleet_approval_on_an_invoice(self):
        error = self.refused("rpc_billing", "account.move", "create", {
            "move_type": "out_invoice", "partner_id": self.walk_in.id, "fleet_invoice_status": "approved",
            "fleet_authorization_number": "AUTH-FORGED"})
        self.assertIn("Only the fleet changes", error["message"])

    def test_a_job_the_fleet_has_stays_gated(self):
        """Its customer changed to a standard account, a job the fleet has still needs the fleet's approval."""
        repair = self.make_job()
        self.send(repair)
        self.env.flush_all()
        self.ok("rpc_repair", "repair.order", "web_save", [repair.id], {"partner_id": self.walk_in.id},
                specification={"is_autointegrate": {}})
        self.env.invalidate_all()
        self.assertEqual(repair.partner_id, self.walk_in)
        self.assertTrue(repair.is_autointegrate)
        self.assertIn("has not approved", repair._fleet_invoice_refusal())
