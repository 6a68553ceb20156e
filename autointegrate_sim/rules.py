"""The fleet's rules over one RO, as pure functions: its status, its lines'
decisions, what an invoice may claim.

These are the fleet's side of the contract (4.2, 4.4, 6.1 and the decisions
of section 8); a shop never applies them, it reads their outcome in the RO
state. :class:`~autointegrate_sim.fleet.Fleet` applies them to stored ROs.
"""

from decimal import Decimal

from autointegrate.contract import LINE_STATUSES, NOTE_MAX
from autointegrate.formatting import format_amount, format_quantity, parse_amount, parse_quantity

APPROVED = ("approved", "adjusted")
CLOSED = ("completed", "cancelled")


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
    if all(s in APPROVED for s in statuses):
        return "approved"
    if all(s == "denied" for s in statuses):
        return "denied"
    return "partially_approved"


def approved_total(lines):
    """:return: the sum of the approved and adjusted lines' ``approved_amount``
    (``"0.00"``, not null, when none is approved)."""
    return format_amount(sum((Decimal(line["approved_amount"]) for line in lines if line["status"] in APPROVED),
                             Decimal(0)))


def same_line(old, new):
    """Whether two submitted lines are equal in everything but their notes."""
    for key in ("type", "service_code", "description"):
        if old.get(key) != new.get(key):
            return False
    if old.get("taxable", False) != new.get("taxable", False):
        return False
    return all(Decimal(old[key]) == Decimal(new[key]) for key in ("quantity", "unit_price", "amount"))


def pending_line(line_ref):
    """:return: the state of a line the fleet has not decided yet."""
    return {"line_ref": line_ref, "status": "pending", "approved_quantity": None, "approved_amount": None,
            "reason": None}


def approved_line(requested):
    """:return: the state of the ``requested`` line approved as it was asked for."""
    return {"line_ref": requested["line_ref"], "status": "approved",
            "approved_quantity": format_quantity(requested["quantity"]),
            "approved_amount": format_amount(requested["amount"]), "reason": None}


def invoice_line_problems(i, line, decided):
    """:return: the 422 details of invoiced line ``i`` against the fleet's ``decided`` line state (6.1)."""
    prefix = f"lines[{i}]."
    if decided is None:
        return [{"field": prefix + "line_ref", "message": f"the RO has no line {line['line_ref']}"}]
    if decided["status"] not in APPROVED:
        return [{"field": prefix + "line_ref", "message": f"line {line['line_ref']} is {decided['status']}"}]
    problems = []
    if Decimal(line["quantity"]) > Decimal(decided["approved_quantity"]):
        problems.append({"field": prefix + "quantity",
                         "message": f"exceeds the approved quantity {decided['approved_quantity']}"})
    if Decimal(line["amount"]) > Decimal(decided["approved_amount"]):
        problems.append({"field": prefix + "amount",
                         "message": f"exceeds the approved amount {decided['approved_amount']}"})
    return problems


def decide_specs(body):
    """:return: ``([(field, line spec)...], details)`` from ``lines`` given as a list or an object."""
    details = []
    if body.get("all") not in (None, "approved", "denied"):
        details.append({"field": "all", "message": "must be approved or denied"})
    if body.get("status") not in (None, "info_requested"):
        details.append({"field": "status", "message": "must be info_requested or absent"})
    decided_by = body.get("decided_by")
    if decided_by is not None and (not isinstance(decided_by, str) or not 0 < len(decided_by) <= 128):
        details.append({"field": "decided_by", "message": "must be a string of 1-128 characters"})
    lines = body.get("lines") or []
    if isinstance(lines, dict):
        items = []
        for ref, spec in lines.items():
            spec = {"status": spec} if isinstance(spec, str) else spec  # {"L2": "denied"} shorthand
            items.append((f"lines.{ref}", dict(spec, line_ref=ref) if isinstance(spec, dict) else spec))
    elif isinstance(lines, list):
        items = [(f"lines[{i}]", spec) for i, spec in enumerate(lines)]
    else:
        return [], details + [{"field": "lines", "message": "must be a list or an object keyed by line_ref"}]
    specs = []
    for field, spec in items:
        if isinstance(spec, dict):
            specs.append((field, spec))
        else:
            details.append({"field": field, "message": "must be an object"})
    return specs, details


def decide_line(requested, spec, field, details):
    """:return: the new line state for one decision; problems go to ``details``."""
    status = spec.get("status")
    ref = requested["line_ref"]
    if status not in LINE_STATUSES:
        details.append({"field": field + ".status", "message": "must be one of " + ", ".join(LINE_STATUSES)})
        return None
    reason = spec.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > NOTE_MAX):
        details.append({"field": field + ".reason", "message": f"must be a string of at most {NOTE_MAX} characters"})
    if status == "pending":
        return pending_line(ref)
    denied = status == "denied"
    req_q, req_a = Decimal(requested["quantity"]), Decimal(requested["amount"])
    quantity = _decided_value(spec, "approved_quantity", parse_quantity, Decimal(0) if denied else req_q, req_q,
                              field, details)
    amount = _decided_value(spec, "approved_amount", parse_amount, Decimal(0) if denied else req_a, req_a,
                            field, details)
    if quantity is None or amount is None:
        return None
    if not denied:
        if quantity > req_q:
            details.append({"field": field + ".approved_quantity", "message": f"exceeds the requested {req_q}"})
        if amount > req_a:
            details.append({"field": field + ".approved_amount", "message": f"exceeds the requested {req_a}"})
        # an approval below what was asked is an adjustment, whatever status was sent
        status = "adjusted" if quantity < req_q or amount < req_a else "approved"
    return {"line_ref": ref, "status": status, "approved_quantity": format_quantity(quantity),
            "approved_amount": format_amount(amount), "reason": reason}


def _decided_value(spec, key, parse, default, requested, field, details):
    """:return: the approved quantity or amount of a decision (``default`` when not given)."""
    value = spec.get(key)
    if value is None:
        return default
    parsed = parse(value)
    if parsed is None:
        details.append({"field": f"{field}.{key}", "message": "must be a decimal string like the requested one"})
    elif parsed < 0 <= requested:
        # only a discount line (negative amount) may have a negative approval
        details.append({"field": f"{field}.{key}", "message": "must not be negative"})
        return None
    return parsed
