"""The contract's data rules, shared by the client and the simulator.

Amounts are decimal strings with exactly two decimals, quantities strings with
up to three; money arithmetic uses :class:`decimal.Decimal` and rounds half
away from zero. Every ``validate_*`` function returns the contract's 422
``details`` list (``[{"field": ..., "message": ...}]``), empty when the body is
valid, so both sides report every problem at once.
"""

import hashlib
import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
MILLI = Decimal("0.001")

LINE_TYPES = ("part", "labor", "fee", "sublet", "tire", "glass", "discount")
LINE_STATUSES = ("pending", "approved", "adjusted", "denied")
RO_STATUSES = (
    "pending",
    "approved",
    "partially_approved",
    "denied",
    "info_requested",
    "completed",
    "cancelled",
)
ODOMETER_UNITS = ("mi", "km")

# used with fullmatch: "$" alone would let a trailing newline through
REF_RE = re.compile(r"[A-Za-z0-9._:/-]{1,64}")
VIN_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
AMOUNT_RE = re.compile(r"-?[0-9]{1,12}\.[0-9]{2}")
QUANTITY_RE = re.compile(r"-?[0-9]{1,9}(\.[0-9]{1,3})?")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

NOTE_MAX = 4000
TEXT_MAX = 1000
SHORT_MAX = 64


