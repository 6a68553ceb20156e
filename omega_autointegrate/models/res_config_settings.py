from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..const import DEFAULT_RETENTION_DAYS, PARAM_CONNECT_TIMEOUT, PARAM_LOG_RETENTION_DAYS, PARAM_READ_TIMEOUT
from ..lib import autointegrate as ai
from ..tools import user_error


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # The company's autointegrate.account, edited here (administrators only). Its secrets are
    # write-only: these fields are always read empty, the *_set ones say whether a secret is saved,
    # and a secret typed here is saved without ever being sent back (not even stored in this record).
    autointegrate_api_url = fields.Char(
        string="API URL", compute="_compute_autointegrate_account", inverse="_inverse_autointegrate_account",
        groups="base.group_system",
    )
    autointegrate_client_id = fields.Char(
        string="Client ID", compute="_compute_autointegrate_account", inverse="_inverse_autointegrate_account",
        groups="base.group_system",
    )
    autointegrate_shop_id = fields.Char(
        string="Shop ID", compute="_compute_autointegrate_account", inverse="_inverse_autointegrate_account",
        groups="base.group_system",
    )
    autointegrate_client_secret = fields.Char(
        string="Client Secret", compute="_compute_autointegrate_secrets",
        inverse="_inverse_autointegrate_client_secret", groups="base.group_system",
        help="Type the client secret to save it; once saved it is never shown again. Type another to replace it.",
    )
    autointegrate_client_secret_set = fields.Boolean(
        string="Client Secret Saved", compute="_compute_autointegrate_secrets", groups="base.group_system",
    )
    autointegrate_webhook_secret = fields.Char(
        string="Webhook Secret", compute="_compute_autointegrate_secrets",
        inverse="_inverse_autointegrate_webhook_secret", groups="base.group_system",
        help="Type the webhook secret to save it; once saved it is never shown again. Type another to replace it.",
    )
    autointegrate_webhook_secret_set = fields.Boolean(
        string="Webhook Secret Saved", compute="_compute_autointegrate_secrets", groups="base.group_system",
    )
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
    def _compute_autointegrate_account(self):
        for settings in self:
            account = settings.company_id._autointegrate_account()
            settings.autointegrate_api_url = account.api_url
            settings.autointegrate_client_id = account.client_id
            settings.autointegrate_shop_id = account.shop_id

    def _inverse_autointegrate_account(self):
        for settings in self:
            values = {
                "api_url": (settings.autointegrate_api_url or "").strip() or False,
                "client_id": (settings.autointegrate_client_id or "").strip() or False,
                "shop_id": (settings.autointegrate_shop_id or "").strip() or False,
            }
            # every settings page saves these fields: a company without AutoIntegrate gets no account
            account = settings.company_id._autointegrate_account()
            changed = any(account[name] != value for name, value in values.items()) if account else any(
                values.values())
            if changed:
                settings._autointegrate_account_to_save().write(values)

    @api.depends("company_id")
    def _compute_autointegrate_secrets(self):
        for settings in self:
            account = settings.company_id._autointegrate_account()
            settings.autointegrate_client_secret = False
            settings.autointegrate_webhook_secret = False
            settings.autointegrate_client_secret_set = account.client_secret_set
            settings.autointegrate_webhook_secret_set = account.webhook_secret_set

    def _inverse_autointegrate_client_secret(self):
        for settings in self.filtered("autointegrate_client_secret"):
            settings._autointegrate_account_to_save().client_secret = settings.autointegrate_client_secret.strip()
        # read again, the field says nothing: not even what was just typed goes back
        self.invalidate_recordset(["autointegrate_client_secret", "autointegrate_client_secret_set"])

    def _inverse_autointegrate_webhook_secret(self):
        for settings in self.filtered("autointegrate_webhook_secret"):
            settings._autointegrate_account_to_save().webhook_secret = settings.autointegrate_webhook_secret.strip()
        self.invalidate_recordset(["autointegrate_webhook_secret", "autointegrate_webhook_secret_set"])

    def _autointegrate_account_to_save(self):
        """:return: the account these settings save (created when the company has none), in sudo:
        its secrets are readable by nobody, so not writable without it either"""
        self.ensure_one()
        self._autointegrate_check_account_rights()
        company = self.company_id
        return company._autointegrate_account() or self.env["autointegrate.account"].sudo().create(
            {"company_id": company.id})

    def _autointegrate_check_account_rights(self):
        """Refuse a user who may not change this company's AutoIntegrate account, before anything
        uses it in sudo: the account's access rows (administrators) and its rule (their companies).

        :raise AccessError: naming what is missing
        """
        self.ensure_one()
        if self.env.su:
            return
        self.env["autointegrate.account"].check_access("write")
        if self.company_id not in self.env.companies:
            raise AccessError(_("You cannot change the AutoIntegrate account of %(company)s: it is not one of "
                                "your companies.", company=self.company_id.display_name))

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
        self._autointegrate_check_account_rights()
        # one attempt: a person is waiting for the answer
        client = self.company_id._autointegrate_client(max_attempts=1)
        try:
            client.test_connection()
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error, client.base_url) from error
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("AutoIntegrate connection works"),
                "message": _("%(url)s accepted the client ID and secret.", url=client.base_url),
                "sticky": False,
            },
        }
