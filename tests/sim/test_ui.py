"""The fleet web page: list, RO view, decision and note forms, escaping."""

import requests

from .helpers import make_sim, ro_body

TIMEOUT = 10


def test_page_lists_ros_and_a_form_post_decides(api, admin, sim):
    body = ro_body()
    body["complaint"] = "<b>bold</b> & more"
    body["lines"][0]["description"] = "<script>alert(1)</script>"
    body["lines"][0]["notes"] = ["<img src=x onerror=alert(2)>"]
    state = api.created(body)
    index = requests.get(sim.url + "/_admin/", timeout=TIMEOUT)
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    assert state["ro_id"] in index.text and "RO/2026/00031" in index.text
    page = requests.get(f"{sim.url}/_admin/ui/ro/{state['ro_id']}", timeout=TIMEOUT)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text and "1FTFW1E50NFA00001" in page.text
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in page.text
    response = requests.post(f"{sim.url}/_admin/ui/ro/{state['ro_id']}/decide", timeout=TIMEOUT,
                             data={"line_ref": "L1", "action": "approved", "decided_by": "Web"},
                             allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == f"/_admin/ui/ro/{state['ro_id']}"
    assert [ln["status"] for ln in admin.ro(state["ro_id"])["lines"]] == ["approved", "pending"]
    requests.post(f"{sim.url}/_admin/ui/ro/{state['ro_id']}/decide", timeout=TIMEOUT,
                  data={"line_ref": "L2", "action": "adjusted", "approved_quantity": "1.000",
                        "approved_amount": "95.00"})
    assert admin.ro(state["ro_id"])["lines"][1]["status"] == "adjusted"


def test_note_form_and_error_message(api, admin, sim):
    state = api.created(ro_body())
    url = f"{sim.url}/_admin/ui/ro/{state['ro_id']}"
    page = requests.post(url + "/note", data={"text": "Need a photo", "line_ref": "L1", "request_info": "1"},
                         timeout=TIMEOUT)
    assert page.status_code == 200 and "Need a photo" in page.text  # followed the redirect
    assert admin.ro(state["ro_id"])["status"] == "info_requested"
    bad = requests.post(url + "/decide", data={"line_ref": "L1", "action": "adjusted", "approved_amount": "9999.00"},
                        allow_redirects=False, timeout=TIMEOUT)
    assert bad.status_code == 303 and "msg=" in bad.headers["Location"]
    assert "exceeds the requested" in requests.get(sim.url + bad.headers["Location"], timeout=TIMEOUT).text
    all_denied = requests.post(url + "/decide", data={"all": "denied", "reason": "Not covered"}, timeout=TIMEOUT)
    assert all_denied.status_code == 200
    assert {ln["reason"] for ln in admin.ro(state["ro_id"])["lines"]} == {"Not covered"}
    assert requests.get(sim.url + "/_admin/ui/ro/AI-NOPE22", timeout=TIMEOUT).status_code == 404


def test_admin_is_404_without_the_admin_flag():
    with make_sim(admin=False) as sim:
        assert requests.get(sim.url + "/_admin/", timeout=TIMEOUT).status_code == 404
        assert requests.get(sim.url + "/_admin/ros", timeout=TIMEOUT).json()["error"]["code"] == "not_found"