# --------------------------------------------------------------- formatting
def to_decimal(value):
    """:return: ``value`` as a Decimal (floats go through ``repr``)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


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


def is_ref(value):
    """Whether ``value`` is a shop identifier (1-64 of ``[A-Za-z0-9._:/-]``)."""
    return isinstance(value, str) and bool(REF_RE.fullmatch(value))


def is_vin(value):
    """Whether ``value`` is a 17-character VIN without I, O or Q."""
    return isinstance(value, str) and bool(VIN_RE.fullmatch(value))


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


# ---------------------------------------------------------------- validation
class _Checker:
    def __init__(self):
        self.details = []

    def error(self, field, message):
        self.details.append({"field": field, "message": message})

    def text(self, obj, key, prefix, *, required, max_len=TEXT_MAX):
        value = obj.get(key)
        field = prefix + key
        if value is None:
            if required:
                self.error(field, "is required")
            return None
        if not isinstance(value, str):
            self.error(field, "must be a string")
            return None
        if required and not value.strip():
            self.error(field, "must not be empty")
        elif len(value) > max_len:
            self.error(field, f"must be at most {max_len} characters")
        return value

    def ref(self, obj, key, prefix):
        value = obj.get(key)
        if value is None:
            self.error(prefix + key, "is required")
        elif not is_ref(value):
            self.error(prefix + key, "must be 1-64 characters from A-Z a-z 0-9 . _ : / -")
        return value

    def amount(self, obj, key, prefix):
        value = obj.get(key)
        parsed = parse_amount(value)
        if value is None:
            self.error(prefix + key, "is required")
        elif parsed is None:
            self.error(prefix + key, 'must be a string amount with two decimals, e.g. "125.00"')
        return parsed

    def quantity(self, obj, key, prefix):
        value = obj.get(key)
        parsed = parse_quantity(value)
        if value is None:
            self.error(prefix + key, "is required")
        elif parsed is None:
            self.error(prefix + key, 'must be a string quantity with up to three decimals, e.g. "1.500"')
        return parsed

    def integer(self, obj, key, prefix, *, minimum=None, maximum=None):
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(prefix + key, "must be an integer")
            return None
        if minimum is not None and value < minimum:
            self.error(prefix + key, f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            self.error(prefix + key, f"must be at most {maximum}")
        return value

    def notes(self, obj, key, prefix):
        value = obj.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(prefix + key, "must be a list of strings")
            return []
        for i, note in enumerate(value):
            if not isinstance(note, str) or not note.strip():
                self.error(f"{prefix}{key}[{i}]", "must be a non-empty string")
            elif len(note) > NOTE_MAX:
                self.error(f"{prefix}{key}[{i}]", f"must be at most {NOTE_MAX} characters")
        return value


def _check_vehicle(chk, vehicle):
    if vehicle is None:
        chk.error("vehicle", "is required")
        return
    if not isinstance(vehicle, dict):
        chk.error("vehicle", "must be an object")
        return
    vin = vehicle.get("vin")
    if vin is not None and not is_vin(vin):
        chk.error("vehicle.vin", "must be 17 upper-case letters and digits without I, O or Q")
    for key in ("plate", "plate_region", "unit_number", "make", "model"):
        chk.text(vehicle, key, "vehicle.", required=False, max_len=SHORT_MAX)
    chk.integer(vehicle, "odometer", "vehicle.", minimum=0, maximum=9_999_999)
    unit = vehicle.get("odometer_unit")
    if unit is not None and unit not in ODOMETER_UNITS:
        chk.error("vehicle.odometer_unit", "must be one of mi, km")
    chk.integer(vehicle, "year", "vehicle.", minimum=1900, maximum=2100)


def _check_lines(chk, lines, duplicate, check_line):
    """Check a body's ``lines``: a list of at least one object, each with a
    ``line_ref`` no other line has (``duplicate`` ends the message of one that
    another has), then the rest of each line with ``check_line(chk, prefix,
    line)``, which returns the line's amount (None if broken).

    :return: the sum of the line amounts, or None if a line is broken
    """
    if not isinstance(lines, list) or not lines:
        chk.error("lines", "must be a list with at least one line")
        return None
    total = Decimal(0)
    seen = set()
    for i, line in enumerate(lines):
        prefix = f"lines[{i}]."
        if not isinstance(line, dict):
            chk.error(f"lines[{i}]", "must be an object")
            total = None
            continue
        ref = chk.ref(line, "line_ref", prefix)
        if is_ref(ref):
            if ref in seen:
                chk.error(prefix + "line_ref", f"{ref} {duplicate}")
            seen.add(ref)
        amount = check_line(chk, prefix, line)
        total = None if amount is None or total is None else total + amount
    return total


def _check_ro_line(chk, prefix, line):
    """:return: the amount of a submitted line (4.1), None if broken."""
    line_type = line.get("type")
    if line_type not in LINE_TYPES:
        chk.error(prefix + "type", "must be one of " + ", ".join(LINE_TYPES))
    chk.text(line, "service_code", prefix, required=False, max_len=SHORT_MAX)
    chk.text(line, "description", prefix, required=True)
    quantity = chk.quantity(line, "quantity", prefix)
    unit_price = chk.amount(line, "unit_price", prefix)
    amount = chk.amount(line, "amount", prefix)
    if not isinstance(line.get("taxable", False), bool):
        chk.error(prefix + "taxable", "must be true or false")
    chk.notes(line, "notes", prefix)
    if quantity is not None and quantity < 0:
        chk.error(prefix + "quantity", "must not be negative")
    if line_type != "discount":
        if unit_price is not None and unit_price < 0:
            chk.error(prefix + "unit_price", "must not be negative (only discount lines may be)")
        if amount is not None and amount < 0:
            chk.error(prefix + "amount", "must not be negative (only discount lines may be)")
    if None not in (quantity, unit_price, amount):
        expected = line_amount(quantity, unit_price)
        if amount != expected:
            chk.error(prefix + "amount", f"must equal quantity × unit_price = {expected}")
    return amount


def _check_invoice_line(chk, prefix, line):
    """:return: the amount of an invoiced line (6.1), None if broken."""
    quantity = chk.quantity(line, "quantity", prefix)
    if quantity is not None and quantity < 0:
        chk.error(prefix + "quantity", "must not be negative")
    return chk.amount(line, "amount", prefix)


def _check_totals(chk, totals, lines_total):
    if not isinstance(totals, dict):
        chk.error("totals", "must be an object with untaxed, tax and total")
        return
    untaxed = chk.amount(totals, "untaxed", "totals.")
    tax = chk.amount(totals, "tax", "totals.")
    total = chk.amount(totals, "total", "totals.")
    if untaxed is not None and lines_total is not None and untaxed != lines_total:
        chk.error("totals.untaxed", f"must equal the sum of line amounts = {lines_total}")
    if None not in (untaxed, tax, total) and total != untaxed + tax:
        chk.error("totals.total", f"must equal untaxed + tax = {untaxed + tax}")
    if total is not None and total < 0:
        chk.error("totals.total", "must not be negative")


def validate_ro_body(body, *, resubmit=False):
    """Check a submit (4.1) or resubmit (4.2) body against the contract.

    :param body: the decoded JSON body
    :param resubmit: whether ``base_revision`` is required
    :return: the 422 details, empty when valid
    """
    chk = _Checker()
    if not isinstance(body, dict):
        chk.error("", "body must be a JSON object")
        return chk.details
    chk.ref(body, "fleet_company_id", "")
    chk.ref(body, "shop_id", "")
    chk.ref(body, "shop_ro_ref", "")
    currency = body.get("currency")
    if not isinstance(currency, str) or not CURRENCY_RE.fullmatch(currency):
        chk.error("currency", "must be an ISO 4217 code such as USD")
    _check_vehicle(chk, body.get("vehicle"))
    chk.text(body, "complaint", "", required=False, max_len=NOTE_MAX)
    chk.notes(body, "notes", "")
    lines_total = _check_lines(chk, body.get("lines"), "is used by another line", _check_ro_line)
    _check_totals(chk, body.get("totals"), lines_total)
    if resubmit:
        if body.get("base_revision") is None:
            chk.error("base_revision", "is required")
        else:
            chk.integer(body, "base_revision", "", minimum=1)
    return chk.details


def validate_note_body(body):
    """Check a note body (5.2). ``line_ref`` existence is the server's job."""
    chk = _Checker()
    if not isinstance(body, dict):
        chk.error("", "body must be a JSON object")
        return chk.details
    chk.text(body, "text", "", required=True, max_len=NOTE_MAX)
    if body.get("line_ref") is not None:  # optional: the note is then on the RO
        chk.ref(body, "line_ref", "")
    chk.text(body, "author", "", required=False, max_len=SHORT_MAX * 2)
    return chk.details


