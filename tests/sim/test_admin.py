"""Section 8 control calls not covered elsewhere: reset and config."""

import pytest

from autointegrate_sim.admin import AdminError

from .helpers import CLIENT_ID, ro_body


def test_reset_forgets_ros_and_config_but_keeps_tokens_unless_asked(api, admin):
    api.created(ro_body())
    admin.set_config(fleets={"ENT-0042": None})
    admin.reset()
    assert admin.ros() == [] and admin.requests()["items"] == []
    assert "ENT-0042" in admin.config()["fleets"]
    assert api.get("/v1/repair-orders").status_code == 200  # the token survived
    admin.reset(tokens=True)
    assert api.get("/v1/repair-orders").status_code == 401


def test_config_shape_and_partial_updates(admin):
    config = admin.config()
    assert set(config) == {"token_ttl_s", "webhook_backoff_s", "webhook_max_attempts", "webhook_timeout_s",
                           "fleets", "clients"}
    assert config["fleets"]["ELM-7"] == {"auto_approve_threshold": "250.00"}
    assert config["clients"][CLIENT_ID]["shop_id"] == "SHOP-17"
    new = admin.set_config(webhook_url="http://127.0.0.1:1/hook", webhook_secret="w",
                           fleets={"NEW-1": {}, "ELM-7": {"auto_approve_threshold": None}})
    assert new["clients"][CLIENT_ID]["webhook_url"] == "http://127.0.0.1:1/hook"
    assert new["fleets"]["NEW-1"] == {"auto_approve_threshold": None}
    assert new["fleets"]["ELM-7"] == {"auto_approve_threshold": None}
    with pytest.raises(AdminError) as info:
        admin.set_config(token_ttl_s=0, fleets={"X": {"auto_approve_threshold": 5}}, bogus=1)
    assert info.value.status == 422 and {d["field"] for d in info.value.body["error"]["details"]} == {
        "token_ttl_s", "fleets.X.auto_approve_threshold", "bogus"}
    assert admin.config() == new  # all or nothing
