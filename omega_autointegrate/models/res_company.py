from odoo import _, models
from odoo.exceptions import UserError

from ..const import PARAM_CONNECT_TIMEOUT, PARAM_READ_TIMEOUT
from ..lib import autointegrate as ai
from ..tools import user_error


class ResCompany(models.Model):
    _inherit = "res.company"

    # Each shop (company) has its own AutoIntegrate account: an autointegrate.account, not fields
    # here, where every user reads and exports them through relations (company_id/...).

    def _autointegrate_account(self):
        """:return: this company's AutoIntegrate account in sudo (the addon's code
        uses its secrets; users never read them), or an empty recordset"""
        self.ensure_one()
        return self.env["autointegrate.account"].sudo().search([("company_id", "=", self.id)], limit=1)

    def _autointegrate_client(self, repair=None, **options):
        """Build the API client of this company's AutoIntegrate account.

        :param repair: the job the calls are about, for the exchange log
        :param options: extra :class:`autointegrate.Client` options

        :return: an :class:`autointegrate.Client`
        :raise UserError: the account is not configured
        """
        self.ensure_one()
        account = self._autointegrate_account()
        missing = [
            label
            for label, value in (
                (_("API URL"), account.api_url),
                (_("Client ID"), account.client_id),
                (_("Client Secret"), account.client_secret),
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
                account.api_url,
                account.client_id,
                account.client_secret,
                connect_timeout=float(params.get_param(PARAM_CONNECT_TIMEOUT) or ai.client.DEFAULT_CONNECT_TIMEOUT),
                read_timeout=float(params.get_param(PARAM_READ_TIMEOUT) or ai.client.DEFAULT_READ_TIMEOUT),
                on_exchange=self.env["autointegrate.exchange"]._logger_for(self, repair),
                **options,
            )
        except ai.AutoIntegrateError as error:
            raise user_error(self.env, error) from error