def validate_invoice_body(body):
    """Check the shape of an invoice body (6.1); the rules against the
    approved RO are the server's job."""
    chk = _Checker()
    if not isinstance(body, dict):
        chk.error("", "body must be a JSON object")
        return chk.details
    chk.text(body, "invoice_number", "", required=True, max_len=SHORT_MAX)
    date = body.get("invoice_date")
    if not isinstance(date, str) or not DATE_RE.fullmatch(date):
        chk.error("invoice_date", "must be a date YYYY-MM-DD")
    chk.integer(body, "odometer", "", minimum=0, maximum=9_999_999)
    total = _check_lines(chk, body.get("lines"), "is invoiced twice", _check_invoice_line)
    _check_totals(chk, body.get("totals"), total)
    return chk.details


def derive_ro_status(lines, current=None):
    """The RO status derived from its lines (4.4).

    :param lines: line states with a ``status`` each
    :param current: the RO's stored status; ``completed`` and ``cancelled``
        stick, ``info_requested`` is left to the caller to end
    """
    if current in ("completed", "cancelled", "info_requested"):
        return current
    statuses = [line["status"] for line in lines]
    if not statuses or "pending" in statuses:
        return "pending"
    if all(s in ("approved", "adjusted") for s in statuses):
        return "approved"
    if all(s == "denied" for s in statuses):
        return "denied"
    return "partially_approved"


def safe_decimal(value):
    """:return: Decimal of ``value`` or ``None`` when it is not a number."""
    try:
        return to_decimal(value) if value is not None else None
    except (InvalidOperation, ValueError, TypeError):
        return None


# ------------------------------------------------------------- RO states in
#: revisions and sequences are stored in 32-bit integer columns by the addon;
#: a larger one is refused as a protocol error rather than overflowing there
SEQUENCE_MAX = 2**31 - 1
#: fleet-chosen identifiers (RO, note and event ids): printable ASCII, no space
FLEET_ID_RE = re.compile(r"[\x21-\x7e]{1,128}")


