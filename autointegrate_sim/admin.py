"""``AdminClient``: the simulator's ``/_admin`` JSON calls (section 8) for tests and scripts."""

import requests


class AdminError(Exception):
    """A control call answered with an error.

    :param status: HTTP status
    :param body: the decoded JSON body (or the text when not JSON)
    """

    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body

    @property
    def code(self):
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


class AdminClient:
    """Calls ``<base_url>/_admin/...``; every method returns the decoded JSON answer.

    :param base_url: the simulator's URL, e.g. ``http://127.0.0.1:8070``
    :param timeout: seconds for each call
    :raise AdminError: on any non-2xx answer
    """

    def __init__(self, base_url, timeout=10):
        self.base_url = base_url.rstrip("/") + "/_admin"
        self.timeout = timeout

    def _call(self, method, path, body=None, params=None):
        response = requests.request(method, self.base_url + path, json=body, params=params, timeout=self.timeout)
        try:
            data = response.json()
        except ValueError:
            data = response.text
        if not 200 <= response.status_code < 300:
            raise AdminError(response.status_code, data)
        return data

    def reset(self, tokens=False):
        return self._call("POST", "/reset", {"tokens": tokens})

    def config(self):
        return self._call("GET", "/config")

    def set_config(self, patch=None, **settings):
        return self._call("POST", "/config", dict(patch or {}, **settings))

    def expire_tokens(self, client_id=None):
        return self._call("POST", "/expire_tokens", {} if client_id is None else {"client_id": client_id})

    def faults(self):
        return self._call("GET", "/faults")

    def set_faults(self, faults=None, **settings):
        """Replace the whole fault set (no argument clears it)."""
        return self._call("POST", "/faults", dict(faults or {}, **settings))

    def requests(self, since=None):
        """:return: ``{"items": [...], "next": i}``"""
        return self._call("GET", "/requests", params=None if since is None else {"since": since})

    def clear_requests(self):
        return self._call("DELETE", "/requests")

    def webhooks(self):
        return self._call("GET", "/webhooks")

    def ros(self):
        return self._call("GET", "/ros")["items"]

    def ro(self, ro_id):
        return self._call("GET", f"/ro/{ro_id}")

    def decide(self, ro_id, **body):
        return self._call("POST", f"/ro/{ro_id}/decide", body)

    def fleet_note(self, ro_id, **body):
        return self._call("POST", f"/ro/{ro_id}/notes", body)

    def request_documents(self, ro_id, items, author=None):
        """:param items: ``[{"kind", "line_ref", "text"}]`` :return: the RO state"""
        return self._call("POST", f"/ro/{ro_id}/request_documents",
                          {"items": items} if author is None else {"items": items, "author": author})

    def fleet_document(self, ro_id, **body):
        """A fleet-authored document, ``body`` as in 9.2. :return: the document object"""
        return self._call("POST", f"/ro/{ro_id}/documents", body)
