"""Webhook signatures (contract section 7).

``X-AutoIntegrate-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
HMAC-SHA256 over ``"<t>.<raw body bytes>"`` keyed with the shop's webhook
secret.
"""

import hashlib
import hmac
import re
import time

from .errors import SignatureError

SIGNATURE_HEADER = "X-AutoIntegrate-Signature"
TOLERANCE_S = 300


def _key(secret):
    if isinstance(secret, str):
        secret = secret.encode()
    if not secret:
        raise SignatureError("no webhook secret is configured")
    return secret


def compute_signature(secret, timestamp, body):
    """:return: the hex HMAC-SHA256 of ``"<timestamp>.<body>"``."""
    if isinstance(body, str):
        body = body.encode()
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def sign(secret, body, timestamp=None):
    """:return: the header value for ``body`` signed at ``timestamp`` (now)."""
    timestamp = int(time.time() if timestamp is None else timestamp)
    return f"t={timestamp},v1={compute_signature(secret, timestamp, body)}"


def parse_signature_header(header):
    """:return: ``(timestamp, [v1 signatures])``
    :raise SignatureError: when the header is missing or malformed"""
    if not header or not isinstance(header, str):
        raise SignatureError("missing signature header")
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            if not re.fullmatch(r"[0-9]{1,12}", value):
                raise SignatureError("malformed signature timestamp")
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError("malformed signature header")
    return timestamp, signatures


def verify(secret, body, header, *, now=None, tolerance=TOLERANCE_S):
    """Check a webhook's signature header.

    :param secret: the shop's webhook secret
    :param body: the raw request body (bytes)
    :param header: the ``X-AutoIntegrate-Signature`` value
    :param now: the receiver's clock (unix seconds), for tests
    :param tolerance: seconds ``t`` may differ from ``now``
    :return: the signed timestamp
    :raise SignatureError: missing, malformed, stale or wrong signature
    """
    timestamp, signatures = parse_signature_header(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureError("signature timestamp is outside the allowed window")
    expected = compute_signature(secret, timestamp, body)
    # compare against every v1 so a secret rotation can send two; bytes, because
    # compare_digest refuses str with non-ASCII characters (a hostile header)
    expected = expected.encode()
    if not any(hmac.compare_digest(expected, sig.encode("utf-8", "replace")) for sig in signatures):
        raise SignatureError("signature does not match")
    return timestamp
