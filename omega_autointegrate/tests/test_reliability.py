"""Reliability of the addon's calls to the fleet: a fault soak through the real
send, notes and invoice paths, a crash between the fleet's answer and our
commit, Odoo's own retry of a transaction, and two users sending one job.

The crash, retry and race tests need real transactions: like ``TestRace``
they commit their data, in a company of their own (the test transaction
holds the main company's row), and clear its credentials afterwards.
"""

import collections
import logging
import random
import threading
import time
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.api import Transaction
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import Form, tagged

from ..lib import autointegrate as ai
from .common import CLIENT_SECRET, FLEET, AutoIntegrateFlowCase, account_values, raise_if_refused, set_account

_logger = logging.getLogger(__name__)

SOAK_JOBS = 40
FAULT_RATE = 0.3
USER_TRIES = 6
READ_TIMEOUT = 0.2
SLOW_S = 0.4
FAULT_KINDS = {
    "timeout": lambda times: {"delay_s": SLOW_S, "delay_next": times},
    "drop_connection": lambda times: {"drop_connection_next": times},
    "drop_after_processing": lambda times: {"drop_after_processing_next": times},
    "truncate": lambda times: {"truncate_next": times},
    "429": lambda times: {"rate_limit_next": times, "retry_after": 0},
    "502": lambda times: {"next": [502] * times},
    "503": lambda times: {"next": [503] * times},
}


class CommittedJobMixin:
    """A job committed in a company of its own, so that real transactions can
    run on it (and be rolled back, retried or raced)."""

    def committed_job(self, name, users=0):
        """:return: ``{"company", "repair", "partner", "marker", "users"}`` ids"""
        registry = self.registry
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].create({"name": name})
            set_account(company, **account_values(self.company))
            env = env(context={"allowed_company_ids": [company.id]})
            partner = env["res.partner"].create({"name": f"{name} Fleet", "is_company": True,
                                                 "fleet_invoice_method": "autointegrate",
                                                 "fleet_company_code": FLEET})
            marker = env["res.partner"].create({"name": f"{name} marker"})
            product = env["product.product"].create({"name": f"{name} part", "list_price": 10.0,
                                                     "taxes_id": [Command.clear()]})
            repair = env["repair.order"].create({"partner_id": partner.id, "move_ids": [Command.create({
                "product_id": product.id, "product_uom_qty": 1.0, "repair_line_type": "add"})]})
            repair.action_create_sale_order()
            group = env.ref("omega_autointegrate.group_autointegrate_user")
            user_ids = [env["res.users"].create({
                "name": f"{name} user {n}", "login": f"{name.lower().replace(' ', '-')}-{n}",
                "company_id": company.id, "company_ids": [Command.set(company.ids)],
                "groups_id": [Command.set([env.ref("base.group_user").id, group.id])],
            }).id for n in range(users)]
            ids = {"company": company.id, "repair": repair.id, "partner": partner.id, "marker": marker.id,
                   "users": user_ids}
        self.addCleanup(self.forget_committed, ids)
        return ids

    def forget_committed(self, ids):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["autointegrate.account"].search([("company_id", "=", ids["company"])]).unlink()
            env["autointegrate.event"].search([("company_id", "=", ids["company"])]).unlink()
            env["autointegrate.exchange"].search([("company_id", "=", ids["company"])]).unlink()
            env["res.users"].browse(ids["users"]).write({"active": False})

    def committed(self, ids, func):
        """:return: ``func(env)`` read in a transaction of its own (committed data)."""
        with self.registry.cursor() as cr:
            return func(api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [ids["company"]]}))


