from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import AutoIntegrateFlowCase


@tagged("post_install", "-at_install")
class TestFleetCommunication(AutoIntegrateFlowCase):
    def setUp(self):
        super().setUp()
        self.repair = self.make_job()
        self.send(self.repair, note="Please approve quickly")
        self.labor_line = self.line(self.repair, self.labor)
        self.glass_line = self.line(self.repair, self.windshield)
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/notes",
                        {"text": "Labor exceeds rate card", "line_ref": self.labor_line.fleet_line_ref,
                         "author": "J. Rivera"})
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/notes",
                        {"text": "Send a photo of the <b>crack</b>", "author": "J. Rivera"})

    def open(self, action):
        self.assertEqual(action["res_model"], "autointegrate.communication.wizard")
        return self.env[action["res_model"]].browse(action["res_id"])

    def test_job_shows_all_notes_with_their_line(self):
        wizard = self.open(self.repair.action_fleet_communication())
        texts = [(n.author_type, n.line_ref or None, n.text) for n in wizard.note_ids]
        self.assertEqual(texts, [
            ("shop", None, "Please approve quickly"),
            ("fleet", self.labor_line.fleet_line_ref, "Labor exceeds rate card"),
            ("fleet", None, "Send a photo of the <b>crack</b>"),
        ])
        labelled = wizard.note_ids.filtered("line_ref")
        self.assertIn("Install windshield", labelled.line_label)

    def test_line_menu_shows_only_that_lines_notes(self):
        wizard = self.open(self.labor_line.action_fleet_communication())
        self.assertEqual(wizard.note_ids.mapped("text"), ["Labor exceeds rate card"])
        self.assertFalse(self.open(self.glass_line.action_fleet_communication()).note_ids)

    def test_fleet_notes_reach_the_chatter_escaped_and_once(self):
        self.repair.action_fleet_communication()
        self.repair.action_fleet_communication()
        messages = self.repair.message_ids.filtered(
            lambda m: m.subtype_id == self.env.ref("omega_autointegrate.mt_fleet_note"))
        self.assertEqual(len(messages), 2)
        body = "".join(messages.mapped("body"))
        self.assertIn("&lt;b&gt;crack&lt;/b&gt;", body)
        self.assertNotIn("<b>crack</b>", body)
        self.assertEqual(len(self.repair.fleet_note_ids), 3)

    def test_write_a_note_on_a_line(self):
        wizard = self.open(self.labor_line.action_fleet_communication())
        with Form(wizard) as form:
            form.text = "1.5 h is the glass maker's time for ADAS recalibration"
        action = wizard.action_send_note()
        refreshed = self.open(action)
        self.assertEqual(refreshed.note_ids.mapped("text")[-1],
                         "1.5 h is the glass maker's time for ADAS recalibration")
        fleet_notes = self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["notes"]
        self.assertEqual((fleet_notes[-1]["line_ref"], fleet_notes[-1]["author_type"]),
                         (self.labor_line.fleet_line_ref, "shop"))
        # the same click again (a retry) sends nothing new
        wizard.action_send_note()
        self.assertEqual(len(self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["notes"]), len(fleet_notes))

    def test_not_sent_job_has_no_communication(self):
        with self.assertRaisesRegex(UserError, "not been sent"):
            self.make_job().action_fleet_communication()
