{
    "name": "Omega AutoIntegrate",
    "version": "18.0.1.2.0",
    "category": "Services/Repairs",
    "summary": "Rental and lease fleets approve repair orders through AutoIntegrate; invoice what they approved",
    "author": "Omega",
    "website": "https://github.com/omega/omega-autointegrate",
    "license": "LGPL-3",
    "depends": ["repair", "sale_stock", "account"],
    "data": [
        "security/omega_autointegrate_security.xml",
        "security/ir.model.access.csv",
        "data/mail_message_subtype_data.xml",
        "data/ir_cron_data.xml",
        "views/res_config_settings_views.xml",
        "views/res_partner_views.xml",
        "views/product_template_views.xml",
        "views/repair_order_views.xml",
        "views/autointegrate_log_views.xml",
        "wizards/autointegrate_send_wizard_views.xml",
        "wizards/autointegrate_communication_wizard_views.xml",
        "wizards/autointegrate_repair_invoice_wizard_views.xml",
        "views/account_move_views.xml",
        "views/autointegrate_report_views.xml",
    ],
    "demo": [
        "demo/res_company_demo.xml",
        "demo/autointegrate_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "omega_autointegrate/static/src/**/*",
        ],
        "web.assets_tests": [
            "omega_autointegrate/static/tests/**/*",
        ],
    },
}
