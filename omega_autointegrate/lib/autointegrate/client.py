"""HTTP client of the AutoIntegrate repair-order API.

Every call goes through :meth:`Client._request`: one ``requests.Session``
per account and thread (its connection kept open between calls),
timeouts on every call, a bearer token cached until shortly before expiry
(refetched once on a 401), an ``Idempotency-Key`` derived from what is sent on
every POST/PUT, and bounded retries with exponential backoff and jitter on
transient failures. Because the key depends only on the body, a retry after a
timeout replays the fleet's stored answer instead of creating a second RO.
"""

import base64
import binascii
import hashlib
import ipaddress
import json
import logging
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus, urlencode, urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from . import answers, bodies, formatting
from .contract import DOCUMENT_BODY_MAX_BYTES, DOCUMENT_MAX_BYTES
from .errors import (
    ERROR_CLASSES,
    STATUS_CLASSES,
    AuthError,
    AutoIntegrateError,
    ConfigurationError,
    NoAnswerError,
    PayloadTooLargeError,
    ProtocolError,
    RateLimitedError,
    ServerError,
    TLSError,
    TransportError,
    UnreachableError,
    ValidationError,
)

_logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
MAX_RESPONSE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Token:
    """A bearer token and the wall-clock time (unix seconds) it expires."""

    access_token: str
    expires_at: float
    expires_in: int

    def usable(self, now=None):
        """Whether the token is still good for a call, with a safety margin."""
        now = time.time() if now is None else now
        margin = min(60.0, self.expires_in * 0.1)
        return now < self.expires_at - margin


class TokenCache:
    """Process-wide token cache, shared by every client of the same account.

    Odoo builds a client per request; sharing tokens avoids one token fetch
    per call.
    """

    def __init__(self):
        self._tokens = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            return self._tokens.get(key)

    def set(self, key, token):
        with self._lock:
            self._tokens[key] = token

    def clear(self):
        """Forget every token."""
        with self._lock:
            self._tokens.clear()

    def discard(self, key, token=None):
        """Forget ``key``'s token (only if it is still ``token``, when given)."""
        with self._lock:
            if token is None or self._tokens.get(key) == token:
                self._tokens.pop(key, None)


DEFAULT_TOKEN_CACHE = TokenCache()


class SessionCache:
    """The ``requests.Session`` of each account, kept for the clients built
    after: Odoo builds a client per request, and a session of its own would
    open (and over https, negotiate) a new connection to the fleet for every
    call instead of reusing the account's open one.

    One session per thread (a session is not meant to be shared between
    threads) and per process (a forked worker must not use its parent's
    sockets); urllib3 checks a kept connection before reusing it.
    """

    def __init__(self):
        self._local = threading.local()

    def _sessions(self):
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.pid, local.sessions = os.getpid(), {}
        return local.sessions

    def get(self, key):
        """:return: this thread's session of the account ``key``"""
        sessions = self._sessions()
        session = sessions.get(key)
        if session is None:
            session = sessions[key] = requests.Session()
        return session

    def clear(self):
        """Close and forget this thread's sessions."""
        sessions = self._sessions()
        for session in sessions.values():
            session.close()
        sessions.clear()


DEFAULT_SESSION_CACHE = SessionCache()


