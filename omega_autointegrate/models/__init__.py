from . import (
    account_move,
    autointegrate_note,
    payment_transaction,
    product_template,
    repair_order,
    repair_order_invoicing,
    res_company,
    res_config_settings,
    res_partner,
    sale_order,
    sale_order_line,
)
