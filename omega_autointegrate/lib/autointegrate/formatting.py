"""The contract's value formats: amounts, quantities, identifiers, canonical JSON.

Amounts are decimal strings with exactly two decimals, quantities strings with
up to three; money arithmetic uses :class:`decimal.Decimal` and rounds half
away from zero.
"""

import hashlib
import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MILLI = Decimal("0.001")

# used with fullmatch: "$" alone would let a trailing newline through
REF_RE = re.compile(r"[A-Za-z0-9._:/-]{1,64}")
VIN_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
AMOUNT_RE = re.compile(r"-?[0-9]{1,12}\.[0-9]{2}")
QUANTITY_RE = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,3})?")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: fleet-chosen identifiers (RO, note, document and event ids): printable ASCII, no space
FLEET_ID_RE = re.compile(r"[\x21-\x7e]{1,128}")
SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")


# ------------------------------------------------------------------ numbers
def to_decimal(value):
    """:return: ``value`` as a Decimal (floats go through ``repr``)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def safe_decimal(value):
    """:return: Decimal of ``value`` or ``None`` when it is not a number."""
    try:
        return to_decimal(value) if value is not None else None
    except (InvalidOperation, ValueError, TypeError):
        return None


def round_cents(value):
    """Round half away from zero to cents."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_amount(value):
    """:return: the contract's amount string, e.g. ``"142.50"``."""
    return str(round_cents(value))


def format_quantity(value):
    """:return: the contract's quantity string, e.g. ``"1.500"``."""
    return str(to_decimal(value).quantize(MILLI, rounding=ROUND_HALF_UP))


def line_amount(quantity, unit_price):
    """:return: ``quantity × unit_price`` rounded half-up to cents."""
    return round_cents(to_decimal(quantity) * to_decimal(unit_price))


def parse_amount(value):
    """:return: Decimal of a well-formed amount string, else ``None``."""
    if isinstance(value, str) and AMOUNT_RE.fullmatch(value):
        return Decimal(value)
    return None


def parse_quantity(value):
    """:return: Decimal of a well-formed quantity string, else ``None``."""
    if isinstance(value, str) and QUANTITY_RE.fullmatch(value):
        return Decimal(value)
    return None


# -------------------------------------------------------------- identifiers
def is_ref(value):
    """Whether ``value`` is a shop identifier (1-64 of ``[A-Za-z0-9._:/-]``)."""
    return isinstance(value, str) and bool(REF_RE.fullmatch(value))


def is_vin(value):
    """Whether ``value`` is a 17-character VIN without I, O or Q."""
    return isinstance(value, str) and bool(VIN_RE.fullmatch(value))


def is_fleet_id(value):
    """Whether ``value`` is a usable fleet-chosen id (1-128 printable ASCII characters, no space)."""
    return isinstance(value, str) and bool(FLEET_ID_RE.fullmatch(value))


def is_sha256(value):
    """Whether ``value`` is a SHA-256 digest in hex."""
    return isinstance(value, str) and bool(SHA256_RE.fullmatch(value))


# ------------------------------------------------------------ canonical JSON
def canonical_json(value):
    """JSON text that is equal for equal JSON values (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_digest(value, length=16):
    """A short stable hash of a JSON value, for idempotency keys."""
    return bytes_digest(canonical_json(value).encode(), length)


def bytes_digest(data, length=16):
    """:func:`body_digest` of the value whose canonical JSON, encoded, is ``data``."""
    return hashlib.sha256(data).hexdigest()[:length]
