"""The shop's day in the browser, a tour per point of issue 14
(static/tests/tours/shop_day_tours.js): a job that is only looked at, the
fleet's words in FLEET COMMUNICATION, accepting a partial approval, the
vehicle where shops look, live decisions, and the smaller points.

The fleet decides in the simulator, in Python, before a tour starts, or
during it from a thread of the test (live decisions)."""

import threading
import time
from contextlib import contextmanager
from unittest.mock import patch

from odoo import api
from odoo.addons.bus.models.bus import dispatch
from odoo.addons.bus.websocket import WebsocketConnectionHandler
from odoo.tests import Form, new_test_user, tagged

from .common import AutoIntegrateHttpCase, FlowMixin, ensure_chart_of_accounts

DENIAL = "Labor exceeds 1.0 h rate card"
ADJUSTED = "1.0 h as the rate card allows"
QUESTION = "Which glass brand?"
REQUEST_NOTE = "Customer waits in the lobby: please approve today"
WEBHOOK_SECRET = "odoo-test-webhook"


def form_url(repair):
    return f"/web#action=repair.action_repair_order_tree&model=repair.order&view_type=form&id={repair.id}"


@tagged("post_install", "-at_install")
class TestShopDayTours(FlowMixin, AutoIntegrateHttpCase):
    browser_size = "1440x900"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.driver_2 = cls.env["res.partner"].create({"name": "Sam Ortiz", "parent_id": cls.fleet_account.id})

    def submitted_job(self, note=REQUEST_NOTE, partner=None):
        """A job sent by the admin (the browser's user) with a note, as SEND TO FLEET does."""
        repair = self.make_job(partner).with_user(self.env.ref("base.user_admin"))
        action = repair.action_send_to_fleet()
        with Form(repair.env[action["res_model"]].browse(action["res_id"])) as wizard:
            wizard.note = note
        wizard.record.action_submit()
        return repair.sudo()

    def partially_approved_job(self):
        repair = self.submitted_job()
        self.fleet_deny_labor(repair, DENIAL)
        repair._fleet_refresh()
        self.assertTrue(repair.fleet_needs_resubmit)
        return repair

    def fleet_calls_during(self, url, tour):
        """:return: ``(method, path)`` of every client-API call the fleet received during the tour,
        but for tokens (asking for one changes nothing at the fleet)"""
        self.simulator.admin("DELETE", "/requests")
        self.start_tour(url, tour, login="admin")
        self.env.invalidate_all()
        return {(item["method"], item["path"].split("?")[0]) for item in self.fleet_requests()
                if item["path"] != "/oauth/token"}

    def test_a_job_looked_at_is_not_modified_and_sends_nothing(self):
        repair = self.partially_approved_job()
        calls = self.fleet_calls_during(form_url(repair), "autointegrate_tour_untouched")
        self.assertEqual(calls, {("GET", f"/v1/repair-orders/{repair.fleet_ro_id}")})
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["revision"], 1)
        # SEND TO FLEET's Send Again: the RO as it is, with a note
        calls = self.fleet_calls_during(form_url(repair), "autointegrate_tour_send_again")
        self.assertIn(("PUT", f"/v1/repair-orders/{repair.fleet_ro_id}"), calls)
        ro = self.admin_get(f"/ro/{repair.fleet_ro_id}")
        self.assertEqual(ro["revision"], 2)
        self.assertEqual(ro["notes"][-1]["text"], "Please look at the labour again: ADAS recalibration included")
        self.assertEqual(ro["notes"][-1]["author"], self.env.ref("base.user_admin").name)

    def test_a_user_without_the_fleet_right_saves_as_in_any_job(self):
        """SAVE AND SEND TO FLEET is for who may send: a repair user without the right saves the change, which
        waits for an AutoIntegrate user to send it."""
        repair = self.partially_approved_job()
        new_test_user(self.env, login="repair-no-fleet", name="Robin Repair",
                      groups="stock.group_stock_user,sales_team.group_sale_salesman_all_leads")
        self.simulator.admin("DELETE", "/requests")
        self.start_tour(form_url(repair), "autointegrate_tour_no_fleet_right", login="repair-no-fleet")
        self.env.invalidate_all()
        self.assertEqual(self.line(repair, self.labor).product_uom_qty, 1.0)
        self.assertTrue(repair.fleet_changed)
        self.assertFalse(self.fleet_requests(f"/v1/repair-orders/{repair.fleet_ro_id}", "PUT"))

    def test_fleet_communication_holds_every_word_of_the_fleet(self):
        repair = self.partially_approved_job()
        labor = self.line(repair, self.labor)
        self.fleet_decide(repair, {labor.fleet_line_ref: {"status": "approved", "approved_quantity": "1.000",
                                                          "approved_amount": "95.00", "reason": ADJUSTED}})
        repair._fleet_refresh()
        self.admin_post(f"/ro/{repair.fleet_ro_id}/notes", {"text": QUESTION, "request_info": True,
                                                             "author": "J. Rivera"})
        repair._fleet_refresh()
        self.start_tour(form_url(repair), "autointegrate_tour_fleet_words", login="admin")

    def test_accept_the_fleets_decision_then_invoice(self):
        ensure_chart_of_accounts(self.company)
        repair = self.partially_approved_job()
        self.start_tour(form_url(repair), "autointegrate_tour_accept", login="admin")
        self.env.invalidate_all()
        labor = self.line(repair, self.labor)
        self.assertEqual((labor.product_uom_qty, labor.fleet_declined, labor.fleet_status), (0.0, True, "denied"))
        invoice = repair.sale_order_id.invoice_ids
        self.assertEqual((invoice.state, invoice.amount_untaxed), ("posted", 412.0))
        # a test server runs nothing after a commit: the cron sends the posted invoice, as Odoo's would
        self.env["account.move"]._cron_fleet_send_invoices()
        self.env.invalidate_all()
        self.assertEqual(invoice.fleet_invoice_status, "approved")
        self.assertEqual(repair.fleet_status, "completed")

    def test_the_vehicle_where_shops_look(self):
        repair = self.partially_approved_job()
        other = self.make_job()
        other.write({"fleet_vin": "2T3W1RFV8MW000002", "fleet_plate": "8XYZ999", "fleet_unit_number": "U-77",
                     "fleet_vehicle_make": "Toyota", "fleet_vehicle_model": "RAV4", "fleet_vehicle_year": 2021})
        self.assertTrue(repair.fleet_authorization_number)
        self.start_tour("/web#action=repair.action_repair_order_tree", "autointegrate_tour_vehicle", login="admin")

    def test_the_smaller_points(self):
        ensure_chart_of_accounts(self.company)
        self.partially_approved_job()
        changed = self.submitted_job(note="Hail damage", partner=self.driver_2)
        self.fleet_decide(changed, all="approved")
        changed._fleet_refresh()
        self.line(changed, self.labor).product_uom_qty = 2.0
        self.assertEqual(changed.fleet_display_status, "changed")
        self.start_tour("/web#action=repair.action_repair_order_tree", "autointegrate_tour_small", login="admin")
        self.env.invalidate_all()
        self.assertFalse(changed.sale_order_id.invoice_ids | self.env["account.move"].search(
            [("partner_id", "child_of", self.fleet_account.id)]))


