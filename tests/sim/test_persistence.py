"""A restart with the same database file keeps ROs, tokens, keys, notes, config and pending webhooks."""

import time

from autointegrate_sim.admin import AdminClient

from .helpers import Api, Receiver, make_sim, ro_body


def test_restart_keeps_state(tmp_path):
    db = str(tmp_path / "sim.sqlite3")
    first = make_sim(db_path=db).start()
    try:
        api = Api(first.url)
        state = api.created(ro_body(), key="k-1")
        api.post(f"/v1/repair-orders/{state['ro_id']}/notes", {"text": "kept"})
        AdminClient(first.url).set_config(fleets={"NEW-1": {"auto_approve_threshold": "10.00"}})
        token = api.token
        before = api.get(f"/v1/repair-orders/{state['ro_id']}").json()
    finally:
        first.stop()
    second = make_sim(db_path=db).start()
    try:
        api = Api(second.url)
        api._token = token  # the token issued before the restart still works
        assert api.get(f"/v1/repair-orders/{state['ro_id']}").json() == before
        assert [n["text"] for n in before["notes"]][-1] == "kept"
        replay = api.submit(ro_body(), key="k-1")
        assert replay.status_code == 201 and replay.json() == state
        assert "NEW-1" in AdminClient(second.url).config()["fleets"]
        new = api.created(ro_body("RO/next"))
        assert new["sequence"] > before["sequence"]
    finally:
        second.stop()


def test_pending_webhooks_resume_after_restart(tmp_path):
    db = str(tmp_path / "sim.sqlite3")
    receiver = Receiver(statuses=[500])
    first = make_sim(db_path=db, webhook_url=receiver.url, webhook_secret="s", webhook_backoff_s=0.5).start()
    try:
        Api(first.url).created(ro_body())
        deadline = time.monotonic() + 5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        first.stop()
    assert [hit["status"] for hit in receiver.received] == [500]
    second = make_sim(db_path=db, webhook_url=receiver.url, webhook_secret="s", webhook_backoff_s=0.5).start()
    try:
        deadline = time.monotonic() + 5
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [hit["status"] for hit in receiver.received] == [500, 200]
    finally:
        second.stop()
        receiver.stop()
