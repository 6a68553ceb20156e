"""Webhooks are stored, acknowledged, then applied (issue 13): a burst of
concurrent deliveries over HTTP, deliveries for a job another transaction
holds (answered at once, applied after in sequence order) and a webhook that
arrives while its RO's submission still waits for the fleet's answer.

The last two need real transactions: like ``TestRace`` they commit their
data, in a company of their own (the test transaction holds the main
company's row), and clear its credentials afterwards.
"""

import json
import logging
import random
import threading
import time
from unittest.mock import patch

import requests

from odoo import SUPERUSER_ID, api
from odoo.api import Transaction
from odoo.tests import BaseCase, tagged

from ..lib import autointegrate as ai
from ..lib.autointegrate import signing
from ..tools import quiet_sql_errors
from .common import AutoIntegrateFlowCase, AutoIntegrateHttpCase, FlowMixin, set_account
from .test_reliability import CommittedJobMixin

_logger = logging.getLogger(__name__)

WEBHOOK_SECRET = "odoo-test-webhook"
BURST_JOBS = 12
#: a delivery never waits for a job's row: far under the time the row is held
NO_WAIT_S = 1.5
HELD_S = 3.0


def event_body(state, event_id=None):
    """A webhook of the fleet carrying ``state`` (contract 7)."""
    return json.dumps({"event_id": event_id or f"evt_{state['ro_id']}_{state['sequence']}", "type": "ro.updated",
                       "occurred_at": state["updated_at"], "ro_id": state["ro_id"], "sequence": state["sequence"],
                       "data": state}).encode()


class FleetStateMixin:
    def fleet_state(self, ro_id):
        """The RO state as the client API and webhooks carry it."""
        return next(ro for ro in self.fleet_ros() if ro["ro_id"] == ro_id)


