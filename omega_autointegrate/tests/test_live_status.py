import base64
import json
import threading
import time
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.api import Transaction
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests import tagged

from ..lib import autointegrate as ai
from ..lib.autointegrate import signing
from ..models import autointegrate_sync
from .common import (
    CLIENT_ID,
    CLIENT_SECRET,
    FLEET,
    PDF,
    AutoIntegrateFlowCase,
    AutoIntegrateHttpCase,
    FlowMixin,
    account_values,
    set_account,
)

WEBHOOK_SECRET = "odoo-test-webhook"
#: guards against N+1 (not targets): the queries of a page of the changes feed, and of each RO it decides
PAGE_QUERIES = 20
RO_QUERIES = 10


class LiveStatusMixin:
    def decided_job(self, status="denied"):
        """A job sent to the fleet, then decided there (not yet seen by Odoo)."""
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all=status)
        return repair

    def fleet_state(self, repair_or_ro_id):
        ro_id = getattr(repair_or_ro_id, "fleet_ro_id", repair_or_ro_id)
        state = self.admin_get(f"/ro/{ro_id}")
        for key in ("client_id", "body", "invoice", "cancel_reason"):
            state.pop(key, None)
        return state

    def event(self, state, event_id="evt_1", sequence=None):
        return json.dumps({
            "event_id": event_id, "type": "ro.updated", "occurred_at": state["updated_at"],
            "ro_id": state["ro_id"], "sequence": state["sequence"] if sequence is None else sequence,
            "data": state,
        }).encode()

    def decision_messages(self, repair):
        """:return: the job's fleet decisions in its chatter, once the transaction ended (as Odoo's
        tracking, a decision is posted with the status change it brings just before the commit)"""
        self.env.cr.flush()
        repair.invalidate_recordset(["message_ids"])
        subtype = self.env.ref("omega_autointegrate.mt_fleet_decision")
        return repair.message_ids.filtered(lambda message: message.subtype_id == subtype)


