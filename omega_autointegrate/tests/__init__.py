from . import (
    test_accounts,
    test_communication,
    test_hostile_input,
    test_invoicing,
    test_live_status,
    test_performance,
    test_reliability,
    test_report,
    test_resubmit,
    test_send,
    test_settings,
    test_tour,
)
