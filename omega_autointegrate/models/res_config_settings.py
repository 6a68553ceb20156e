from odoo import _, fields, models

import autointegrate as ai

from ..tools import user_error
from .res_company import PARAM_CONNECT_TIMEOUT, PARAM_READ_TIMEOUT


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    autointegrate_api_url = fields.Char(related="company_id.autointegrate_api_url", readonly=False)
    autointegrate_client_id = fields.Char(related="company_id.autointegrate_client_id", readonly=False)
    autointegrate_client_secret = fields.Char(
        related="company_id.autointegrate_client_secret", readonly=False, groups="base.group_system"
    )
    autointegrate_webhook_secret = fields.Char(
        related="company_id.autointegrate_webhook_secret", readonly=False, groups="base.group_system"
    )
    autointegrate_shop_id = fields.Char(related="company_id.autointegrate_shop_id", readonly=False)
    # Timeouts are about this server's network, not about a company's account.
    autointegrate_connect_timeout = fields.Integer(
        string="Connect timeout (s)", config_parameter=PARAM_CONNECT_TIMEOUT, default=5
    )
    autointegrate_read_timeout = fields.Integer(
        string="Read timeout (s)", config_parameter=PARAM_READ_TIMEOUT, default=30
    )

    def action_autointegrate_test_connection(self):
        """Fetch a token with the saved settings and say whether it worked.

        :return: a notification action on success
        :raise UserError: saying why the connection failed
        """
        self.ensure_one()
        company = self.company_id
        # one attempt: a person is waiting for the answer
        client = company._autointegrate_client(max_attempts=1)
        try:
            client.test_connection()
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error, company.autointegrate_api_url) from error
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("AutoIntegrate connection works"),
                "message": _("%(url)s accepted the client ID and secret.", url=company.autointegrate_api_url),
                "sticky": False,
            },
        }