@tagged("post_install", "-at_install")
class TestWebhook(LiveStatusMixin, AutoIntegrateFlowCase):
    def receive(self, raw, signature="sign", timestamp=None):
        if signature == "sign":
            signature = signing.sign(WEBHOOK_SECRET, raw, timestamp)
        return self.env["autointegrate.event"]._receive(raw, signature)

    def test_valid_event_is_stored_and_applied(self):
        repair = self.decided_job()
        status, body = self.receive(self.event(self.fleet_state(repair)))
        self.assertEqual((status, body), (200, {"status": "applied"}))
        self.assertEqual(repair.fleet_status, "denied")
        event = self.env["autointegrate.event"].search([("event_id", "=", "evt_1")])
        self.assertEqual((event.state, event.repair_id), ("applied", repair))
        log = self.env["autointegrate.exchange"].search([("event_id", "=", "evt_1")])
        self.assertEqual((log.direction, log.status, log.repair_id), ("in", 200, repair))

    def test_bad_missing_and_stale_signatures_are_refused(self):
        repair = self.decided_job()
        raw = self.event(self.fleet_state(repair))
        for signature in (signing.sign("another-secret", raw), None, "t=1,v1=00",
                          signing.sign(WEBHOOK_SECRET, raw, time.time() - 301)):
            with self.subTest(signature=signature):
                self.assertEqual(self.receive(raw, signature)[0], 401)
        self.assertEqual(repair.fleet_status, "pending")
        self.assertFalse(self.env["autointegrate.event"].search([("repair_id", "=", repair.id)]))

    def test_replayed_event_changes_nothing(self):
        repair = self.decided_job()
        raw = self.event(self.fleet_state(repair))
        self.assertEqual(self.receive(raw)[0], 200)
        self.assertEqual(self.receive(raw), (200, {"status": "duplicate"}))
        self.assertEqual(self.env["autointegrate.event"].search_count([("event_id", "=", "evt_1")]), 1)
        self.assertEqual(len(self.decision_messages(repair)), 1)
        self.assertEqual(len(repair.activity_ids), 1)

    def test_a_delivery_racing_one_of_the_same_event_is_a_duplicate(self):
        repair = self.decided_job()
        raw = self.event(self.fleet_state(repair))
        self.assertEqual(self.receive(raw)[0], 200)
        # as when the other delivery had not committed yet when this one looked for the event: the
        # unique index refuses its row, and the first one's answer stands
        with patch.object(type(self.env["autointegrate.event"]), "search_count", return_value=0):
            self.assertEqual(self.receive(raw), (200, {"status": "duplicate"}))
        self.assertEqual(self.env["autointegrate.event"].search_count([("event_id", "=", "evt_1")]), 1)
        self.assertEqual(len(self.decision_messages(repair)), 1)

    def test_out_of_order_sequences(self):
        repair = self.decided_job("denied")
        old = self.fleet_state(repair)
        self.fleet_decide(repair, all="approved")
        new = self.fleet_state(repair)
        self.assertGreater(new["sequence"], old["sequence"])
        self.assertEqual(self.receive(self.event(new, "evt_new"))[1], {"status": "applied"})
        self.assertEqual(self.receive(self.event(old, "evt_old"))[1], {"status": "stale"})
        self.assertEqual(repair.fleet_status, "approved")

    def test_unknown_ro_oversize_and_non_json(self):
        repair = self.decided_job()
        state = self.fleet_state(repair)
        mismatched = json.loads(self.event(state))
        mismatched["data"]["ro_id"] = "AI-OTHER1"
        self.assertEqual(self.receive(json.dumps(mismatched).encode())[0], 400)  # data is not the event's RO
        unknown = dict(state, ro_id="AI-NOPE99")
        raw = json.dumps({"event_id": "evt_x", "type": "ro.updated", "ro_id": "AI-NOPE99", "sequence": 1,
                          "data": unknown}).encode()
        self.assertEqual(self.receive(b"x" * (1024 * 1024 + 1))[0], 413)
        self.assertEqual(self.receive(b"{not json")[0], 400)
        self.assertEqual(self.receive(b"[]")[0], 400)
        self.assertFalse(self.env["autointegrate.event"].search([("ro_id", "in", (repair.fleet_ro_id, "AI-NOPE99"))]))
        # an RO no job knows is kept (its submission may not have committed), not refused: it says so
        self.assertEqual(self.receive(raw), (200, {"status": "queued"}))
        kept = self.env["autointegrate.event"].search([("ro_id", "=", "AI-NOPE99")])
        self.assertEqual((kept.state, kept.repair_id), ("received", repair.browse()))
        self.assertIn("No job knows RO AI-NOPE99 yet: kept until", kept.error)
        self.assertEqual(repair.fleet_status, "pending")

    def test_an_event_that_cannot_be_applied_is_kept_and_retried(self):
        repair = self.decided_job()
        raw = self.event(self.fleet_state(repair))
        with patch.object(type(repair), "_fleet_apply_state", side_effect=RuntimeError("disk full")):
            self.assertEqual(self.receive(raw), (200, {"status": "error"}))
        event = self.env["autointegrate.event"].search([("event_id", "=", "evt_1")])
        self.assertEqual(event.state, "error")
        self.assertEqual(repair.fleet_status, "pending")
        self.env["autointegrate.event"]._retry_failed()
        self.assertEqual((event.state, repair.fleet_status), ("applied", "denied"))


