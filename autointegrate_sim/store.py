"""SQLite persistence of the simulator.

One connection shared by every thread, guarded by one re-entrant lock: every
operation of the simulator runs under :attr:`Store.lock`, which makes it
trivially consistent (the simulator serves tests, not traffic). Whatever must
survive a restart with the same ``--db`` file lives here.
"""

import json
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ros (
    ro_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    shop_ro_ref TEXT NOT NULL,
    fleet_company_id TEXT NOT NULL,
    state TEXT NOT NULL,
    body TEXT NOT NULL,
    invoice TEXT,
    cancel_reason TEXT,
    updated_at TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    UNIQUE (client_id, shop_ro_ref)
);
CREATE INDEX IF NOT EXISTS ros_changes ON ros (client_id, updated_at, sequence);
CREATE TABLE IF NOT EXISTS notes (
    n INTEGER PRIMARY KEY,
    note_id TEXT NOT NULL UNIQUE,
    ro_id TEXT NOT NULL,
    line_ref TEXT,
    author_type TEXT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_ro ON notes (ro_id, n);
CREATE TABLE IF NOT EXISTS documents (
    n INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL UNIQUE,
    ro_id TEXT NOT NULL,
    author_type TEXT NOT NULL,
    kind TEXT NOT NULL,
    line_ref TEXT,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    description TEXT,
    uploaded_at TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_ro ON documents (ro_id, n);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS idempotency (
    client_id TEXT NOT NULL,
    key TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (client_id, key)
);
CREATE TABLE IF NOT EXISTS requests (
    i INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    status INTEGER,
    fault TEXT
);
CREATE TABLE IF NOT EXISTS events (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    ro_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    payload TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT,
    created_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    gave_up INTEGER NOT NULL DEFAULT 0,
    attempts TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS events_due ON events (delivered, gave_up, next_attempt_at);
CREATE TABLE IF NOT EXISTS cursors (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    filter TEXT NOT NULL,
    ro_ids TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

IDEMPOTENCY_TTL_S = 24 * 3600
CURSOR_TTL_S = 3600
EVENT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, like a ULID


def rfc3339(ts=None):
    """:return: ``ts`` (unix seconds, default now) as ``2026-11-28T16:05:00Z``."""
    ts = time.time() if ts is None else ts
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _loads(text):
    return None if text is None else json.loads(text)


def _dumps(value):
    return json.dumps(value, ensure_ascii=False)


class Store:
    """The simulator's database.

    :param path: SQLite file, or ``None`` for a private in-memory database
    """

    def __init__(self, path=None):
        self.lock = threading.RLock()
        self._depth = 0
        self.conn = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        if path:
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(SCHEMA)

    def close(self):
        with self.lock:
            self.conn.close()

    # ---------------------------------------------------------- plumbing
    @contextmanager
    def transaction(self):
        """Hold the lock for a unit of work; only the outermost level commits."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self.conn.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self.conn.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self.conn.execute("COMMIT")

    def _all(self, sql, params=()):
        with self.lock:
            return [dict(row) for row in self.conn.execute(sql, params).fetchall()]

    def _one(self, sql, params=()):
        rows = self._all(sql, params)
        return rows[0] if rows else None

    def _run(self, sql, params=()):
        with self.lock:
            return self.conn.execute(sql, params)

    # -------------------------------------------------------------- meta
    def get_meta(self, key, default=None):
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if row is None else json.loads(row["value"])

    def set_meta(self, key, value):
        self._run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, _dumps(value)))

    def next_counter(self, name):
        """:return: the next value (1, 2, ...) of a persistent counter."""
        with self.transaction():
            value = self.get_meta("counter:" + name, 0) + 1
            self.set_meta("counter:" + name, value)
            return value

    # --------------------------------------------------------------- ROs
    @staticmethod
    def _ro(row):
        if row is None:
            return None
        for key in ("state", "body", "invoice"):
            row[key] = _loads(row[key])
        return row

    def get_ro(self, ro_id):
        """:return: the RO record (state without notes, body...) or ``None``."""
        return self._ro(self._one("SELECT * FROM ros WHERE ro_id = ?", (ro_id,)))

    def find_ro(self, client_id, shop_ro_ref):
        sql = "SELECT * FROM ros WHERE client_id = ? AND shop_ro_ref = ?"
        return self._ro(self._one(sql, (client_id, shop_ro_ref)))

    def all_ros(self):
        return [self._ro(row) for row in self._all("SELECT * FROM ros ORDER BY rowid")]

    def save_ro(self, ro):
        """Insert or update an RO record (a dict as :meth:`get_ro` returns)."""
        state = ro["state"]
        self._run(
            "INSERT OR REPLACE INTO ros (ro_id, client_id, shop_ro_ref, fleet_company_id, state, body, invoice,"
            " cancel_reason, updated_at, sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ro["ro_id"], ro["client_id"], state["shop_ro_ref"], state["fleet_company_id"], _dumps(state),
                _dumps(ro["body"]), None if ro.get("invoice") is None else _dumps(ro["invoice"]),
                ro.get("cancel_reason"), state["updated_at"], state["sequence"],
            ),
        )

    def changed_ro_ids(self, client_id, since):
        """:return: ids of the client's ROs with ``updated_at >= since``, in feed order."""
        rows = self._all(
            "SELECT ro_id FROM ros WHERE client_id = ? AND updated_at >= ? ORDER BY updated_at, sequence",
            (client_id, since),
        )
        return [row["ro_id"] for row in rows]

    # ------------------------------------------------------------- notes
    def add_note(self, note):
        n = self.next_counter("note")
        note = dict(note, note_id=f"N-{n}")
        self._run(
            "INSERT INTO notes (n, note_id, ro_id, line_ref, author_type, author, text, created_at)"
            " VALUES (:n, :note_id, :ro_id, :line_ref, :author_type, :author, :text, :created_at)",
            dict(note, n=n),
        )
        return self.note_view(note)

    @staticmethod
    def note_view(row):
        keys = ("note_id", "line_ref", "author_type", "author", "text", "created_at")
        return {key: row[key] for key in keys}

    def notes(self, ro_id):
        return [self.note_view(row) for row in self._all("SELECT * FROM notes WHERE ro_id = ? ORDER BY n", (ro_id,))]

    # --------------------------------------------------------- documents
    #: a document object's keys (9.1): every column but the content
    DOCUMENT_KEYS = ("document_id", "author_type", "kind", "line_ref", "file_name", "content_type", "size", "sha256",
                     "description", "uploaded_at")
    _DOCUMENT_COLUMNS = ", ".join(DOCUMENT_KEYS)

    def add_document(self, document, content):
        """Store a document (its object's keys but ``document_id``, and ``ro_id``) and its content.

        :return: the document object, with its new ``document_id``
        """
        n = self.next_counter("document")
        row = dict(document, document_id=f"D-{n}", n=n, content=content)
        self._run(
            "INSERT INTO documents (n, ro_id, content, " + self._DOCUMENT_COLUMNS + ") VALUES (:n, :ro_id, :content, "
            + ", ".join(":" + key for key in self.DOCUMENT_KEYS) + ")",
            row,
        )
        return {key: row[key] for key in self.DOCUMENT_KEYS}

    def documents(self, ro_id):
        """:return: the RO's document objects (without content), oldest first."""
        sql = f"SELECT {self._DOCUMENT_COLUMNS} FROM documents WHERE ro_id = ? ORDER BY n"
        return self._all(sql, (ro_id,))

    def find_document(self, ro_id, sha256, line_ref, kind):
        """:return: the RO's document object with that content, line and kind, or ``None``."""
        sql = (f"SELECT {self._DOCUMENT_COLUMNS} FROM documents WHERE ro_id = ? AND sha256 = ? AND kind = ?"
               " AND line_ref IS ? ORDER BY n LIMIT 1")
        return self._one(sql, (ro_id, sha256, kind, line_ref))

    def document_content(self, ro_id, document_id):
        """:return: ``(document object, content bytes)`` or ``None`` when the RO has no such document."""
        row = self._one(f"SELECT {self._DOCUMENT_COLUMNS}, content FROM documents WHERE ro_id = ? AND document_id = ?",
                        (ro_id, document_id))
        if row is None:
            return None
        content = row.pop("content")
        return row, bytes(content)

    # ------------------------------------------------------------ tokens
    def add_token(self, token, client_id, expires_at):
        self._run("INSERT INTO tokens (token, client_id, expires_at) VALUES (?, ?, ?)", (token, client_id, expires_at))

    def get_token(self, token):
        return self._one("SELECT * FROM tokens WHERE token = ?", (token,))

    def revoke_tokens(self, client_id=None):
        """:return: how many live tokens were revoked."""
        sql = "UPDATE tokens SET revoked = 1 WHERE revoked = 0"
        params = ()
        if client_id is not None:
            sql += " AND client_id = ?"
            params = (client_id,)
        return self._run(sql, params).rowcount

    # ------------------------------------------------------- idempotency
    def get_idempotency(self, client_id, key):
        row = self._one("SELECT * FROM idempotency WHERE client_id = ? AND key = ?", (client_id, key))
        if row and row["created_at"] < time.time() - IDEMPOTENCY_TTL_S:
            return None
        return row

    def save_idempotency(self, client_id, key, method, path, body, status, response):
        now = time.time()
        with self.transaction():
            self._run("DELETE FROM idempotency WHERE created_at < ?", (now - IDEMPOTENCY_TTL_S,))
            self._run(
                "INSERT OR REPLACE INTO idempotency (client_id, key, method, path, body, status, response, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (client_id, key, method, path, body, status, response, now),
            )

    # ------------------------------------------------------- request log
    def log_request(self, method, path, headers, body):
        """:return: the log index ``i`` of the new entry."""
        cur = self._run(
            "INSERT INTO requests (at, method, path, headers, body) VALUES (?, ?, ?, ?, ?)",
            (rfc3339(), method, path, _dumps(headers), body),
        )
        return cur.lastrowid

    def finish_request(self, i, status, fault):
        self._run("UPDATE requests SET status = ?, fault = ? WHERE i = ?", (status, fault, i))

    def requests(self, since=0):
        rows = self._all("SELECT * FROM requests WHERE i > ? ORDER BY i", (since,))
        for row in rows:
            row["headers"] = json.loads(row["headers"])
        return rows

    def clear_requests(self):
        self._run("DELETE FROM requests")

    # ------------------------------------------------------------ events
    def add_event(self, event_type, ro_id, sequence, payload, url, secret):
        now = time.time()
        event_id = "evt_" + "".join(secrets.choice(EVENT_ALPHABET) for _ in range(26))
        body = {"event_id": event_id, "type": event_type, "occurred_at": rfc3339(now), "ro_id": ro_id,
                "sequence": sequence, "data": payload}
        self._run(
            "INSERT INTO events (event_id, type, ro_id, sequence, payload, url, secret, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (event_id, event_type, ro_id, sequence, _dumps(body), url, secret, now, now),
        )
        return event_id

    def due_events(self, now, limit=20):
        return self._all(
            "SELECT * FROM events WHERE delivered = 0 AND gave_up = 0 AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at, n LIMIT ?",
            (now, limit),
        )

    def get_event(self, event_id):
        row = self._one("SELECT * FROM events WHERE event_id = ?", (event_id,))
        if row:
            row["attempts"] = json.loads(row["attempts"])
        return row

    def update_event(self, event_id, attempts, delivered, gave_up, next_attempt_at):
        self._run(
            "UPDATE events SET attempts = ?, delivered = ?, gave_up = ?, next_attempt_at = ? WHERE event_id = ?",
            (_dumps(attempts), int(delivered), int(gave_up), next_attempt_at, event_id),
        )

    def events(self):
        rows = self._all("SELECT * FROM events ORDER BY n")
        for row in rows:
            row["attempts"] = json.loads(row["attempts"])
        return rows

    # ----------------------------------------------------------- cursors
    def save_cursor(self, client_id, filter_, ro_ids):
        now = time.time()
        cursor_id = secrets.token_hex(8)
        with self.transaction():
            self._run("DELETE FROM cursors WHERE created_at < ?", (now - CURSOR_TTL_S,))
            self._run(
                "INSERT INTO cursors (id, client_id, filter, ro_ids, created_at) VALUES (?, ?, ?, ?, ?)",
                (cursor_id, client_id, filter_, _dumps(ro_ids), now),
            )
        return cursor_id

    def get_cursor(self, cursor_id):
        sql = "SELECT * FROM cursors WHERE id = ? AND created_at >= ?"
        row = self._one(sql, (cursor_id, time.time() - CURSOR_TTL_S))
        if row:
            row["ro_ids"] = json.loads(row["ro_ids"])
        return row

    # ------------------------------------------------------------- reset
    def reset(self, tokens=False):
        """Forget ROs, notes, documents, keys, logs, events and cursors (and tokens).

        Counters (``sequence``, note and document numbers) keep growing so that a receiver
        that applied states before the reset never sees a lower sequence.
        """
        with self.transaction():
            for table in ("ros", "notes", "documents", "idempotency", "requests", "events", "cursors"):
                self._run(f"DELETE FROM {table}")  # fixed table names, no user input
            if tokens:
                self._run("DELETE FROM tokens")
