from . import (
    autointegrate_note,
    product_template,
    repair_order,
    res_company,
    res_config_settings,
    res_partner,
    sale_order,
    sale_order_line,
)