@tagged("post_install", "-at_install")
class TestNotifications(LiveStatusMixin, AutoIntegrateFlowCase):
    def test_decision_message_lists_every_line(self):
        repair = self.make_job()
        self.send(repair)
        self.fleet_deny_labor(repair, "Max <1.0> h")
        repair.action_send_to_fleet()
        body = self.decision_messages(repair).body
        self.assertIn("Windshield FW05432 GTY", body)
        self.assertIn("Install windshield", body)
        self.assertIn("Denied", body)
        self.assertIn("Max &lt;1.0&gt; h", body)
        self.assertIn("<i>Max &lt;1.0&gt; h</i></li>", body)  # the reason stays in its line's item

    def test_a_decision_that_changes_no_status_has_an_entry_of_its_own(self):
        repair = self.make_job()
        self.send(repair)
        self.env.cr.flush()  # end of the "transaction" that created the job (creation is not tracked)
        self.fleet_deny_labor(repair, "Max 1.0 h")
        repair.action_send_to_fleet()
        first = self.decision_messages(repair)
        self.assertEqual(repair.fleet_status, "partially_approved")
        self.assertIn("fleet_status", first.tracking_value_ids.field_id.mapped("name"))
        # the fleet gives another reason: the job's status stays, the decision is told all the same
        self.fleet_deny_labor(repair, "Max 0.5 h")
        repair.action_send_to_fleet()
        second = self.decision_messages(repair) - first
        self.assertEqual(repair.fleet_status, "partially_approved")
        self.assertEqual(len(second), 1)
        self.assertIn("Max 0.5 h", second.body)
        self.assertFalse(second.tracking_value_ids.filtered(lambda value: value.field_id.name == "fleet_status"))

    def test_denial_and_question_schedule_a_todo_for_the_responsible(self):
        technician = self.env["res.users"].create({"name": "Tech", "login": "tech-ai"})
        repair = self.make_job()
        repair.user_id = technician
        self.send(repair)
        self.fleet_decide(repair, all="denied")
        repair.action_send_to_fleet()
        self.assertEqual(repair.activity_ids.user_id, technician)
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": "Brand?", "request_info": True})
        repair.action_send_to_fleet()
        self.assertEqual(len(repair.activity_ids), 2)
        self.assertIn("information", repair.activity_ids[-1].summary + repair.activity_ids[0].summary)

    def test_fleet_status_is_tracked(self):
        repair = self.make_job()
        self.send(repair)
        self.env.cr.flush()  # end of the "transaction" that created the job (creation is not tracked)
        self.fleet_decide(repair, all="approved")
        repair.action_send_to_fleet()
        self.env.cr.flush()  # tracking values are written before commit
        repair.invalidate_recordset(["message_ids"])
        tracked = repair.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "fleet_status")
        self.assertTrue(tracked)
        self.assertEqual(tracked.mapped("new_value_char"), ["Approved"])


