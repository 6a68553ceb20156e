"""Sections 5 and 6, and the fleet's decisions of section 8."""

import pytest

from autointegrate_sim.admin import AdminError

from .helpers import error_code, ro_body

INVOICE = {"invoice_number": "INV/2026/0012", "invoice_date": "2026-11-29", "odometer": 48230,
           "lines": [{"line_ref": "L1", "quantity": "1.000", "amount": "400.00"}],
           "totals": {"untaxed": "400.00", "tax": "24.00", "total": "424.00"}}


@pytest.fixture
def ro(api):
    return api.created(ro_body())


def test_notes_add_list_and_filter(api, ro):
    path = f"/v1/repair-orders/{ro['ro_id']}/notes"
    response = api.post(path, {"text": "Photo attached", "line_ref": "L2", "author": "Mia (service advisor)"})
    assert response.status_code == 201
    note = response.json()
    assert note["note_id"].startswith("N-") and note["author_type"] == "shop" and note["line_ref"] == "L2"
    assert api.post(path, {"text": "Default author"}).json()["author"] == "SHOP-17"
    items = api.get(path).json()["items"]
    assert [n["text"] for n in items][-2:] == ["Photo attached", "Default author"]
    assert [n["text"] for n in api.get(path, line_ref="L2").json()["items"]] == ["Photo attached"]
    assert api.get(path, line_ref="L9").json()["items"] == []
    response = api.post(path, {"text": "?", "line_ref": "L9"})
    assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "line_ref"
    assert api.post(path, {"text": ""}).status_code == 422
    # "\udc80" decodes to a lone surrogate: refused as text, not a server error
    lone = api.call("POST", path, b'{"text": "x \\udc80"}')
    assert lone.status_code == 422 and lone.json()["error"]["details"][0]["field"] == "text"


def test_fleet_question_and_shop_answer(api, admin, ro):
    note = admin.fleet_note(ro["ro_id"], text="Send a photo", line_ref="L1", author="J. Rivera", request_info=True)
    assert note["author_type"] == "fleet"
    assert api.get(f"/v1/repair-orders/{ro['ro_id']}").json()["status"] == "info_requested"
    api.post(f"/v1/repair-orders/{ro['ro_id']}/notes", {"text": "Photo sent"})
    assert api.get(f"/v1/repair-orders/{ro['ro_id']}").json()["status"] == "pending"


def test_decide_rules(api, admin, ro):
    ro_id = ro["ro_id"]
    state = admin.decide(ro_id, decided_by="J. Rivera", all="approved",
                         lines={"L2": {"status": "approved", "approved_quantity": "1.000", "approved_amount": "95.00"}})
    assert [(ln["status"], ln["approved_amount"]) for ln in state["lines"]] == [
        ("approved", "412.00"), ("adjusted", "95.00")]
    assert state["status"] == "approved" and state["approved_total"] == "507.00"
    auth = state["authorization_number"]
    state = admin.decide(ro_id, lines=[{"line_ref": "L2", "status": "denied", "reason": "no"}], status="info_requested")
    assert state["status"] == "info_requested" and state["lines"][1]["approved_quantity"] == "0.000"
    assert state["authorization_number"] == auth and state["decided_by"] == "Fleet reviewer"
    assert admin.decide(ro_id, all="denied")["status"] == "denied"
    for bad_ref in ("L9", ["L1"]):
        with pytest.raises(AdminError) as info:
            admin.decide(ro_id, lines=[{"line_ref": bad_ref, "status": "approved"}])
        assert info.value.status == 422
    with pytest.raises(AdminError) as info:
        admin.decide(ro_id, lines={"L1": {"status": "approved", "approved_amount": "999.00"}})
    assert info.value.body["error"]["details"][0]["field"] == "lines.L1.approved_amount"


def test_invoice_accepted_within_the_approval(api, admin, ro):
    ro_id = ro["ro_id"]
    path = f"/v1/repair-orders/{ro_id}/invoice"
    response = api.post(path, INVOICE)
    assert response.status_code == 409 and error_code(response) == "invalid_state"
    admin.decide(ro_id, lines={"L1": {"status": "approved", "approved_amount": "400.00"}, "L2": "denied"})
    over = dict(INVOICE, lines=[{"line_ref": "L1", "quantity": "1.000", "amount": "412.00"},
                                {"line_ref": "L2", "quantity": "1.500", "amount": "142.50"}],
                totals={"untaxed": "554.50", "tax": "0.00", "total": "554.50"})
    response = api.post(path, over)
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["lines[0].amount", "lines[1].line_ref"]
    response = api.post(path, INVOICE)
    assert response.status_code == 200, response.text
    done = response.json()
    assert (done["status"], done["invoice_status"], done["invoice_number"]) == ("completed", "approved",
                                                                                 "INV/2026/0012")
    assert api.get(f"/v1/repair-orders/{ro_id}").json()["invoice_number"] == "INV/2026/0012"
    assert admin.ro(ro_id)["invoice"]["invoice_date"] == "2026-11-29"
    assert error_code(api.post(path, INVOICE)) == "invalid_state"
    assert error_code(api.post(f"/v1/repair-orders/{ro_id}/notes", {"text": "late"})) == "invalid_state"
    with pytest.raises(AdminError):
        admin.decide(ro_id, all="denied")


def test_cancel(api, admin, ro):
    path = f"/v1/repair-orders/{ro['ro_id']}/cancel"
    state = api.post(path, {"reason": "Customer declined"}).json()
    assert state["status"] == "cancelled" and admin.ro(ro["ro_id"])["cancel_reason"] == "Customer declined"
    response = api.post(path, {})
    assert response.status_code == 409 and error_code(response) == "invalid_state"


def test_cancel_reason_rules(api, ro):
    path = f"/v1/repair-orders/{ro['ro_id']}/cancel"
    for reason in (5, "x" * 4001):
        response = api.post(path, {"reason": reason})
        assert response.status_code == 422 and response.json()["error"]["details"][0]["field"] == "reason"
    assert api.get(f"/v1/repair-orders/{ro['ro_id']}").json()["status"] == "pending"
