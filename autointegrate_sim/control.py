"""The simulator control API of section 8 (``/_admin``) and the fleet web page.

Served only when the simulator runs with ``--admin``; otherwise every
``/_admin`` path is a plain 404. No token: it must never face a network.
"""

import json
import re

from . import ui
from .errors import ApiError, invalid
from .web import is_digits, json_response, parse_form, parse_json_object, parse_multipart, query_params, route

ADMIN_RO = r"/_admin/ro/(?P<ro_id>[^/]+)"
UI_RO = r"/_admin/ui/ro/(?P<ro_id>[^/]+)"


def handle(sim, method, path, query, raw, headers):
    """Answer one ``/_admin`` request.

    :return: a :class:`~autointegrate_sim.server.Response`
    """
    if not sim.admin:
        raise ApiError(404, "not_found", f"no such endpoint: {path}")
    (target, kind), params = route(ROUTES, method, path)
    if kind == "form":
        return target(sim, *params.values(), parse_form(raw))
    if kind == "upload":
        return target(sim, *params.values(), parse_multipart(raw, headers.get("Content-Type")))
    if kind == "page":
        return target(sim, *params.values(), query_params(query))
    body = query_params(query) if method in ("GET", "DELETE") else _body(raw)
    with sim.store.transaction():
        return json_response(*target(sim, *params.values(), body))


def _body(raw):
    # admin calls may omit the body altogether ("{}" is implied)
    return parse_json_object(raw) if raw.strip() else {}


# ------------------------------------------------------------------ calls
def reset(sim, body):
    tokens = body.get("tokens", False)
    if not isinstance(tokens, bool):
        raise invalid([{"field": "tokens", "message": "must be true or false"}])
    sim.reset(tokens=tokens)
    return 200, {"ok": True}


def get_config(sim, _query):
    return 200, sim.config()


def set_config(sim, body):
    details = sim.set_config(body)
    if details:
        raise invalid(details, "the configuration was not changed")
    return 200, sim.config()


def expire_tokens(sim, body):
    client_id = body.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise invalid([{"field": "client_id", "message": "must be a string"}])
    return 200, {"expired": sim.store.revoke_tokens(client_id)}


def get_faults(sim, _query):
    return 200, sim.faults.get()


def set_faults(sim, body):
    details = sim.faults.set(body)
    if details:
        raise invalid(details, "the faults were not changed")
    return 200, sim.faults.get()


def get_requests(sim, query):
    since = query.get("since") or "0"
    if not is_digits(since):
        raise ApiError(400, "bad_request", "since must be a non-negative integer")
    items = sim.store.requests(int(since))
    keys = ("i", "at", "method", "path", "headers", "body", "status", "fault")
    return 200, {"items": [{key: item[key] for key in keys} for item in items],
                 "next": items[-1]["i"] if items else int(since)}


def clear_requests(sim, _query):
    sim.store.clear_requests()
    return 200, {"ok": True}


def get_webhooks(sim, _query):
    keys = ("event_id", "type", "ro_id", "sequence", "url")
    events = [dict({key: event[key] for key in keys}, delivered=bool(event["delivered"]),
                   gave_up=bool(event["gave_up"]), attempts=event["attempts"], body=json.loads(event["payload"]))
              for event in sim.store.events()]
    return 200, {"events": events}


def get_ros(sim, _query):
    return 200, {"items": [sim.fleet.full_state(ro) for ro in sim.store.all_ros()]}


def get_ro(sim, ro_id, _query):
    return 200, sim.fleet.admin_view(ro_id)


def decide(sim, ro_id, body):
    return sim.fleet.decide(ro_id, body)


def fleet_note(sim, ro_id, body):
    request_info = body.get("request_info", False)
    note = {key: body.get(key) for key in ("text", "line_ref", "author")}
    return sim.fleet.add_note(None, ro_id, note, author_type="fleet", request_info=request_info)


def request_documents(sim, ro_id, body):
    return sim.fleet.request_documents(ro_id, body)


def fleet_document(sim, ro_id, body):
    return sim.fleet.upload_document(None, ro_id, body, author_type="fleet")


ROUTES = [
    (re.compile(r"^/_admin/?$"), {"GET": (ui.index_page, "page")}),
    (re.compile(r"^/_admin/reset$"), {"POST": (reset, "json")}),
    (re.compile(r"^/_admin/config$"), {"GET": (get_config, "json"), "POST": (set_config, "json")}),
    (re.compile(r"^/_admin/expire_tokens$"), {"POST": (expire_tokens, "json")}),
    (re.compile(r"^/_admin/faults$"), {"GET": (get_faults, "json"), "POST": (set_faults, "json")}),
    (re.compile(r"^/_admin/requests$"), {"GET": (get_requests, "json"), "DELETE": (clear_requests, "json")}),
    (re.compile(r"^/_admin/webhooks$"), {"GET": (get_webhooks, "json")}),
    (re.compile(r"^/_admin/ros$"), {"GET": (get_ros, "json")}),
    (re.compile(f"^{ADMIN_RO}$"), {"GET": (get_ro, "json")}),
    (re.compile(f"^{ADMIN_RO}/decide$"), {"POST": (decide, "json")}),
    (re.compile(f"^{ADMIN_RO}/notes$"), {"POST": (fleet_note, "json")}),
    (re.compile(f"^{ADMIN_RO}/request_documents$"), {"POST": (request_documents, "json")}),
    (re.compile(f"^{ADMIN_RO}/documents$"), {"POST": (fleet_document, "json")}),
    (re.compile(f"^{UI_RO}$"), {"GET": (ui.ro_page, "page")}),
    (re.compile(f"^{UI_RO}/decide$"), {"POST": (ui.decide_form, "form")}),
    (re.compile(f"^{UI_RO}/note$"), {"POST": (ui.note_form, "form")}),
    (re.compile(f"^{UI_RO}/request_documents$"), {"POST": (ui.request_documents_form, "form")}),
    (re.compile(f"^{UI_RO}/documents$"), {"POST": (ui.document_form, "upload")}),
    (re.compile(f"^{UI_RO}/documents/(?P<document_id>[^/]+)$"), {"GET": (ui.document_download, "page")}),
]
