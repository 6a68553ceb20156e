"""Webhook delivery (section 7): one background thread over the ``events`` table.

Events are queued by :class:`~autointegrate_sim.fleet.Fleet` in the same
transaction as the change, so a restart with the same database resumes the
pending ones. The network call runs outside the store lock.
"""

import sys
import threading
import time
import traceback

import requests

from autointegrate.signing import SIGNATURE_HEADER, sign

from .store import rfc3339

POLL_S = 0.2
MAX_BACKOFF_S = 3600
GIVE_UP_AFTER_S = 24 * 3600


class WebhookWorker:
    """Delivers due events until stopped.

    :param store: the store
    :param config: callable returning the current configuration
    """

    def __init__(self, store, config):
        self.store = store
        self.config = config
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="autointegrate-sim-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout=5):
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self):
        """New events are queued: look now rather than at the next poll."""
        self._wake.set()

    def _run(self):
        while not self._stop.is_set():
            try:
                delivered_some = self.deliver_due()
            except Exception:  # the worker must outlive any single bad event
                if self._stop.is_set():
                    return
                traceback.print_exc(file=sys.stderr)
                delivered_some = False
            if not delivered_some:
                self._wake.wait(POLL_S)
                self._wake.clear()

    def deliver_due(self):
        """Attempt every due event once.

        :return: whether any event was attempted
        """
        events = self.store.due_events(time.time())
        for event in events:
            if self._stop.is_set():
                break
            self._attempt(event)
        return bool(events)

    def _attempt(self, event):
        config = self.config()
        body = event["payload"].encode()
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "AutoIntegrate-Simulator"}
        if event["secret"]:
            headers[SIGNATURE_HEADER] = sign(event["secret"], body, timestamp)
        attempt = {"at": rfc3339(timestamp), "t": timestamp}
        try:
            response = requests.post(event["url"], data=body, headers=headers, timeout=config["webhook_timeout_s"],
                                     allow_redirects=False)
            attempt["status"] = response.status_code
            delivered = 200 <= response.status_code < 300
        except requests.RequestException as exc:
            attempt["error"] = f"{type(exc).__name__}: {exc}"
            delivered = False
        self._record(event["event_id"], attempt, delivered, config)

    def _record(self, event_id, attempt, delivered, config):
        now = time.time()
        with self.store.transaction():
            current = self.store.get_event(event_id)
            if current is None:  # forgotten by a reset meanwhile
                return
            attempts = current["attempts"] + [attempt]
            n = len(attempts)
            gave_up = not delivered and (
                n >= config["webhook_max_attempts"] or now - current["created_at"] >= GIVE_UP_AFTER_S)
            delay = min(config["webhook_backoff_s"] * 2 ** (n - 1), MAX_BACKOFF_S)
            self.store.update_event(event_id, attempts, delivered, gave_up, now + delay)