@tagged("post_install", "-at_install")
class TestPolling(LiveStatusMixin, AutoIntegrateFlowCase):
    def test_several_pages_cursor_kept_and_resumed(self):
        repairs = [self.decided_job("approved") for _ in range(5)]
        self.assertTrue(all(r.fleet_status == "pending" for r in repairs))
        sync = self.env["autointegrate.sync"]
        with patch.object(autointegrate_sync, "PAGE_SIZE", 2):
            self.assertTrue(sync._poll_company(self.company))
            cursor = self.account.poll_cursor
            self.assertTrue(cursor)
            # a restart: nothing in memory, the cursor is read back from the company
            self.env.invalidate_all()
            self.assertEqual(self.account.poll_cursor, cursor)
            pages = 1
            while sync._poll_company(self.company):
                pages += 1
        self.assertGreaterEqual(pages, 2)
        self.assertEqual([r.fleet_status for r in repairs], ["approved"] * 5)
        self.assertFalse(self.account.poll_cursor)
        since = self.account.poll_since
        self.assertTrue(since)
        # the next walk starts at the newest change seen: nothing is applied twice
        messages = sum(len(self.decision_messages(r)) for r in repairs)
        self.assertFalse(sync._poll_company(self.company))
        self.assertEqual(sum(len(self.decision_messages(r)) for r in repairs), messages)
        query = self.fleet_requests("/v1/repair-orders", "GET")[-1]["path"]
        self.assertIn("updated_since=", query)

    def test_followers_are_notified_with_the_documents_reply_to(self):
        """A page's messages are posted with ``message_post``: the jobs someone
        else follows notify them, with the job's alias domain and reply-to."""
        self.env["mail.alias.domain"].create({"name": "shop.example.com"})
        advisor = self.env["res.users"].create({
            "name": "Service Advisor", "login": "advisor", "email": "advisor@shop.example.com",
            "groups_id": [Command.link(self.env.ref("stock.group_stock_user").id)],
        })
        followed, alone = self.decided_job("approved"), self.decided_job("approved")
        followed.message_subscribe(partner_ids=advisor.partner_id.ids)
        self.env["autointegrate.sync"]._poll_company(self.company)
        message = self.decision_messages(followed)
        self.assertEqual(message.notification_ids.res_partner_id, advisor.partner_id)
        self.assertEqual(message.reply_to, followed._notify_get_reply_to(default=message.email_from)[followed.id])
        self.assertEqual(message.record_alias_domain_id,
                         followed._mail_get_alias_domains(default_company=self.env.company)[followed.id])
        quiet = self.decision_messages(alone)
        self.assertFalse(quiet.notification_ids)
        self.assertEqual(quiet.reply_to, alone._notify_get_reply_to(default=quiet.email_from)[alone.id])

    def test_expired_cursor_restarts_the_walk(self):
        repair = self.decided_job("approved")
        self.account.poll_cursor = "bogus:2"
        self.env["autointegrate.sync"]._poll_company(self.company)
        self.assertEqual(repair.fleet_status, "approved")

    def bound_jobs(self, count):
        """Jobs submitted to the fleet by a bare client (no exchange log, no chatter), their state applied."""
        client = ai.Client(self.simulator.url, CLIENT_ID, CLIENT_SECRET)
        repairs = self.env["repair.order"]
        for _ in range(count):
            repair = self.make_job()
            body = repair._fleet_payload()
            for line, sent in zip(repair._fleet_lines(), body["lines"], strict=True):
                line.fleet_line_ref = sent["line_ref"]
            repair._fleet_apply_state(client.submit(body))
            repairs |= repair
        return repairs

    def warm_up(self):
        """Caches as on every page but a server's first: a token, the settings
        read, the defaults of the records a page creates."""
        warm = self.make_job()
        body = warm._fleet_payload()
        lines = warm._fleet_lines()
        for line, sent in zip(lines, body["lines"], strict=True):
            line.fleet_line_ref = sent["line_ref"]
        self.env.cr.flush()  # the job's creation is over: its changes are tracked from now on
        warm._fleet_apply_state({
            "ro_id": "AI-WARM01", "revision": 1, "status": "approved", "sequence": 1, "decided_by": "Warm-up",
            "lines": [{"line_ref": sent["line_ref"], "status": "approved", "approved_quantity": sent["quantity"],
                       "approved_amount": sent["amount"], "reason": None} for sent in body["lines"]],
            "notes": [{"note_id": "N-WARM", "line_ref": None, "author_type": "fleet", "author": "Warm-up",
                       "text": "warm", "created_at": "2026-01-01T00:00:00Z"}],
        })
        self.company._autointegrate_client().changes(limit=1)
        self.account.poll_next_since = False
        self.env.flush_all()
        self.env.cr.flush()

    def decided_jobs(self, count, notes_every=0):
        """Jobs bound to the fleet, then approved there (not yet seen by Odoo);
        one in ``notes_every`` with a fleet note."""
        repairs = self.bound_jobs(count)
        for index, repair in enumerate(repairs):
            if notes_every and index % notes_every == 0:
                self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": f"Checked {index}", "author": "J. Rivera"})
            self.fleet_decide(repair, all="approved", decided_by="J. Rivera")
        return repairs

    def poll_queries(self):
        """:return: the queries of one poll, its transaction's end (the chatter's tracking entries) included."""
        self.env.flush_all()
        self.env.cr.flush()
        count0 = self.env.cr.sql_log_count
        self.env["autointegrate.sync"]._poll_company(self.company)
        self.env.flush_all()
        self.env.cr.flush()
        return self.env.cr.sql_log_count - count0

    def test_poll_page_query_budget(self):
        """A full page of 100 decided ROs, some with a fleet note, costs a few queries per RO, the chatter included."""
        repairs = self.decided_jobs(autointegrate_sync.PAGE_SIZE, notes_every=10)
        self.warm_up()
        sync = self.env["autointegrate.sync"]
        # per RO: its decision posted with its status change (the message, its parent, alias domain and
        # reply-to, its followers, its tracking values), its fleet note; per page: the feed call and its
        # log, the lock, the reads of the lines and known notes, the grouped writes, the cursor
        with self.assertQueryCount(__system__=PAGE_QUERIES + RO_QUERIES * len(repairs)):
            sync._poll_company(self.company)
        self.assertEqual(set(repairs.mapped("fleet_status")), {"approved"})
        self.assertEqual(set(repairs.sale_order_id.order_line.mapped("fleet_status")), {"approved"})
        for index, repair in enumerate(repairs):
            self.assertEqual(len(self.decision_messages(repair)), 1)
            self.assertEqual(repair.fleet_note_ids.mapped("text"), [f"Checked {index}"] if index % 10 == 0 else [])
            tracked = repair.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == "fleet_status")
            self.assertEqual(tracked.mapped("new_value_char"), ["Approved"])
            # one chatter entry: the decision carries the status change
            self.assertEqual(tracked.mail_message_id, self.decision_messages(repair))
        # the same page again: nothing newer, no query per RO
        self.account.poll_since = False
        with self.assertQueryCount(__system__=PAGE_QUERIES):
            sync._poll_company(self.company)
        self.assertEqual(sum(len(self.decision_messages(r)) for r in repairs), len(repairs))

    def test_page_cost_does_not_grow_with_the_database(self):
        """A page costs the same with many more jobs, and long chatters on them, in the database."""
        self.warm_up()
        first = self.decided_jobs(10)
        before = self.poll_queries()
        self.assertEqual(set(first.mapped("fleet_status")), {"approved"})
        others = self.bound_jobs(80)  # in the next page of the feed too (nothing newer there)
        later = self.decided_jobs(10)
        # a long chatter on every job, the ones of the next page included
        self.env["mail.message"].create([
            {"model": "repair.order", "res_id": repair.id, "message_type": "comment", "body": f"Called ({n})"}
            for repair in others | first | later for n in range(20)
        ])
        after = self.poll_queries()
        self.assertEqual(set(later.mapped("fleet_status")), {"approved"})
        self.assertLessEqual(before, PAGE_QUERIES + RO_QUERIES * len(first))
        self.assertEqual(after, before)

    def test_poll_page_query_budget_as_the_benchmark(self):
        """A full page as bench/bench_sync.py has it, and as a shop upgrading
        sees its open ROs: jobs whose revision was never recorded in the
        history (sent before it, or the commit of their submission lost), so
        each is recorded from the job as it is; for a fleet with an agreed
        response time (the clock stops) and required documents, jobs with a
        responsible told of the decision, some states bringing a fleet note
        or document. Still a few queries per RO: the page's revisions are
        read and recorded at once."""
        self.fleet_account.write({"fleet_response_hours": 4.0, "fleet_document_rule_ids": [
            Command.create({"line_type": "glass", "kind": "photo"})]})
        advisor = self.env["res.users"].create({
            "name": "Service Advisor", "login": "advisor", "email": "advisor@shop.example.com",
            "groups_id": [Command.link(self.env.ref("stock.group_stock_user").id)],
        })
        repairs = self.bound_jobs(autointegrate_sync.PAGE_SIZE)
        repairs.user_id = advisor
        self.assertTrue(all(repairs.mapped("fleet_due_at")), "the clock runs")
        repairs.sudo().fleet_authorization_ids.unlink()
        for index, repair in enumerate(repairs):
            if index % 10 == 0:
                self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": f"Checked {index}", "author": "J. Rivera"})
            if index % 10 == 5:
                self.admin_post(f"/ro/{repair.fleet_ro_id}/documents", {
                    "file_name": f"PO-{index}.pdf", "content_type": "application/pdf", "kind": "purchase_order",
                    "line_ref": None, "content_base64": base64.b64encode(PDF + str(index).encode()).decode()})
            self.fleet_decide(repair, all="approved", decided_by="J. Rivera")
        self.warm_up()
        with self.assertQueryCount(__system__=PAGE_QUERIES + RO_QUERIES * len(repairs)):
            self.env["autointegrate.sync"]._poll_company(self.company)
        self.assertEqual(set(repairs.mapped("fleet_status")), {"approved"})
        self.assertFalse(any(repairs.mapped("fleet_waiting_since")), "the clock stopped")
        for index, repair in enumerate(repairs):
            self.assertEqual(len(self.decision_messages(repair)), 1)
            revision = repair.sudo().fleet_authorization_ids
            self.assertEqual((revision.revision, revision.kind, revision.status, revision.decided_by),
                             (1, "submission", "approved", "J. Rivera"))
            self.assertEqual(revision.line_ids.mapped("status"), ["approved", "approved"])
            self.assertEqual(revision.line_ids.sale_line_id, repair.sale_order_id.order_line)
            self.assertEqual(repair.sudo().fleet_document_ids.mapped("file_name"),
                             [f"PO-{index}.pdf"] if index % 10 == 5 else [])

    def test_cron_runs(self):
        repair = self.decided_job("approved")
        self.env.ref("omega_autointegrate.ir_cron_autointegrate_poll").method_direct_trigger()
        self.assertEqual(repair.fleet_status, "approved")

    def test_half_configured_company_does_not_stop_the_poll(self):
        # first in the search order, an account without its secret: skipped, not an error
        setting_up = self.env["res.company"].create({"name": "AAA Glass (setting up)", "sequence": 0})
        set_account(setting_up, api_url=self.account.api_url, client_id="not-yet")
        repair = self.decided_job("approved")
        self.env["autointegrate.sync"]._cron_poll()
        self.assertEqual(repair.fleet_status, "approved")


