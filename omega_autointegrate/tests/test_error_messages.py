"""The three things a failed call can mean, told apart to the user: nothing
was sent (check the URL and the network), sent but the answer was lost (the
fleet may have acted; trying again is safe and never does it twice), or
refused (what to fix)."""

import socket

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..lib.autointegrate.client import DEFAULT_TOKEN_CACHE
from .common import AutoIntegrateFlowCase


@tagged("post_install", "-at_install")
class TestErrorMessages(AutoIntegrateFlowCase):
    def setUp(self):
        super().setUp()
        self.without_backoff()

    def send_error(self, repair, faults=None):
        """:return: the message of the ``UserError`` sending ``repair`` meets (with ``faults`` at the fleet)"""
        if faults:
            self.company._autointegrate_client().fetch_token()  # the token is not what gets lost
            self.simulator.set_faults(faults)
        try:
            with self.assertRaises(UserError) as info, self.env.cr.savepoint():
                repair._fleet_send()
        finally:
            self.simulator.set_faults({})
        return str(info.exception)

    def test_nothing_sent_says_check_the_url_and_the_network(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.account.api_url = f"http://127.0.0.1:{port}"
        DEFAULT_TOKEN_CACHE.clear()
        message = self.send_error(self.make_job())
        self.assertIn(f"AutoIntegrate could not be reached at http://127.0.0.1:{port}, so nothing was sent", message)
        self.assertIn("Check the API URL and the network", message)
        self.assertNotIn("may already have acted", message)

    def test_sent_without_an_answer_says_the_fleet_may_have_acted_and_trying_again_is_safe(self):
        repair = self.make_job()
        message = self.send_error(repair, {"drop_after_processing_next": 10, "path_prefix": "/v1/"})
        self.assertIn("The request reached AutoIntegrate but its answer was lost", message)
        self.assertIn("the fleet may already have acted on it. Trying again is safe: the same request is never "
                      "done twice.", message)
        self.assertNotIn("could not be reached", message)
        self.assertNotIn("Check the API URL", message)
        self.assertEqual(len(self.fleet_ros()), 1)  # it did act
        # as the message says: trying again is safe, the fleet keeps one RO
        self.assertTrue(repair._fleet_send())
        self.assertEqual([ro["ro_id"] for ro in self.fleet_ros()], [repair.fleet_ro_id])

    def test_a_timeout_after_sending_is_no_answer_either(self):
        repair = self.make_job()
        self.env["ir.config_parameter"].sudo().set_param("omega_autointegrate.read_timeout", "0.2")
        message = self.send_error(repair, {"delay_s": 0.5, "path_prefix": "/v1/"})
        self.assertIn("its answer was lost", message)
        self.assertIn("Trying again is safe", message)
        self.assertNotIn("could not be reached", message)

    def test_a_refusal_says_what_to_fix(self):
        repair = self.make_job()
        self.fleet_account.fleet_company_code = "NOPE-1"
        message = self.send_error(repair)
        self.assertIn("does not know this Fleet Company ID. Check it on the customer's account.", message)
        self.assertNotIn("could not be reached", message)
        self.assertNotIn("answer was lost", message)
        self.fleet_account.fleet_company_code = "ENT-0042"
        message = self.send_error(repair, {"next": [422]})
        self.assertIn(f"The fleet refused {repair.name}. Fix the following:", message)
        self.assertNotIn("could not be reached", message)
