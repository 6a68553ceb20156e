"""Webhook signing helpers (contract section 7)."""

import pytest

from autointegrate import signing
from autointegrate.errors import SignatureError

SECRET = "whsec_demo_secret"
BODY = b'{"event_id":"evt_1","type":"ro.updated"}'
T = 1767225600
# computed independently: printf '%s' "$T.$BODY" | openssl dgst -sha256 -hmac "$SECRET"
KNOWN_HEX = "61604988f2f177c21d5de08060264b72139fbce84ac1dbdc4fc153044175be7b"


def test_known_vector():
    assert signing.compute_signature(SECRET, T, BODY) == KNOWN_HEX
    assert signing.sign(SECRET, BODY, T) == f"t={T},v1={KNOWN_HEX}"


def test_verify_valid_returns_timestamp():
    assert signing.verify(SECRET, BODY, f"t={T},v1={KNOWN_HEX}", now=T + 10) == T


def test_verify_accepts_any_of_several_v1():
    header = f"t={T},v1={'0' * 64},v1={KNOWN_HEX}"
    assert signing.verify(SECRET, BODY, header, now=T) == T


@pytest.mark.parametrize("header", [None, "", "garbage", f"t={T}", f"v1={KNOWN_HEX}", f"t=abc,v1={KNOWN_HEX}"])
def test_verify_rejects_missing_or_malformed(header):
    with pytest.raises(SignatureError):
        signing.verify(SECRET, BODY, header, now=T)


def test_verify_rejects_wrong_signature_body_and_secret():
    with pytest.raises(SignatureError, match="does not match"):
        signing.verify(SECRET, BODY + b" ", f"t={T},v1={KNOWN_HEX}", now=T)
    with pytest.raises(SignatureError, match="does not match"):
        signing.verify("other", BODY, f"t={T},v1={KNOWN_HEX}", now=T)
    with pytest.raises(SignatureError, match="does not match"):
        # the timestamp is part of what is signed
        signing.verify(SECRET, BODY, f"t={T + 1},v1={KNOWN_HEX}", now=T)


@pytest.mark.parametrize("offset", [301, -301, 10_000])
def test_verify_rejects_stale_or_future_timestamp(offset):
    with pytest.raises(SignatureError, match="window"):
        signing.verify(SECRET, BODY, f"t={T},v1={KNOWN_HEX}", now=T + offset)


def test_verify_window_edges_are_inclusive():
    assert signing.verify(SECRET, BODY, f"t={T},v1={KNOWN_HEX}", now=T + 300) == T
    assert signing.verify(SECRET, BODY, f"t={T},v1={KNOWN_HEX}", now=T - 300) == T


def test_no_secret_configured_is_an_error():
    with pytest.raises(SignatureError):
        signing.sign("", BODY, T)


@pytest.mark.parametrize("timestamp", ["²", "1٣", "12 ", "-5"])
def test_non_ascii_or_signed_timestamp_is_a_signature_error(timestamp):
    with pytest.raises(SignatureError):
        signing.verify(SECRET, BODY, f"t={timestamp},v1={KNOWN_HEX}", now=T)


def test_non_ascii_or_garbage_v1_is_a_signature_error():
    # hmac.compare_digest raises TypeError on non-ASCII str: a hostile header must not crash the receiver
    for bad in ("\u00e9" * 64, "\udc80", "zz", ""):
        with pytest.raises(SignatureError):
            signing.verify(SECRET, BODY, f"t={T},v1={bad}", now=T)