@tagged("post_install", "-at_install")
class TestReconciliation(LiveStatusMixin, AutoIntegrateFlowCase):
    def test_nightly_reconciliation_repairs_a_lost_webhook(self):
        # the simulator runs without a webhook URL: every event is "lost"
        self.assertFalse(self.admin_get("/config")["clients"][self.account.client_id]["webhook_url"])
        open_job = self.decided_job("denied")
        closed_job = self.make_job()
        self.send(closed_job)
        closed_job.action_repair_cancel()
        self.env["autointegrate.sync"]._cron_reconcile()
        self.assertEqual(open_job.fleet_status, "denied")
        self.assertEqual(closed_job.fleet_status, "cancelled")
        self.assertTrue(self.account.reconciled_at)
        # each read is logged under its job
        read = self.env["autointegrate.exchange"].search(
            [("endpoint", "=", f"GET /v1/repair-orders/{open_job.fleet_ro_id}")], order="id desc", limit=1)
        self.assertEqual(read.repair_id, open_job)


@tagged("post_install", "-at_install")
class TestExchangeLog(LiveStatusMixin, AutoIntegrateFlowCase):
    def test_every_call_is_logged_without_secrets(self):
        repair = self.make_job()
        self.send(repair)
        logs = self.env["autointegrate.exchange"].search([("direction", "=", "out")], order="id")
        self.assertEqual([log.endpoint for log in logs], ["POST /oauth/token", "POST /v1/repair-orders"])
        submit = logs[1]
        self.assertEqual((submit.status, submit.repair_id, submit.success), (201, repair, True))
        self.assertTrue(submit.idempotency_key.startswith(f"{repair.name}:submit:"))
        self.assertIn(repair.fleet_ro_id, submit.response_body)
        self.assertTrue(submit.duration_ms >= 0)
        text = " ".join((log.request_body or "") + (log.response_body or "") for log in logs)
        self.assertNotIn(self.account.client_secret, text)
        self.assertIn("client_secret=%2A%2A%2A", logs[0].request_body)

    def test_the_clients_log_stores_each_attempt(self):
        repair = self.make_job()
        log = self.env["autointegrate.exchange"]
        logger = log._logger_for(self.company, repair)
        entries = [
            {"method": "POST", "path": "/v1/repair-orders", "status": 201, "idempotency_key": "RO:submit:1",
             "request_body": '{"a":1}', "response_body": '{"b":2}', "error": None, "duration_ms": 3},
            {"method": "POST", "path": "/v1/repair-orders", "status": 503, "idempotency_key": "RO:submit:1",
             "request_body": '{"a":1}', "response_body": "down", "error": "AutoIntegrate refused", "duration_ms": 9},
            {"method": "GET", "path": "/v1/repair-orders?limit=2", "status": None, "idempotency_key": None,
             "request_body": None, "response_body": None, "error": "Cannot reach", "duration_ms": 0},
        ]
        for entry in entries:
            logger(entry)
        logged = log.search([("repair_id", "=", repair.id)], order="id")
        self.assertEqual(logged.mapped("endpoint"), ["POST /v1/repair-orders", "POST /v1/repair-orders",
                                                     "GET /v1/repair-orders?limit=2"])
        self.assertEqual(logged.mapped("status"), [201, 503, 0])
        self.assertEqual(logged.mapped("success"), [True, False, False])
        self.assertEqual(logged.mapped("error"), [False, "AutoIntegrate refused", "Cannot reach"])
        self.assertEqual((logged.company_id, logged.mapped("direction")), (self.company, ["out"] * 3))
        # a job of another company is not logged under this one (create's company check)
        other = self.env["res.company"].create({"name": "Other Shop"})
        with self.assertRaises(UserError):
            log._logger_for(other, repair)(entries[0])

    def test_failed_calls_survive_the_rollback(self):
        repair = self.make_job()
        self.admin_post("/faults", {"next": [422]})
        try:
            with self.assertRaises(UserError), self.env.cr.savepoint():
                self.send(repair)
        finally:
            self.admin_post("/faults", {})
        # the savepoint rolled the entries back; the post-rollback hook writes
        # them again in a transaction of its own
        written = []
        with patch.object(type(self.env["autointegrate.exchange"]), "_write_after_rollback",
                          side_effect=lambda registry, values: written.append(values)):
            self.env.cr.postrollback.run()
        self.assertTrue(any(values["status"] == 422 for values in written))

    def test_purge_keeps_failures_and_recent_entries(self):
        log = self.env["autointegrate.exchange"]
        old_ok, old_failed, recent_ok = log.create([
            {"direction": "out", "endpoint": "GET /x", "status": 200, "company_id": self.company.id},
            {"direction": "out", "endpoint": "GET /x", "status": 503, "error": "down", "company_id": self.company.id},
            {"direction": "out", "endpoint": "GET /x", "status": 200, "company_id": self.company.id},
        ])
        self.env.flush_all()
        self.env.cr.execute("UPDATE autointegrate_exchange SET create_date = %s WHERE id IN %s",
                            [fields.Datetime.now() - timedelta(days=40), (old_ok.id, old_failed.id)])
        self.env.invalidate_all()
        self.assertEqual(log._gc_exchanges(), 1)
        self.assertFalse(old_ok.exists())
        self.assertTrue(old_failed.exists() and recent_ok.exists())


