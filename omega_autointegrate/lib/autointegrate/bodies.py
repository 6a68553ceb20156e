"""Checks of the bodies a shop sends (4.1, 4.2, 5.2, 6.1, 9.2).

The client runs them before sending and the simulator on what it receives,
so both refuse the same bodies with the same words. Every function returns
the contract's 422 ``details`` list (``[{"field": ..., "message": ...}]``),
empty when the body is valid, so every problem is reported at once. Rules
that need the RO (does that line exist, was it approved) are the fleet's.
"""

import base64
import binascii
import unicodedata
from decimal import Decimal

from .contract import (
    DOCUMENT_CONTENT_TYPES,
    DOCUMENT_KINDS,
    DOCUMENT_MAGIC,
    DOCUMENT_MAX_BYTES,
    FILE_NAME_MAX,
    LINE_TYPES,
    NOTE_MAX,
    ODOMETER_UNITS,
    SHORT_MAX,
    TEXT_MAX,
)
from .formatting import CURRENCY_RE, DATE_RE, is_ref, is_vin, line_amount, parse_amount, parse_quantity


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
        if not _is_unicode(value):
            self.error(field, "must be text (it holds a lone surrogate, which no UTF-8 text can)")
        elif required and not value.strip():
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
        return self._decimal(obj, key, prefix, parse_amount, 'must be a string amount with two decimals, e.g. "125.00"')

    def quantity(self, obj, key, prefix):
        return self._decimal(obj, key, prefix, parse_quantity,
                             'must be a string quantity with up to three decimals, e.g. "1.500"')

    def _decimal(self, obj, key, prefix, parse, wrong):
        """:return: the required decimal string ``obj[key]`` parsed by ``parse``; ``wrong`` says why when it is not."""
        value = obj.get(key)
        parsed = parse(value)
        if value is None:
            self.error(prefix + key, "is required")
        elif parsed is None:
            self.error(prefix + key, wrong)
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
            if not isinstance(note, str) or not note.strip() or not _is_unicode(note):
                self.error(f"{prefix}{key}[{i}]", "must be a non-empty string")
            elif len(note) > NOTE_MAX:
                self.error(f"{prefix}{key}[{i}]", f"must be at most {NOTE_MAX} characters")
        return value

    def choice(self, obj, key, prefix, choices):
        value = obj.get(key)
        if value not in choices:
            self.error(prefix + key, "must be one of " + ", ".join(choices))
        return value


def _is_unicode(text):
    """Whether ``text`` can be sent as UTF-8 (a ``\\udc80`` escape in JSON gives a lone surrogate, which cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _body_checker(body):
    """:return: a checker for ``body``, or ``None`` (the problem reported) when it is no object."""
    chk = _Checker()
    if not isinstance(body, dict):
        chk.error("", "body must be a JSON object")
        return chk, None
    return chk, body


# ------------------------------------------------------ 4.1 / 4.2 repair order
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
    line_type = chk.choice(line, "type", prefix, LINE_TYPES)
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
    chk, body = _body_checker(body)
    if body is None:
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


# ------------------------------------------------------------------ 5.2 note
def validate_note_body(body):
    """Check a note body (5.2). ``line_ref`` existence is the server's job."""
    chk, body = _body_checker(body)
    if body is None:
        return chk.details
    chk.text(body, "text", "", required=True, max_len=NOTE_MAX)
    if body.get("line_ref") is not None:  # optional: the note is then on the RO
        chk.ref(body, "line_ref", "")
    chk.text(body, "author", "", required=False, max_len=SHORT_MAX * 2)
    return chk.details


# ---------------------------------------------------------------- 6.2 cancel
def validate_cancel_body(body):
    """Check a cancel body (6.2): an optional ``reason``."""
    chk, body = _body_checker(body)
    if body is not None:
        chk.text(body, "reason", "", required=False, max_len=NOTE_MAX)
    return chk.details


