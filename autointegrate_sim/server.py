"""HTTP plumbing: the request handler, the client-API router and fault injection.

Plain :mod:`http.server` rather than a framework because faults need
byte-level control of the connection (drop it unanswered, cut a body short).
"""

import hashlib
import json
import re
import socket
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from autointegrate.contract import DOCUMENT_BODY_MAX_BYTES
from autointegrate.formatting import canonical_json

from . import control
from .errors import ApiError
from .web import Response, error_response, is_digits, json_response, parse_json_object, query_params, route

MAX_BODY = 4 * 1024 * 1024
#: paths whose bodies carry a document (9.2, the control API's and the web page's uploads)
DOCUMENT_BODY_RE = re.compile(r"/(v1/repair-orders|_admin/ro|_admin/ui/ro)/[^/]+/documents")
#: how long a refused body is read and dropped so its sender can read the 413 (a lingering close)
LINGER_S = 5
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x20-\x7e]{1,128}$")
RO = r"/v1/repair-orders/(?P<ro_id>[^/]+)"
#: (path pattern, {method: (Fleet method, needs an Idempotency-Key)})
CLIENT_ROUTES = [
    (re.compile(r"^/oauth/token$"), {"POST": ("issue_token", False)}),
    (re.compile(r"^/v1/repair-orders$"), {"POST": ("submit", True), "GET": ("changes", False)}),
    (re.compile(f"^{RO}$"), {"GET": ("read", False), "PUT": ("resubmit", True)}),
    (re.compile(f"^{RO}/notes$"), {"POST": ("add_note", True), "GET": ("list_notes", False)}),
    (re.compile(f"^{RO}/invoice$"), {"POST": ("invoice", True)}),
    (re.compile(f"^{RO}/cancel$"), {"POST": ("cancel", True)}),
    (re.compile(f"^{RO}/documents$"), {"POST": ("upload_document", True), "GET": ("list_documents", False)}),
    (re.compile(f"^{RO}/documents/(?P<document_id>[^/]+)/content$"), {"GET": ("document_content", False)}),
]


def body_limit(path):
    """:return: the largest body ``path`` takes: 15 MiB for a document upload, else 4 MiB."""
    return DOCUMENT_BODY_MAX_BYTES if DOCUMENT_BODY_RE.fullmatch(path) else MAX_BODY


def process_client(sim, method, path, query, headers, raw):
    """Answer one client-API request (auth, idempotency, then the fleet's rules)."""
    (target, needs_key), params = route(CLIENT_ROUTES, method, path)
    fleet = sim.fleet
    if target == "issue_token":
        return json_response(*fleet.issue_token(raw), headers={"Cache-Control": "no-store"})
    client_id = fleet.authenticate(headers.get("Authorization"))
    if not needs_key:
        with sim.store.transaction():
            result = getattr(fleet, target)(client_id, *params.values(), query_params(query))
        return result if isinstance(result, Response) else json_response(*result)
    key = headers.get("Idempotency-Key")
    if key is None or not IDEMPOTENCY_KEY_RE.fullmatch(key):
        raise ApiError(400, "bad_request", "an Idempotency-Key header of 1-128 printable ASCII characters is required")
    body = parse_json_object(raw)
    canonical = canonical_json(body)
    # a digest, not the body: an upload's is up to 15 MiB
    digest = "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    with sim.store.transaction():
        stored = sim.store.get_idempotency(client_id, key)
        if stored is not None:
            # a key stored by an older simulator kept the canonical body itself
            if (stored["method"], stored["path"]) != (method, path) or stored["body"] not in (digest, canonical):
                raise ApiError(422, "idempotency_key_reused",
                               "this Idempotency-Key was used for another request", [])
            return Response(stored["status"], stored["response"].encode(), {"Idempotent-Replayed": "true"})
        response = json_response(*getattr(fleet, target)(client_id, *params.values(), body))
        # only successes are kept: a retry after an error is processed afresh
        sim.store.save_idempotency(client_id, key, method, path, digest, response.status, response.body.decode())
        return response


def redact_headers(headers):
    out = dict(headers)
    for name in list(out):
        if name.lower() == "authorization":
            scheme = out[name].split(" ", 1)[0] if out[name] else ""
            out[name] = f"{scheme or 'Bearer'} ***"
    return out


def redact_body(path, raw):
    """:return: the body as the request log keeps it: no client secret, and an
    upload's content (up to 15 MiB) named by its length only."""
    text = raw.decode("utf-8", "replace")
    if path == "/oauth/token" and "client_secret" in text:
        form = parse_qs(text, keep_blank_values=True)
        form["client_secret"] = ["***"]
        text = urlencode(form, doseq=True)
    elif DOCUMENT_BODY_RE.fullmatch(path) and "content_base64" in text:
        try:
            body = json.loads(text)
        except ValueError:
            return text
        if isinstance(body, dict) and isinstance(body.get("content_base64"), str):
            body["content_base64"] = f"<{len(body['content_base64'])} characters of base64>"
            text = json.dumps(body, ensure_ascii=False)
    return text


def fault_response(decision):
    status = decision.status if decision.fault == "next" else 429
    headers = {"Retry-After": _retry_after(decision.retry_after)} if status == 429 else {}
    return error_response(ApiError(status, message=f"injected fault: {decision.fault}", headers=headers))


