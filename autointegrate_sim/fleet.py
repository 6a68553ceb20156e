"""The fleet: RO states, decisions, notes, invoices, kept in the store.

Every public method runs inside one store transaction (so under the store's
lock) and either returns ``(status, body)`` or raises :class:`ApiError`
before changing anything. Every change of an RO goes through
:meth:`Fleet._commit`, which bumps ``sequence`` and ``updated_at`` and queues
one webhook event.
"""

import base64
import hashlib
import hmac
import secrets
import string
import time
from datetime import datetime, timezone
from decimal import Decimal

from autointegrate.bodies import (
    decode_document_body,
    validate_cancel_body,
    validate_invoice_body,
    validate_note_body,
    validate_ro_body,
)
from autointegrate.contract import DOCUMENT_KINDS, NOTE_MAX
from autointegrate.formatting import is_ref

from .errors import ApiError, invalid
from .rules import (
    APPROVED,
    CLOSED,
    approved_line,
    approved_total,
    decide_line,
    decide_specs,
    derive_ro_status,
    invoice_line_problems,
    pending_line,
    same_line,
)
from .store import rfc3339
from .web import Response, is_digits, parse_form

RO_ID_ALPHABET = string.ascii_uppercase.replace("I", "").replace("O", "") + "23456789"
LIST_LIMIT_DEFAULT = 100
LIST_LIMIT_MAX = 500
STATE_KEYS = ("ro_id", "shop_ro_ref", "fleet_company_id", "revision", "status", "authorization_number",
              "decided_at", "decided_by", "updated_at", "sequence", "approved_total", "lines")
DEFAULT_FLEET_AUTHOR = "Fleet reviewer"
#: the note of a documents request (9.4) whose item has no text of its own
REQUEST_TEXTS = {
    "photo": "Please send photos.",
    "calibration_report": "Please send the ADAS calibration report.",
    "estimate": "Please send the estimate.",
    "purchase_order": "Please send the purchase order.",
    "other": "Please send the documents asked for.",
}