# --------------------------------------------------------------- 6.1 invoice
def validate_invoice_body(body):
    """Check the shape of an invoice body (6.1); the rules against the
    approved RO are the server's job."""
    chk, body = _body_checker(body)
    if body is None:
        return chk.details
    chk.text(body, "invoice_number", "", required=True, max_len=SHORT_MAX)
    date = body.get("invoice_date")
    if not isinstance(date, str) or not DATE_RE.fullmatch(date):
        chk.error("invoice_date", "must be a date YYYY-MM-DD")
    chk.integer(body, "odometer", "", minimum=0, maximum=9_999_999)
    total = _check_lines(chk, body.get("lines"), "is invoiced twice", _check_invoice_line)
    _check_totals(chk, body.get("totals"), total)
    return chk.details


# ------------------------------------------------------------ 9.2 document
#: the longest ``content_base64`` that can decode to :data:`DOCUMENT_MAX_BYTES`
BASE64_MAX = 4 * -(-DOCUMENT_MAX_BYTES // 3)


def _file_name_problem(name):
    """:return: why ``name`` is not a document's file name, or ``None``."""
    if not isinstance(name, str):
        return "must be a string"
    if not 1 <= len(name) <= FILE_NAME_MAX:
        return f"must be 1-{FILE_NAME_MAX} characters"
    # Cc: control characters (C0, DEL and C1)
    if not _is_unicode(name) or any(char in "/\\" or unicodedata.category(char) == "Cc" for char in name):
        return "must not contain /, \\ or control characters"
    return None


def validate_document_fields(body):
    """Check an upload body (9.2) but its content: ``file_name``,
    ``content_type``, ``kind``, ``line_ref`` and ``description``. Whether the
    RO has that line is the server's job.

    :return: the 422 details, empty when valid
    """
    chk, body = _body_checker(body)
    if body is None:
        return chk.details
    if body.get("file_name") is None:
        chk.error("file_name", "is required")
    else:
        problem = _file_name_problem(body["file_name"])
        if problem:
            chk.error("file_name", problem)
    chk.choice(body, "content_type", "", DOCUMENT_CONTENT_TYPES)
    chk.choice(body, "kind", "", DOCUMENT_KINDS)
    if body.get("line_ref") is not None:  # optional: the document is then the RO's
        chk.ref(body, "line_ref", "")
    chk.text(body, "description", "", required=False, max_len=TEXT_MAX)
    return chk.details


def validate_document_content(content_type, content, field="content_base64"):
    """Check a document's decoded content: 1 byte to 10 MiB, starting with the
    bytes of its ``content_type`` (JPEG, PNG, PDF; HEIC's ``ftyp`` at offset 4).

    :param field: the name the details give the content
    :return: the 422 details, empty when valid
    """
    if not content:
        return [{"field": field, "message": "must not be empty (at least 1 byte)"}]
    if len(content) > DOCUMENT_MAX_BYTES:
        return [{"field": field, "message": f"must be at most {DOCUMENT_MAX_BYTES} bytes (10 MiB), "
                                            f"not {len(content)}"}]
    magic = DOCUMENT_MAGIC.get(content_type)
    if magic is not None:
        offset, expected = magic
        if bytes(content[offset:offset + len(expected)]) != expected:
            where = f" at byte {offset}" if offset else ""
            return [{"field": field, "message": f"is not a {content_type} file: it must have the bytes "
                                                f"{expected.hex(' ').upper()}{where}"}]
    return []


def decode_document_body(body):
    """Check an upload body (9.2), its content included, and decode it.

    :return: ``(content, details)``: the decoded bytes (``None`` when the body
        is not valid) and the 422 details, empty when valid
    """
    details = validate_document_fields(body)
    if not isinstance(body, dict):
        return None, details
    encoded = body.get("content_base64")
    content = None
    if encoded is None:
        details.append({"field": "content_base64", "message": "is required"})
    elif not isinstance(encoded, str):
        details.append({"field": "content_base64", "message": "must be a base64 string"})
    elif len(encoded) > BASE64_MAX:  # too large for any valid content: not decoded at all
        details.append({"field": "content_base64",
                        "message": f"must decode to at most {DOCUMENT_MAX_BYTES} bytes (10 MiB)"})
    else:
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            details.append({"field": "content_base64",
                            "message": "must be standard base64 (RFC 4648: A-Z a-z 0-9 + /, with = padding, "
                                       "no line breaks)"})
        else:
            details += validate_document_content(body.get("content_type"), content)
    return (None if details else content), details
