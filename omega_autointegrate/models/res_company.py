from odoo import _, fields, models
from odoo.exceptions import UserError

from ..const import PARAM_CONNECT_TIMEOUT, PARAM_READ_TIMEOUT
from ..lib import autointegrate as ai
from ..tools import user_error


class ResCompany(models.Model):
    _inherit = "res.company"

    # Per company: each shop (company) has its own AutoIntegrate account.
    autointegrate_api_url = fields.Char(
        string="AutoIntegrate API URL",
        help="Base URL of the AutoIntegrate API, e.g. https://api.autointegrate.example",
    )
    autointegrate_client_id = fields.Char(
        string="AutoIntegrate Client ID", copy=False,
        help="The API client ID AutoIntegrate issued to this shop (OAuth2 client credentials).",
    )
    autointegrate_client_secret = fields.Char(
        string="AutoIntegrate Client Secret", copy=False, groups="base.group_system",
        help="The API client secret that goes with the client ID. Only administrators can read it.",
    )
    autointegrate_webhook_secret = fields.Char(
        string="AutoIntegrate Webhook Secret", copy=False, groups="base.group_system",
        help="The secret AutoIntegrate signs its webhooks with; webhooks with another signature are refused.",
    )
    autointegrate_shop_id = fields.Char(
        string="AutoIntegrate Shop ID",
        copy=False,
        help="The shop identifier AutoIntegrate gave this company; sent with every repair order.",
    )

    # where the changes-feed poll stands (see autointegrate.sync)
    autointegrate_poll_since = fields.Char(copy=False, readonly=True)
    autointegrate_poll_next_since = fields.Char(copy=False, readonly=True)
    autointegrate_poll_cursor = fields.Char(copy=False, readonly=True)
    autointegrate_reconciled_at = fields.Datetime(copy=False, readonly=True)

    def _autointegrate_client(self, repair=None, **options):
        """Build the API client of this company's AutoIntegrate account.

        :param repair: the job the calls are about, for the exchange log
        :param options: extra :class:`autointegrate.Client` options

        :return: an :class:`autointegrate.Client`
        :raise UserError: the account is not configured
        """
        self.ensure_one()
        company = self.sudo()
        missing = [
            label
            for label, value in (
                (_("API URL"), company.autointegrate_api_url),
                (_("Client ID"), company.autointegrate_client_id),
                (_("Client Secret"), company.autointegrate_client_secret),
            )
            if not value
        ]
        if missing:
            raise UserError(
                _(
                    "AutoIntegrate is not configured for %(company)s: set %(fields)s in "
                    "Settings > Repairs > AutoIntegrate.",
                    company=self.display_name,
                    fields=", ".join(missing),
                )
            )
        params = self.env["ir.config_parameter"].sudo()
        try:
            return ai.Client(
                company.autointegrate_api_url,
                company.autointegrate_client_id,
                company.autointegrate_client_secret,
                connect_timeout=float(params.get_param(PARAM_CONNECT_TIMEOUT) or ai.client.DEFAULT_CONNECT_TIMEOUT),
                read_timeout=float(params.get_param(PARAM_READ_TIMEOUT) or ai.client.DEFAULT_READ_TIMEOUT),
                on_exchange=self.env["autointegrate.exchange"]._logger_for(self, repair),
                **options,
            )
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error) from error
