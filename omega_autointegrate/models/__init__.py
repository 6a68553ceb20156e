# the mixin first: models below inherit it, and some import each other early
from . import autointegrate_chatter_mixin, autointegrate_fleet_state_mixin, autointegrate_normalize_mixin

# isort: split
from . import (
    account_move,
    autointegrate_account,
    autointegrate_authorization,
    autointegrate_authorization_line,
    autointegrate_document,
    autointegrate_document_rule,
    autointegrate_event,
    autointegrate_exchange,
    autointegrate_note,
    autointegrate_report,
    autointegrate_sync,
    payment_transaction,
    product_template,
    repair_order,
    res_company,
    res_config_settings,
    res_partner,
    sale_order,
    sale_order_line,
)
