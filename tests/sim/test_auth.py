"""Section 2: tokens."""

import time

from .helpers import CLIENT_ID, ro_body


def test_token_is_issued_and_accepted(api):
    response = api.fetch_token()
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and len(token["access_token"]) > 30
    assert response.headers["Cache-Control"] == "no-store"
    assert api.created(ro_body())["status"] == "pending"


def test_wrong_credentials_are_401_in_the_contract_shape(api):
    response = api.fetch_token(secret="wrong")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert api.fetch_token(grant_type="password").json()["error"]["code"] == "bad_request"


def test_missing_or_unknown_token_is_401(api):
    assert api.call("GET", "/v1/repair-orders", headers={"Authorization": ""}).status_code == 401
    response = api.call("GET", "/v1/repair-orders", token="not-a-token")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_expired_and_revoked_tokens_are_401(api, admin):
    assert api.get("/v1/repair-orders").status_code == 200
    assert admin.expire_tokens(CLIENT_ID) == {"expired": 1}
    assert api.get("/v1/repair-orders").status_code == 401
    admin.set_config(token_ttl_s=1)
    api._token = None
    assert api.fetch_token().json()["expires_in"] == 1
    assert api.get("/v1/repair-orders").status_code == 200
    time.sleep(1.1)
    assert api.get("/v1/repair-orders").status_code == 401


def test_request_log_redacts_secrets(api, admin):
    api.fetch_token()
    api.get("/v1/repair-orders")
    items = admin.requests()["items"]
    assert [(r["method"], r["path"], r["status"]) for r in items] == [
        ("POST", "/oauth/token", 200), ("POST", "/oauth/token", 200), ("GET", "/v1/repair-orders", 200)]
    assert "s3cret" not in str(items) and "client_secret=%2A%2A%2A" in items[0]["body"]
    assert items[2]["headers"]["Authorization"] == "Bearer ***"
    assert admin.requests(since=items[1]["i"])["items"] == items[2:]
    admin.clear_requests()
    assert admin.requests()["items"] == []