def is_loopback_host(host):
    """Whether ``host`` names this machine (plain HTTP is allowed there only)."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Client:
    """Client of one AutoIntegrate account (base URL + client credentials).

    :param base_url: e.g. ``https://api.autointegrate.example``
    :param client_id: OAuth client id
    :param client_secret: OAuth client secret (never logged)
    :param connect_timeout: seconds to connect
    :param read_timeout: seconds to wait for an answer
    :param max_attempts: tries per call, the first included, on transient errors
    :param backoff_base: first backoff in seconds, doubled every retry
    :param backoff_max: largest single backoff in seconds
    :param max_retry_after: largest ``Retry-After`` honoured; a longer one
        ends the call with :class:`RateLimitedError`
    :param session: a ``requests.Session`` to use (by default, the one the
        account's clients share in this thread, from ``session_cache``)
    :param token_cache: where tokens are kept (process-wide by default)
    :param session_cache: where the account's session is kept (process-wide
        by default)
    :param sleep: the function used to wait (tests pass a recorder)
    :param on_exchange: called with a dict after every HTTP attempt (method,
        path, status, idempotency_key, request_body, response_body, error,
        duration_ms), secrets already removed; for an exchange log
    """

    def __init__(
        self,
        base_url,
        client_id,
        client_secret,
        *,
        connect_timeout=DEFAULT_CONNECT_TIMEOUT,
        read_timeout=DEFAULT_READ_TIMEOUT,
        max_attempts=4,
        backoff_base=0.5,
        backoff_max=8.0,
        max_retry_after=30.0,
        session=None,
        token_cache=None,
        session_cache=None,
        sleep=time.sleep,
        on_exchange=None,
    ):
        self.base_url = self._check_base_url(base_url)
        if not client_id or not client_secret:
            raise ConfigurationError("AutoIntegrate client id and client secret are required")
        self.client_id = client_id
        self._client_secret = client_secret
        self.timeout = (float(connect_timeout), float(read_timeout))
        self.max_attempts = max(1, int(max_attempts))
        self.backoff_base = float(backoff_base)
        self.backoff_max = float(backoff_max)
        self.max_retry_after = float(max_retry_after)
        self.token_cache = token_cache or DEFAULT_TOKEN_CACHE
        self._sleep = sleep
        self.on_exchange = on_exchange
        self._cache_key = (self.base_url, client_id, formatting.body_digest(client_secret))
        self.session = session or (session_cache or DEFAULT_SESSION_CACHE).get(self._cache_key)

    def __repr__(self):
        # never the secret
        return f"<autointegrate.Client {self.base_url} client_id={self.client_id!r}>"

    @staticmethod
    def _check_base_url(base_url):
        if not base_url or not isinstance(base_url, str):
            raise ConfigurationError("AutoIntegrate API URL is not set")
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"AutoIntegrate API URL is not a valid URL: {base_url}")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ConfigurationError(
                "AutoIntegrate API URL must use https:// (plain http:// is only allowed on this machine)"
            )
        return base_url.strip().rstrip("/")

    # ------------------------------------------------------------------ auth
    def fetch_token(self):
        """Get a new token from ``/oauth/token`` and cache it.

        :return: the new :class:`Token`
        :raise AuthError: wrong client credentials
        :raise TransportError: the fleet could not be reached
        """
        data = self._request(
            "POST",
            "/oauth/token",
            form={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._client_secret,
            },
            auth=False,
        )
        access_token = data.get("access_token")
        expires_in = data.get("expires_in")
        if not isinstance(access_token, str) or not access_token:
            raise ProtocolError("AutoIntegrate's token answer has no access_token", retryable=False)
        if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
            raise ProtocolError("AutoIntegrate's token answer has no valid expires_in", retryable=False)
        token = Token(access_token, time.time() + expires_in, expires_in)
        self.token_cache.set(self._cache_key, token)
        return token

    def _token(self):
        token = self.token_cache.get(self._cache_key)
        if token is None or not token.usable():
            token = self.fetch_token()
        return token

    def test_connection(self):
        """Fetch a fresh token: proves URL, TLS and credentials.

        :return: the :class:`Token`
        :raise AutoIntegrateError: a subclass saying what failed
        """
        return self.fetch_token()

    # ----------------------------------------------------------- repair orders
    def submit(self, body, *, idempotency_key=None):
        """Submit a new RO (4.1).

        :param body: the submit body; checked against the contract first
        :return: the RO state
        :raise ValidationError: the body breaks the contract (nothing sent) or
            the fleet refused it (422)
        :raise DuplicateROError: the shop already has that ``shop_ro_ref``;
            ``error.state`` is the existing RO
        """
        self._validate(bodies.validate_ro_body(body), "repair order")
        return self._ro_state(self._send_body(
            "POST", "/v1/repair-orders", body, idempotency_key, f"{body['shop_ro_ref']}:submit"))

    def resubmit(self, ro_id, body, *, idempotency_key=None):
        """Resubmit an RO (4.2); ``body`` carries ``base_revision``.

        :return: the RO state
        :raise RevisionConflictError: ``base_revision`` is stale; ``error.state``
            is the current RO
        :raise InvalidStateError: the RO is completed or cancelled
        """
        self._validate(bodies.validate_ro_body(body, resubmit=True), "repair order")
        return self._ro_state(self._send_body(
            "PUT", self._ro_path(ro_id), body, idempotency_key, f"{ro_id}:rev{body['base_revision']}:resubmit"))

    def get_ro(self, ro_id):
        """:return: the current RO state (4.3)"""
        return self._ro_state(self._request("GET", self._ro_path(ro_id)))

    def changes(self, updated_since=None, limit=None, cursor=None):
        """One page of the changes feed (4.5).

        :return: ``{"items": [RO state...], "next_cursor": str | None}``
        """
        params = {}
        if updated_since:
            params["updated_since"] = updated_since
        if limit:
            params["limit"] = int(limit)
        if cursor:
            params["cursor"] = cursor
        data = self._request("GET", "/v1/repair-orders", params=params)
        items = data.get("items")
        next_cursor = data.get("next_cursor")
        if not isinstance(items, list) or not (next_cursor is None or isinstance(next_cursor, str)):
            raise ProtocolError("AutoIntegrate's changes feed answer has no items list", retryable=False)
        return {"items": [self._ro_state(item) for item in items], "next_cursor": next_cursor}

    def iter_changes(self, updated_since=None, limit=None):
        """Walk every page of the changes feed.

        :return: a generator of pages (see :meth:`changes`)
        """
        cursor = None
        while True:
            page = self.changes(updated_since=updated_since, limit=limit, cursor=cursor)
            yield page
            cursor = page["next_cursor"]
            if not cursor:
                return

    def cancel(self, ro_id, reason=None, *, idempotency_key=None):
        """Cancel an RO (6.2). :return: the RO state"""
        body = {"reason": reason} if reason else {}
        self._validate(bodies.validate_cancel_body(body), "cancellation")
        return self._ro_state(self._send_body(
            "POST", self._ro_path(ro_id, "cancel"), body, idempotency_key, f"{ro_id}:cancel"))

    def invoice(self, ro_id, body, *, idempotency_key=None):
        """Send the invoice of an RO (6.1).

        :return: the RO state with ``status: completed``, ``invoice_status``
            and ``invoice_number``
        :raise ValidationError: an invoiced line is not approved or above its
            approved quantity or amount
        """
        self._validate(bodies.validate_invoice_body(body), "invoice")
        return self._ro_state(self._send_body(
            "POST", self._ro_path(ro_id, "invoice"), body, idempotency_key, f"{ro_id}:invoice"))

    # ------------------------------------------------------------------ notes
    def add_note(self, ro_id, text, *, line_ref=None, author=None, idempotency_key=None):
        """Add a shop note to an RO or one of its lines (5.2).

        :param idempotency_key: pass one derived from the local note record so
            that two equal notes written on purpose are both sent
        :return: the note object
        """
        body = {"text": text, "line_ref": line_ref}
        if author:
            body["author"] = author
        self._validate(bodies.validate_note_body(body), "note")
        return self._note(self._send_body(
            "POST", self._ro_path(ro_id, "notes"), body, idempotency_key, f"{ro_id}:note"))

    def list_notes(self, ro_id, line_ref=None):
        """:return: the RO's notes, oldest first (only ``line_ref``'s if given)"""
        params = {"line_ref": line_ref} if line_ref else None
        data = self._request("GET", self._ro_path(ro_id, "notes"), params=params)
        items = data.get("items")
        if not isinstance(items, list):
            raise ProtocolError("AutoIntegrate's notes answer has no items list", retryable=False)
        return [self._note(note) for note in items]

    # -------------------------------------------------------------- documents
    def upload_document(self, ro_id, file_name, content_type, content, kind, line_ref=None, description=None, *,
                        idempotency_key=None):
        """Upload a document to an RO, or to one of its lines (9.2).

        Checked before anything is sent: the file name, the content type, the
        kind, the description, the content (1 byte to 10 MiB, starting like a
        file of its type) and the body (at most 15 MiB). The Idempotency-Key
        is derived from the body, content included, so a retry after a lost
        answer never stores the document twice; the fleet also answers the
        document it has when the same content is uploaded again for the same
        line and kind.

        :param content: the file's bytes
        :param kind: one of ``contract.DOCUMENT_KINDS``
        :return: the document object (without its content)
        :raise ValidationError: the document breaks the contract (nothing
            sent) or the fleet refused it (422, e.g. an unknown ``line_ref``)
        :raise PayloadTooLargeError: the body is larger than the fleet accepts
        :raise InvalidStateError: the RO is completed or cancelled
        """
        path = self._ro_path(ro_id, "documents")
        fields = {"file_name": file_name, "content_type": content_type, "kind": kind, "line_ref": line_ref,
                  "description": description}
        details = bodies.validate_document_fields(fields)
        if not isinstance(content, (bytes, bytearray, memoryview)):
            details.append({"field": "content", "message": "must be the file's bytes"})
        else:
            content = bytes(content)
            details += bodies.validate_document_content(content_type, content, field="content")
        self._validate(details, "document")
        data = _encode(dict(fields, content_base64=base64.b64encode(content).decode("ascii")))
        if len(data) > DOCUMENT_BODY_MAX_BYTES:
            detail = {"field": "content", "message": f"makes a body of {len(data)} bytes; the fleet accepts at "
                                                     f"most {DOCUMENT_BODY_MAX_BYTES}"}
            raise PayloadTooLargeError(f"The document is too large to send: {detail['message']}", details=[detail])
        # the log keeps what was sent but the content, which it names by size and digest
        log_body = formatting.canonical_json(dict(fields, content_base64=(
            f"<{len(content)} bytes, sha256 {hashlib.sha256(content).hexdigest()}>")))
        return self._document(self._send_body("POST", path, data, idempotency_key, f"{ro_id}:document",
                                              encoded=True, log_body=log_body))

    def documents(self, ro_id):
        """:return: the RO's document objects (9.3), oldest first, without content"""
        data = self._request("GET", self._ro_path(ro_id, "documents"))
        items = data.get("items")
        if not isinstance(items, list):
            raise ProtocolError("AutoIntegrate's documents answer has no items list", retryable=False)
        return [self._document(document) for document in items]

    def document_content(self, ro_id, document_id):
        """Download a document's content (9.3), checked against the answer's
        ``Digest: sha-256=...`` header and the 10 MiB limit.

        :return: a :class:`DocumentContent`
        :raise NotFoundError: the RO has no such document
        :raise ProtocolError: no digest, a digest the content does not match,
            or more than 10 MiB
        """
        if not isinstance(document_id, str) or not document_id:
            raise ConfigurationError("a document id is required")
        path = self._ro_path(ro_id, "documents/" + quote(document_id, safe="") + "/content")
        content, headers = self._request("GET", path, raw=True, max_bytes=DOCUMENT_MAX_BYTES)
        expected = _digest_sha256(headers.get("Digest"))
        if expected is None:
            raise ProtocolError(f"AutoIntegrate sent document {document_id} without a sha-256 Digest header",
                                retryable=False)
        if hashlib.sha256(content).digest() != expected:
            raise ProtocolError(f"AutoIntegrate sent document {document_id} with content ({len(content)} bytes) "
                                "that does not match its Digest header", retryable=False)
        content_type = (headers.get("Content-Type") or "application/octet-stream").split(";")[0].strip()
        return DocumentContent(content, content_type, hashlib.sha256(content).hexdigest())

    # --------------------------------------------------------------- plumbing
    @staticmethod
    def _ro_path(ro_id, action=None):
        if not isinstance(ro_id, str) or not ro_id:
            raise ConfigurationError("an RO id is required")
        path = "/v1/repair-orders/" + quote(ro_id, safe="")
        return f"{path}/{action}" if action else path

    @staticmethod
    def _validate(details, what):
        if details:
            fields = "; ".join(f"{d['field']}: {d['message']}" if d["field"] else d["message"] for d in details)
            # the wire protocol's own ValidationError, not Odoo's: the addon translates what it shows
            raise ValidationError(f"The {what} is not valid: {fields}", details=details)  # pylint: disable=translation-required

    def _send_body(self, method, path, body, idempotency_key, key_prefix, *, encoded=False, **options):
        """Send a JSON body, encoded once (:func:`_encode`; ``encoded``: ``body``
        is already its bytes); without an ``idempotency_key``, the key is
        ``key_prefix`` and the digest of the bytes sent. :return: the decoded JSON answer"""
        data = body if encoded else _encode(body)
        key = idempotency_key or _derived_key(key_prefix, data)
        return self._request(method, path, json_data=data, idempotency_key=key, **options)

    def _backoff(self, attempt):
        delay = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)  # jitter spreads retries of many workers

    def _request(self, method, path, *, json_data=None, form=None, params=None, idempotency_key=None, auth=True,
                 log_body=None, raw=False, max_bytes=MAX_RESPONSE_BYTES):
        """Send one call with retries.

        :param json_data: the JSON body, encoded (:func:`_encode`): the
            idempotency key was derived from these very bytes
        :param log_body: what the exchange log shows of the body (default: the body)
        :param raw: answer ``(bytes, headers)`` instead of decoding JSON
        :param max_bytes: the largest answer read
        :return: the decoded JSON answer (see ``raw``)
        """
        if method in ("POST", "PUT") and auth and not idempotency_key:
            raise ConfigurationError(f"{method} {path} needs an idempotency key")
        call = _Call(method, path, self.base_url + path, params=params, log_body=log_body, raw=raw,
                     max_bytes=max_bytes)
        call.headers["Accept"] = "*/*" if raw else "application/json"
        if json_data is not None:
            call.data = json_data
            call.headers["Content-Type"] = "application/json"
        elif form is not None:
            call.data = form
        if idempotency_key:
            call.headers["Idempotency-Key"] = idempotency_key
        sent = []  # the attempts that may have reached the fleet
        try:
            return self._attempts(call, auth, sent)
        except UnreachableError as error:
            if not sent:
                raise
            # the last attempt reached nothing, but an earlier one was sent
            text = (f"AutoIntegrate's answer to {method} {path} was lost: an earlier attempt was sent, then the "
                    f"fleet could not be reached ({_unreachable_reason(error)}). "
                    + _sent_without_answer(method, idempotency_key))
            raise NoAnswerError(text, idempotency_key=idempotency_key) from error

    def _attempts(self, call, auth, sent):
        """Send ``call`` until an answer, with backoff on transient errors; each
        failed attempt that may have reached the fleet is added to ``sent``."""
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            token = None
            if auth:
                token = self._token()
                call.headers["Authorization"] = f"Bearer {token.access_token}"
            try:
                return self._send_logged(call)
            except AuthError:
                if not auth or refreshed:
                    raise
                # the fleet forgot or revoked our token: one new token, one retry
                refreshed = True
                attempt -= 1
                self.token_cache.discard(self._cache_key, token)
                continue
            except AutoIntegrateError as error:
                if isinstance(error, TransportError) and error.request_sent:
                    sent.append(attempt)
                if not error.retryable or attempt >= self.max_attempts:
                    raise
                delay = self._backoff(attempt)
                if isinstance(error, RateLimitedError) and error.retry_after is not None:
                    if error.retry_after > self.max_retry_after:
                        raise
                    delay = max(delay, error.retry_after)
                _logger.info("AutoIntegrate %s %s failed (%s), retry %d in %.2fs",
                             call.method, call.path, error, attempt, delay)
                self._sleep(delay)

    def _secrets(self, headers):
        """:return: what must never leave in an error or a log: the client
        secret and the bearer token of this attempt (raw and form-encoded)."""
        secrets = {self._client_secret}
        authorization = headers.get("Authorization") or ""
        if authorization.startswith("Bearer "):
            secrets.add(authorization[len("Bearer "):])
        secrets |= {quote_plus(secret) for secret in secrets}
        # longest first, so a secret containing another is replaced whole
        return sorted((secret for secret in secrets if secret), key=len, reverse=True)

    def _send_logged(self, call):
        """:meth:`_send`, reporting the attempt to ``on_exchange``; a fleet
        echoing the secret or the token never gets it into an error or a log."""
        secrets = self._secrets(call.headers)
        if not self.on_exchange:
            try:
                return self._send(call)
            except AutoIntegrateError as error:
                _scrub_error(error, secrets)
                raise
        started = time.monotonic()
        entry = {
            "method": call.method,
            "path": call.path + (f"?{urlencode(call.params)}" if call.params else ""),
            "status": None,
            "idempotency_key": call.headers.get("Idempotency-Key"),
            "request_body": call.log_body if call.log_body is not None else _loggable_request(call.data),
            "response_body": None,
            "error": None,
        }
        try:
            result = self._send(call, entry)
        except AutoIntegrateError as error:
            entry["error"] = _scrub_error(error, secrets).message
            raise
        finally:
            entry["duration_ms"] = int((time.monotonic() - started) * 1000)
            for key in ("request_body", "response_body", "error"):
                entry[key] = _scrub(entry[key], secrets)
            try:
                self.on_exchange(entry)
            except Exception:  # a broken log must not break the call
                _logger.exception("AutoIntegrate exchange log failed")
        return result

    def _send(self, call, entry=None):
        method, path = call.method, call.path
        try:
            response = self.session.request(
                method,
                call.url,
                data=call.data,
                headers=call.headers,
                params=call.params,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as exc:
            raise TLSError(f"AutoIntegrate could not be reached at {self.base_url}: the secure (TLS) connection "
                           f"failed, so nothing was sent ({method} {path}): {_tls_reason(exc)}") from exc
        except requests.exceptions.RequestException as exc:
            if _nothing_sent(exc):
                raise UnreachableError(f"AutoIntegrate could not be reached at {self.base_url} ({method} {path}): "
                                       f"{_network_reason(exc)}; nothing was sent") from exc
            if isinstance(exc, requests.exceptions.Timeout):
                reason = f"no answer within {self.timeout[1]:g} s"
            else:
                reason = _network_reason(exc)
            raise self._no_answer(call, reason) from exc
        with response:
            if entry is not None:
                entry["status"] = response.status_code
            raw = self._read(response, call)
        status = response.status_code
        success = 200 <= status < 300
        if entry is not None:
            entry["response_body"] = (f"<{len(raw)} bytes of {response.headers.get('Content-Type') or 'content'}>"
                                      if call.raw and success else _loggable_response(path, raw))
        if success and call.raw:
            return raw, response.headers
        if success:
            try:
                decoded = json.loads(raw)
            except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
                raise ProtocolError(f"AutoIntegrate answered {method} {path} with invalid JSON") from exc
            if not isinstance(decoded, dict):
                raise ProtocolError(f"AutoIntegrate answered {method} {path} with a non-object", retryable=False)
            return decoded
        raise self._error(response, raw, method, path)

    def _read(self, response, call):
        declared = response.headers.get("Content-Length")
        declared = int(declared) if declared and declared.strip().isdigit() else None
        too_large = ProtocolError(f"AutoIntegrate's answer to {call.method} {call.path} is too large "
                                  f"(more than {call.max_bytes} bytes)", retryable=False)
        if declared is not None and declared > call.max_bytes:
            raise too_large  # refused before reading it
        chunks = []
        size = 0
        try:
            for chunk in response.iter_content(65536):
                size += len(chunk)
                if size > call.max_bytes:
                    raise too_large
                chunks.append(chunk)
        except requests.exceptions.Timeout as exc:
            raise self._no_answer(call, "it did not finish in time") from exc
        except requests.exceptions.RequestException as exc:
            raise self._no_answer(call, f"cut off: {_network_reason(exc)}") from exc
        # urllib3 1.26 (Odoo 18's pin) returns a body cut short of its
        # Content-Length without a word; 2.x raises (above). Check it here, for both.
        identity = response.headers.get("Content-Encoding", "identity").strip().lower() == "identity"
        if identity and declared is not None and size < declared:
            raise self._no_answer(call, f"cut off after {size} of {declared} bytes")
        return b"".join(chunks)

    def _no_answer(self, call, reason):
        """:return: the :class:`NoAnswerError` of a request that was sent, saying what the user may do."""
        key = call.headers.get("Idempotency-Key")
        text = (f"AutoIntegrate's answer to {call.method} {call.path} was lost ({reason}) after the request was "
                f"sent. {_sent_without_answer(call.method, key)}")
        return NoAnswerError(text, idempotency_key=key)

    @staticmethod
    def _error(response, raw, method, path):
        status = response.status_code
        code = message = None
        details = []
        try:
            error = json.loads(raw).get("error")
        except (ValueError, AttributeError, RecursionError):
            error = None
        if isinstance(error, dict):
            code = error.get("code") if isinstance(error.get("code"), str) else None
            message = error.get("message") if isinstance(error.get("message"), str) else None
            details = error.get("details") if isinstance(error.get("details"), list) else []
        cls = ERROR_CLASSES.get(code) or STATUS_CLASSES.get(status) or AutoIntegrateError
        if status >= 500 and not issubclass(cls, ServerError):
            cls = ServerError
        text = f"AutoIntegrate refused {method} {path} (HTTP {status}"
        text += f" {code})" if code else ")"
        if message:
            text += f": {message[:500]}"
        kwargs = {"status": status, "code": code, "details": details}
        if cls is RateLimitedError:
            kwargs["retry_after"] = _retry_after(response.headers.get("Retry-After"))
        return cls(text, **kwargs)

    @staticmethod
    def _ro_state(data):
        """Check the shape of an RO state (4.4) so callers can rely on it,
        keys an older fleet leaves out filled in (:func:`answers.with_defaults`)."""
        return answers.with_defaults(_checked(data, answers.ro_state_problems(data), "an RO state"))

    @staticmethod
    def _note(note):
        """Check the shape of a note (5.1) so callers can rely on it."""
        return _checked(note, answers.note_problems(note), "a note")

    @staticmethod
    def _document(document):
        """Check the shape of a document object (9.1) so callers can rely on it."""
        return _checked(document, answers.document_problems(document), "a document")


@dataclass(frozen=True)
class DocumentContent:
    """A document's bytes as the fleet served them (9.3), checked against its digest."""

    content: bytes
    content_type: str
    sha256: str  # hex


LOG_BODY_MAX = 64 * 1024


@dataclass
class _Call:
    """One call as each of its attempts sends it (:meth:`Client._request`)."""

    method: str
    path: str
    url: str
    data: object = None  # bytes of JSON, or a dict for a form
    headers: dict = field(default_factory=dict)
    params: dict = None
    log_body: str = None  # what the exchange log shows of ``data``
    raw: bool = False  # answer (bytes, headers), not decoded JSON
    max_bytes: int = MAX_RESPONSE_BYTES


def _checked(value, problems, what):
    """:return: ``value`` when ``problems`` (its wrong fields) is empty
    :raise ProtocolError: naming the first ten wrong fields"""
    if problems:
        raise ProtocolError(
            f"AutoIntegrate sent {what} with missing or wrong fields: " + ", ".join(problems[:10]),
            retryable=False,
        )
    return value


#: the longest Idempotency-Key the contract allows (3)
KEY_MAX = 128


def _derived_key(prefix, data):
    """:return: ``"<prefix>:<digest of data>"``, its prefix shortened (and made
    unique by its own digest) when a long RO id would take it past :data:`KEY_MAX`."""
    key = f"{prefix}:{formatting.bytes_digest(data)}"
    if len(key) > KEY_MAX:
        key = f"{prefix[:KEY_MAX - 51]}~{formatting.bytes_digest(prefix.encode())}:{formatting.bytes_digest(data)}"
    return key


def _encode(body):
    """:return: the bytes sent for a JSON body, its canonical JSON (once per call:
    the idempotency key is the digest of the same bytes)."""
    return formatting.canonical_json(body).encode()


def _loggable_request(data):
    """The request body as text for a log, without the client secret."""
    if data is None:
        return None
    if isinstance(data, dict):
        return urlencode({key: ("***" if key == "client_secret" else value) for key, value in data.items()})
    return data[:LOG_BODY_MAX].decode("utf-8", "replace")


def _loggable_response(path, raw):
    """The answer as text for a log; a token answer keeps no token."""
    if path == "/oauth/token":
        return '{"access_token": "***"}'
    return raw[:LOG_BODY_MAX].decode("utf-8", "replace")


#: (text found in a requests/urllib3 error, what it means) -- their own texts are nested reprs
NETWORK_REASONS = (
    ("Connection refused", "connection refused"),
    ("RemoteDisconnected", "the connection was closed without an answer"),
    ("Connection reset", "the connection was reset"),
    ("Broken pipe", "the connection was closed"),
    ("IncompleteRead", "fewer bytes than announced"),
    ("NameResolutionError", "the host name could not be resolved"),
    ("Name or service not known", "the host name could not be resolved"),
    ("Temporary failure in name resolution", "the host name could not be resolved"),
    ("Network is unreachable", "the network is unreachable"),
    ("No route to host", "no route to the host"),
    ("timed out", "timed out"),
)


def _nothing_sent(exc):
    """Whether a requests error happened before anything was sent: the
    connection was never made (name not resolved, refused, not accepted in
    time). Anything later may have reached the fleet."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(exc, requests.exceptions.ProxyError):
        return False
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError carries the cause
    # NewConnectionError: refused, unreachable, and (urllib3 2.x's NameResolutionError) not resolved
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _sent_without_answer(method, idempotency_key):
    """:return: what a call sent without an answer means, and why sending it again cannot do anything twice."""
    if idempotency_key:
        return ("The fleet may have acted on it. Sending it again is safe: with the same idempotency key, the "
                "fleet replays its answer instead of acting twice.")
    if method == "GET":
        return "Reading again is safe: a read changes nothing at the fleet."
    return "Sending it again is safe: this call changes nothing at the fleet."


def _unreachable_reason(error):
    """:return: the short reason of an :class:`UnreachableError`, from the requests error it was raised from."""
    cause = error.__cause__
    if cause is None:
        return error.message
    return _tls_reason(cause) if isinstance(error, TLSError) else _network_reason(cause)


def _tls_reason(exc):
    """:return: OpenSSL's reason (``[SSL: CERTIFICATE_VERIFY_FAILED] ...``) instead of urllib3's nested reprs."""
    text = str(exc)
    match = re.search(r"\[SSL[^\]]*\][^'\"()]*", text)
    return match.group().strip() if match else text[:300]


def _network_reason(exc):
    """:return: a short reason for a network error, instead of urllib3's nested reprs."""
    text = str(exc)
    for needle, reason in NETWORK_REASONS:
        if needle in text:
            return reason
    return text[:200]


def _scrub(value, secrets):
    """:return: ``value`` (text, or lists and dicts of it) with every secret replaced by ``***``."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    return value


def _scrub_error(error, secrets):
    """Remove the secrets from an error's message and details, in place. :return: the error"""
    error.message = _scrub(error.message, secrets)
    error.args = (error.message,)
    error.details = _scrub(error.details, secrets)
    return error


def _digest_sha256(header):
    """:return: the SHA-256 digest a ``Digest`` header (RFC 3230) gives, or ``None``."""
    for item in (header or "").split(","):
        algorithm, sep, value = item.strip().partition("=")
        if sep and algorithm.strip().lower() == "sha-256":
            try:
                digest = base64.b64decode(value.strip(), validate=True)
            except (binascii.Error, ValueError):
                return None
            return digest if len(digest) == hashlib.sha256().digest_size else None
    return None


def _retry_after(value):
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None