@tagged("post_install", "-at_install")
class TestWebhookBurstOverHttp(FleetStateMixin, FlowMixin, AutoIntegrateHttpCase):
    def test_a_burst_of_concurrent_deliveries(self):
        """Twelve jobs, each with its decision, the same event again and an older state, shuffled and sent by
        twelve threads at once through the real route: all answered 2xx, every state applied exactly once."""
        repairs = self.env["repair.order"]
        for _n in range(BURST_JOBS):
            repair = self.make_job()
            self.send(repair)
            repairs |= repair
        deliveries, newest = [], {}
        for repair in repairs:
            older = self.fleet_state(repair.fleet_ro_id)
            decided = self.fleet_decide(repair, all="approved")
            newest[repair.id] = decided["sequence"]
            deliveries += [event_body(decided), event_body(decided), event_body(older)]
        random.Random(13).shuffle(deliveries)
        self.env.flush_all()  # the requests read the jobs from the database
        url = f"http://127.0.0.1:{self.http_port()}/autointegrate/webhook/{self.env.cr.dbname}"
        answers, barrier = [], threading.Barrier(BURST_JOBS)

        def sender(bodies):
            session = requests.Session()
            barrier.wait(timeout=30)
            for raw in bodies:
                response = session.post(url, data=raw, timeout=60, headers={
                    "Content-Type": "application/json", signing.SIGNATURE_HEADER: signing.sign(WEBHOOK_SECRET, raw)})
                answers.append((response.status_code, response.json().get("status")))

        threads = [threading.Thread(target=sender, args=(deliveries[n::BURST_JOBS],)) for n in range(BURST_JOBS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertFalse(any(thread.is_alive() for thread in threads))
        self.assertEqual(len(answers), len(deliveries))
        self.assertEqual({status for status, _answer in answers}, {200}, answers)
        statuses = [answer for _status, answer in answers]
        self.assertEqual(statuses.count("duplicate"), BURST_JOBS)
        self.assertEqual(statuses.count("applied") + statuses.count("queued"), BURST_JOBS, statuses)
        self.env["autointegrate.event"]._cron_apply_waiting()  # what waited, if anything did
        self.env.invalidate_all()
        subtype = self.env.ref("omega_autointegrate.mt_fleet_decision")
        for repair in repairs:
            self.assertEqual((repair.fleet_status, repair.fleet_sequence), ("approved", newest[repair.id]))
            self.assertEqual(len(repair.message_ids.filtered(lambda m: m.subtype_id == subtype)), 1)
            events = self.env["autointegrate.event"].search([("repair_id", "=", repair.id)])
            self.assertEqual(sorted(events.mapped("state")), ["applied", "stale"])


@tagged("post_install", "-at_install")
class TestWebhookConcurrency(FleetStateMixin, CommittedJobMixin, AutoIntegrateFlowCase):
    def setUp(self):
        super().setUp()
        self.without_backoff()

    def committed_webhook_job(self, name):
        """A committed job of a company of its own, which signs its webhooks with a secret of its own."""
        ids = self.committed_job(name)
        ids["secret"] = f"{name}-webhook-secret"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            set_account(env["res.company"].browse(ids["company"]), webhook_secret=ids["secret"])
        self.addCleanup(self.committed, ids, lambda env: set_account(env["res.company"].browse(ids["company"]),
                                                                     webhook_secret=False))
        return ids

    def deliver(self, ids, raw):
        """A delivery in a request of its own: :return: ``(status, answer, seconds)``"""
        started = time.monotonic()
        with self.registry.cursor() as cr:
            cr.transaction = Transaction(self.registry)  # no registry lookup (the test runner holds its lock)
            env = api.Environment(cr, SUPERUSER_ID, {})
            status, body = env["autointegrate.event"]._receive(raw, signing.sign(ids["secret"], raw))
        return status, body.get("status"), time.monotonic() - started

    def run_cron(self, ids):
        """The apply cron, in a transaction of its own."""
        return self.committed(ids, lambda env: env["autointegrate.event"]._cron_apply_waiting())

    def test_deliveries_for_a_busy_job_are_answered_at_once_and_applied_after_in_order(self):
        ids = self.committed_webhook_job("Busy Job Shop")
        ro_id = self.committed(ids, lambda env: env["repair.order"].browse(ids["repair"])._fleet_send() and
                               env["repair.order"].browse(ids["repair"]).fleet_ro_id)
        states = []
        for n in range(3):  # three fleet notes, three states
            self.admin_post(f"/ro/{ro_id}/notes", {"text": f"Checked {n}", "author": "J. Rivera"})
            states.append(self.fleet_state(ro_id))
        bodies = [event_body(state) for state in states]
        bodies = bodies[::-1] + bodies  # newest first, then each again
        answers = []
        holder = self.registry.cursor()  # another transaction holds the job's row meanwhile
        try:
            holder.execute("SELECT id FROM repair_order WHERE id = %s FOR NO KEY UPDATE", [ids["repair"]])
            threads = [threading.Thread(target=lambda raw=raw: answers.append(self.deliver(ids, raw)))
                       for raw in bodies]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(HELD_S)
            self.assertFalse(any(thread.is_alive() for thread in threads))
        finally:
            holder.rollback()
            holder.close()
        self.assertEqual(sorted(status for status, _answer, _seconds in answers), [200] * 6)
        self.assertEqual(sorted(answer for _status, answer, _seconds in answers), ["duplicate"] * 3 + ["queued"] * 3)
        slowest = max(seconds for _status, _answer, seconds in answers)
        _logger.info("deliveries for a job held by another transaction: answered in at most %.3f s", slowest)
        self.assertLess(slowest, NO_WAIT_S)
        # once the row is free, the cron applies them, oldest first: each a change of its own
        self.assertEqual(self.run_cron(ids), 1)  # one RO

        def outcome(env):
            repair = env["repair.order"].browse(ids["repair"])
            events = env["autointegrate.event"].search([("ro_id", "=", ro_id)], order="sequence")
            return (repair.fleet_sequence, repair.fleet_note_ids.mapped("text"), events.mapped("state"),
                    events.repair_id.id)

        sequence, notes, event_states, repair_id = self.committed(ids, outcome)
        self.assertEqual(sequence, states[-1]["sequence"])
        self.assertEqual(sorted(notes), ["Checked 0", "Checked 1", "Checked 2"])
        self.assertEqual(event_states, ["applied"] * 3)
        self.assertEqual(repair_id, ids["repair"])

    def test_a_webhook_arriving_while_its_submission_is_in_flight(self):
        """The fleet took the submission and decided; its webhook comes before our transaction stored the
        answer (committed). It is kept, answered at once, and applied once the job knows its RO."""
        ids = self.committed_webhook_job("In Flight Shop")
        delivered = []
        real_submit = ai.Client.submit

        def submit_then_the_webhook(client, body, **kwargs):
            state = real_submit(client, body, **kwargs)
            decided = self.admin_post(f"/ro/{state['ro_id']}/decide", {"all": "approved", "decided_by": "J. Rivera"})
            delivered.append((decided, self.deliver(ids, event_body(decided))))
            return state

        with patch.object(ai.Client, "submit", submit_then_the_webhook):
            ro_id = self.committed(ids, lambda env: env["repair.order"].browse(ids["repair"])._fleet_send() and
                                   env["repair.order"].browse(ids["repair"]).fleet_ro_id)
        (decided, (status, answer, seconds)), = delivered
        self.assertEqual((status, answer), (200, "queued"))
        _logger.info("a webhook while its submission is in flight: answered in %.3f s", seconds)
        self.assertLess(seconds, NO_WAIT_S)

        def seen(env):
            repair = env["repair.order"].browse(ids["repair"])
            event = env["autointegrate.event"].search([("ro_id", "=", ro_id)])
            cron = env.ref("omega_autointegrate.ir_cron_autointegrate_apply_events")
            return (repair.fleet_status, repair.fleet_sequence, event.state, event.repair_id.id, event.error,
                    bool(env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])))

        status, _sequence, state, repair_id, note, triggered = self.committed(ids, seen)
        # kept for its job (found by its reference), the submission's answer stored, the cron called
        self.assertEqual((status, state, repair_id, triggered), ("pending", "received", ids["repair"], True))
        self.assertIn("has not stored the fleet's answer yet", note)
        self.assertEqual(self.run_cron(ids), 1)
        status, sequence, state, _repair_id, _note, _triggered = self.committed(ids, seen)
        self.assertEqual((status, sequence, state), ("approved", decided["sequence"], "applied"))


@tagged("post_install", "-at_install")
class TestQuietSqlErrors(BaseCase):
    """Two deliveries of one event store it at once: the second's expected
    unique violation stays out of the log in its own thread only, and the
    log is never left muted (as mute_logger's handler swap can leave it)."""

    def test_quiet_in_one_thread_only_and_never_stuck(self):
        sql_logger = logging.getLogger("odoo.sql_db")
        entered, release = threading.Event(), threading.Event()

        def other_delivery():
            with quiet_sql_errors():
                entered.set()
                release.wait(5)
                sql_logger.error("expected and handled")

        with self.assertLogs("odoo.sql_db", "ERROR") as logged:
            thread = threading.Thread(target=other_delivery)
            thread.start()
            entered.wait(5)
            # this thread enters and leaves while the other is quiet, then the other leaves: the
            # interleaving that leaves mute_logger's swapped handlers in place
            with quiet_sql_errors():
                sql_logger.error("quiet here")
            sql_logger.error("logged while the other thread is quiet")
            release.set()
            thread.join(5)
            sql_logger.error("logged after both")
        self.assertEqual([record.getMessage() for record in logged.records],
                         ["logged while the other thread is quiet", "logged after both"])
