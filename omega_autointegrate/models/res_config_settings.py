from odoo import _, api, fields, models

from ..const import DEFAULT_RETENTION_DAYS, PARAM_CONNECT_TIMEOUT, PARAM_LOG_RETENTION_DAYS, PARAM_READ_TIMEOUT
from ..lib import autointegrate as ai
from ..tools import user_error


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    autointegrate_api_url = fields.Char(string="API URL", related="company_id.autointegrate_api_url", readonly=False)
    autointegrate_client_id = fields.Char(
        string="Client ID", related="company_id.autointegrate_client_id", readonly=False
    )
    autointegrate_client_secret = fields.Char(
        string="Client Secret", related="company_id.autointegrate_client_secret", readonly=False,
        groups="base.group_system",
    )
    autointegrate_webhook_secret = fields.Char(
        string="Webhook Secret", related="company_id.autointegrate_webhook_secret", readonly=False,
        groups="base.group_system",
    )
    autointegrate_shop_id = fields.Char(string="Shop ID", related="company_id.autointegrate_shop_id", readonly=False)
    # Timeouts are about this server's network, not about a company's account.
    autointegrate_connect_timeout = fields.Integer(
        string="Connect timeout (s)", config_parameter=PARAM_CONNECT_TIMEOUT,
        default=int(ai.client.DEFAULT_CONNECT_TIMEOUT),
        help="Seconds to wait for AutoIntegrate to accept the connection.",
    )
    autointegrate_read_timeout = fields.Integer(
        string="Read timeout (s)", config_parameter=PARAM_READ_TIMEOUT, default=int(ai.client.DEFAULT_READ_TIMEOUT),
        help="Seconds to wait for AutoIntegrate's answer once connected.",
    )

    autointegrate_poll_interval = fields.Integer(
        string="Poll every (minutes)", compute="_compute_autointegrate_poll_interval",
        inverse="_inverse_autointegrate_poll_interval",
        help="How often the fleet's changes feed is read, in case a webhook was lost.",
    )
    autointegrate_log_retention_days = fields.Integer(
        string="Keep successful exchanges (days)", config_parameter=PARAM_LOG_RETENTION_DAYS,
        default=DEFAULT_RETENTION_DAYS,
        help="Successful exchanges with AutoIntegrate older than this are deleted every night; failed ones "
        "are kept until you delete them.",
    )
    autointegrate_webhook_url = fields.Char(
        string="Webhook URL", compute="_compute_autointegrate_webhook_url",
        help="Give this address to AutoIntegrate so the fleet's decisions arrive at once.",
    )

    @api.depends("company_id")
    def _compute_autointegrate_poll_interval(self):
        cron = self.env.ref("omega_autointegrate.ir_cron_autointegrate_poll", raise_if_not_found=False)
        for settings in self:
            settings.autointegrate_poll_interval = cron.sudo().interval_number if cron else 0

    def _inverse_autointegrate_poll_interval(self):
        cron = self.env.ref("omega_autointegrate.ir_cron_autointegrate_poll", raise_if_not_found=False)
        for settings in self:
            if cron and settings.autointegrate_poll_interval > 0:
                cron.sudo().write({"interval_number": settings.autointegrate_poll_interval,
                                   "interval_type": "minutes"})

    @api.depends("company_id")
    def _compute_autointegrate_webhook_url(self):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for settings in self:
            settings.autointegrate_webhook_url = f"{base}/autointegrate/webhook/{self.env.cr.dbname}"

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
