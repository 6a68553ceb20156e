"""Runtime configuration: the command-line values plus ``POST /_admin/config`` patches.

The configuration is the JSON shape of ``GET /_admin/config``. Patches are
kept (in SQLite) as a list and replayed over the command-line base, so a
restart with the same database keeps them and a reset simply drops them.
"""

import copy
import math
from urllib.parse import urlsplit

from autointegrate.formatting import is_ref, parse_amount

CLIENT_KEYS = ("client_secret", "shop_id", "fleets", "webhook_url", "webhook_secret")
NUMBER_KEYS = {
    # key: (integer only, minimum, minimum is exclusive)
    "token_ttl_s": (True, 0, True),
    "webhook_backoff_s": (False, 0, False),
    "webhook_max_attempts": (True, 1, False),
    "webhook_timeout_s": (False, 0, True),
}


def make_base(*, fleets, client_id, client_secret, shop_id=None, webhook_url=None, webhook_secret=None,
              token_ttl=3600, webhook_backoff_s=30, webhook_max_attempts=20, webhook_timeout_s=10):
    """:return: the configuration given on the command line (or to :class:`Simulator`)."""
    return {
        "token_ttl_s": token_ttl,
        "webhook_backoff_s": webhook_backoff_s,
        "webhook_max_attempts": webhook_max_attempts,
        "webhook_timeout_s": webhook_timeout_s,
        "fleets": {fleet: {"auto_approve_threshold": limit} for fleet, limit in (fleets or {}).items()},
        "clients": {
            client_id: {
                "client_secret": client_secret,
                "shop_id": shop_id,
                "fleets": None,
                "webhook_url": webhook_url,
                "webhook_secret": webhook_secret,
            }
        },
    }


def apply_patch(config, patch, primary_client):
    """Apply a partial update.

    :param config: the current configuration (not modified)
    :param patch: the body of ``POST /_admin/config``
    :param primary_client: the client given on the command line; top-level
        ``webhook_url`` / ``webhook_secret`` apply to it
    :return: ``(new_config, details)``; ``details`` is the 422 list, and
        ``new_config`` is ``None`` when it is not empty
    """
    details = []
    if not isinstance(patch, dict):
        return None, [{"field": "", "message": "must be a JSON object"}]
    new = copy.deepcopy(config)
    for key, value in patch.items():
        if key in NUMBER_KEYS:
            _set_number(new, key, value, details)
        elif key == "fleets":
            _patch_fleets(new, value, details)
        elif key == "clients":
            _patch_clients(new, value, details)
        elif key in ("webhook_url", "webhook_secret"):
            if primary_client not in new["clients"]:
                details.append({"field": key, "message": "the command-line client was removed"})
            else:
                _patch_clients(new, {primary_client: {key: value}}, details, prefix=key)
        else:
            details.append({"field": key, "message": "unknown setting"})
    return (None, details) if details else (new, [])


def _set_number(config, key, value, details):
    integer, minimum, exclusive = NUMBER_KEYS[key]
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type or (isinstance(value, float) and not math.isfinite(value)):
        details.append({"field": key, "message": "must be an integer" if integer else "must be a number"})
    elif value < minimum or (exclusive and value == minimum):
        details.append({"field": key, "message": f"must be {'above' if exclusive else 'at least'} {minimum}"})
    else:
        config[key] = value


def _patch_fleets(config, fleets, details):
    if not isinstance(fleets, dict):
        details.append({"field": "fleets", "message": "must be an object keyed by fleet_company_id"})
        return
    for fleet_id, value in fleets.items():
        field = f"fleets.{fleet_id}"
        if not is_ref(fleet_id):
            details.append({"field": field, "message": "fleet ids are 1-64 characters from A-Z a-z 0-9 . _ : / -"})
        elif value is None:
            config["fleets"].pop(fleet_id, None)
        elif not isinstance(value, dict) or set(value) - {"auto_approve_threshold"}:
            details.append({"field": field, "message": 'must be {"auto_approve_threshold": "250.00" | null} or null'})
        else:
            current = config["fleets"].get(fleet_id, {}).get("auto_approve_threshold")
            limit = value.get("auto_approve_threshold", current)
            if limit is not None and parse_amount(limit) is None:
                details.append({"field": field + ".auto_approve_threshold", "message": "must be an amount string"})
            else:
                config["fleets"][fleet_id] = {"auto_approve_threshold": limit}


def _patch_clients(config, clients, details, prefix=None):
    if not isinstance(clients, dict):
        details.append({"field": "clients", "message": "must be an object keyed by client_id"})
        return
    for client_id, value in clients.items():
        field = f"clients.{client_id}"
        if not isinstance(client_id, str) or not client_id:
            details.append({"field": field, "message": "client ids are non-empty strings"})
        elif value is None:
            config["clients"].pop(client_id, None)
        elif not isinstance(value, dict):
            details.append({"field": field, "message": "must be an object or null"})
        else:
            current = config["clients"].get(client_id) or dict.fromkeys(CLIENT_KEYS)
            merged = dict(current)
            for key, item in value.items():
                problem = _client_value_problem(key, item)
                if problem:
                    details.append({"field": prefix or f"{field}.{key}", "message": problem})
                merged[key] = item
            if not merged.get("client_secret"):
                details.append({"field": f"{field}.client_secret", "message": "a client needs a client_secret"})
            config["clients"][client_id] = merged


def _client_value_problem(key, value):
    """:return: why ``value`` is not valid for client setting ``key``, or ``None``."""
    if key not in CLIENT_KEYS:
        return "unknown client setting"
    if key == "client_secret":
        return None if isinstance(value, str) and value else "must be a non-empty string"
    if value is None:
        return None
    if key == "shop_id":
        return None if is_ref(value) else "must be a shop id or null"
    if key == "fleets":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return None if ok else "must be a list of fleet ids or null"
    if key == "webhook_url":
        ok = isinstance(value, str) and urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc
        return None if ok else "must be an http(s) URL or null"
    return None if isinstance(value, str) and value else "must be a non-empty string or null"
