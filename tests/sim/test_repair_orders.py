"""Sections 3 and 4.1-4.3: submit, idempotency, resubmit, read."""

import copy
from concurrent.futures import ThreadPoolExecutor

import pytest

from autointegrate_sim.admin import AdminError

from .helpers import SMALL_BODY, Api, error_code, ro_body


def test_submit_creates_a_pending_ro(api, admin):
    state = api.created(ro_body())
    assert state["ro_id"].startswith("AI-") and len(state["ro_id"]) == 9
    assert (state["revision"], state["status"], state["approved_total"]) == (1, "pending", "0.00")
    assert state["authorization_number"] is None and state["decided_at"] is None
    assert state["lines"][0] == {"line_ref": "L1", "status": "pending", "approved_quantity": None,
                                 "approved_amount": None, "reason": None}
    assert [(n["line_ref"], n["author_type"], n["author"]) for n in state["notes"]] == [
        (None, "shop", "SHOP-17"), ("L1", "shop", "SHOP-17")]
    assert state["updated_at"].endswith("Z") and state["sequence"] >= 1
    assert api.get(f"/v1/repair-orders/{state['ro_id']}").json() == state
    view = admin.ro(state["ro_id"])
    assert view["client_id"] == "shop-17" and view["body"]["shop_ro_ref"] == "RO/2026/00031"


def test_auto_approval_under_the_fleet_threshold(api):
    state = api.created(ro_body(fleet_company_id="ELM-7", base=SMALL_BODY))
    assert state["status"] == "approved" and state["decided_by"] == "Auto-approval"
    assert state["authorization_number"].startswith("AUTH-") and len(state["authorization_number"]) == 11
    assert state["lines"][0]["approved_quantity"] == "2.000" and state["approved_total"] == "50.00"
    assert api.created(ro_body("RO/big", fleet_company_id="ELM-7"))["status"] == "pending"


def test_validation_errors_list_every_field(api):
    body = ro_body()
    body["lines"][1]["amount"] = "140.00"
    body["vehicle"]["vin"] = "1FTFW1E50NFA0000I"
    response = api.submit(body)
    assert response.status_code == 422 and error_code(response) == "validation_error"
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"lines[1].amount", "vehicle.vin", "totals.untaxed"} <= fields


def test_unknown_and_forbidden_fleets_and_shops(api, admin):
    assert error_code(api.submit(ro_body(fleet_company_id="NOPE-1"))) == "unknown_fleet"
    response = api.submit(ro_body(shop_id="SHOP-99"))
    assert response.status_code == 403 and error_code(response) == "forbidden"
    admin.set_config(clients={"shop-17": {"fleets": ["ELM-7"]}})
    assert api.submit(ro_body()).status_code == 403


def test_duplicate_shop_ro_ref_returns_the_existing_ro(api):
    first = api.created(ro_body())
    response = api.submit(ro_body())
    assert response.status_code == 409 and error_code(response) == "duplicate_ro"
    assert response.json()["error"]["details"] == [first]


def test_another_shops_ro_is_forbidden(api, admin, sim):
    state = api.created(ro_body())
    admin.set_config(clients={"other": {"client_secret": "other-secret"}})
    other = Api(sim.url, "other", "other-secret")
    assert other.get(f"/v1/repair-orders/{state['ro_id']}").status_code == 403
    assert other.get("/v1/repair-orders").json()["items"] == []
    assert api.get("/v1/repair-orders/AI-NOPE22").status_code == 404
    with pytest.raises(AdminError, match="client_secret") as info:
        admin.set_config(clients={"third": {"shop_id": "X"}})
    assert info.value.status == 422


# ------------------------------------------------------------ idempotency
def test_replay_returns_the_stored_answer_and_creates_one_ro(api, admin):
    first = api.submit(ro_body(), key="RO/2026/00031:rev1:submit")
    reordered = dict(reversed(list(ro_body().items())))  # same JSON value, other key order
    again = api.submit(reordered, key="RO/2026/00031:rev1:submit")
    assert (again.status_code, again.content) == (201, first.content)
    assert len(admin.ros()) == 1


def test_same_key_other_body_is_rejected(api):
    api.created(ro_body(), key="k-1")
    response = api.submit(ro_body("RO/other"), key="k-1")
    assert response.status_code == 422 and error_code(response) == "idempotency_key_reused"


def test_error_answers_are_not_stored(api, admin):
    bad = ro_body()
    bad["totals"]["total"] = "1.00"
    assert api.submit(bad, key="k-2").status_code == 422
    assert api.submit(ro_body(), key="k-2").status_code == 201
    assert len(admin.ros()) == 1


@pytest.mark.parametrize("key", [False, "", "x" * 129, "tab\there"])
def test_missing_or_malformed_key_is_400(api, key):
    headers = {"Idempotency-Key": key} if key is not False else {}
    response = api.call("POST", "/v1/repair-orders", ro_body(), key=False, headers=headers)
    assert response.status_code == 400 and error_code(response) == "bad_request"


