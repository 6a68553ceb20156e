"""Helpers of the simulator tests: a tiny API caller, RO bodies, a webhook receiver."""

import copy
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from autointegrate_sim import Simulator

CLIENT_ID = "shop-17"
SECRET = "s3cret-shop-17"
SHOP_ID = "SHOP-17"
TIMEOUT = 10
FLEETS = {"ENT-0042": None, "ELM-7": "250.00"}

BODY = {
    "fleet_company_id": "ENT-0042",
    "shop_id": SHOP_ID,
    "shop_ro_ref": "RO/2026/00031",
    "currency": "USD",
    "vehicle": {"vin": "1FTFW1E50NFA00001", "plate": "7ABC123", "plate_region": "CA", "unit_number": "U-5521",
                "odometer": 48211, "odometer_unit": "mi", "year": 2022, "make": "Ford", "model": "F-150"},
    "complaint": "Windshield cracked across driver view",
    "notes": ["Customer reports rock chip spread overnight"],
    "lines": [
        {"line_ref": "L1", "type": "part", "service_code": "GLASS-WS", "description": "Windshield FW05432 GTY",
         "quantity": "1.000", "unit_price": "412.00", "amount": "412.00", "taxable": True,
         "notes": ["OEM glass required for ADAS camera"]},
        {"line_ref": "L2", "type": "labor", "service_code": "LAB-GLASS", "description": "Install windshield",
         "quantity": "1.500", "unit_price": "95.00", "amount": "142.50", "taxable": False, "notes": []},
    ],
    "totals": {"untaxed": "554.50", "tax": "32.96", "total": "587.46"},
}

SMALL_BODY = {
    **BODY,
    "notes": [],
    "lines": [{"line_ref": "L1", "type": "fee", "description": "Wiper blades", "quantity": "2.000",
               "unit_price": "25.00", "amount": "50.00", "taxable": True, "notes": []}],
    "totals": {"untaxed": "50.00", "tax": "5.00", "total": "55.00"},
}


def make_sim(**options):
    """:return: a simulator (not started) with the tests' fleets, client and fast webhook retries."""
    options = {"fleets": FLEETS, "client_id": CLIENT_ID, "client_secret": SECRET, "shop_id": SHOP_ID,
               "webhook_backoff_s": 0.05, "webhook_max_attempts": 3, "webhook_timeout_s": 2, **options}
    return Simulator(**options)


def ro_body(ref="RO/2026/00031", base=BODY, **changes):
    """:return: a valid submit body (a deep copy) with ``changes`` applied."""
    body = copy.deepcopy(base)
    body["shop_ro_ref"] = ref
    body.update(changes)
    return body


class Api:
    """The client API called with plain ``requests`` (no retries, no magic)."""

    def __init__(self, url, client_id=CLIENT_ID, secret=SECRET):
        self.url = url
        self.client_id = client_id
        self.secret = secret
        self._token = None

    def fetch_token(self, secret=None, grant_type="client_credentials"):
        return requests.post(self.url + "/oauth/token", timeout=TIMEOUT, data={
            "grant_type": grant_type, "client_id": self.client_id, "client_secret": secret or self.secret})

    @property
    def token(self):
        if self._token is None:
            response = self.fetch_token()
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def call(self, method, path, body=None, key=None, params=None, headers=None, token=None):
        headers = dict(headers or {})
        headers.setdefault("Authorization", f"Bearer {token or self.token}")
        if method in ("POST", "PUT") and key is not False:
            headers["Idempotency-Key"] = key or str(uuid.uuid4())
        data = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        return requests.request(method, self.url + path, data=data, params=params, headers=headers,
                                timeout=TIMEOUT)

    def submit(self, body, key=None):
        return self.call("POST", "/v1/repair-orders", body, key=key)

    def created(self, body, key=None):
        """Submit and return the RO state (asserting 201)."""
        response = self.submit(body, key)
        assert response.status_code == 201, response.text
        return response.json()

    def resubmit(self, ro_id, body, base_revision, key=None):
        return self.call("PUT", f"/v1/repair-orders/{ro_id}", dict(body, base_revision=base_revision), key=key)

    def get(self, path, **params):
        return self.call("GET", path, params=params or None)

    def post(self, path, body, key=None):
        return self.call("POST", path, body, key=key)


def error_code(response):
    return response.json()["error"]["code"]


class Receiver:
    """A webhook receiver on loopback that answers the queued statuses (then 200)."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.received.append({"headers": dict(self.headers.items()), "body": body, "status": status,
                                          "at": time.monotonic()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.arrived.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
