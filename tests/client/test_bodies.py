"""The contract's value formats and body checks, without any network."""

import copy
from decimal import Decimal

import pytest

from autointegrate import bodies, formatting


def ro_body(**overrides):
    body = {
        "fleet_company_id": "ENT-0042",
        "shop_id": "SHOP-17",
        "shop_ro_ref": "RO/2026/00031",
        "currency": "USD",
        "vehicle": {"vin": "1FTFW1E50NFA00001", "plate": "7ABC123", "plate_region": "CA",
                    "unit_number": "U-5521", "odometer": 48211, "odometer_unit": "mi",
                    "year": 2022, "make": "Ford", "model": "F-150"},
        "complaint": "Windshield cracked across driver view",
        "notes": ["Customer reports rock chip spread overnight"],
        "lines": [
            {"line_ref": "L1", "type": "part", "service_code": "GLASS-WS",
             "description": "Windshield FW05432 GTY", "quantity": "1.000",
             "unit_price": "412.00", "amount": "412.00", "taxable": True,
             "notes": ["OEM glass required for ADAS camera"]},
            {"line_ref": "L2", "type": "labor", "service_code": "LAB-GLASS",
             "description": "Install windshield", "quantity": "1.500",
             "unit_price": "95.00", "amount": "142.50", "taxable": False, "notes": []},
        ],
        "totals": {"untaxed": "554.50", "tax": "32.96", "total": "587.46"},
    }
    body.update(overrides)
    return body


def fields(details):
    return [d["field"] for d in details]


def test_contract_example_is_valid():
    assert bodies.validate_ro_body(ro_body()) == []


def test_resubmit_needs_base_revision():
    assert fields(bodies.validate_ro_body(ro_body(), resubmit=True)) == ["base_revision"]
    assert bodies.validate_ro_body(ro_body(base_revision=1), resubmit=True) == []
    assert fields(bodies.validate_ro_body(ro_body(base_revision=0), resubmit=True)) == ["base_revision"]


@pytest.mark.parametrize(("quantity", "unit_price", "expected"), [
    ("1.500", "95.00", "142.50"),
    ("0.333", "10.00", "3.33"),
    ("0.125", "0.20", "0.03"),    # 0.025 rounds half up
    ("1.000", "-10.05", "-10.05"),
    ("0.500", "-0.05", "-0.03"),  # half away from zero
])
def test_line_amount_rounds_half_up(quantity, unit_price, expected):
    assert formatting.line_amount(quantity, unit_price) == Decimal(expected)


def test_formatting():
    assert formatting.format_amount(Decimal("1.005")) == "1.01"
    assert formatting.format_amount(3) == "3.00"
    assert formatting.format_amount(0.1 + 0.2) == "0.30"
    assert formatting.format_quantity(1.5) == "1.500"


def test_every_broken_field_is_named():
    body = ro_body()
    body["shop_ro_ref"] = "RO 31"             # space not allowed
    body["vehicle"]["vin"] = "1FTFW1E50NFA0000I"  # I not allowed
    body["lines"][0]["amount"] = "411.00"     # not qty × price
    body["lines"][1]["unit_price"] = 95.0     # float, not a string
    body["lines"][1]["type"] = "magic"
    body["totals"]["total"] = "1.00"
    assert fields(bodies.validate_ro_body(body)) == [
        "shop_ro_ref", "vehicle.vin", "lines[0].amount", "lines[1].type",
        "lines[1].unit_price", "totals.untaxed", "totals.total",
    ]


def test_only_discount_lines_may_be_negative():
    body = ro_body()
    body["lines"].append({"line_ref": "D1", "type": "discount", "description": "Fleet discount",
                          "quantity": "1.000", "unit_price": "-54.50", "amount": "-54.50"})
    body["totals"] = {"untaxed": "500.00", "tax": "30.00", "total": "530.00"}
    assert bodies.validate_ro_body(body) == []
    body["lines"][2]["type"] = "fee"
    assert fields(bodies.validate_ro_body(body)) == ["lines[2].unit_price", "lines[2].amount"]


