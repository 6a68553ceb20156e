"""Hostile input from the fleet: markup in its texts, and random or mutated
webhook deliveries (property-based, with hypothesis).

The pure helpers the webhook handler uses (``signing.verify``,
``events.parse_event``) get 10,000 examples in the Odoo-free tests
(``tests/client/test_webhook_fuzz.py``); here the handler itself,
``autointegrate.event._receive``, gets 2,000 (each one queries and maybe writes
the database), and a few go through the real HTTP route.
"""

import copy
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree, html

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..lib import autointegrate as ai
from ..lib.autointegrate import fuzz, signing
from ..lib.autointegrate.client import DEFAULT_TOKEN_CACHE
from ..lib.autointegrate.events import parse_event
from .common import AutoIntegrateFlowCase, AutoIntegrateHttpCase, FlowMixin

WEBHOOK_SECRET = "odoo-test-webhook"
SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
KINDS = st.sampled_from(["random-bytes", "random-json", "mutated", "mutated", "flipped", "valid"])
SIGNATURES = st.sampled_from(["valid", "valid", "valid", "stale", "wrong-secret", "mutated", "none"])


@tagged("post_install", "-at_install")
class TestMarkupFromTheFleet(AutoIntegrateFlowCase):
    """Fleet notes, reasons and names holding HTML/JS are shown as text everywhere."""

    def test_markup_is_escaped_in_chatter_notes_and_wizards(self):
        repair = self.make_job()
        self.send(repair)
        labor = self.line(repair, self.labor).fleet_line_ref
        self.fleet_deny_labor(repair, IMG, decided_by=SCRIPT)
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": f"Photo please {SCRIPT}", "author": IMG,
                                                             "line_ref": labor})
        wizard = self.env["autointegrate.send.wizard"].browse(repair.action_send_to_fleet()["res_id"])

        # stored as the fleet wrote it: text, not markup
        self.assertEqual(repair.fleet_decided_by, SCRIPT)
        self.assertEqual(self.line(repair, self.labor).fleet_reason, IMG)
        note = repair.fleet_note_ids.filtered(lambda n: n.author_type == "fleet" and n.kind == "note")
        self.assertEqual((note.text, note.author), (f"Photo please {SCRIPT}", IMG))
        reason = repair.fleet_note_ids.filtered(lambda n: n.kind == "decision")
        self.assertEqual((reason.text, reason.author), (IMG, SCRIPT))
        self.assertEqual(wizard.fleet_decided_by, SCRIPT)
        self.assertEqual(wizard.line_ids.filtered(lambda line: line.line_ref == labor).fleet_reason, IMG)

        # the chatter (written when the transaction ends): the fleet's markup is text, escaped once;
        # no element or handler of its own
        self.env.cr.flush()
        repair.invalidate_recordset(["message_ids"])
        bodies = "".join(repair.message_ids.mapped("body"))
        self.assertIn("&lt;script&gt;", bodies)
        self.assertIn("&lt;img src=x", bodies)
        self.assertNotIn("&amp;lt;", bodies)  # not escaped twice
        for body in repair.message_ids.mapped("body"):
            tree = html.fragment_fromstring(str(body) or "<p></p>", create_parent="div")
            self.assertFalse(tree.xpath("//script | //img | //iframe"), body)
            self.assertFalse([name for node in tree.iter() for name in node.attrib if name.startswith("on")], body)
        for activity in repair.activity_ids:
            self.assertNotIn("<script", (activity.summary or "") + str(activity.note or ""))

        # the notes list, the job's fleet lines and the wizards show these fields as plain text
        checked = {
            ("autointegrate.communication.wizard", "form"): {"text", "author", "line_label"},
            ("autointegrate.send.wizard", "form"): {"fleet_decided_by", "fleet_reason", "description"},
            ("repair.order", "form"): {"fleet_decided_by", "fleet_reason", "name"},
        }
        for (model, view_type), names in checked.items():
            with self.subTest(model=model, view_type=view_type):
                views = self.env[model].get_views([(False, view_type)])
                arch = etree.fromstring(views["views"][view_type]["arch"])
                found = set()
                for node in arch.iter("field"):
                    if node.get("name") in names:
                        found.add(node.get("name"))
                        self.assertNotIn(node.get("widget"), ("html", "html_frame", "iframe"), node.get("name"))
                self.assertEqual(found, names)
                types = {name: spec["type"] for model_fields in views["models"].values()
                         for name, spec in model_fields["fields"].items() if name in names}
                self.assertTrue(set(types.values()) <= {"char", "text"}, types)


