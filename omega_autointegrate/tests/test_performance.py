"""Query budgets of the paths a shop feels (speed itself is measured by bench/, not here)."""

from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from ..models.repair_order import RepairOrder
from .common import AutoIntegrateFlowCase

#: a guard against N+1, not a target: the queries of a submission, whatever its number of lines
#: (41 measured with the rights check, the account read, the documents and the authorization history)
SUBMIT_QUERIES = 60


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

    def submit_queries(self, repair):
        """SEND TO FLEET, then SUBMIT REPAIR ORDER, as in a transaction of their own (nothing cached,
        the commit included).

        :return: their queries
        """
        self.env.flush_all()
        self.env.cr.flush()
        self.env.invalidate_all()
        count0 = self.env.cr.sql_log_count
        action = repair.action_send_to_fleet()
        self.env[action["res_model"]].browse(action["res_id"]).action_submit()
        self.env.flush_all()
        self.env.cr.flush()
        return self.env.cr.sql_log_count - count0

    def test_submit_50_lines_query_budget(self):
        """SEND TO FLEET and SUBMIT REPAIR ORDER of a 50-line job, answer stored: a few queries, as many as
        for a 5-line job."""
        self.submit_queries(self.big_job())  # warm-up: a token, the settings read, caches
        small, repair = self.big_job(5), self.big_job()
        self.assertEqual(len(repair._fleet_lines()), 50)
        few = self.submit_queries(small)
        # the job and its quotation read, the dialog (its payload and lines), the lock, the line refs, the
        # call and its log, the answer stored on the job and its lines, the tracking message, the rights and the
        # account, the documents to send and the revision of the authorization history
        with self.assertQueryCount(__system__=SUBMIT_QUERIES):
            many = self.submit_queries(repair)
        self.assertEqual(many, few)
        self.assertEqual(repair.fleet_status, "pending")
        self.assertEqual(set(repair.sale_order_id.order_line.mapped("fleet_status")), {"pending"})
        self.assertEqual(len(self.admin_get(f"/ro/{repair.fleet_ro_id}")["body"]["lines"]), 50)

    def digest_queries(self, product):
        """:return: the queries of recomputing the digests of the jobs holding ``product``, as a change of its
        service code does (nothing in the cache)"""
        self.env.flush_all()
        self.env.invalidate_all()
        count0 = self.env.cr.sql_log_count
        product.fleet_service_code = f"{product.fleet_service_code}-2"
        self.env.flush_all()
        return self.env.cr.sql_log_count - count0

    def test_digests_read_the_account_once(self):
        """The RO each job would send is built again when what it holds changes, for every job at once: the
        shop id is read from the company's account once, and the lines' taxes of all the jobs at once."""
        for _ in range(5):
            self.make_job()
        self.digest_queries(self.labor)  # warm-up: what any first change reads
        few = self.digest_queries(self.labor)
        repairs = self.env["repair.order"].search([("sale_order_id.order_line.product_id", "=", self.labor.id)])
        for _ in range(15):
            repairs |= self.make_job()
        self.assertEqual(len(repairs), 20)
        digests = repairs.mapped("fleet_digest")
        self.assertEqual(self.digest_queries(self.labor), few)
        self.assertFalse(set(digests) & set(repairs.mapped("fleet_digest")), "every job's RO was built again")

    def test_fleet_state_does_not_rebuild_the_ro(self):
        """A state of the fleet changes nothing of what the job sends: applying it does not build the job's RO
        again for its digest."""
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        self.env.flush_all()
        digest = repair.fleet_digest
        with patch.object(RepairOrder, "_compute_fleet_digest", autospec=True,
                          side_effect=RepairOrder._compute_fleet_digest) as compute:
            repair._fleet_refresh()
            self.env.flush_all()
        self.assertEqual(repair.fleet_status, "approved")
        compute.assert_not_called()
        self.assertEqual(repair.fleet_digest, digest)