def test_body_must_be_a_json_object(api):
    assert error_code(api.call("POST", "/v1/repair-orders", b"{not json")) == "bad_request"
    assert error_code(api.call("POST", "/v1/repair-orders", [1, 2])) == "bad_request"


def test_unknown_path_and_wrong_method(api):
    assert error_code(api.get("/v1/nothing")) == "not_found"
    response = api.call("DELETE", "/v1/repair-orders")
    assert response.status_code == 405 and response.json()["error"]["code"] == "bad_request"


# --------------------------------------------------------------- resubmit
def test_resubmit_keeps_unchanged_decisions(api, admin):
    state = api.created(ro_body())
    decided = admin.decide(state["ro_id"], decided_by="J. Rivera", lines=[
        {"line_ref": "L1", "status": "approved"}, {"line_ref": "L2", "status": "denied", "reason": "rate card"}])
    body = ro_body()
    body["lines"][0]["quantity"] = "1"  # the same number, written differently
    body["lines"][0]["notes"].append("a new note on L1")
    body["lines"][1]["description"] = "Install windshield, recalibrate camera"
    body["lines"].append({"line_ref": "L3", "type": "fee", "description": "Disposal", "quantity": "1.000",
                          "unit_price": "10.00", "amount": "10.00", "taxable": True, "notes": []})
    body["totals"] = {"untaxed": "564.50", "tax": "32.96", "total": "597.46"}
    response = api.resubmit(state["ro_id"], body, base_revision=1)
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["revision"] == 2 and new["status"] == "pending" and new["sequence"] > state["sequence"]
    assert [(ln["line_ref"], ln["status"]) for ln in new["lines"]] == [
        ("L1", "approved"), ("L2", "pending"), ("L3", "pending")]
    texts = [n["text"] for n in new["notes"]]
    assert texts.count("OEM glass required for ADAS camera") == 1 and "a new note on L1" in texts
    # the number the decision gave, kept through the revision
    assert decided["authorization_number"].startswith("AUTH-")
    assert new["authorization_number"] == decided["authorization_number"] == api.get(
        f"/v1/repair-orders/{state['ro_id']}").json()["authorization_number"]


def test_resubmit_removes_absent_lines(api):
    state = api.created(ro_body())
    body = ro_body()
    body["lines"] = body["lines"][:1]
    body["totals"] = {"untaxed": "412.00", "tax": "32.96", "total": "444.96"}
    new = api.resubmit(state["ro_id"], body, base_revision=1).json()
    assert [ln["line_ref"] for ln in new["lines"]] == ["L1"]


def test_resubmit_conflicts_and_rules(api, admin):
    state = api.created(ro_body())
    ro_id = state["ro_id"]
    assert api.resubmit(ro_id, ro_body(), 1).status_code == 200
    response = api.resubmit(ro_id, ro_body(), 1)
    assert response.status_code == 409 and error_code(response) == "revision_conflict"
    assert response.json()["error"]["details"][0]["revision"] == 2
    response = api.resubmit(ro_id, ro_body("RO/renamed"), 2)
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "shop_ro_ref"
    assert api.resubmit("AI-NOPE22", ro_body(), 2).status_code == 404
    assert api.post(f"/v1/repair-orders/{ro_id}/cancel", {"reason": "customer left"}).status_code == 200
    response = api.resubmit(ro_id, ro_body(), 99)
    assert response.status_code == 409 and error_code(response) == "invalid_state"


def test_resubmit_ends_info_requested_and_auto_approves(api, admin):
    state = api.created(ro_body(fleet_company_id="ELM-7", base=SMALL_BODY))
    assert state["status"] == "approved"
    body = copy.deepcopy(SMALL_BODY)
    body.update(fleet_company_id="ELM-7", shop_ro_ref=state["shop_ro_ref"])
    body["lines"][0].update(quantity="3.000", amount="75.00")
    body["totals"] = {"untaxed": "75.00", "tax": "7.50", "total": "82.50"}
    admin.fleet_note(state["ro_id"], text="Why three?", request_info=True)
    assert admin.ro(state["ro_id"])["status"] == "info_requested"
    new = api.resubmit(state["ro_id"], body, 1).json()
    assert new["status"] == "approved" and new["lines"][0]["approved_amount"] == "75.00"
    assert new["authorization_number"] == state["authorization_number"]


def test_concurrent_retries_with_one_key_create_one_ro(api, admin):
    api.token  # noqa: B018 - one token for every thread
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: api.submit(ro_body(), key="same"), range(6)))
    assert {a.status_code for a in answers} == {201} and len({a.content for a in answers}) == 1
    assert len(admin.ros()) == 1