@tagged("post_install", "-at_install")
class TestLostCommit(CommittedJobMixin, AutoIntegrateFlowCase):
    def test_crash_after_the_fleets_answer_adopts_the_same_ro(self):
        """The fleet applied the submit, then our transaction rolled back: the
        next attempt sends the same body with the same key and gets the same RO."""
        repair = self.make_job()
        with self.assertRaisesRegex(RuntimeError, "crash"), self.env.cr.savepoint():
            self.assertTrue(repair._fleet_send(["Rock chip spread overnight"]))
            first = repair.fleet_ro_id
            self.assertTrue(first)
            raise RuntimeError("crash between the fleet's answer and our commit")
        self.env.invalidate_all()
        self.assertFalse(repair.fleet_ro_id)  # our side forgot it
        self.assertEqual(len(self.fleet_ros()), 1)  # the fleet did not

        self.assertTrue(repair._fleet_send(["Rock chip spread overnight"]))
        self.assertEqual(repair.fleet_ro_id, first)
        self.assertEqual(repair.fleet_revision, 1)  # the stored answer, not a resubmission
        posts = self.fleet_requests("/v1/repair-orders", "POST")
        self.assertEqual([post["status"] for post in posts], [201, 201])
        self.assertEqual(len({post["headers"]["Idempotency-Key"] for post in posts}), 1)
        self.assertFalse(self.fleet_requests(f"/v1/repair-orders/{first}", "PUT"))
        self.assertEqual(len(self.fleet_ros()), 1)
        self.assertEqual(len(self.admin_get(f"/ro/{first}")["notes"]), 1)  # the note once

    def test_odoo_retrying_a_serialization_failure_submits_once(self):
        """Odoo runs a request again after a serialization failure
        (``odoo.service.model.retrying``): the real thing, on committed data,
        the failure a real one (another transaction committed a row this one
        then writes), after the fleet had answered."""
        ids = self.committed_job("Retry Shop")
        attempts = []
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [ids["company"]]})

            def request():
                attempts.append(len(attempts) + 1)
                repair = env["repair.order"].browse(ids["repair"])
                repair._fleet_send()
                if len(attempts) == 1:
                    with self.registry.cursor() as other:
                        other.execute("UPDATE res_partner SET comment = 'elsewhere' WHERE id = %s", [ids["marker"]])
                    env.cr.execute("UPDATE res_partner SET comment = 'here' WHERE id = %s", [ids["marker"]],
                                   log_exceptions=False)
                return repair.fleet_ro_id

            with patch("odoo.service.model.random.uniform", return_value=0.0):  # no wait before the retry
                ro_id = retrying(request, env)
        self.assertEqual(attempts, [1, 2])
        self.assertEqual(len(self.fleet_ros()), 1)
        self.assertEqual(self.fleet_ros()[0]["ro_id"], ro_id)
        posts = self.fleet_requests("/v1/repair-orders", "POST")
        self.assertEqual([post["status"] for post in posts], [201, 201])
        self.assertEqual(len({post["headers"]["Idempotency-Key"] for post in posts}), 1)
        stored = self.committed(ids, lambda env: env["repair.order"].browse(ids["repair"]).fleet_ro_id)
        self.assertEqual(stored, ro_id)
        # the rolled-back attempt's exchange was written again after the rollback: both are in the log
        logged = self.committed(ids, lambda env: env["autointegrate.exchange"].search_count(
            [("company_id", "=", ids["company"]), ("endpoint", "=", "POST /v1/repair-orders")]))
        self.assertEqual(logged, 2)


@tagged("post_install", "-at_install")
class TestTwoUsersSendOneJob(CommittedJobMixin, AutoIntegrateFlowCase):
    def test_second_user_gets_a_clear_error_and_the_fleet_one_ro(self):
        ids = self.committed_job("Race Send Shop", users=2)
        registry = self.registry
        # the fleet answers slowly: the first user still holds the job's row when the second arrives
        self.admin_post("/faults", {"delay_s": 1.5, "path_prefix": "/v1/repair-orders"})
        barrier = threading.Barrier(2)
        results = []

        def submit(uid):
            try:
                with registry.cursor() as cr:
                    cr.transaction = Transaction(registry)  # no registry lookup (the test runner holds its lock)
                    env = api.Environment(cr, uid, {"allowed_company_ids": [ids["company"]]})
                    wizard = env["autointegrate.send.wizard"].create({"repair_id": ids["repair"]})
                    barrier.wait(timeout=10)
                    try:
                        wizard.action_submit()
                        cr.commit()  # the thread's own cursor; pylint: disable=invalid-commit
                        results.append(("sent", uid, None))
                    except UserError as error:
                        cr.rollback()
                        results.append(("refused", uid, str(error)))
            except Exception as error:  # reported by the assertions below
                results.append(("crashed", uid, repr(error)))

        threads = [threading.Thread(target=submit, args=(uid,)) for uid in ids["users"]]
        try:
            with self.assertNoLogs("odoo.sql_db", level="ERROR"):  # a lock taken is no "bad query"
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(30)
        finally:
            self.admin_post("/faults", {})
        self.assertFalse(any(thread.is_alive() for thread in threads))
        outcomes = sorted(outcome for outcome, _uid, _message in results)
        self.assertEqual(outcomes, ["refused", "sent"], results)
        message = next(message for outcome, _uid, message in results if outcome == "refused")
        self.assertIn("is being sent to the fleet by someone else right now", message)
        self.assertEqual(len(self.fleet_requests("/v1/repair-orders", "POST")), 1)
        self.assertEqual(len(self.fleet_ros()), 1)
        stored = self.committed(ids, lambda env: env["repair.order"].browse(ids["repair"]).fleet_ro_id)
        self.assertEqual(stored, self.fleet_ros()[0]["ro_id"])


