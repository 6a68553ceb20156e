"""FLEET COMMUNICATION holds every word of the fleet, and of the shop, in time
order: the notes of both sides, the reasons the fleet gives with its line
decisions (kept when a later decision replaces them), its questions, the
shop's cancellation; shop notes are signed by the user who wrote them."""

from odoo.tests import Form, new_test_user, tagged

from .common import AutoIntegrateFlowCase

DENIAL = "Labor exceeds 1.0 h rate card"


@tagged("post_install", "-at_install")
class TestCommunicationHistory(AutoIntegrateFlowCase):
    def setUp(self):
        super().setUp()
        self.repair = self.make_job()
        self.send(self.repair, note="Please approve today", line_notes={1: "1.5 h includes the ADAS recalibration"})
        self.glass_line = self.line(self.repair, self.windshield)
        self.labor_line = self.line(self.repair, self.labor)

    def entries(self, action):
        self.assertEqual(action["res_model"], "autointegrate.communication.wizard")
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        return [(entry.kind, entry.author_type, entry.decision or None, entry.line_ref or None, entry.text or None)
                for entry in wizard.note_ids]

    def test_a_reason_without_a_note_is_in_fleet_communication_with_its_line(self):
        self.fleet_deny_labor(self.repair, DENIAL)
        labor_ref = self.labor_line.fleet_line_ref
        self.assertEqual(self.entries(self.repair.action_fleet_communication()), [
            ("note", "shop", None, None, "Please approve today"),
            ("note", "shop", None, labor_ref, "1.5 h includes the ADAS recalibration"),
            ("decision", "fleet", "denied", labor_ref, DENIAL),
        ])
        decision = self.repair.fleet_note_ids.filtered(lambda entry: entry.kind == "decision")
        self.assertEqual((decision.author, decision.sale_line_id), ("J. Rivera (Enterprise Fleet)", self.labor_line))
        self.assertIn("Install windshield", decision.line_label)
        self.assertEqual(decision.created_at, self.repair.fleet_decided_at)
        # the glass's plain approval says nothing the chatter does not; the line shows its reasons only
        self.assertEqual(self.entries(self.glass_line.action_fleet_communication()), [])
        self.assertEqual(self.entries(self.labor_line.action_fleet_communication()), [
            ("note", "shop", None, labor_ref, "1.5 h includes the ADAS recalibration"),
            ("decision", "fleet", "denied", labor_ref, DENIAL),
        ])
        # the reason is in the decision's chatter entry, not posted again as a fleet note
        fleet_notes = self.repair.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("omega_autointegrate.mt_fleet_note"))
        self.assertFalse(fleet_notes)

    def test_a_later_decision_keeps_what_the_fleet_said_before(self):
        labor_ref = self.labor_line.fleet_line_ref
        # each decision reaches the job (as each webhook would)
        self.fleet_deny_labor(self.repair, DENIAL)
        self.repair._fleet_refresh()
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/notes",
                        {"text": "The rate card allows 1.0 h", "line_ref": labor_ref, "author": "J. Rivera"})
        self.fleet_decide(self.repair, {labor_ref: {
            "status": "approved", "approved_quantity": "1.000", "approved_amount": "95.00",
            "reason": "1.0 h as the rate card allows"}})
        self.repair._fleet_refresh()
        self.fleet_decide(self.repair, {labor_ref: {"status": "approved"}})
        entries = self.entries(self.labor_line.action_fleet_communication())
        self.assertEqual(entries, [
            ("note", "shop", None, labor_ref, "1.5 h includes the ADAS recalibration"),
            ("decision", "fleet", "denied", labor_ref, DENIAL),
            ("note", "fleet", None, labor_ref, "The rate card allows 1.0 h"),
            ("decision", "fleet", "adjusted", labor_ref, "1.0 h as the rate card allows"),
            ("decision", "fleet", "approved", labor_ref, None),
        ])
        self.assertEqual((self.labor_line.fleet_status, self.labor_line.fleet_reason), ("approved", False))

    def test_a_question_of_the_fleet_is_an_information_request(self):
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/notes",
                        {"text": "Which glass brand?", "request_info": True, "author": "J. Rivera"})
        self.assertEqual(self.entries(self.repair.action_fleet_communication())[-1],
                         ("info_request", "fleet", None, None, "Which glass brand?"))
        # still posted in the chatter, as every fleet note
        self.assertTrue(self.repair.message_ids.filtered(lambda m: "Which glass brand?" in m.body))

    def test_a_question_without_a_note_is_an_entry_of_its_own(self):
        self.fleet_decide(self.repair, status="info_requested")
        self.assertEqual(self.entries(self.repair.action_fleet_communication())[-1],
                         ("info_request", "fleet", None, None, None))
        self.assertEqual(self.repair.fleet_status, "info_requested")
        # the chatter says what happened, not the missing text's "False"
        asked = self.repair.message_ids.filtered(lambda m: "asks for information" in m.body)
        self.assertEqual(len(asked), 1)
        self.assertNotIn("False", asked.body)

    def test_the_shops_cancellation_is_told(self):
        self.repair.action_repair_cancel()
        self.assertEqual(self.entries(self.repair.action_fleet_communication())[-1],
                         ("cancel", "shop", None, None, "Cancelled by the shop"))
        self.assertEqual(self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["cancel_reason"], "Cancelled by the shop")

    def test_shop_notes_are_signed_by_the_user_who_wrote_them(self):
        advisor = new_test_user(self.env, login="advisor-ai", name="Pat Advisor",
                                groups="omega_autointegrate.group_autointegrate_user")
        repair = self.make_job().with_user(advisor)
        action = repair.action_send_to_fleet()
        with Form(repair.env[action["res_model"]].browse(action["res_id"])) as wizard:
            wizard.note = "Customer waits in the lobby"
            with wizard.line_ids.edit(0) as line:
                line.note = "OEM glass for the ADAS camera"
        wizard.record.action_submit()
        glass_ref = self.line(repair, self.windshield).fleet_line_ref
        fleet_notes = {(note["line_ref"], note["author"], note["text"])
                       for note in self.admin_get(f"/ro/{repair.fleet_ro_id}")["notes"]}
        self.assertEqual(fleet_notes, {(None, "Pat Advisor", "Customer waits in the lobby"),
                                       (glass_ref, "Pat Advisor", "OEM glass for the ADAS camera")})
        self.assertEqual(set(repair.sudo().fleet_note_ids.mapped("author")), {"Pat Advisor"})
        # the RO itself carries no note: they came each with their author
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["body"]["notes"], [])
