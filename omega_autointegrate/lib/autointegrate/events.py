"""Webhook events (7): the envelope and its RO state, once the signature
(:mod:`.signing`) is verified."""

import json

from .answers import is_counter, is_text, ro_state_problems, with_defaults
from .formatting import is_fleet_id


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
    if not is_counter(event.get("sequence")):
        return "sequence missing or out of range"
    if not is_text(event.get("type")) or len(event.get("type") or "") > 64:
        return "type is not a short string"
    data = event.get("data")
    if not isinstance(data, dict) or data.get("ro_id") != event["ro_id"]:
        return "data is not the RO's state"
    problems = ro_state_problems(data)
    if problems:
        return "data is not a valid RO state: " + ", ".join(problems[:10])
    return None


def parse_event(raw):
    """Decode and check a webhook body (bytes) whose signature was verified;
    the keys of its RO state an older fleet leaves out are filled in.

    :return: ``(event, None)`` when it can be applied, else ``(None, problem)``
    """
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
        return None, "body is not JSON"
    problem = event_problem(event)
    if problem:
        return None, problem
    with_defaults(event["data"])
    return event, None