@contextmanager
def bus_pump():
    """Odoo's bus tells the websockets of a commit through PostgreSQL's NOTIFY,
    which a test transaction never sends: tell them every 50 ms instead, as
    bus's own tests do (``WebsocketCase.trigger_notification_dispatching``)."""
    stop = threading.Event()

    def pump():
        while not stop.wait(0.05):
            for websockets in list(dispatch._channels_to_ws.values()):
                for websocket in list(websockets):
                    websocket.trigger_notification_dispatching()

    thread = threading.Thread(target=pump, name="bus pump", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


@tagged("post_install", "-at_install")
class TestLiveDecisionTour(FlowMixin, AutoIntegrateHttpCase):
    """The fleet decides while the job's form, then the jobs' list, is open in the browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo refuses websockets while testing; bus's own tests allow them the same way
        cls.startClassPatcher(patch.object(WebsocketConnectionHandler, "websocket_allowed", return_value=True))

    def test_decisions_show_in_the_open_tab(self):
        url = f"http://127.0.0.1:{self.http_port()}/autointegrate/webhook/{self.env.cr.dbname}"
        form_job = self.make_job()
        self.send(form_job)
        list_job = self.make_job(self.env["res.partner"].create({"name": "Sam Ortiz",
                                                                 "parent_id": self.fleet_account.id}))
        self.send(list_job)
        self.env.flush_all()
        self.admin_post("/config", {"webhook_url": url, "webhook_secret": WEBHOOK_SECRET, "webhook_backoff_s": 0.2})
        opened = {"form": threading.Event(), "list": threading.Event()}
        Repair = type(self.env["repair.order"])
        web_read, web_search_read = Repair.web_read, Repair.web_search_read

        def read_form(records, *args, **kwargs):
            if form_job.id in records.ids:
                opened["form"].set()
            return web_read(records, *args, **kwargs)

        @api.model
        def read_list(model, *args, **kwargs):
            result = web_search_read(model, *args, **kwargs)
            if any(row["id"] == list_job.id for row in result["records"]):
                opened["list"].set()
            return result

        def fleet():
            # the fleet decides once each view is open and the tour saw the job as it was: the
            # webhook reaches Odoo, which tells the tab
            if opened["form"].wait(60):
                time.sleep(3)
                self.fleet_decide(form_job, all="approved")
            if opened["list"].wait(60):
                time.sleep(3)
                self.fleet_decide(list_job, all="denied")

        decider = threading.Thread(target=fleet, name="fleet", daemon=True)
        with patch.object(Repair, "web_read", read_form), patch.object(Repair, "web_search_read", read_list), \
                bus_pump():
            decider.start()
            self.start_tour(form_url(form_job), "autointegrate_tour_live", login="admin")
            decider.join(70)
        self.env.invalidate_all()
        self.assertEqual((form_job.fleet_status, list_job.fleet_status), ("approved", "denied"))
