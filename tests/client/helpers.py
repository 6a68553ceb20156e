"""Helpers of the client's tests against the simulator (the fixtures are in
``conftest.py``): its control API with plain requests, a client that records
its sleeps instead of sleeping, RO bodies."""

import requests

import autointegrate as ai
from autointegrate.client import TokenCache

from .test_bodies import ro_body

CLIENT_ID = "shop-17"
SECRET = "s3cret-shop-17"


class Admin:
    """The simulator's section-8 control API, called with plain requests."""

    def __init__(self, url):
        self.url = url + "/_admin"

    def get(self, path, **params):
        response = requests.get(self.url + path, params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path, body=None):
        response = requests.post(self.url + path, json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def requests_log(self, path=None, method=None):
        items = self.get("/requests")["items"]
        return [r for r in items if (path is None or r["path"].split("?")[0] == path)
                and (method is None or r["method"] == method)]

    def ros(self):
        return self.get("/ros")["items"]


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def make_client(sim, sleeps, **kwargs):
    options = {"backoff_base": 0.01, "read_timeout": 5, "token_cache": TokenCache(), "sleep": sleeps}
    options.update(kwargs)
    return ai.Client(sim.url, CLIENT_ID, SECRET, **options)


def body(ref="RO/2026/00031", **overrides):
    return ro_body(shop_ro_ref=ref, **overrides)


def small_body(ref, fleet="ELM-7"):
    return ro_body(
        shop_ro_ref=ref,
        fleet_company_id=fleet,
        notes=[],
        lines=[{"line_ref": "L1", "type": "fee", "service_code": "DIAG", "description": "Diagnosis",
                "quantity": "1.000", "unit_price": "100.00", "amount": "100.00", "taxable": False}],
        totals={"untaxed": "100.00", "tax": "0.00", "total": "100.00"},
    )


def feed_ids(client):
    return [item["ro_id"] for page in client.iter_changes(limit=2) for item in page["items"]]


def assert_one_ro(admin, client, ref="RO/2026/00031"):
    ros = [ro for ro in admin.ros() if ro["shop_ro_ref"] == ref]
    assert len(ros) == 1, ros
    assert feed_ids(client).count(ros[0]["ro_id"]) == 1
    return ros[0]
