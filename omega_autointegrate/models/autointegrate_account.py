from odoo import api, fields, models


class AutoIntegrateAccount(models.Model):
    """A company's AutoIntegrate API account: where the API is, the client
    credentials AutoIntegrate issued to the shop, its shop id, the webhook
    secret, and where the changes-feed poll stands.

    It is kept off ``res.company``, which every user reads and exports
    through relations (``company_id/...`` on any record): only
    administrators have access to this model, and no field of any other
    model points to it. Its secrets are readable by nobody, administrators
    included (``groups="."``): the addon's code reads them in sudo, the
    settings page writes them and shows whether each is set. As payment
    providers keep their keys, with one account per company.

    An export checks a field's access only when it fetches the value, not
    when a sudo read left it in the transaction's cache: the secrets are not
    prefetched with the account's other fields (the addon reads the shop id
    in sudo for every RO it sends), and whether one is set is searched, not
    read.
    """

    _name = "autointegrate.account"
    _description = "AutoIntegrate account"
    _rec_name = "company_id"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, ondelete="cascade", default=lambda self: self.env.company,
        help="Each shop (company) has its own AutoIntegrate account.",
    )
    api_url = fields.Char(
        string="API URL", help="Base URL of the AutoIntegrate API, e.g. https://api.autointegrate.example",
    )
    client_id = fields.Char(
        string="Client ID", copy=False,
        help="The API client ID AutoIntegrate issued to this shop (OAuth2 client credentials).",
    )
    client_secret = fields.Char(
        copy=False, groups=".", prefetch=False,
        help="The API client secret that goes with the client ID. Nobody reads it back once saved.",
    )
    client_secret_set = fields.Boolean(compute="_compute_secrets_set")
    shop_id = fields.Char(
        string="Shop ID", copy=False,
        help="The shop identifier AutoIntegrate gave this company; sent with every repair order.",
    )
    webhook_secret = fields.Char(
        copy=False, groups=".", prefetch=False,
        help="The secret AutoIntegrate signs its webhooks with; webhooks with another signature are refused.",
    )
    webhook_secret_set = fields.Boolean(compute="_compute_secrets_set")

    # where the changes-feed poll stands (see autointegrate.sync)
    poll_since = fields.Char(copy=False, readonly=True)
    poll_next_since = fields.Char(copy=False, readonly=True)
    poll_cursor = fields.Char(copy=False, readonly=True)
    reconciled_at = fields.Datetime(copy=False, readonly=True)

    _sql_constraints = [
        ("company_unique", "unique(company_id)", "A company has one AutoIntegrate account."),
    ]

    @api.depends("client_secret", "webhook_secret")
    def _compute_secrets_set(self):
        # whether a secret is set, never the secret: searched (in sudo), not read into the cache
        accounts = self.sudo()
        with_client = set(accounts.search([("id", "in", self.ids), ("client_secret", "!=", False)]).ids)
        with_webhook = set(accounts.search([("id", "in", self.ids), ("webhook_secret", "!=", False)]).ids)
        for account in self:
            account.client_secret_set = account.id in with_client
            account.webhook_secret_set = account.id in with_webhook