@tagged("post_install", "-at_install")
class TestFaultSoak(AutoIntegrateFlowCase):
    """40 jobs through the addon's real paths while the fleet faults about 30 %
    of its answers. Each user action runs in a savepoint, like a request: a
    UserError rolls it back and the "user" tries again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not cls.company.chart_template:
            cls.env["account.chart.template"].try_loading("generic_coa", company=cls.company, install_demo=False)
        cls.env["ir.config_parameter"].sudo().set_param("omega_autointegrate.read_timeout", str(READ_TIMEOUT))

    def setUp(self):
        super().setUp()
        self.rnd = random.Random(20261128)
        self.injected = collections.Counter()
        self.surfaced = []  # (step, message) of every UserError a user saw
        # backoff is not waited: the soak is about outcomes, not about patience
        patcher = patch.object(ai.Client, "_backoff", lambda client, attempt: 0.0)
        patcher.start()
        self.addCleanup(patcher.stop)

    def maybe_fault(self):
        """With the soak's probability, a fault on the next calls."""
        if self.rnd.random() < FAULT_RATE:
            kind = self.rnd.choice(list(FAULT_KINDS))
            times = 4 if self.rnd.random() < 0.1 else self.rnd.choice([1, 1, 2])  # 4: all the client's tries
            self.simulator.set_faults(dict(FAULT_KINDS[kind](times), path_prefix="/v1/"))
            self.injected[kind] += 1

    def act(self, step, func):
        """One user action (a request): maybe a fault first; a UserError rolls it back and is tried again."""
        for _try in range(USER_TRIES):
            self.maybe_fault()
            try:
                with self.env.cr.savepoint():
                    return func()
            except UserError as error:
                self.surfaced.append((step, str(error)))
            finally:
                self.simulator.set_faults({})
        self.fail(f"{step} still failing after {USER_TRIES} tries: {self.surfaced[-1][1]}")

    def open_and_refresh(self, repair):
        action = repair.action_send_to_fleet()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        if wizard.warning:
            # the refresh could not reach the fleet: the dialog says so (no error); the user reopens it
            raise UserError(wizard.warning)
        return wizard

    def run_job(self, i):
        repair = self.make_job(labor_qty=1.5)
        self.act("submit", lambda: self.send(repair, note=f"Job {i}: rock chip spread"))
        labor = self.line(repair, self.labor)
        if i % 3 == 0:
            self.fleet_deny_labor(repair, f"Max 1.0 h <b>{i}</b>")
            self.act("refresh", lambda: self.open_and_refresh(repair))
            self.assertEqual((repair.fleet_status, labor.fleet_status), ("partially_approved", "denied"))
            labor.product_uom_qty = 1.0
            self.act("resubmit", repair.action_fleet_save_and_send)
        self.fleet_decide(repair, all="approved")
        self.act("refresh", lambda: self.open_and_refresh(repair))
        # the dialog opens in one request, Send Note is another: a retried click sends the note once
        dialog = self.act("open notes", repair.action_fleet_communication)
        wizard = self.env[dialog["res_model"]].browse(dialog["res_id"])
        wizard.text = f"Photos of job {i} attached"
        self.act("note", wizard.action_send_note)
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": f"Thanks <script>{i}</script>",
                                                             "author": "J. Rivera"})
        context = {"active_model": "repair.order", "active_ids": repair.ids, "active_id": repair.id}
        invoice_wizard = Form(self.env["autointegrate.repair.invoice.wizard"].with_context(**context)).save()
        self.act("invoice", lambda: raise_if_refused(invoice_wizard.action_confirm()))
        # the invoicing request's end: its commit, then the invoice is sent to the fleet
        self.maybe_fault()
        try:
            self.after_commit()
        finally:
            self.simulator.set_faults({})
        invoice = repair.sale_order_id.invoice_ids
        if invoice.fleet_invoice_status != "approved":  # the user sends it again, as its message says
            self.act("send invoice", lambda: self.fleet_accepts(invoice))
        return repair

    @staticmethod
    def fleet_accepts(invoice):
        """Send to Fleet on the invoice; :raise UserError: with its message while the fleet has not accepted it."""
        invoice.action_fleet_send_invoice()
        if invoice.fleet_invoice_status != "approved":
            raise UserError(invoice.fleet_invoice_message)

    def test_fault_soak(self):
        started = time.monotonic()
        repairs = self.env["repair.order"]
        for i in range(SOAK_JOBS):
            repairs |= self.run_job(i)
        self.env.invalidate_all()

        # exactly one RO per job at the fleet, and in the changes feed
        ros = {ro["shop_ro_ref"]: ro for ro in self.fleet_ros()}
        self.assertEqual(len(self.fleet_ros()), SOAK_JOBS)
        client = self.company._autointegrate_client()
        fed = collections.Counter(item["ro_id"] for page in client.iter_changes(limit=100) for item in page["items"])
        self.assertEqual(len(fed), SOAK_JOBS)
        self.assertEqual(set(fed.values()), {1})
        for repair in repairs:
            fleet = ros[repair._fleet_ro_ref()]
            self.assertEqual(fleet["ro_id"], repair.fleet_ro_id)
            # a state a user understands, the same on both sides: invoiced to the fleet
            self.assertEqual((repair.fleet_status, fleet["status"]), ("completed", "completed"), repair.name)
            invoice = repair.sale_order_id.invoice_ids
            self.assertEqual((invoice.state, invoice.fleet_invoice_status), ("posted", "approved"))
            self.assertEqual(fleet["invoice_number"], invoice.name)
            # every decision on both sides
            by_ref = {line["line_ref"]: line for line in fleet["lines"]}
            for line in repair.sale_order_id.order_line.filtered("fleet_line_ref"):
                fleet_line = by_ref[line.fleet_line_ref]
                self.assertEqual(line.fleet_status, fleet_line["status"])
                self.assertAlmostEqual(line.fleet_approved_amount, float(fleet_line["approved_amount"]))
            # every note on both sides, once
            fleet_notes = {(note["note_id"], note["text"]) for note in fleet["notes"]}
            ours = {(note.fleet_note_id, note.text) for note in repair.fleet_note_ids if note.kind == "note"}
            self.assertEqual(ours, fleet_notes, repair.name)
            texts = sorted(text for _id, text in fleet_notes)
            self.assertEqual(len(texts), 3, texts)  # the submit's, the dialog's, the fleet's

        # every failure a user saw: a clear sentence, no traceback, no secret
        for _step, message in self.surfaced:
            self.assertNotIn("Traceback", message)
            self.assertNotIn(CLIENT_SECRET, message)
            self.assertLess(len(message), 1500, message)
            self.assertRegex(message, r"AutoIntegrate|fleet", message)

        log = self.fleet_requests()
        calls = [entry for entry in log if entry["path"].startswith("/v1/")]
        faulted = [entry for entry in calls if entry["fault"]]
        kinds = collections.Counter(entry["fault"] for entry in faulted)
        steps = collections.Counter(step for step, _message in self.surfaced)
        _logger.info(
            "soak: %d jobs, %d ROs at the fleet (0 duplicates), %d API calls, %d faulted (%.0f%%: %s), "
            "%d failures shown to the user and tried again (%s), %d completed, %.0f s",
            SOAK_JOBS, len(ros), len(calls), len(faulted), 100 * len(faulted) / len(calls), dict(sorted(kinds.items())),
            len(self.surfaced), dict(sorted(steps.items())), len(repairs.filtered(
                lambda r: r.fleet_status == "completed")), time.monotonic() - started)
        self.assertTrue(0.15 <= len(faulted) / len(calls) <= 0.45, len(faulted) / len(calls))
