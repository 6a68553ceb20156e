"""Section 4.5: the changes feed and its cursor."""

from .helpers import Api, ro_body


def test_each_ro_appears_exactly_once_while_ros_change(api, admin):
    ros = [api.created(ro_body(f"RO/{i}")) for i in range(5)]
    first = api.get("/v1/repair-orders", limit=2).json()
    assert [r["ro_id"] for r in first["items"]] == [r["ro_id"] for r in ros[:2]]
    # the first RO changes mid-walk: it must not come back on a later page
    admin.decide(ros[0]["ro_id"], all="approved")
    # and a later one changes too: it comes with its current state, once
    admin.decide(ros[3]["ro_id"], all="denied")
    seen, cursor = list(first["items"]), first["next_cursor"]
    while cursor:
        page = api.get("/v1/repair-orders", limit=2, cursor=cursor).json()
        seen += page["items"]
        cursor = page["next_cursor"]
    assert sorted(r["ro_id"] for r in seen) == sorted(r["ro_id"] for r in ros)
    assert next(r for r in seen if r["ro_id"] == ros[3]["ro_id"])["status"] == "denied"
    # the next walk from the last seen stamp picks the change of the first RO up
    since = max(r["updated_at"] for r in seen)
    again = api.get("/v1/repair-orders", updated_since=since).json()["items"]
    assert ros[0]["ro_id"] in [r["ro_id"] for r in again]


def test_filter_limits_and_cursor_misuse(api, sim):
    for i in range(3):
        api.created(ro_body(f"RO/{i}"))
    page = api.get("/v1/repair-orders", limit=2, updated_since="2000-01-01T00:00:00Z").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    other_filter = api.get("/v1/repair-orders", limit=2, cursor=page["next_cursor"])
    assert other_filter.status_code == 400 and other_filter.json()["error"]["code"] == "bad_request"
    assert api.get("/v1/repair-orders", cursor="nonsense:2").status_code == 400
    rest = api.get("/v1/repair-orders", limit=2, cursor=page["next_cursor"],
                   updated_since="2000-01-01T00:00:00+00:00").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert api.get("/v1/repair-orders", updated_since="2999-01-01T00:00:00Z").json() == {
        "items": [], "next_cursor": None}
    assert api.get("/v1/repair-orders", updated_since="yesterday").status_code == 400
    assert api.get("/v1/repair-orders", limit=0).status_code == 400
    assert api.get("/v1/repair-orders", limit="\u00b2").status_code == 400  # a digit to isdigit(), not to int()
    assert len(api.get("/v1/repair-orders", limit=9999).json()["items"]) == 3
    sim.set_config({"clients": {"other": {"client_secret": "x"}}})
    stolen = Api(sim.url, "other", "x").get("/v1/repair-orders", limit=2, cursor=page["next_cursor"],
                                            updated_since="2000-01-01T00:00:00Z")
    assert stolen.status_code == 400