@tagged("post_install", "-at_install")
class TestRace(LiveStatusMixin, AutoIntegrateFlowCase):
    """Webhook and poll apply the same state at the same time, each in its own
    transaction: one message, one activity, one copy of each note."""

    def test_race_of_webhook_and_poll_leaves_one_message(self):
        registry = self.registry
        # committed data, so that two real transactions can race on it
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            # a company of its own: the test transaction holds the main company's row
            company = env["res.company"].create({"name": "Race Shop"})
            set_account(company, **account_values(self.company), webhook_secret="race-webhook-secret")
            env = env(context={"allowed_company_ids": [company.id]})
            partner = env["res.partner"].create({"name": "Race Fleet", "is_company": True,
                                                  "fleet_invoice_method": "autointegrate",
                                                  "fleet_company_code": FLEET})
            product = env["product.product"].create({"name": "Race part", "list_price": 10.0,
                                                      "taxes_id": [Command.clear()]})
            repair = env["repair.order"].create({"partner_id": partner.id, "move_ids": [Command.create({
                "product_id": product.id, "product_uom_qty": 1.0, "repair_line_type": "add"})]})
            repair.action_create_sale_order()
            body = repair._fleet_payload()
            for line, sent in zip(repair._fleet_lines(), body["lines"], strict=True):
                line.fleet_line_ref = sent["line_ref"]
            repair._fleet_apply_state(company._autointegrate_client().submit(body))
            repair_id, ro_id, company_id = repair.id, repair.fleet_ro_id, company.id
        try:
            self.admin_post(f"/ro/{ro_id}/decide", {"all": "denied", "decided_by": "J. Rivera"})
            self.admin_post(f"/ro/{ro_id}/notes", {"text": "Not covered", "author": "J. Rivera"})
            state = self.fleet_state(ro_id)
            raw = self.event(state)
            barrier = threading.Barrier(2)
            errors, retried = [], []

            def run(env, via):
                if via == "webhook":
                    env["autointegrate.event"]._receive(raw, signing.sign("race-webhook-secret", raw))
                else:
                    env["autointegrate.sync"]._apply_states(env["res.company"].browse(company_id), [state])

            def apply(via):
                try:
                    with registry.cursor() as cr:
                        barrier.wait(timeout=10)
                        # as Odoo's retrying() does for a request or a cron (it needs the
                        # registry lock the test runner holds, hence this copy): the loser of
                        # the row lock meets a serialization failure, rolls back, runs again
                        for _attempt in range(5):
                            # a transaction of its own, so Environment needs no registry lookup
                            cr.transaction = Transaction(registry)
                            try:
                                run(api.Environment(cr, SUPERUSER_ID, {}), via)
                                cr.commit()  # the thread's own cursor; pylint: disable=invalid-commit
                                break
                            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                                cr.rollback()
                                retried.append(via)
                except Exception as error:  # reported by the assertion below
                    errors.append(error)

            threads = [threading.Thread(target=apply, args=(via,)) for via in ("webhook", "poll")]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            self.assertFalse(any(thread.is_alive() for thread in threads))
            self.assertEqual(errors, [])
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                repair = env["repair.order"].browse(repair_id)
                subtype = env.ref("omega_autointegrate.mt_fleet_decision")
                self.assertEqual(repair.fleet_status, "denied")
                self.assertEqual(len(repair.message_ids.filtered(lambda m: m.subtype_id == subtype)), 1)
                self.assertEqual(len(repair.activity_ids), 1)
                self.assertEqual(repair.fleet_note_ids.filtered(lambda n: n.kind == "note").mapped("text"),
                                 ["Not covered"])
                # and the denial once in FLEET COMMUNICATION
                self.assertEqual(repair.fleet_note_ids.filtered(lambda n: n.kind == "decision").mapped("decision"),
                                 ["denied"])
        finally:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                env["autointegrate.account"].search([("company_id", "=", company_id)]).unlink()
                env["autointegrate.event"].search([("repair_id", "=", repair_id)]).unlink()
                env["autointegrate.exchange"].search([("repair_id", "=", repair_id)]).unlink()