def is_fleet_id(value):
    """Whether ``value`` is a usable fleet-chosen id (1-128 printable ASCII characters, no space)."""
    return isinstance(value, str) and bool(FLEET_ID_RE.fullmatch(value))


def _is_text(value, nullable=True):
    """A string a database column takes (no NUL, no lone surrogate from a ``\\udc80``
    escape), or ``None`` when allowed."""
    if value is None:
        return nullable
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_counter(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= SEQUENCE_MAX


def ro_state_problems(data):
    """Check an RO state (4.4) received from the fleet, by an answer or a webhook.

    Unknown keys are ignored; missing optional keys are fine. Every string
    must be free of NUL characters, amounts and quantities well-formed, ids
    usable.

    :return: the names of the wrong fields (empty when the state is usable)
    """
    if not isinstance(data, dict):
        return ["(not an object)"]
    problems = []
    if not is_fleet_id(data.get("ro_id")):
        problems.append("ro_id")
    for key in ("revision", "sequence"):
        if not _is_counter(data.get(key)):
            problems.append(key)
    if data.get("status") not in RO_STATUSES:
        problems.append("status")
    for key in ("shop_ro_ref", "fleet_company_id", "authorization_number", "decided_by", "decided_at",
                "updated_at", "invoice_number", "invoice_status"):
        if not _is_text(data.get(key)):
            problems.append(key)
    if data.get("approved_total") is not None and parse_amount(data["approved_total"]) is None:
        problems.append("approved_total")
    lines = data.get("lines")
    if not isinstance(lines, list):
        problems.append("lines")
    else:
        for i, line in enumerate(lines):
            if (
                not isinstance(line, dict)
                or not _is_text(line.get("line_ref"), nullable=False)
                or line.get("status") not in LINE_STATUSES
                or (line.get("approved_quantity") is not None and parse_quantity(line["approved_quantity"]) is None)
                or (line.get("approved_amount") is not None and parse_amount(line["approved_amount"]) is None)
                or not _is_text(line.get("reason"))
            ):
                problems.append(f"lines[{i}]")
    notes = data.get("notes", [])
    if not isinstance(notes, list):
        problems.append("notes")
    else:
        problems.extend(f"notes[{i}]" for i, note in enumerate(notes) if note_problems(note))
    return problems


def note_problems(note):
    """Check a note object (5.1) received from the fleet.

    :return: the names of the wrong fields (empty when the note is usable)
    """
    if not isinstance(note, dict):
        return ["(not an object)"]
    problems = []
    if not is_fleet_id(note.get("note_id")):
        problems.append("note_id")
    if not _is_text(note.get("text"), nullable=False):
        problems.append("text")
    for key in ("line_ref", "author", "author_type", "created_at"):
        if not _is_text(note.get(key)):
            problems.append(key)
    return problems


def event_problem(event):
    """Check a decoded webhook event (7): its envelope and its RO state.

    :return: what is wrong, in a few words, or ``None`` when it can be applied
    """
    if not isinstance(event, dict):
        return "body is not a JSON object"
    if not is_fleet_id(event.get("event_id")):
        return "event_id missing or not 1-128 printable characters"
    if not is_fleet_id(event.get("ro_id")):
        return "ro_id missing or not 1-128 printable characters"
    if not _is_counter(event.get("sequence")):
        return "sequence missing or out of range"
    if not _is_text(event.get("type")) or len(event.get("type") or "") > 64:
        return "type is not a short string"
    data = event.get("data")
    if not isinstance(data, dict) or data.get("ro_id") != event["ro_id"]:
        return "data is not the RO's state"
    problems = ro_state_problems(data)
    if problems:
        return "data is not a valid RO state: " + ", ".join(problems[:10])
    return None


def parse_event(raw):
    """Decode and check a webhook body (bytes) whose signature was verified.

    :return: ``(event, None)`` when it can be applied, else ``(None, problem)``
    """
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return None, "body is not JSON"
    problem = event_problem(event)
    return (None, problem) if problem else (event, None)
