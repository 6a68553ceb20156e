"""Section 8 faults, the truncate_next extension and the request log."""

import time

import pytest
import requests

from autointegrate_sim.admin import AdminError

from .helpers import error_code, ro_body

PREFIX = "/v1/repair-orders"


def test_next_statuses_answer_without_processing(api, admin):
    api.token  # noqa: B018 - fetch the token before the faults
    admin.set_faults({"next": [503, 429, 409], "path_prefix": PREFIX})
    first, second, third = (api.submit(ro_body(), key="k") for _ in range(3))
    assert (first.status_code, error_code(first)) == (503, "server_error")
    assert (second.status_code, error_code(second)) == (429, "rate_limited") and second.headers["Retry-After"] == "1"
    assert (third.status_code, error_code(third)) == (409, "invalid_state")
    assert admin.ros() == [] and admin.faults()["next"] == []
    assert api.submit(ro_body(), key="k").status_code == 201
    log = [(r["status"], r["fault"]) for r in admin.requests()["items"] if r["path"] == PREFIX]
    assert log == [(503, "next"), (429, "next"), (409, "next"), (201, None)]


def test_drop_connection_does_not_process(api, admin):
    api.token  # noqa: B018
    admin.set_faults(drop_connection_next=1)
    with pytest.raises(requests.ConnectionError):
        api.submit(ro_body(), key="k")
    assert admin.ros() == []
    assert api.submit(ro_body(), key="k").status_code == 201
    statuses = [(r["status"], r["fault"]) for r in admin.requests()["items"] if r["path"] == PREFIX]
    assert statuses == [(None, "drop_connection_next"), (201, None)]


def test_rate_limit_with_retry_after(api, admin):
    api.token  # noqa: B018
    admin.set_faults(rate_limit_next=2, retry_after=7, path_prefix="/v1/")
    for _ in range(2):
        response = api.get(PREFIX)
        assert response.status_code == 429 and response.headers["Retry-After"] == "7"
        assert error_code(response) == "rate_limited"
    assert api.get(PREFIX).status_code == 200


def test_drop_after_processing_then_replay_returns_the_stored_answer(api, admin):
    api.token  # noqa: B018
    admin.set_faults(drop_after_processing_next=1)
    with pytest.raises(requests.ConnectionError):
        api.submit(ro_body(), key="RO/2026/00031:rev1:submit")
    assert len(admin.ros()) == 1  # the fleet did it; the answer was lost
    response = api.submit(ro_body(), key="RO/2026/00031:rev1:submit")
    assert response.status_code == 201 and response.json()["ro_id"] == admin.ros()[0]["ro_id"]
    assert response.headers["Idempotent-Replayed"] == "true" and len(admin.ros()) == 1


def test_truncate_cuts_the_body_after_processing(api, admin):
    api.token  # noqa: B018
    admin.set_faults(truncate_next=1)
    with pytest.raises(requests.RequestException):
        api.submit(ro_body(), key="k").json()
    assert len(admin.ros()) == 1
    assert api.submit(ro_body(), key="k").status_code == 201
    assert [r["fault"] for r in admin.requests()["items"] if r["path"] == PREFIX] == ["truncate_next", None]


def test_delay_applies_to_matching_paths_until_cleared(api, admin):
    api.token  # noqa: B018
    admin.set_faults(delay_s=0.3, path_prefix="/v1/repair-orders")
    start = time.monotonic()
    assert api.get(PREFIX).status_code == 200
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    api.fetch_token()
    assert time.monotonic() - start < 0.3  # another prefix
    assert admin.set_faults() == admin.faults() and admin.faults()["delay_s"] == 0
    assert [r["fault"] for r in admin.requests()["items"]][-2:] == ["delay_s", None]


def test_delay_next_slows_only_that_many_requests(api, admin):
    api.token  # noqa: B018
    admin.set_faults(delay_s=0.3, delay_next=1, path_prefix="/v1/")
    start = time.monotonic()
    assert api.get(PREFIX).status_code == 200
    assert time.monotonic() - start >= 0.3
    assert admin.faults()["delay_next"] == 0
    start = time.monotonic()
    assert api.get(PREFIX).status_code == 200
    assert time.monotonic() - start < 0.3
    assert [r["fault"] for r in admin.requests()["items"]][-2:] == ["delay_s", None]


def test_faults_are_validated_and_reset(admin):
    with pytest.raises(AdminError, match="422") as info:
        admin.set_faults(next=["503"])
    assert info.value.status == 422 and info.value.body["error"]["details"][0]["field"] == "next"
    admin.set_faults(rate_limit_next=3)
    admin.reset()
    assert admin.faults()["rate_limit_next"] == 0


def test_admin_is_never_faulted(admin):
    admin.set_faults(next=[500], drop_connection_next=5)
    assert admin.ros() == [] and admin.faults()["next"] == [500]
