"""Injected faults of section 8 (``GET`` / ``POST /_admin/faults``).

Kept in memory: a restart clears them, like ``POST /_admin/reset``.
"""

import math
import threading

DEFAULTS = {
    "next": [],
    "delay_s": 0,
    "drop_connection_next": 0,
    "drop_after_processing_next": 0,
    "rate_limit_next": 0,
    "retry_after": 1,
    "path_prefix": "",
    # extension (not in the contract): process, then send the headers with the
    # full Content-Length but only half the body, then close the connection
    "truncate_next": 0,
    # extension: when above zero, ``delay_s`` slows only that many requests
    # (then stops) instead of every request until cleared
    "delay_next": 0,
}
COUNTERS = ("drop_connection_next", "rate_limit_next", "drop_after_processing_next", "truncate_next")
#: counters checked like the others but independent of the fault a request gets
INDEPENDENT_COUNTERS = ("delay_next",)
#: faults applied after processing the request
AFTER = ("drop_after_processing_next", "truncate_next")


class Decision:
    """What to do with one request: ``delay_s`` then ``fault`` (a key of
    :data:`DEFAULTS`, or ``None``), ``status`` for ``next``."""

    def __init__(self, delay_s=0, fault=None, status=None, retry_after=None):
        self.delay_s = delay_s
        self.fault = fault
        self.status = status
        self.retry_after = retry_after

    @property
    def before(self):
        """Whether the fault replaces processing (as opposed to following it)."""
        return self.fault is not None and self.fault not in AFTER


class Faults:
    """The current fault set, thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = dict(DEFAULTS, next=[])
        self._delay_limited = False

    def get(self):
        with self._lock:
            return dict(self._faults, next=list(self._faults["next"]))

    def set(self, body):
        """Replace the whole set.

        :return: the 422 details, empty when accepted
        """
        details = _check(body)
        if not details:
            with self._lock:
                self._faults = dict(DEFAULTS, **body)
                self._faults["next"] = list(self._faults["next"])
                self._delay_limited = self._faults["delay_next"] > 0
        return details

    def clear(self):
        self.set({})

    def take(self, path):
        """Consume the fault (if any) for one client-API request on ``path``.

        :return: a :class:`Decision`
        """
        with self._lock:
            faults = self._faults
            if not path.startswith(faults["path_prefix"]):
                return Decision()
            delay_s = faults["delay_s"]
            if self._delay_limited:
                if faults["delay_next"] > 0:
                    faults["delay_next"] -= 1
                else:
                    delay_s = 0
            decision = Decision(delay_s=delay_s, retry_after=faults["retry_after"])
            if faults["next"]:
                decision.fault, decision.status = "next", faults["next"].pop(0)
                return decision
            for counter in COUNTERS:
                if faults[counter] > 0:
                    faults[counter] -= 1
                    decision.fault = counter
                    return decision
            return decision


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _check(body):
    if not isinstance(body, dict):
        return [{"field": "", "message": "must be a JSON object"}]
    details = []
    for key, value in body.items():
        if key not in DEFAULTS:
            details.append({"field": key, "message": "unknown fault"})
        elif key == "next":
            ok = isinstance(value, list) and all(
                isinstance(s, int) and not isinstance(s, bool) and 400 <= s <= 599 for s in value)
            if not ok:
                details.append({"field": key, "message": "must be a list of HTTP error statuses (400-599)"})
        elif key == "path_prefix":
            if not isinstance(value, str):
                details.append({"field": key, "message": "must be a string"})
        elif key in COUNTERS + INDEPENDENT_COUNTERS:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                details.append({"field": key, "message": "must be a non-negative integer"})
        elif not _is_number(value):
            details.append({"field": key, "message": "must be a non-negative number"})
    return details