class Fleet:
    """Business rules over a :class:`~autointegrate_sim.store.Store`.

    :param store: the store
    :param config: callable returning the current configuration
    :param notify: callable telling the webhook worker that events are queued
    """

    def __init__(self, store, config, notify=lambda: None):
        self.store = store
        self.config = config
        self.notify = notify

    # ------------------------------------------------------------- auth
    def issue_token(self, raw_body):
        """``POST /oauth/token`` with a form-encoded body."""
        field = parse_form(raw_body)
        if field.get("grant_type") != "client_credentials":
            raise ApiError(400, "bad_request", "grant_type must be client_credentials")
        client = self.config()["clients"].get(field.get("client_id", ""))
        secret = field.get("client_secret", "")
        if client is None or not hmac.compare_digest(secret.encode(), client["client_secret"].encode()):
            raise ApiError(401, "unauthorized", "wrong client credentials")
        ttl = self.config()["token_ttl_s"]
        token = secrets.token_urlsafe(32)
        with self.store.transaction():
            self.store.add_token(token, field["client_id"], time.time() + ttl)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": ttl}

    def authenticate(self, authorization):
        """:return: the client id of a live bearer token
        :raise ApiError: 401 otherwise"""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized", "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        row = self.store.get_token(token.strip())
        if row is None or row["revoked"] or row["expires_at"] <= time.time():
            raise ApiError(401, "unauthorized", "the token is unknown, expired or revoked",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if row["client_id"] not in self.config()["clients"]:
            raise ApiError(401, "unauthorized", "the client no longer exists")
        return row["client_id"]

    # ---------------------------------------------------------- helpers
    def _client(self, client_id):
        return self.config()["clients"][client_id]

    def _shop_author(self, client_id):
        return self._client(client_id).get("shop_id") or client_id

    def _own_ro(self, client_id, ro_id):
        ro = self._ro(ro_id)
        if client_id is not None and ro["client_id"] != client_id:
            raise ApiError(403, "forbidden", "this RO belongs to another shop")
        return ro

    def _ro(self, ro_id):
        ro = self.store.get_ro(ro_id)
        if ro is None:
            raise ApiError(404, "not_found", f"unknown RO {ro_id}")
        return ro

    def full_state(self, ro):
        """:return: the RO state of section 4.4, notes and documents included."""
        state = ro["state"]
        out = {key: state[key] for key in STATE_KEYS}
        out["notes"] = self.store.notes(ro["ro_id"])
        # an RO stored by an older simulator has neither: it has no invoice and was asked for nothing
        out["invoice"] = state.get("invoice")
        out["documents"] = self.store.documents(ro["ro_id"])
        out["documents_requested"] = state.get("documents_requested") or []
        # kept in the stored state once the invoice is accepted, so every later read shows them
        for key in ("invoice_status", "invoice_number"):
            if key in state:
                out[key] = state[key]
        return out

    def _invalid_state(self, ro, message=None):
        """:return: the 409 ``invalid_state`` of an action the RO's status does not allow; its
        ``details`` carry the RO state (as ``revision_conflict`` does), which tells the shop why."""
        return ApiError(409, "invalid_state", message or f"the RO is {ro['state']['status']}", [self.full_state(ro)])

    def _new_ro_id(self):
        while True:
            ro_id = "AI-" + "".join(secrets.choice(RO_ID_ALPHABET) for _ in range(6))
            if self.store.get_ro(ro_id) is None:
                return ro_id

    def _threshold(self, fleet_id):
        fleet = self.config()["fleets"].get(fleet_id)
        limit = fleet and fleet.get("auto_approve_threshold")
        return None if limit is None else Decimal(limit)

    def _auto_approve(self, ro):
        """Approve every pending line when the RO's total is at or below the fleet's threshold.

        Applied on submit and again on resubmit (to pending lines only: lines
        the fleet already decided keep their decision).
        """
        limit = self._threshold(ro["state"]["fleet_company_id"])
        if limit is None or Decimal(ro["body"]["totals"]["total"]) > limit:
            return
        requested = {line["line_ref"]: line for line in ro["body"]["lines"]}
        lines = ro["state"]["lines"]
        pending = [i for i, line in enumerate(lines) if line["status"] == "pending"]
        for i in pending:
            lines[i] = approved_line(requested[lines[i]["line_ref"]])
        if pending:
            ro["state"]["decided_by"] = "Auto-approval"
            ro["state"]["decided_at"] = rfc3339()

    def _add_body_notes(self, ro, body, author):
        """Add the submit body's notes as shop notes, skipping those the RO already has."""
        existing = {(n["line_ref"], n["text"]) for n in self.store.notes(ro["ro_id"]) if n["author_type"] == "shop"}
        wanted = [(None, text) for text in body.get("notes") or []]
        for line in body["lines"]:
            wanted += [(line["line_ref"], text) for text in line.get("notes") or []]
        for line_ref, text in wanted:
            if (line_ref, text) not in existing:
                existing.add((line_ref, text))
                self._insert_note(ro["ro_id"], line_ref, "shop", author, text)

    def _insert_note(self, ro_id, line_ref, author_type, author, text):
        return self.store.add_note({"ro_id": ro_id, "line_ref": line_ref, "author_type": author_type,
                                    "author": author, "text": text, "created_at": rfc3339()})

    def _commit(self, ro, event_type="ro.updated", status=None):
        """Record one change of ``ro``: derive status, totals, sequence, then queue a webhook.

        :param status: an explicit RO status (``info_requested``, ``completed``...)
            instead of the derived one
        :return: the new full state
        """
        state = ro["state"]
        state["status"] = status or derive_ro_status(state["lines"], state.get("status"))
        if state["status"] != "info_requested":
            state["documents_requested"] = []  # asked for while the fleet waited; it no longer does
        if state["authorization_number"] is None and any(line["status"] in APPROVED for line in state["lines"]):
            state["authorization_number"] = f"AUTH-{secrets.randbelow(10**6):06d}"
        state["approved_total"] = approved_total(state["lines"])
        state["sequence"] = self.store.next_counter("sequence")
        # second precision may repeat the previous stamp; it never goes backwards
        state["updated_at"] = max(rfc3339(), state.get("updated_at") or "")
        self.store.save_ro(ro)
        full = self.full_state(ro)
        client = self.config()["clients"].get(ro["client_id"]) or {}
        if client.get("webhook_url"):
            self.store.add_event(event_type, ro["ro_id"], state["sequence"], full, client["webhook_url"],
                                 client.get("webhook_secret"))
            self.notify()
        return full

    # --------------------------------------------------------- 4.1 submit
    def submit(self, client_id, body):
        details = validate_ro_body(body)
        if details:
            raise invalid(details)
        client = self._client(client_id)
        fleet_id = body["fleet_company_id"]
        if fleet_id not in self.config()["fleets"]:
            raise ApiError(404, "unknown_fleet", f"unknown fleet {fleet_id}")
        if client.get("fleets") is not None and fleet_id not in client["fleets"]:
            raise ApiError(403, "forbidden", f"this shop may not act on fleet {fleet_id}")
        if client.get("shop_id") is not None and body["shop_id"] != client["shop_id"]:
            raise ApiError(403, "forbidden", f"this client is bound to shop {client['shop_id']}")
        existing = self.store.find_ro(client_id, body["shop_ro_ref"])
        if existing is not None:
            raise ApiError(409, "duplicate_ro", f"RO {body['shop_ro_ref']} was already submitted",
                           [self.full_state(existing)])
        ro_id = self._new_ro_id()
        state = {
            "ro_id": ro_id, "shop_ro_ref": body["shop_ro_ref"], "fleet_company_id": fleet_id, "revision": 1,
            "status": "pending", "authorization_number": None, "decided_at": None, "decided_by": None,
            "updated_at": None, "sequence": 0, "approved_total": "0.00",
            "lines": [pending_line(line["line_ref"]) for line in body["lines"]],
            "invoice": None, "documents_requested": [],
        }
        ro = {"ro_id": ro_id, "client_id": client_id, "state": state, "body": body}
        self._auto_approve(ro)
        state["updated_at"] = rfc3339()
        self.store.save_ro(ro)  # the notes need their RO first
        self._add_body_notes(ro, body, self._shop_author(client_id))
        return 201, self._commit(ro)

    # ------------------------------------------------------- 4.2 resubmit
    def resubmit(self, client_id, ro_id, body):
        ro = self._own_ro(client_id, ro_id)
        state = ro["state"]
        if state["status"] in CLOSED:
            raise self._invalid_state(ro)
        details = validate_ro_body(body, resubmit=True)
        for key in ("fleet_company_id", "shop_id", "shop_ro_ref"):
            if key in body and body[key] != ro["body"][key]:
                details.append({"field": key, "message": f"cannot change (the RO has {ro['body'][key]})"})
        if details:
            raise invalid(details)
        if body["base_revision"] != state["revision"]:
            raise ApiError(409, "revision_conflict", f"the RO is at revision {state['revision']}",
                           [self.full_state(ro)])
        old_lines = {line["line_ref"]: line for line in ro["body"]["lines"]}
        decisions = {line["line_ref"]: line for line in state["lines"]}
        new_lines = []
        for line in body["lines"]:
            ref = line["line_ref"]
            keep = ref in old_lines and same_line(old_lines[ref], line)
            new_lines.append(decisions[ref] if keep else pending_line(ref))
        state["lines"] = new_lines
        state["revision"] += 1
        ro["body"] = body
        if state["status"] == "info_requested":
            state["status"] = None  # a resubmission answers the fleet's question
        self._auto_approve(ro)
        self._add_body_notes(ro, body, self._shop_author(client_id))
        return 200, self._commit(ro)

    # ----------------------------------------------------------- 4.3 read
    def read(self, client_id, ro_id, query=None):
        return 200, self.full_state(self._own_ro(client_id, ro_id))

    # -------------------------------------------------------- 4.5 changes
    def changes(self, client_id, query):
        since = _parse_since(query.get("updated_since"))
        limit = _parse_limit(query.get("limit"))
        cursor = query.get("cursor")
        if cursor:
            cursor_id, _, offset = cursor.partition(":")
            snapshot = self.store.get_cursor(cursor_id)
            if not is_digits(offset) or snapshot is None or snapshot["client_id"] != client_id:
                raise ApiError(400, "bad_request", "unknown or expired cursor")
            if snapshot["filter"] != since:
                raise ApiError(400, "bad_request", "the cursor belongs to another updated_since filter")
            ro_ids, offset = snapshot["ro_ids"], int(offset)
        else:
            # snapshot the walk's ROs so each appears exactly once even when ROs change meanwhile
            ro_ids, offset, cursor_id = self.store.changed_ro_ids(client_id, since), 0, None
        page = ro_ids[offset:offset + limit]
        items = [self.full_state(ro) for ro in map(self.store.get_ro, page) if ro is not None]
        end = offset + len(page)
        next_cursor = None
        if end < len(ro_ids):
            cursor_id = cursor_id or self.store.save_cursor(client_id, since, ro_ids)
            next_cursor = f"{cursor_id}:{end}"
        return 200, {"items": items, "next_cursor": next_cursor}

    # ---------------------------------------------------------- 5 notes
    def add_note(self, client_id, ro_id, body, author_type="shop", request_info=False):
        """A note by the shop (5.2) or, from the admin API, by the fleet."""
        ro = self._own_ro(client_id, ro_id)
        status = ro["state"]["status"]
        if status in CLOSED:
            raise self._invalid_state(ro)
        details = validate_note_body(body)
        if author_type == "fleet" and not isinstance(request_info, bool):
            details.append({"field": "request_info", "message": "must be true or false"})
        line_ref = body.get("line_ref")
        if not details:
            details += _unknown_line(ro, line_ref, "line_ref")
        if details:
            raise invalid(details)
        if author_type == "shop":
            author = body.get("author") or self._shop_author(ro["client_id"])
            if status == "info_requested":
                ro["state"]["status"] = None  # the shop answered: derive the status again
        else:
            author = body.get("author") or DEFAULT_FLEET_AUTHOR
        note = self._insert_note(ro_id, line_ref, author_type, author, body["text"])
        self._commit(ro, "ro.note_added", "info_requested" if request_info else None)
        return 201, note

    def list_notes(self, client_id, ro_id, query):
        self._own_ro(client_id, ro_id)
        notes = self.store.notes(ro_id)
        if "line_ref" in query:
            notes = [note for note in notes if note["line_ref"] == query["line_ref"]]
        return 200, {"items": notes}

    # -------------------------------------------------------- 9 documents
    def upload_document(self, client_id, ro_id, body, author_type="shop"):
        """A document by the shop (9.2) or, from the admin API, by the fleet.

        :return: ``(201, new document)``, or ``(200, the document)`` when the
            RO already has that content for that line and kind
        """
        ro = self._own_ro(client_id, ro_id)
        if ro["state"]["status"] in CLOSED:
            raise self._invalid_state(ro)
        content, details = decode_document_body(body)
        line_ref = body.get("line_ref")
        if is_ref(line_ref):
            details += _unknown_line(ro, line_ref, "line_ref")
        if details:
            raise invalid(details)
        sha256 = hashlib.sha256(content).hexdigest()
        existing = self.store.find_document(ro_id, sha256, line_ref, body["kind"])
        if existing is not None:
            return 200, existing
        document = self.store.add_document({
            "ro_id": ro_id, "author_type": author_type, "kind": body["kind"], "line_ref": line_ref,
            "file_name": body["file_name"], "content_type": body["content_type"], "size": len(content),
            "sha256": sha256, "description": body.get("description"), "uploaded_at": rfc3339(),
        }, content)
        # the status stays: in info_requested the shop answers with a note or a resubmission
        self._commit(ro, "ro.document_added")
        return 201, document

    def list_documents(self, client_id, ro_id, query):
        self._own_ro(client_id, ro_id)
        return 200, {"items": self.store.documents(ro_id)}

    def document_file(self, client_id, ro_id, document_id):
        """:return: ``(document object, content bytes)``
        :raise ApiError: 404 when the RO has no such document"""
        self._own_ro(client_id, ro_id)
        found = self.store.document_content(ro_id, document_id)
        if found is None:
            raise ApiError(404, "not_found", f"RO {ro_id} has no document {document_id}")
        return found

    def document_content(self, client_id, ro_id, document_id, query=None):
        """:return: a :class:`~autointegrate_sim.web.Response` with the document's bytes and their ``Digest`` (9.3)."""
        document, content = self.document_file(client_id, ro_id, document_id)
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode("ascii")
        return Response(200, content, {"Digest": f"sha-256={digest}", "X-Content-Type-Options": "nosniff"},
                        content_type=document["content_type"])

    def request_documents(self, ro_id, body):
        """``POST /_admin/ro/{ro_id}/request_documents`` (9.4): the fleet asks for
        documents; the RO waits in ``info_requested``, each item a fleet note."""
        ro = self._ro(ro_id)
        if ro["state"]["status"] in CLOSED:
            raise self._invalid_state(ro)
        items, details = _requested_items(body)
        for field, item in items:
            details += _unknown_line(ro, item["line_ref"], field + ".line_ref")
        if details:
            raise invalid(details)
        author = body.get("author") or DEFAULT_FLEET_AUTHOR
        for _field, item in items:
            self._insert_note(ro_id, item["line_ref"], "fleet", author, item["text"])
        ro["state"]["documents_requested"] = (ro["state"].get("documents_requested") or []) + [
            item for _field, item in items]
        return 200, self._commit(ro, "ro.note_added", status="info_requested")

    # -------------------------------------------------------- 6.1 invoice
    def invoice(self, client_id, ro_id, body):
        ro = self._own_ro(client_id, ro_id)
        state = ro["state"]
        if state["status"] in ("pending", "info_requested") + CLOSED:
            raise self._invalid_state(ro, f"an RO that is {state['status']} cannot be invoiced")
        details = validate_invoice_body(body)
        if details:
            raise invalid(details)
        decided = {line["line_ref"]: line for line in state["lines"]}
        for i, line in enumerate(body["lines"]):
            details += invoice_line_problems(i, line, decided.get(line["line_ref"]))
        if details:
            raise invalid(details, "the invoice exceeds what the fleet approved")
        state["invoice_status"] = "approved"
        state["invoice_number"] = body["invoice_number"]
        # what the fleet holds, in every later state: a shop whose answer was lost reads it there
        state["invoice"] = {"invoice_number": body["invoice_number"], "invoice_date": body["invoice_date"],
                            "total": body["totals"]["total"], "accepted_at": rfc3339()}
        ro["invoice"] = body
        return 200, self._commit(ro, status="completed")

    # --------------------------------------------------------- 6.2 cancel
    def cancel(self, client_id, ro_id, body):
        ro = self._own_ro(client_id, ro_id)
        if ro["state"]["status"] in CLOSED:
            raise self._invalid_state(ro)
        details = validate_cancel_body(body)
        if details:
            raise invalid(details)
        ro["cancel_reason"] = body.get("reason")
        return 200, self._commit(ro, status="cancelled")

    # ------------------------------------------------------ admin: decide
    def decide(self, ro_id, body):
        """``POST /_admin/ro/{ro_id}/decide`` (section 8)."""
        ro = self._ro(ro_id)
        if ro["state"]["status"] in CLOSED:
            raise self._invalid_state(ro)
        specs, details = decide_specs(body)
        requested = {line["line_ref"]: line for line in ro["body"]["lines"]}
        lines = {line["line_ref"]: line for line in ro["state"]["lines"]}
        if body.get("all") in ("approved", "denied"):
            for ref in lines:
                lines[ref] = decide_line(requested[ref], {"status": body["all"]}, "all", details)
        for field, spec in specs:
            ref = spec.get("line_ref")
            if not isinstance(ref, str) or ref not in requested:
                details.append({"field": field + ".line_ref", "message": f"the RO has no line {ref}"})
            else:
                lines[ref] = decide_line(requested[ref], spec, field, details)
        if details:
            raise invalid(details)
        state = ro["state"]
        state["lines"] = [lines[line["line_ref"]] for line in state["lines"]]
        state["decided_by"] = body.get("decided_by") or DEFAULT_FLEET_AUTHOR
        state["decided_at"] = rfc3339()
        # a decision without "status" ends info_requested: the fleet is no longer waiting
        state["status"] = None
        return 200, self._commit(ro, status=body.get("status"))

    def admin_view(self, ro_id):
        """``GET /_admin/ro/{ro_id}``: the state plus what only the fleet side sees."""
        ro = self._ro(ro_id)
        return dict(self.full_state(ro), client_id=ro["client_id"], body=ro["body"], invoice=ro.get("invoice"),
                    cancel_reason=ro.get("cancel_reason"))


# --------------------------------------------------------------- parsing
def _unknown_line(ro, line_ref, field):
    """:return: the 422 detail of a ``line_ref`` the RO does not have (none for ``None``)."""
    if line_ref is None or line_ref in {line["line_ref"] for line in ro["state"]["lines"]}:
        return []
    return [{"field": field, "message": f"the RO has no line {line_ref}"}]


def _requested_items(body):
    """:return: ``([(field, {"kind", "line_ref", "text"})...], details)`` of a documents request (9.4);
    an item without text gets one saying what is asked for."""
    items = body.get("items")
    details = []
    author = body.get("author")
    if author is not None and (not isinstance(author, str) or not 0 < len(author) <= 128):
        details.append({"field": "author", "message": "must be a string of 1-128 characters"})
    if not isinstance(items, list) or not items:
        return [], details + [{"field": "items", "message": "must be a list of at least one {kind, line_ref, text}"}]
    out = []
    for i, item in enumerate(items):
        field = f"items[{i}]"
        if not isinstance(item, dict):
            details.append({"field": field, "message": "must be an object"})
            continue
        kind, line_ref, text = item.get("kind"), item.get("line_ref"), item.get("text")
        if kind not in DOCUMENT_KINDS:
            details.append({"field": field + ".kind", "message": "must be one of " + ", ".join(DOCUMENT_KINDS)})
        if line_ref is not None and not is_ref(line_ref):
            details.append({"field": field + ".line_ref", "message": "must be a line_ref or null"})
            line_ref = None
        if text is not None and (not isinstance(text, str) or not text.strip() or len(text) > NOTE_MAX):
            details.append({"field": field + ".text", "message": f"must be 1-{NOTE_MAX} characters or null"})
        default = REQUEST_TEXTS[kind] if kind in DOCUMENT_KINDS else ""
        out.append((field, {"kind": kind, "line_ref": line_ref, "text": text or default}))
    return out, details


def _parse_since(value):
    """:return: ``updated_since`` as a second-precision UTC stamp ('' when absent)."""
    if value is None or value == "":
        return ""
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise ApiError(400, "bad_request", "updated_since must be an RFC 3339 timestamp such as 2026-11-28T16:05:00Z")
    # floored to the second, like the stored updated_at, so "at or after" never misses an RO
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_limit(value):
    if value is None or value == "":
        return LIST_LIMIT_DEFAULT
    if not is_digits(value.removeprefix("-")):
        raise ApiError(400, "bad_request", "limit must be an integer")
    limit = int(value)
    if limit < 1:
        raise ApiError(400, "bad_request", "limit must be at least 1")
    return min(limit, LIST_LIMIT_MAX)
