"""Checks of what the fleet answers: RO states (4.4), notes (5.1) and documents (9.1).

The client checks every answer before handing it on, and the addon's webhook
receiver checks every event's RO state (:mod:`.events`), so the addon can
store what it gets: ids usable, counters in range, statuses known, amounts
well-formed, no NUL character in any string. Unknown keys are ignored, and
what an older fleet leaves out of an RO state is taken as empty
(:func:`with_defaults`).
"""

from .contract import LINE_STATUSES, RO_STATUSES, SEQUENCE_MAX
from .formatting import DATE_RE, is_fleet_id, is_sha256, parse_amount, parse_quantity

#: what an RO state from a fleet that predates a key means by leaving it out
STATE_DEFAULTS = {"notes": list, "invoice": lambda: None, "documents": list, "documents_requested": list}


def is_text(value, nullable=True):
    """Whether ``value`` is a string a database column takes (no NUL, no lone
    surrogate from a ``\\udc80`` escape), or ``None`` when ``nullable``."""
    if value is None:
        return nullable
    if not isinstance(value, str) or "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_counter(value):
    """Whether ``value`` is an integer the addon's 32-bit columns take (0 to :data:`SEQUENCE_MAX`)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= SEQUENCE_MAX


def ro_state_problems(data):
    """Check an RO state (4.4) received from the fleet, by an answer or a webhook.

    Unknown keys are ignored; missing optional keys are fine (``notes``,
    ``invoice``, ``documents`` and ``documents_requested`` included: a fleet
    older than them sends none). Every string must be free of NUL
    characters, amounts and quantities well-formed, ids usable.

    :return: the names of the wrong fields (empty when the state is usable)
    """
    if not isinstance(data, dict):
        return ["(not an object)"]
    problems = []
    if not is_fleet_id(data.get("ro_id")):
        problems.append("ro_id")
    for key in ("revision", "sequence"):
        if not is_counter(data.get(key)):
            problems.append(key)
    if data.get("status") not in RO_STATUSES:
        problems.append("status")
    problems += _wrong_keys(data, nullable=("shop_ro_ref", "fleet_company_id", "authorization_number", "decided_by",
                                            "decided_at", "updated_at", "invoice_number", "invoice_status"))
    if data.get("approved_total") is not None and parse_amount(data["approved_total"]) is None:
        problems.append("approved_total")
    lines = data.get("lines")
    if not isinstance(lines, list):
        problems.append("lines")
    else:
        for i, line in enumerate(lines):
            if (
                not isinstance(line, dict)
                or not is_text(line.get("line_ref"), nullable=False)
                or line.get("status") not in LINE_STATUSES
                or (line.get("approved_quantity") is not None and parse_quantity(line["approved_quantity"]) is None)
                or (line.get("approved_amount") is not None and parse_amount(line["approved_amount"]) is None)
                or not is_text(line.get("reason"))
            ):
                problems.append(f"lines[{i}]")
    if invoice_problems(data.get("invoice")):
        problems.append("invoice")
    for key, item_problems in (("notes", note_problems), ("documents", document_problems),
                               ("documents_requested", requested_document_problems)):
        items = data.get(key)
        if items is None:  # left out (or null) by an older fleet: none
            continue
        if not isinstance(items, list):
            problems.append(key)
        else:
            problems.extend(f"{key}[{i}]" for i, item in enumerate(items) if item_problems(item))
    return problems


def with_defaults(state):
    """Fill in, in place, the keys an RO state from an older fleet leaves out
    (no notes, no invoice, no documents, none asked for). :return: ``state``"""
    for key, default in STATE_DEFAULTS.items():
        if state.get(key) is None:
            state[key] = default()
    return state


def _wrong_keys(obj, required=(), nullable=()):
    """:return: the keys of ``obj`` that are not text (``required``: not null either)."""
    return [key for key in required if not is_text(obj.get(key), nullable=False)] + [
        key for key in nullable if not is_text(obj.get(key))]


def invoice_problems(invoice):
    """Check an RO state's ``invoice`` (4.4): ``None``, or what the fleet accepted.

    :return: the names of the wrong fields (empty when usable)
    """
    if invoice is None:
        return []
    if not isinstance(invoice, dict):
        return ["(not an object)"]
    problems = _wrong_keys(invoice, required=("invoice_number",), nullable=("accepted_at",))
    date = invoice.get("invoice_date")
    if date is not None and not (isinstance(date, str) and DATE_RE.fullmatch(date)):
        problems.append("invoice_date")
    if invoice.get("total") is not None and parse_amount(invoice["total"]) is None:
        problems.append("total")
    return problems


def note_problems(note):
    """Check a note object (5.1) received from the fleet.

    :return: the names of the wrong fields (empty when the note is usable)
    """
    if not isinstance(note, dict):
        return ["(not an object)"]
    problems = [] if is_fleet_id(note.get("note_id")) else ["note_id"]
    return problems + _wrong_keys(note, required=("text",), nullable=("line_ref", "author", "author_type",
                                                                        "created_at"))


def document_problems(document):
    """Check a document object (9.1) received from the fleet. A kind or a
    content type the contract does not list is kept as it comes (a fleet may
    add some); ``size`` must fit the addon's columns and ``sha256`` be a digest.

    :return: the names of the wrong fields (empty when the document is usable)
    """
    if not isinstance(document, dict):
        return ["(not an object)"]
    problems = [] if is_fleet_id(document.get("document_id")) else ["document_id"]
    if not is_counter(document.get("size")):
        problems.append("size")
    if not is_sha256(document.get("sha256")):
        problems.append("sha256")
    problems += _wrong_keys(document, required=("file_name", "content_type"),
                            nullable=("author_type", "kind", "line_ref", "description", "uploaded_at"))
    return problems


def requested_document_problems(item):
    """Check an item of an RO state's ``documents_requested`` (9.4).

    :return: the names of the wrong fields (empty when usable)
    """
    if not isinstance(item, dict):
        return ["(not an object)"]
    return _wrong_keys(item, required=("kind",), nullable=("line_ref", "text"))
