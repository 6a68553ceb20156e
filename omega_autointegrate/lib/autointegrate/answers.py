"""Checks of what the fleet answers: RO states (4.4) and notes (5.1).

The client checks every answer before handing it on, and the addon's webhook
receiver checks every event's RO state (:mod:`.events`), so the addon can
store what it gets: ids usable, counters in range, statuses known, amounts
well-formed, no NUL character in any string. Unknown keys are ignored.
"""

from .contract import LINE_STATUSES, RO_STATUSES, SEQUENCE_MAX
from .formatting import is_fleet_id, parse_amount, parse_quantity


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
        if not is_counter(data.get(key)):
            problems.append(key)
    if data.get("status") not in RO_STATUSES:
        problems.append("status")
    for key in ("shop_ro_ref", "fleet_company_id", "authorization_number", "decided_by", "decided_at",
                "updated_at", "invoice_number", "invoice_status"):
        if not is_text(data.get(key)):
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
                or not is_text(line.get("line_ref"), nullable=False)
                or line.get("status") not in LINE_STATUSES
                or (line.get("approved_quantity") is not None and parse_quantity(line["approved_quantity"]) is None)
                or (line.get("approved_amount") is not None and parse_amount(line["approved_amount"]) is None)
                or not is_text(line.get("reason"))
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
    if not is_text(note.get("text"), nullable=False):
        problems.append("text")
    for key in ("line_ref", "author", "author_type", "created_at"):
        if not is_text(note.get(key)):
            problems.append(key)
    return problems
