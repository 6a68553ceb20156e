"""Documents for the fleet (contract 9): sent from the job's attachments,
asked for by the fleet, the fleet's own landing in the job's attachments."""

import base64
import hashlib

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import JPEG, PDF, AutoIntegrateFlowCase

ACTIVITY_DOCUMENTS = "omega_autointegrate.mail_activity_type_fleet_documents"


@tagged("post_install", "-at_install")
class TestFleetDocuments(AutoIntegrateFlowCase):
    def setUp(self):
        super().setUp()
        self.repair = self.make_job()
        self.send(self.repair)
        self.glass = self.line(self.repair, self.windshield)
        self.labor_line = self.line(self.repair, self.labor)
        self.photo = self.attach(self.repair, "windshield.jpg", JPEG)
        self.report = self.attach(self.repair, "adas-calibration.pdf", PDF)

    def open_documents(self, repair=None):
        action = (repair or self.repair).action_fleet_send_documents()
        self.assertEqual((action["res_model"], action["target"]), ("autointegrate.document.wizard", "new"))
        return self.env[action["res_model"]].browse(action["res_id"])

    def uploads(self):
        """:return: the document uploads the fleet received"""
        return self.fleet_requests(f"/v1/repair-orders/{self.repair.fleet_ro_id}/documents", "POST")

    def choose(self, wizard, choices):
        """Tick the rows of ``{attachment: (kind, line)}``, untick the others."""
        with Form(wizard) as form:
            for index in range(len(form.line_ids)):
                with form.line_ids.edit(index) as row:
                    choice = choices.get(row.attachment_id)
                    row.send = bool(choice)
                    if choice:
                        row.kind, row.sale_line_id = choice

    def fleet_requests_documents(self, items):
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/request_documents", {"items": items, "author": "J. Rivera"})
        self.repair._fleet_refresh()

    def test_send_documents_from_the_job(self):
        wizard = self.open_documents()
        self.assertEqual(set(wizard.line_ids.attachment_id), {self.photo, self.report})
        self.assertFalse(any(wizard.line_ids.mapped("send")), "nothing is chosen for the shop")
        guessed = {row.attachment_id: row.kind for row in wizard.line_ids}
        self.assertEqual(guessed, {self.photo: "photo", self.report: "calibration_report"})
        self.choose(wizard, {self.photo: ("photo", self.glass), self.report: ("calibration_report", self.labor_line)})
        wizard.action_send()
        at_fleet = {(d["file_name"], d["kind"], d["line_ref"], d["author_type"], d["sha256"])
                    for d in self.fleet_documents(self.repair)}
        self.assertEqual(at_fleet, {
            ("windshield.jpg", "photo", self.glass.fleet_line_ref, "shop", hashlib.sha256(JPEG).hexdigest()),
            ("adas-calibration.pdf", "calibration_report", self.labor_line.fleet_line_ref, "shop",
             hashlib.sha256(PDF).hexdigest()),
        })
        stored = {(d.attachment_id, d.kind, d.sale_line_id) for d in self.repair.fleet_document_ids}
        self.assertEqual(stored, {(self.photo, "photo", self.glass),
                                  (self.report, "calibration_report", self.labor_line)})
        said = self.repair.message_ids.filtered(lambda m: "Sent to the fleet:" in m.body)
        self.assertEqual(len(said), 1)
        self.assertIn("windshield.jpg", said.body)

    def test_sending_again_uploads_nothing(self):
        wizard = self.open_documents()
        self.choose(wizard, {self.photo: ("photo", self.glass)})
        wizard.action_send()
        self.assertEqual(len(self.uploads()), 1)
        again = self.open_documents()
        row = again.line_ids.filtered(lambda r: r.attachment_id == self.photo)
        with Form(again) as form, form.line_ids.edit(list(again.line_ids).index(row)) as edit:
            edit.send, edit.kind, edit.sale_line_id = True, "photo", self.glass
        self.assertTrue(row.at_fleet)
        action = again.action_send()
        self.assertIn("has these documents already", action["params"]["message"])
        self.assertEqual(len(self.uploads()), 1, "the fleet has it: not sent again")
        self.assertEqual(len(self.fleet_documents(self.repair)), 1)
        self.assertEqual(len(self.repair.fleet_document_ids), 1)
        # the same photo for another line is another document of the fleet
        self.repair._fleet_upload_documents([(self.photo, "photo", self.labor_line, False)])
        self.assertEqual(len(self.fleet_documents(self.repair)), 2)

    def test_bad_files_are_refused_before_anything_is_sent(self):
        bad = [
            self.attach(self.repair, "chip.gif", b"GIF89a\x01\x00\x01\x00"),
            self.attach(self.repair, "renamed.jpg", b"this is a text file", mimetype="image/jpeg"),
            self.attach(self.repair, "empty.pdf", b"", mimetype="application/pdf"),
            self.attach(self.repair, "huge.pdf", PDF + b"0" * (10 * 1024 * 1024)),
        ]
        items = [(self.photo, "photo", self.glass, False)] + [(a, "other", self.glass, False) for a in bad]
        items.append((self.report, "other", self.glass, "x" * 1001))
        with self.assertRaises(UserError) as info:
            self.repair._fleet_upload_documents(items)
        message = str(info.exception)
        self.assertIn("Nothing was sent to the fleet", message)
        self.assertIn("“chip.gif” is a file of type image/gif", message)
        self.assertIn("“renamed.jpg” is not a real image/jpeg file", message)
        self.assertIn("“empty.pdf” is empty", message)
        self.assertIn("“huge.pdf” is 10.0 MB", message)
        self.assertIn("“adas-calibration.pdf”: the description is too long", message)
        self.assertNotIn("windshield.jpg", message)
        self.assertEqual(self.uploads(), [], "nothing reached the fleet, the good photo neither")
        self.assertFalse(self.repair.fleet_document_ids)

    def test_a_fleet_request_shows_on_the_job_with_an_activity(self):
        self.fleet_requests_documents([
            {"kind": "photo", "line_ref": self.glass.fleet_line_ref, "text": "Photo of the crack, please"},
            {"kind": "calibration_report", "line_ref": self.labor_line.fleet_line_ref},
        ])
        self.assertEqual(self.repair.fleet_status, "info_requested")
        text = self.repair.fleet_documents_requested_text
        self.assertIn("Photo · [GLASS-WS] Windshield FW05432 GTY · Photo of the crack, please", text)
        self.assertIn("Calibration report · Install windshield", text)
        activities = self.repair.activity_ids
        self.assertEqual(activities.activity_type_id, self.env.ref(ACTIVITY_DOCUMENTS),
                         "one to-do: the documents', not a second one for the question")
        self.assertEqual(activities.summary, "The fleet asks for documents")
        self.assertIn("Photo of the crack, please", activities.note)
        self.repair._fleet_refresh()
        self.assertEqual(len(self.repair.activity_ids), 1, "not scheduled again")

    def test_send_the_requested_documents_in_one_click(self):
        other = self.attach(self.repair, "invoice-scan.pdf", PDF + b"other")
        self.fleet_requests_documents([
            {"kind": "photo", "line_ref": self.glass.fleet_line_ref, "text": "Photo of the crack, please"},
            {"kind": "calibration_report", "line_ref": self.labor_line.fleet_line_ref},
        ])
        wizard = self.open_documents()
        self.assertIn("Photo of the crack, please", wizard.requested)
        chosen = {(r.attachment_id, r.kind, r.sale_line_id, r.requested) for r in wizard.line_ids if r.send}
        self.assertEqual(chosen, {(self.photo, "photo", self.glass, True),
                                  (self.report, "calibration_report", self.labor_line, True)},
                         "pre-filled with what matches the request")
        self.assertFalse(wizard.line_ids.filtered(lambda r: r.attachment_id == other).send)
        self.assertTrue(wizard.note)
        wizard.action_send()
        at_fleet = {(d["kind"], d["line_ref"]) for d in self.fleet_documents(self.repair)}
        self.assertEqual(at_fleet, {("photo", self.glass.fleet_line_ref),
                                    ("calibration_report", self.labor_line.fleet_line_ref)})
        # the note answered the fleet: it reviews the job again, and the to-do is done
        self.assertEqual(self.repair.fleet_status, "pending")
        self.assertFalse(self.repair.fleet_documents_requested)
        self.assertFalse(self.repair.activity_ids)
        self.assertTrue(self.repair.message_ids.filtered(
            lambda m: m.mail_activity_type_id == self.env.ref(ACTIVITY_DOCUMENTS)), "done, in the chatter")
        shop_notes = [n["text"] for n in self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["notes"]
                      if n["author_type"] == "shop"]
        self.assertIn("windshield.jpg", shop_notes[-1])

    def test_a_fleet_document_lands_in_the_attachments_once(self):
        order = PDF + b"PO-4471"
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/documents", {
            "file_name": "PO-4471.pdf", "content_type": "application/pdf", "kind": "purchase_order",
            "line_ref": None, "description": "Purchase order", "content_base64": base64.b64encode(order).decode()})
        self.repair._fleet_refresh()
        document = self.repair.fleet_document_ids
        self.assertEqual((document.author_type, document.kind, document.file_name), ("fleet", "purchase_order",
                                                                                      "PO-4471.pdf"))
        self.assertFalse(document.attachment_id, "not downloaded by the state's transaction")
        self.env["autointegrate.document"]._cron_fetch_documents()
        attachment = document.attachment_id
        self.assertEqual((attachment.res_model, attachment.res_id, attachment.raw), ("repair.order", self.repair.id,
                                                                                     order))
        self.assertEqual(attachment.mimetype, "application/pdf")
        posted = self.repair.message_ids.filtered(lambda m: attachment in m.attachment_ids)
        self.assertEqual(len(posted), 1)
        self.assertIn("The fleet attached a document", posted.body)
        self.env["autointegrate.document"]._cron_fetch_documents()
        self.repair._fleet_refresh()
        downloads = self.fleet_requests(
            f"/v1/repair-orders/{self.repair.fleet_ro_id}/documents/{document.fleet_document_id}/content", "GET")
        self.assertEqual(len(downloads), 1, "downloaded once")
        self.assertEqual(len(self.repair.fleet_document_ids), 1)
        self.assertEqual(self.env["ir.attachment"].search_count(
            [("res_model", "=", "repair.order"), ("res_id", "=", self.repair.id), ("name", "=", "PO-4471.pdf")]), 1)
        # the fleet's own document is not offered back to it
        self.assertNotIn(attachment, self.open_documents().line_ids.attachment_id)

    def test_a_fleet_copy_that_does_not_match_is_refused(self):
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/documents", {
            "file_name": "PO.pdf", "content_type": "application/pdf", "kind": "purchase_order",
            "content_base64": base64.b64encode(PDF).decode()})
        self.repair._fleet_refresh()
        document = self.repair.fleet_document_ids
        document.sudo().sha256 = "0" * 64  # what the fleet announced is not what it serves
        self.env["autointegrate.document"]._cron_fetch_documents()
        self.assertFalse(document.attachment_id)
        self.assertIn("does not match the SHA-256", document.fetch_error)
        self.env["autointegrate.document"]._cron_fetch_documents()
        downloads = self.fleet_requests(
            f"/v1/repair-orders/{self.repair.fleet_ro_id}/documents/{document.fleet_document_id}/content", "GET")
        self.assertEqual(len(downloads), 1, "not downloaded again")
        with self.assertRaisesRegex(UserError, "could not be taken"):
            document.action_open_document()

    def test_both_sides_documents_in_fleet_communication(self):
        self.repair._fleet_upload_documents([(self.photo, "photo", self.glass, "The crack")])
        self.admin_post(f"/ro/{self.repair.fleet_ro_id}/documents", {
            "file_name": "PO-4471.pdf", "content_type": "application/pdf", "kind": "purchase_order",
            "content_base64": base64.b64encode(PDF).decode()})
        action = self.repair.action_fleet_communication()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual([(d.author_type, d.file_name) for d in wizard.document_ids],
                         [("shop", "windshield.jpg"), ("fleet", "PO-4471.pdf")])
        opened = wizard.document_ids.filtered(lambda d: d.author_type == "fleet").action_open_document()
        self.assertEqual(opened["type"], "ir.actions.act_url", "downloaded when opened")
        action = self.glass.action_fleet_communication()
        on_line = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(on_line.document_ids.mapped("file_name"), ["windshield.jpg"])
        self.assertFalse(self.env[action["res_model"]].browse(
            self.labor_line.action_fleet_communication()["res_id"]).document_ids)

    # what the shop sends and fetches is the job's own: its attachments, its lines, its exchange-log rows
    def fleet_attaches(self, repair, content):
        self.admin_post(f"/ro/{repair.fleet_ro_id}/documents", {
            "file_name": "PO.pdf", "content_type": "application/pdf", "kind": "purchase_order",
            "content_base64": base64.b64encode(content).decode()})
        repair._fleet_refresh()
        return repair.fleet_document_ids

    def test_the_cron_logs_each_download_under_its_job(self):
        other = self.make_job()
        self.send(other)
        documents = self.fleet_attaches(self.repair, PDF + b"1") | self.fleet_attaches(other, PDF + b"2")
        Exchange = self.env["autointegrate.exchange"]
        before = Exchange.search([], limit=1).id
        self.env["autointegrate.document"]._cron_fetch_documents()
        self.assertTrue(all(documents.mapped("attachment_id")))
        run = Exchange.search([("id", ">", before)])
        self.assertEqual(len(run), 2)
        self.assertTrue(all(run.mapped("repair_id")), "every row of the run names its job")
        for document in documents:
            repair = document.repair_id
            path = f"/v1/repair-orders/{repair.fleet_ro_id}/documents/{document.fleet_document_id}/content"
            log = run.filtered(lambda entry, path=path: entry.endpoint == f"GET {path}")
            self.assertEqual(len(log), 1)
            self.assertEqual(log.repair_id, repair)

    def shop_notes_at_fleet(self, text):
        """:return: the shop's notes of the job's RO at the fleet that hold ``text``"""
        return [note for note in self.admin_get(f"/ro/{self.repair.fleet_ro_id}")["notes"]
                if note["author_type"] == "shop" and text in note["text"]]

    def test_a_retry_of_the_dialog_sends_its_note_once(self):
        self.without_backoff()
        wizard = self.open_documents()
        self.choose(wizard, {self.photo: ("photo", self.glass)})
        wizard.note = "The crack, as asked"
        # the fleet takes the note, every answer is lost: the user sees an error and clicks Send again
        self.simulator.set_faults({"drop_after_processing_next": 10,
                                   "path_prefix": f"/v1/repair-orders/{self.repair.fleet_ro_id}/notes"})
        with self.assertRaises(UserError):
            wizard.action_send()
        self.simulator.set_faults({})
        self.assertEqual(len(self.shop_notes_at_fleet("The crack, as asked")), 1)
        wizard.action_send()
        wizard.action_send()  # and a double click
        self.assertEqual(len(self.shop_notes_at_fleet("The crack, as asked")), 1, "one note at the fleet")
        self.assertEqual(len(self.repair.fleet_note_ids.filtered(lambda n: "The crack, as asked" in n.text)), 1)
        posts = self.fleet_requests(f"/v1/repair-orders/{self.repair.fleet_ro_id}/notes", "POST")
        self.assertEqual(len(posts), 6, "four tries, then two clicks")
        key = self.repair._fleet_dialog_note_key(wizard, f"The crack, as asked\n- {self.photo.name}")
        self.assertEqual({post["headers"]["Idempotency-Key"] for post in posts}, {key}, "the dialog's one key")

    def test_each_dialog_sends_its_own_note(self):
        """The fleet asks for the photo again: the same answer, from a new dialog, is a new note that answers it."""
        request = [{"kind": "photo", "line_ref": self.glass.fleet_line_ref, "text": "Photo of the crack, please"}]
        for _time in range(2):
            self.fleet_requests_documents(request)
            self.assertEqual(self.repair.fleet_status, "info_requested")
            self.open_documents().action_send()
            self.assertEqual(self.repair.fleet_status, "pending", "the note answered the fleet's request")
        texts = [note["text"] for note in self.shop_notes_at_fleet("windshield.jpg")]
        self.assertEqual(len(texts), 2)
        self.assertEqual(texts[0], texts[1])
        self.assertEqual(len(self.uploads()), 1, "the photo itself was sent once")

    def test_only_the_jobs_own_files_and_lines_go_to_its_fleet(self):
        other = self.make_job()
        self.send(other)
        other_photo = self.attach(other, "other-car.jpg", JPEG + b"other")
        other_line = self.line(other, self.labor)
        self.assertTrue(other_line.fleet_line_ref, "a line the fleet knows, of another RO")
        quotation_file = self.env["ir.attachment"].create({
            "name": "on-the-quotation.jpg", "raw": JPEG, "res_model": "sale.order",
            "res_id": self.repair.sale_order_id.id})
        company_b = self.env["res.company"].create({"name": "Shop B"})
        job_b = self.env["repair.order"].with_company(company_b).create({"partner_id": self.driver.id})
        self.assertEqual(job_b.company_id, company_b)
        file_b = self.attach(job_b, "shop-b-secret.jpg", JPEG)
        # sent by code: refused before anything reaches the fleet
        no_line = self.env["sale.order.line"]
        for items, said in (
            ([(other_photo, "photo", no_line, False)], "is not an attachment of"),
            ([(quotation_file, "photo", no_line, False)], "is not an attachment of"),
            ([(file_b, "photo", no_line, False)], "is not an attachment of"),
            ([(self.photo, "photo", other_line, False)], "is not a line of the quotation of"),
        ):
            with self.subTest(said=said), self.assertRaises(UserError) as info:
                self.repair._fleet_upload_documents([(self.report, "estimate", self.glass, False)] + items)
            self.assertIn("Nothing was sent to the fleet", str(info.exception))
            self.assertIn(said, str(info.exception))
            self.assertIn(self.repair.name, str(info.exception))
            self.assertNotIn("shop-b-secret", str(info.exception), "another company's file is not named")
        # a row of SEND DOCUMENTS or of SEND TO FLEET, however it is written
        wizard = self.open_documents()
        row = wizard.line_ids[0]
        send_wizard = self.open_send_dialog(self.make_job())
        Row = self.env["autointegrate.document.wizard.line"]
        for change in (
            lambda: row.write({"attachment_id": other_photo.id}),
            lambda: row.write({"sale_line_id": other_line.id}),
            lambda: row.write({"repair_id": other.id, "attachment_id": other_photo.id}),
            lambda: Row.create({"wizard_id": wizard.id, "repair_id": other.id, "attachment_id": other_photo.id}),
            lambda: Row.create({"send_wizard_id": send_wizard.id, "repair_id": send_wizard.repair_id.id,
                                "attachment_id": self.photo.id}),
        ):
            with self.assertRaisesRegex(ValidationError, "cannot be sent to the fleet with"):
                change()
        # and a stored document of the RO
        document = self.fleet_attaches(self.repair, PDF + b"PO")
        for values in ({"attachment_id": other_photo.id}, {"sale_line_id": other_line.id}):
            with self.assertRaisesRegex(ValidationError, "cannot be a fleet document of"):
                document.write(values)
        self.assertEqual(self.uploads(), [])
        self.assertEqual(self.fleet_requests(f"/v1/repair-orders/{other.fleet_ro_id}/documents", "POST"), [])
