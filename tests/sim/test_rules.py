"""The fleet's rules over one RO (autointegrate_sim.rules), without any network."""

from autointegrate_sim.rules import approved_total, derive_ro_status


def test_derive_status():
    def lines(*statuses):
        return [{"status": s} for s in statuses]
    assert derive_ro_status(lines("pending", "approved")) == "pending"
    assert derive_ro_status(lines("approved", "adjusted")) == "approved"
    assert derive_ro_status(lines("denied", "denied")) == "denied"
    assert derive_ro_status(lines("denied", "approved")) == "partially_approved"
    assert derive_ro_status(lines("approved"), "cancelled") == "cancelled"
    assert derive_ro_status(lines("denied"), "info_requested") == "info_requested"
    assert derive_ro_status([]) == "pending"


def test_approved_total_counts_approved_and_adjusted_lines_only():
    lines = [{"status": "approved", "approved_amount": "412.00"}, {"status": "adjusted", "approved_amount": "95.00"},
             {"status": "denied", "approved_amount": "0.00"}, {"status": "pending", "approved_amount": None}]
    assert approved_total(lines) == "507.00"
    assert approved_total(lines[2:]) == "0.00"