@tagged("post_install", "-at_install")
class TestWebhookOverHttp(LiveStatusMixin, FlowMixin, AutoIntegrateHttpCase):
    """The simulator delivers a real signed webhook to Odoo's endpoint."""

    def test_fleet_decision_arrives_by_webhook(self):
        url = f"http://127.0.0.1:{self.http_port()}/autointegrate/webhook/{self.env.cr.dbname}"
        repair = self.make_job()
        self.send(repair)
        self.env.flush_all()
        # only now: while this test thread queries, the server must not serve a webhook on the same cursor
        self.admin_post("/config", {"webhook_url": url, "webhook_secret": WEBHOOK_SECRET,
                                    "webhook_backoff_s": 0.2})
        self.fleet_decide(repair, all="approved")
        self.env.flush_all()  # the webhook's request reads the job from the database
        deadline = time.time() + 20
        while time.time() < deadline:
            events = self.admin_get("/webhooks")["events"]
            if events and all(event["delivered"] for event in events):
                break
            time.sleep(0.1)
        self.assertTrue(events and all(event["delivered"] for event in events), events)
        self.env.invalidate_all()
        self.assertEqual(repair.fleet_status, "approved")
        stored = self.env["autointegrate.event"].search([("repair_id", "=", repair.id)])
        self.assertEqual(set(stored.mapped("state")) - {"stale"}, {"applied"})

    def test_a_serialization_failure_leaves_the_event_for_the_cron(self):
        """Through the real route, the first apply meets a serialization failure raised by PostgreSQL (what
        the loser of a race on the job's row gets): the delivery is stored and answered at once, without
        Odoo's retry (whose wait would hold a database connection), and the cron applies it."""
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        raw = self.event(self.fleet_state(repair))
        self.env.flush_all()  # the webhook's request reads the job from the database
        attempts = []
        apply_states = type(repair)._fleet_apply_states

        def lose_the_first_race(repairs, states, locked=False):
            attempts.append(repairs.ids)
            if len(attempts) == 1:  # what PostgreSQL raises for the loser of a race on the job's row
                repairs.env.cr.execute("DO $$ BEGIN RAISE EXCEPTION 'could not serialize access due to concurrent "
                                       "update' USING ERRCODE = 'serialization_failure'; END $$", log_exceptions=False)
            return apply_states(repairs, states, locked)

        with patch.object(type(repair), "_fleet_apply_states", lose_the_first_race):
            response = self.url_open(f"/autointegrate/webhook/{self.env.cr.dbname}", data=raw, headers={
                "Content-Type": "application/json", signing.SIGNATURE_HEADER: signing.sign(WEBHOOK_SECRET, raw)})
            self.assertEqual((response.status_code, response.json()), (200, {"status": "queued"}))
            self.assertEqual(attempts, [repair.ids])
            self.env.invalidate_all()
            event = self.env["autointegrate.event"].search([("repair_id", "=", repair.id)])
            self.assertEqual((event.state, repair.fleet_status), ("received", "pending"))
            self.assertIn("was busy: applied shortly after", event.error)
            self.assertTrue(self.env["ir.cron.trigger"].search(
                [("cron_id", "=", self.env.ref("omega_autointegrate.ir_cron_autointegrate_apply_events").id)]))
            self.env["autointegrate.event"]._cron_apply_waiting()
        self.assertEqual(attempts, [repair.ids, repair.ids])
        self.assertEqual((event.state, repair.fleet_status), ("applied", "approved"))
        self.assertEqual(self.env["autointegrate.event"].search_count([("repair_id", "=", repair.id)]), 1)
        self.assertEqual(len(self.decision_messages(repair)), 1)
