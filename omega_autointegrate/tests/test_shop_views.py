"""What a shop sees of its fleet jobs without opening anything: the vehicle
in the lists and the search, a status that says when an approved job
changed, live decisions in open tabs; and that looking sends nothing."""

import json

from lxml import etree

from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from ..models.repair_order import BUS_FLEET_UPDATE
from .common import VIN, AutoIntegrateFlowCase


@tagged("post_install", "-at_install")
class TestJobsInView(AutoIntegrateFlowCase):
    def search_vehicle(self, text):
        """:return: the jobs the search view's Vehicle option finds for ``text``, as the web client builds it"""
        arch = etree.fromstring(self.env["repair.order"].get_view(view_type="search")["arch"])
        [node] = arch.xpath("//field[@name='fleet_vehicle']")
        self.assertEqual(node.get("string"), "Vehicle")
        return self.env["repair.order"].search(safe_eval(node.get("filter_domain"), {"self": text}))

    def test_the_vehicle_reads_year_make_model_and_plate(self):
        repair = self.make_job()
        self.assertEqual(repair.fleet_vehicle, "2022 Ford F-150 · 7ABC123")
        repair.write({"fleet_plate": False, "fleet_vehicle_model": "F-250"})
        self.assertEqual(repair.fleet_vehicle, "2022 Ford F-250")
        repair.write({"fleet_vehicle_year": 0, "fleet_vehicle_make": False, "fleet_vehicle_model": False})
        self.assertFalse(repair.fleet_vehicle)
        # the field itself, where each view shows it (the form's Vehicle group is also named fleet_vehicle)
        for view_type, where in (("list", "//list/field"), ("kanban", "//templates//field"),
                                 ("form", "//div[hasclass('oe_title')]//field")):
            with self.subTest(view=view_type):
                arch = etree.fromstring(self.env["repair.order"].get_view(view_type=view_type)["arch"])
                self.assertTrue(arch.xpath(f"{where}[@name='fleet_vehicle']"), view_type)

    def test_the_search_finds_a_job_by_any_of_its_ids(self):
        repair = self.make_job()
        other = self.make_job()
        other.write({"fleet_vin": False, "fleet_plate": "8XYZ999", "fleet_unit_number": "U-1",
                     "fleet_vehicle_make": "Toyota"})
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        repair.action_send_to_fleet()
        for text in ("7ABC123", "7abc", VIN, "U-5521", repair.fleet_ro_id, repair.fleet_authorization_number,
                     "Ford F-150"):
            with self.subTest(text=text):
                self.assertEqual(self.search_vehicle(text), repair)
        self.assertEqual(self.search_vehicle("8XYZ"), other)

    def test_an_approved_job_changed_since_reads_so(self):
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        repair.action_send_to_fleet()
        self.assertEqual(repair.fleet_display_status, "approved")
        self.line(repair, self.labor).product_uom_qty = 2.0
        self.assertEqual((repair.fleet_status, repair.fleet_display_status), ("approved", "changed"))
        self.assertEqual(self.env["repair.order"].search([("fleet_display_status", "=", "changed")]), repair)
        repair.action_fleet_save_and_send()
        self.assertEqual(repair.fleet_display_status, "pending")

    def test_a_refused_invoice_closes_its_dialog_and_says_why(self):
        repair = self.make_job()
        self.send(repair)
        context = {"active_model": "repair.order", "active_ids": repair.ids, "active_id": repair.id}
        wizard = self.env["autointegrate.repair.invoice.wizard"].with_context(**context).create({})
        self.assertEqual(wizard.message, "Invoice 1 job?")
        action = wizard.action_confirm()
        self.assertEqual((action["tag"], action["params"]["type"], action["params"]["sticky"]),
                         ("display_notification", "danger", True))
        self.assertIn(f"The fleet has not approved {repair.name}", action["params"]["message"])
        self.assertEqual(action["params"]["next"], {"type": "ir.actions.act_window_close"})
        self.assertFalse(repair.sale_order_id.invoice_ids)

    def test_looking_at_a_job_sends_nothing(self):
        """Opening a job's dialogs reads the fleet (GET) and sends nothing, whatever its status."""
        repair = self.make_job()
        self.send(repair, note="Please approve today")
        self.fleet_deny_labor(repair, "Labor exceeds 1.0 h rate card")
        self.simulator.admin("DELETE", "/requests")
        repair.action_send_to_fleet()
        repair.action_fleet_communication()
        self.line(repair, self.labor).action_fleet_communication()
        self.assertTrue(repair.fleet_needs_resubmit)
        repair.action_send_to_fleet()
        calls = {(item["method"], item["path"]) for item in self.fleet_requests()}
        self.assertEqual(calls, {("GET", f"/v1/repair-orders/{repair.fleet_ro_id}")})
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["revision"], 1)


@tagged("post_install", "-at_install")
class TestLiveDecisions(AutoIntegrateFlowCase):
    def forget_bus(self):
        """What the bus was asked to send so far is sent: start afresh."""
        self.env.cr.precommit.run()
        self.env["bus.bus"].sudo().search([]).unlink()

    def bus_messages(self):
        """:return: ``[(channel, type, payload)]`` of what the bus sends once the transaction commits"""
        self.env.cr.precommit.run()
        messages = self.env["bus.bus"].sudo().search([], order="id")
        return [(json.loads(m.channel), json.loads(m.message)["type"], json.loads(m.message)["payload"])
                for m in messages]

    def test_open_tabs_are_told_and_the_responsible_gets_a_toast(self):
        technician = new_test_user(self.env, login="tech-live", name="Tech Live",
                                   groups="omega_autointegrate.group_autointegrate_user")
        repair = self.make_job()
        repair.user_id = technician
        self.send(repair)
        self.forget_bus()
        self.fleet_deny_labor(repair, "Labor exceeds 1.0 h rate card")

        repair._fleet_refresh()  # as the webhook or the poll applies it

        messages = self.bus_messages()
        group = self.env.ref("stock.group_stock_user")
        db = self.env.cr.dbname
        self.assertIn([[db, "res.groups", group.id], BUS_FLEET_UPDATE, {"repair_ids": repair.ids}],
                      [list(m) for m in messages])
        toasts = [payload for channel, kind, payload in messages if kind == "simple_notification"]
        self.assertEqual([channel for channel, kind, _payload in messages if kind == "simple_notification"],
                         [[db, "res.partner", technician.partner_id.id]])
        self.assertEqual(toasts[0]["type"], "warning")
        self.assertIn(repair.name, toasts[0]["message"])
        self.assertIn("2022 Ford F-150 · 7ABC123", toasts[0]["message"])
        self.assertIn("Partially approved", toasts[0]["message"])

    def test_a_state_that_changes_nothing_tells_no_one(self):
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        repair._fleet_refresh()
        self.forget_bus()
        repair._fleet_refresh()  # the same state again: not newer
        self.assertEqual(self.bus_messages(), [])

    def test_the_user_who_brought_the_change_gets_no_toast(self):
        repair = self.make_job()
        repair.user_id = self.env.user
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        self.forget_bus()
        repair._fleet_refresh()
        kinds = [kind for _channel, kind, _payload in self.bus_messages()]
        self.assertEqual(kinds, [BUS_FLEET_UPDATE])
