"""Query budgets of the paths a shop feels (speed itself is measured by bench/, not here)."""

from odoo import Command
from odoo.tests import tagged

from .common import AutoIntegrateFlowCase


@tagged("post_install", "-at_install")
class TestQueryBudgets(AutoIntegrateFlowCase):
    def big_job(self, lines=50):
        """A job whose quotation has ``lines`` lines, parts and labour."""
        repair = self.make_job()
        products = (self.windshield, self.labor)
        self.env["sale.order.line"].create([
            {"order_id": repair.sale_order_id.id, "product_id": products[index % 2].id,
             "product_uom_qty": 1.0 + index % 3, "tax_id": [Command.clear()]}
            for index in range(lines - len(repair.sale_order_id.order_line))
        ])
        return repair

    def test_submit_50_lines_query_budget(self):
        """SEND TO FLEET and SUBMIT REPAIR ORDER of a 50-line job, answer stored."""
        self.send(self.big_job())  # warm-up: a token, the settings read, caches
        repair = self.big_job()
        self.assertEqual(len(repair._fleet_lines()), 50)
        self.env.flush_all()
        self.env.cr.flush()
        # the dialog (its payload and lines), the lock, the line refs, the call and its log, the answer
        # stored on the job and its 50 lines (one statement), the tracking message: 16 measured (goal 40)
        with self.assertQueryCount(__system__=16):
            action = repair.action_send_to_fleet()
            self.env[action["res_model"]].browse(action["res_id"]).action_submit()
        self.assertEqual(repair.fleet_status, "pending")
        self.assertEqual(set(repair.sale_order_id.order_line.mapped("fleet_status")), {"pending"})
        self.assertEqual(len(self.admin_get(f"/ro/{repair.fleet_ro_id}")["body"]["lines"]), 50)