def _retry_after(value):
    return str(int(value)) if float(value).is_integer() else str(value)


class Handler(BaseHTTPRequestHandler):
    """One connection; every method goes through :meth:`dispatch`."""

    protocol_version = "HTTP/1.1"
    server_version = "AutoIntegrateSimulator/1.0"
    sys_version = ""
    # headers and body leave in two writes: with Nagle's algorithm the body
    # waits for the client's delayed ACK, about 40 ms on every answer
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.server.track(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format, *args):
        if self.server.sim.verbose:
            super().log_message(format, *args)

    def dispatch(self):
        with self.server.busy():
            self._dispatch()

    def _dispatch(self):
        sim = self.server.sim
        split = urlsplit(self.path)
        admin = split.path == "/_admin" or split.path.startswith("/_admin/")
        try:
            raw = self._read_body(body_limit(split.path))
        except ApiError as exc:
            if not admin:
                i = sim.store.log_request(self.command, self.path, redact_headers(self.headers.items()), "")
                sim.store.finish_request(i, exc.status, None)
            self.close_connection = True  # the unread body would be taken for the next request
            exc.headers["Connection"] = "close"
            self._send(error_response(exc))
            if exc.status == 413:
                self._discard(int(self.headers["Content-Length"]))
            return
        if admin:
            self._send(self._safely(control.handle, sim, self.command, split.path, split.query, raw, self.headers))
        else:
            self._client(sim, split, raw)

    def _client(self, sim, split, raw):
        i = sim.store.log_request(self.command, self.path, redact_headers(self.headers.items()),
                                  redact_body(split.path, raw))
        decision = sim.faults.take(split.path)
        if decision.delay_s:
            time.sleep(decision.delay_s)
        fault = decision.fault or ("delay_s" if decision.delay_s else None)
        if decision.fault == "drop_connection_next":
            sim.store.finish_request(i, None, fault)
            self._drop()
            return
        if decision.before:
            response = fault_response(decision)
        else:
            response = self._safely(process_client, sim, self.command, split.path, split.query, self.headers, raw)
        dropped = decision.fault == "drop_after_processing_next"
        # logged before answering so a test reading the log after the answer sees it
        sim.store.finish_request(i, None if dropped else response.status, fault)
        if dropped:
            self._drop()
        else:
            self._send(response, truncate=decision.fault == "truncate_next")

    def _safely(self, func, *args):
        try:
            return func(*args)
        except ApiError as exc:
            return error_response(exc)
        except Exception:  # a bug must answer 500, never kill the server
            traceback.print_exc(file=sys.stderr)
            return error_response(ApiError(500, "server_error", "unexpected simulator error"))

    def _read_body(self, limit):
        """:return: the body, read only once its Content-Length is known to be at most ``limit``."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise ApiError(400, "bad_request", "chunked request bodies are not supported; send Content-Length")
        length = self.headers.get("Content-Length") or "0"
        if not is_digits(length):
            raise ApiError(400, "bad_request", "malformed Content-Length")
        if int(length) > limit:
            raise ApiError(413, "payload_too_large", f"the body ({int(length)} bytes) is larger than the {limit} "
                                                     "bytes this endpoint accepts; it was not read")
        return self.rfile.read(int(length)) if int(length) else b""

    def _discard(self, length):
        """Drop what a client still sends of a body refused with 413, for at most
        :data:`LINGER_S`: closing with it unread would reset the connection, and
        the client would lose the answer it was sent before (a lingering close,
        as web servers do). Nothing of it is kept or looked at."""
        deadline = time.monotonic() + LINGER_S
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            while length > 0 and time.monotonic() < deadline:
                self.connection.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = self.rfile.read1(min(length, 1024 * 1024))
                if not chunk:
                    return
                length -= len(chunk)
        except OSError:  # the client hung up or stopped sending: nothing more to drop
            pass

    def _send(self, response, truncate=False):
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if truncate:
            self.wfile.write(response.body[: len(response.body) // 2])
            self._drop()
        elif self.command != "HEAD":
            self.wfile.write(response.body)

    def _drop(self):
        """Close the connection without (finishing) the answer."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


for _method in ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"):
    setattr(Handler, "do_" + _method, Handler.dispatch)


class SimHTTPServer(ThreadingHTTPServer):
    """Threaded server that knows its simulator and its open connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, sim):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.sim = sim
        self.stopping = False
        self._connections = set()
        self._active = 0
        self._idle = threading.Condition()
        super().__init__(address, Handler)

    @contextmanager
    def busy(self):
        """Count a request in progress, so :meth:`wait_idle` can wait for it."""
        with self._idle:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout):
        """Wait (at most ``timeout`` s) for the requests in progress to finish."""
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def handle_error(self, request, client_address):
        # while stopping, a request cut short is expected; so is a client that
        # hung up before its answer was written (its read timeout expired)
        if not self.stopping and not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

    def track(self, connection):
        with self._idle:
            self._connections.add(connection)

    def untrack(self, connection):
        with self._idle:
            self._connections.discard(connection)

    def close_connections(self):
        """Shut idle keep-alive connections down so ``stop()`` really stops."""
        with self._idle:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
