"""The fleet asks for documents; the shop sends them from the job, in the browser."""

from odoo.tests import tagged

from .common import JPEG, PDF, AutoIntegrateHttpCase, FlowMixin


@tagged("post_install", "-at_install")
class TestDocumentsTour(FlowMixin, AutoIntegrateHttpCase):
    def test_send_the_requested_documents(self):
        repair = self.make_job()
        self.send(repair)
        glass = self.line(repair, self.windshield)
        self.attach(repair, "windshield.jpg", JPEG)
        self.attach(repair, "receipt.pdf", PDF)
        self.admin_post(f"/ro/{repair.fleet_ro_id}/request_documents", {"items": [
            {"kind": "photo", "line_ref": glass.fleet_line_ref, "text": "Photo of the crack, please"}]})
        repair._fleet_refresh()
        self.assertEqual(repair.fleet_status, "info_requested")

        self.start_tour("/web#action=repair.action_repair_order_tree", "autointegrate_tour_documents", login="admin")
        self.env.invalidate_all()
        documents = self.fleet_documents(repair)
        self.assertEqual([(d["file_name"], d["kind"], d["line_ref"]) for d in documents],
                         [("windshield.jpg", "photo", glass.fleet_line_ref)])
        self.assertEqual(repair.fleet_status, "pending")
        self.assertFalse(repair.activity_ids)
