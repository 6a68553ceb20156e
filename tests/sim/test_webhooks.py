"""Section 7: signed webhook deliveries, retries, giving up."""

import json
import time

from autointegrate.signing import SIGNATURE_HEADER, verify

from .helpers import ro_body

SECRET = "whsec-test"


def wait_for(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def use_receiver(admin, url):
    admin.set_config(webhook_url=url, webhook_secret=SECRET)


def test_every_change_is_delivered_signed(api, admin, receiver):
    use_receiver(admin, receiver.url)
    state = api.created(ro_body())
    admin.fleet_note(state["ro_id"], text="Looks fine")
    admin.decide(state["ro_id"], all="approved")
    assert wait_for(lambda: len(receiver.received) == 3)
    events = []
    for hit in receiver.received:
        verify(SECRET, hit["body"], hit["headers"][SIGNATURE_HEADER])
        assert hit["headers"]["Content-Type"] == "application/json"
        events.append(json.loads(hit["body"]))
    events.sort(key=lambda e: e["sequence"])
    assert [e["type"] for e in events] == ["ro.updated", "ro.note_added", "ro.updated"]
    assert all(e["event_id"].startswith("evt_") and len(e["event_id"]) == 30 for e in events)
    assert events[0]["data"] == state and events[0]["sequence"] == state["sequence"]
    assert events[1]["data"]["notes"][-1]["text"] == "Looks fine" and events[2]["data"]["status"] == "approved"
    assert wait_for(lambda: all(e["delivered"] for e in admin.webhooks()["events"]))


def test_failed_delivery_is_retried_with_backoff(api, admin, receiver):
    receiver.statuses = [500, 500]
    use_receiver(admin, receiver.url)
    api.created(ro_body())
    assert wait_for(lambda: admin.webhooks()["events"][0]["delivered"])
    event = admin.webhooks()["events"][0]
    assert [a["status"] for a in event["attempts"]] == [500, 500, 200] and not event["gave_up"]
    t = [a["t"] for a in event["attempts"]]
    assert t == sorted(t)
    # webhook_backoff_s is 0.05 (helpers.make_sim): 0.05 s, then 0.1 s between the attempts
    at = [hit["at"] for hit in receiver.received]
    assert at[1] - at[0] >= 0.05 and at[2] - at[1] >= 0.1, at
    first_body = receiver.received[0]["body"]
    assert all(hit["body"] == first_body for hit in receiver.received)  # same event, same bytes


def test_gives_up_after_max_attempts(api, admin, receiver):
    receiver.statuses = [503] * 10
    use_receiver(admin, receiver.url)
    api.created(ro_body())
    assert wait_for(lambda: admin.webhooks()["events"][0]["gave_up"])
    event = admin.webhooks()["events"][0]
    assert len(event["attempts"]) == 3 and not event["delivered"]
    time.sleep(0.3)
    assert len(receiver.received) == 3


def test_unreachable_receiver_is_an_error_attempt(api, admin):
    use_receiver(admin, "http://127.0.0.1:9/hook")
    api.created(ro_body())
    assert wait_for(lambda: admin.webhooks()["events"][0]["gave_up"])
    assert all("error" in a for a in admin.webhooks()["events"][0]["attempts"])


def test_no_webhook_url_no_events(api, admin):
    api.created(ro_body())
    assert admin.webhooks()["events"] == []