@tagged("post_install", "-at_install")
class TestWebhookFuzz(AutoIntegrateFlowCase):
    """Random and mutated deliveries to ``_receive``: never an exception, nothing without a valid signature."""

    def snapshot(self, repair):
        """:return: what a delivery may change: stored events, logged exchanges, the job's fleet state."""
        self.env.flush_all()
        self.env.cr.execute("SELECT count(*) FROM autointegrate_event")
        events = self.env.cr.fetchone()[0]
        self.env.cr.execute("SELECT count(*) FROM autointegrate_exchange WHERE direction = 'in'")
        exchanges = self.env.cr.fetchone()[0]
        self.env.cr.execute("SELECT fleet_sequence, fleet_status FROM repair_order WHERE id = %s", [repair.id])
        return events, exchanges, self.env.cr.fetchone()

    def test_random_and_mutated_deliveries(self):
        repair = self.make_job()
        self.send(repair)
        ro = repair.fleet_ro_id
        self.admin_post(f"/ro/{ro}/decide", {"all": "denied", "decided_by": "J. Rivera"})
        self.admin_post(f"/ro/{ro}/notes", {"text": "Not covered", "author": "J. Rivera"})
        state = self.admin_get(f"/ro/{ro}")
        for key in ("client_id", "body", "invoice", "cancel_reason"):
            state.pop(key, None)
        seed_event = {"event_id": "evt_seed", "type": "ro.updated", "occurred_at": state["updated_at"],
                      "ro_id": ro, "sequence": state["sequence"], "data": state}
        statuses = {}

        @settings(max_examples=2000, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(kind=KINDS, signature=SIGNATURES, seed=st.integers(0, 2**32 - 1))
        def deliver(kind, signature, seed):
            rnd = random.Random(seed)
            event = dict(copy.deepcopy(seed_event), event_id=f"evt_{seed}")
            raw = fuzz.body(rnd, kind, event)
            now = time.time()
            header = {
                "valid": lambda: signing.sign(WEBHOOK_SECRET, raw, now + rnd.randint(-290, 290)),
                "stale": lambda: signing.sign(WEBHOOK_SECRET, raw, now - rnd.randint(301, 10**6)),
                "wrong-secret": lambda: signing.sign(WEBHOOK_SECRET + "x", raw, now),
                "mutated": lambda: "".join(rnd.choice("t=v1,0af\u00e9\x00 ") if rnd.random() < 0.05 else char
                                           for char in signing.sign(WEBHOOK_SECRET, raw, now)),
                "none": lambda: None,
            }[signature]()
            before = self.snapshot(repair)
            with self.env.cr.savepoint():
                status, body = self.env["autointegrate.event"]._receive(raw, header)  # any exception fails
            after = self.snapshot(repair)
            statuses[status] = statuses.get(status, 0) + 1
            self.assertIn(status, (200, 400, 401, 404, 413))
            self.assertIsInstance(body, dict)
            if not _signed(raw, header):
                self.assertEqual(status, 401, body)
                self.assertEqual(after, before)  # nothing stored, nothing applied
            elif status != 200:
                self.assertEqual(after, before)
            else:
                self.assertIsNone(parse_event(raw)[1])

        deliver()
        # the examples reached every kind of answer
        self.assertTrue({200, 400, 401} <= set(statuses), statuses)
        self.assertIn(repair.fleet_status, ("denied", "not_sent", "pending", "approved", "partially_approved",
                                            "info_requested", "completed", "cancelled"))


def _signed(raw, header):
    try:
        signing.verify(WEBHOOK_SECRET, raw, header)
    except signing.SignatureError:
        return False
    return True


@tagged("post_install", "-at_install")
class TestWebhookRouteHostile(FlowMixin, AutoIntegrateHttpCase):
    """A few hostile deliveries through the real HTTP route."""

    def test_hostile_deliveries_over_http(self):
        url = f"/autointegrate/webhook/{self.env.cr.dbname}"
        repair = self.make_job()
        self.send(repair)
        self.env.flush_all()
        state = self.admin_get(f"/ro/{repair.fleet_ro_id}")
        event = {"event_id": "evt_http", "type": "ro.updated", "ro_id": repair.fleet_ro_id,
                 "sequence": state["sequence"], "data": {k: v for k, v in state.items() if k != "body"}}

        def post(raw, signature="sign", headers=None, url=url):
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
            if signature == "sign":
                signature = signing.sign(WEBHOOK_SECRET, raw)
            if signature is not None:
                headers[signing.SIGNATURE_HEADER] = signature
            response = self.url_open(url, data=raw, headers=headers)
            self.assertTrue(response.headers.get("Content-Type", "").startswith("application/json"))
            return response.status_code, response.json()

        nul = json.dumps(dict(event, event_id="evt_\u0000", data=dict(event["data"], decided_by="\u0000"))).encode()
        cases = [
            (b"{}", None, 401),
            (b"{not json", "sign", 400),
            (b"[" * 50_000 + b"]" * 50_000, "sign", 400),
            (nul, "sign", 400),
            (json.dumps(dict(event, sequence=2**40)).encode(), "sign", 400),
            (json.dumps(event).encode(), "t=1,v1=\u00e9\u00e9", 401),
            (json.dumps(event).encode(), signing.sign("another-secret", json.dumps(event).encode()), 401),
        ]
        for raw, signature, expected in cases:
            with self.subTest(raw=raw[:40], expected=expected):
                status, body = post(raw, signature)
                self.assertEqual(status, expected, body)
                self.assertIn("error", body)
        # a delivery meant for another shop's database is refused, even signed
        status, body = post(json.dumps(event).encode(), url=f"{url}-other")
        self.assertEqual((status, body["error"]["message"]), (404, "unknown database"))
        self.assertFalse(self.env["autointegrate.event"].search([("ro_id", "=", repair.fleet_ro_id)]))
        self.assertEqual(post(json.dumps(event).encode()), (200, {"status": "stale"}))
        # without a database in the URL, the one Odoo serves the request from
        self.assertEqual(post(json.dumps(event).encode(), url="/autointegrate/webhook"), (200, {"status": "duplicate"}))


class GarbledFleet(ThreadingHTTPServer):
    """A fleet on loopback that gives a token, then answers every call with ``self.answer``."""

    daemon_threads = True

    def __init__(self):
        fleet = self
        self.answer = b"{}"

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = (json.dumps({"access_token": "garbled-token", "expires_in": 3600}).encode()
                        if self.path == "/oauth/token" else fleet.answer)
                self.send_response(200 if self.path == "/oauth/token" else 201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@tagged("post_install", "-at_install")
class TestGarbledAnswers(AutoIntegrateFlowCase):
    """The fleet answers a submit with something unreadable: a clear UserError, nothing stored."""

    def test_unreadable_answers_are_clear_errors(self):
        fleet = GarbledFleet()
        self.addCleanup(fleet.server_close)
        self.addCleanup(fleet.shutdown)
        self.account.api_url = f"http://127.0.0.1:{fleet.server_address[1]}"
        DEFAULT_TOKEN_CACHE.clear()
        repair = self.make_job()
        cannot_read, unavailable = "cannot read", "temporarily unavailable"
        answers = {
            "wrong types": (json.dumps({"ro_id": 5, "revision": "1", "sequence": 2**40, "status": "??",
                                        "lines": [{"line_ref": "L1", "approved_amount": 1.5}]}).encode(), cannot_read),
            "missing fields": (b"{}", cannot_read),
            "markup and NUL": (json.dumps({"ro_id": "AI-1", "revision": 1, "sequence": 1, "status": "pending",
                                           "lines": [], "decided_by": "<script>\u0000"}).encode(), cannot_read),
            # unreadable bodies are retried (a proxy's hiccup may pass), then reported as such
            "nested": (b"[" * 100_000 + b"]" * 100_000, unavailable),
            "not JSON": (b"<html>Bad gateway</html>", unavailable),
        }
        with patch.object(ai.Client, "_backoff", lambda client, attempt: 0.0):
            for name, (answer, expected) in answers.items():
                fleet.answer = answer
                with self.subTest(answer=name), self.assertRaises(UserError) as info, self.env.cr.savepoint():
                    repair._fleet_send()
                message = str(info.exception)
                self.assertIn(expected, message)
                self.assertNotIn("Traceback", message)
                self.assertLess(len(message), 1000)
                self.assertFalse(repair.fleet_ro_id)
