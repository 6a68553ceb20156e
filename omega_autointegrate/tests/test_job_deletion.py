"""A job the fleet has an open RO of is not deleted: the fleet would keep an
RO the shop no longer knows. Cancelling the job cancels the RO, then it goes."""

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import AutoIntegrateFlowCase, AutoIntegrateHttpCase, FlowMixin
from .test_rights_over_rpc import RpcMixin


class JobDeletionMixin:
    def assert_kept(self, repair, message):
        """``repair`` is still here, its RO open at the fleet and never told to cancel; ``message`` says why."""
        self.assertIn(repair.name, message)
        self.assertIn("Cancel the job instead", message)
        self.env.invalidate_all()
        self.assertTrue(repair.exists())
        self.assertNotEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["status"], "cancelled")
        self.assertFalse(self.fleet_requests(f"/v1/repair-orders/{repair.fleet_ro_id}/cancel"))


@tagged("post_install", "-at_install")
class TestJobDeletion(JobDeletionMixin, AutoIntegrateFlowCase):
    def test_a_draft_job_at_the_fleet_is_not_deleted(self):
        pending = self.make_job()
        self.send(pending)
        approved = self.make_job()
        self.send(approved)
        self.fleet_decide(approved, all="approved")
        approved._fleet_refresh()
        self.assertEqual((approved.state, approved.fleet_status), ("draft", "approved"))
        for repair in (pending, approved):
            with self.subTest(status=repair.fleet_status), self.assertRaises(UserError) as info:
                repair.unlink()
            self.assert_kept(repair, str(info.exception))
        # one refused job keeps the whole batch
        unsent = self.make_job()
        with self.assertRaises(UserError):
            (unsent | pending).unlink()
        self.assertTrue(unsent.exists())

    def test_a_confirmed_job_is_not_cancelled_at_the_fleet_by_deleting_it(self):
        """Odoo deletes a confirmed job by cancelling it first: not a job the fleet has, which is refused
        before anything reaches the fleet."""
        repair = self.make_job()
        self.send(repair)
        self.fleet_decide(repair, all="approved")
        repair._fleet_refresh()
        repair.action_validate()
        self.assertEqual(repair.state, "confirmed")
        with self.assertRaises(UserError) as info:
            repair.unlink()
        self.assert_kept(repair, str(info.exception))
        self.assertEqual(repair.state, "confirmed")

    def test_the_quotation_of_a_job_at_the_fleet_is_not_deleted(self):
        """Cancelled, a quotation may be deleted in Odoo: not the one a job at the fleet is worked and invoiced
        from."""
        repair = self.make_job()
        self.send(repair)
        order = repair.sale_order_id
        order._action_cancel()
        with self.assertRaisesRegex(UserError, "still open at the fleet"):
            order.unlink()
        self.env.invalidate_all()
        self.assertEqual(repair.sale_order_id, order)
        # a walk-in's cancelled quotation goes as in any shop
        walk_in = self.make_job(self.walk_in)
        walk_in.sale_order_id._action_cancel()
        walk_in.sale_order_id.unlink()
        self.assertFalse(walk_in.sale_order_id)

    def test_a_job_cancelled_at_the_fleet_or_never_sent_is_deleted(self):
        unsent = self.make_job()
        unsent.unlink()
        self.assertFalse(unsent.exists())
        repair = self.make_job()
        self.send(repair)
        repair.action_repair_cancel()
        self.assertEqual(self.admin_get(f"/ro/{repair.fleet_ro_id}")["status"], "cancelled")
        self.assertEqual(repair.fleet_status, "cancelled")
        repair.unlink()
        self.assertFalse(repair.exists())


@tagged("post_install", "-at_install")
class TestJobDeletionOverRpc(JobDeletionMixin, RpcMixin, FlowMixin, AutoIntegrateHttpCase):
    """As the web client's Delete calls it, for a repair user and an AutoIntegrate user alike."""

    def test_deleting_a_job_at_the_fleet_is_refused_over_rpc(self):
        new_test_user(self.env, login="del_repair", password="del_repair", groups="stock.group_stock_user")
        new_test_user(self.env, login="del_fleet", password="del_fleet",
                      groups="stock.group_stock_user,omega_autointegrate.group_autointegrate_user")
        repair = self.make_job()
        self.send(repair)
        self.env.flush_all()
        for login in ("del_repair", "del_fleet", "admin"):
            with self.subTest(user=login):
                error = self.refused(login, "repair.order", "unlink", [repair.id])
                self.assertEqual(error["name"], "odoo.exceptions.UserError")
                self.assert_kept(repair, error["message"])
        unsent = self.make_job()
        self.env.flush_all()
        self.ok("del_repair", "repair.order", "unlink", [unsent.id])
        self.env.invalidate_all()
        self.assertFalse(unsent.exists())