def test_duplicate_line_ref_and_empty_lines():
    body = ro_body()
    body["lines"][1]["line_ref"] = "L1"
    assert fields(bodies.validate_ro_body(body)) == ["lines[1].line_ref"]
    assert "lines" in fields(bodies.validate_ro_body(ro_body(lines=[])))


@pytest.mark.parametrize("vin", [None, "1FTFW1E50NFA00001", "JH4KA7561PC008269"])
def test_valid_vins(vin):
    body = ro_body()
    body["vehicle"]["vin"] = vin
    assert bodies.validate_ro_body(body) == []


@pytest.mark.parametrize("vin", ["1ftfw1e50nfa00001", "1FTFW1E50NFA0000", "1FTFW1E50NFA00001X", "1FTFW1E50NFA0000O",
                                 "1FTFW1E50NFA0000Q", 12345678901234567])
def test_invalid_vins(vin):
    body = ro_body()
    body["vehicle"]["vin"] = vin
    assert fields(bodies.validate_ro_body(body)) == ["vehicle.vin"]


def test_not_an_object():
    assert fields(bodies.validate_ro_body([])) == [""]
    assert fields(bodies.validate_note_body("x")) == [""]
    assert fields(bodies.validate_invoice_body(None)) == [""]


def test_note_rules():
    assert bodies.validate_note_body({"text": "ok", "line_ref": None}) == []
    assert fields(bodies.validate_note_body({"text": ""})) == ["text"]
    assert fields(bodies.validate_note_body({"text": "x" * 4001})) == ["text"]
    assert fields(bodies.validate_note_body({"text": "x", "line_ref": "bad ref"})) == ["line_ref"]


def test_invoice_rules():
    good = {"invoice_number": "INV/2026/0012", "invoice_date": "2026-11-29", "odometer": 48230,
            "lines": [{"line_ref": "L1", "quantity": "1.000", "amount": "412.00"}],
            "totals": {"untaxed": "412.00", "tax": "0.00", "total": "412.00"}}
    assert bodies.validate_invoice_body(good) == []
    bad = copy.deepcopy(good)
    bad["invoice_date"] = "29/11/2026"
    bad["totals"]["untaxed"] = "400.00"
    assert fields(bodies.validate_invoice_body(bad)) == ["invoice_date", "totals.untaxed", "totals.total"]


def test_body_digest_ignores_key_order():
    assert formatting.body_digest({"a": 1, "b": [1, 2]}) == formatting.body_digest({"b": [1, 2], "a": 1})
    assert formatting.body_digest({"a": 1}) != formatting.body_digest({"a": 2})


@pytest.mark.parametrize("value", ["L1\n", "1.00\n", "1FTFW1E50NFA00001\n"])
def test_trailing_newline_is_not_accepted(value):
    assert not formatting.is_ref(value)
    assert formatting.parse_amount(value) is None
    assert not formatting.is_vin(value)
    assert formatting.parse_quantity(value) is None


def test_a_lone_surrogate_is_no_text():
    # what json.loads makes of "\\udc80": no UTF-8 text holds it, so neither side could send or store it
    body = ro_body(complaint="cracked \udc80", notes=["ok", "bad \udc80"])
    body["vehicle"]["make"] = "Fo\udc80rd"
    assert fields(bodies.validate_ro_body(body)) == ["vehicle.make", "complaint", "notes[1]"]
    assert fields(bodies.validate_note_body({"text": "\ud800"})) == ["text"]
    assert fields(bodies.validate_cancel_body({"reason": "x\udc80"})) == ["reason"]


def test_cancel_rules():
    assert bodies.validate_cancel_body({}) == [] and bodies.validate_cancel_body({"reason": "Declined"}) == []
    assert fields(bodies.validate_cancel_body({"reason": 5})) == ["reason"]
    assert fields(bodies.validate_cancel_body({"reason": "x" * 4001})) == ["reason"]
    assert fields(bodies.validate_cancel_body(None)) == [""]
