"""The :class:`Simulator`: store, rules, faults, webhook worker and HTTP server together."""

import copy
import threading

from .config import apply_patch, make_base
from .faults import Faults
from .fleet import Fleet
from .server import SimHTTPServer
from .store import Store
from .webhooks import WebhookWorker

STOP_GRACE_S = 2


class Simulator:
    """An AutoIntegrate fleet platform on loopback, for tests and demos.

    :param fleets: ``{fleet_company_id: auto_approve_threshold or None}``
    :param client_id: the shop's OAuth client
    :param client_secret: its secret
    :param shop_id: the shop the client is bound to (``None``: any)
    :param webhook_url: where the shop receives webhooks (``None``: none sent)
    :param webhook_secret: the shop's webhook signing secret
    :param db_path: SQLite file (``None``: in memory, lost on stop)
    :param token_ttl: access token lifetime, seconds
    :param webhook_backoff_s: first retry delay, doubled on every failure
    :param webhook_max_attempts: attempts before giving up on an event
    :param webhook_timeout_s: how long one delivery may take
    :param admin: serve ``/_admin`` (control API and web page)
    :param verbose: log every HTTP request to stderr
    """

    def __init__(self, fleets=None, client_id="shop-client", client_secret="shop-secret", shop_id=None,
                 webhook_url=None, webhook_secret=None, db_path=None, token_ttl=3600, webhook_backoff_s=30,
                 webhook_max_attempts=20, webhook_timeout_s=10, admin=True, verbose=False):
        self.base_config = make_base(
            fleets={"ENT-0042": None} if fleets is None else fleets, client_id=client_id,
            client_secret=client_secret, shop_id=shop_id, webhook_url=webhook_url, webhook_secret=webhook_secret,
            token_ttl=token_ttl, webhook_backoff_s=webhook_backoff_s, webhook_max_attempts=webhook_max_attempts,
            webhook_timeout_s=webhook_timeout_s)
        self.primary_client = client_id
        self.admin = admin
        self.verbose = verbose
        self.store = Store(db_path)
        self.faults = Faults()
        self._config = None
        self.worker = WebhookWorker(self.store, self.config)
        self.fleet = Fleet(self.store, self.config, self.worker.notify)
        self.server = None
        self._thread = None

    # ------------------------------------------------------------ config
    def config(self):
        """:return: the current configuration (shape of ``GET /_admin/config``); do not modify it."""
        with self.store.lock:
            if self._config is None:
                config = copy.deepcopy(self.base_config)
                for patch in self.store.get_meta("config_patches", []):
                    # a patch that no longer applies (other command line) is skipped
                    config = apply_patch(config, patch, self.primary_client)[0] or config
                self._config = config
            return self._config

    def set_config(self, patch):
        """Apply a partial update (``POST /_admin/config``).

        :return: the 422 details, empty when applied
        """
        with self.store.transaction():
            new, details = apply_patch(self.config(), patch, self.primary_client)
            if details:
                return details
            self.store.set_meta("config_patches", self.store.get_meta("config_patches", []) + [patch])
            self._config = new
        return []

    def reset(self, tokens=False):
        """``POST /_admin/reset``: forget everything but (unless ``tokens``) the issued tokens."""
        with self.store.transaction():
            self.store.reset(tokens=tokens)
            self.store.set_meta("config_patches", [])
            self._config = None
        self.faults.clear()

    # ----------------------------------------------------------- serving
    def start(self, host="127.0.0.1", port=0):
        """Serve in a background thread.

        :return: ``self``, with :attr:`url` set
        """
        self.server = SimHTTPServer((host, port), self)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="autointegrate-sim-http", daemon=True)
        self._thread.start()
        self.worker.start()
        return self

    @property
    def url(self):
        """``http://host:port`` of the running server."""
        host, port = self.server.server_address[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def stop(self):
        """Stop the server and the webhook worker, close the database."""
        if self.server is not None:
            self.server.stopping = True
            self.server.shutdown()
            self.server.server_close()
            self._thread.join(5)
            # let requests in progress answer before the database goes away
            self.server.wait_idle(STOP_GRACE_S)
            self.server.close_connections()
            self.server = None
        self.worker.stop()
        self.store.close()

    def __enter__(self):
        return self if self.server is not None else self.start()

    def __exit__(self, *exc_info):
        self.stop()
