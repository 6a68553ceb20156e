"""Transport errors that tell the truth: "nothing was sent" only when the
connection was never made; after the request left, "the fleet may have acted,
and sending it again is safe".

Against the simulator's faults (the connection dropped before or after the
fleet acted, a slow answer, a cut-off answer), a closed port, a port that
never accepts, an unknown host name and a TLS handshake to a plain-HTTP port.
"""

import socket
import time

import pytest

import autointegrate as ai
from autointegrate.client import TokenCache
from autointegrate_sim import Simulator

from .helpers import CLIENT_ID, SECRET, Sleeps, assert_one_ro, body, make_client


def wait_for(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def one_try(sim, **options):
    """A client that tries once, so each test sees the error of one attempt."""
    return make_client(sim, Sleeps(), max_attempts=1, **options)


def assert_nothing_sent(error):
    assert isinstance(error, ai.UnreachableError) and isinstance(error, ai.TransportError)
    assert error.request_sent is False
    assert "could not be reached" in error.message and "nothing was sent" in error.message
    assert "may have acted" not in error.message


def assert_sent_without_answer(error, key=None):
    assert isinstance(error, ai.NoAnswerError) and isinstance(error, ai.TransportError)
    assert not isinstance(error, ai.UnreachableError)
    assert error.request_sent is True and error.retryable
    assert error.idempotency_key == key
    assert "was lost" in error.message and "after the request was sent" in error.message
    assert len(error.message) < 300
    assert "could not be reached" not in error.message and "nothing was sent" not in error.message
    if key:
        assert "may have acted" in error.message and "Sending it again is safe" in error.message
        assert "same idempotency key" in error.message
    else:
        assert "Reading again is safe" in error.message


# --------------------------------------------------------- nothing was sent
def test_a_closed_port_is_unreachable_and_retried(sim):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    client = ai.Client(f"http://127.0.0.1:{port}", CLIENT_ID, SECRET, token_cache=TokenCache(), sleep=sleeps,
                       max_attempts=3)
    with pytest.raises(ai.UnreachableError) as info:
        client.test_connection()
    assert_nothing_sent(info.value)
    assert "connection refused" in info.value.message
    assert len(sleeps) == 2  # retried, bounded


def test_a_port_that_never_accepts_is_a_connect_timeout(sim):
    # a listening socket with a full accept queue drops further connection attempts
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        client = ai.Client(f"http://127.0.0.1:{port}", CLIENT_ID, SECRET, token_cache=TokenCache(),
                           sleep=Sleeps(), max_attempts=1, connect_timeout=0.3)
        with pytest.raises(ai.UnreachableError) as info:
            client.test_connection()
        assert_nothing_sent(info.value)
        assert "timed out" in info.value.message
    finally:
        for filler in fillers:
            filler.close()
        server.close()


def test_an_unknown_host_name_is_unreachable():
    client = ai.Client("https://no-such-host.invalid", CLIENT_ID, SECRET, token_cache=TokenCache(),
                       sleep=Sleeps(), max_attempts=1)
    with pytest.raises(ai.UnreachableError) as info:
        client.test_connection()
    assert_nothing_sent(info.value)
    assert "could not be resolved" in info.value.message


def test_a_failed_tls_handshake_sent_nothing(sim, admin):
    client = ai.Client(sim.url.replace("http://", "https://"), CLIENT_ID, SECRET, token_cache=TokenCache(),
                       sleep=Sleeps())
    with pytest.raises(ai.TLSError) as info:
        client.test_connection()
    assert_nothing_sent(info.value)
    assert not info.value.retryable and "[SSL" in info.value.message and "Caused by" not in info.value.message
    assert admin.requests_log() == []  # no HTTP request ever reached the fleet


# ------------------------------------------------- sent, but no answer came
@pytest.mark.parametrize("fault", [
    {"drop_connection_next": 1},
    {"drop_after_processing_next": 1},
    {"truncate_next": 1},
    {"delay_s": 0.6, "delay_next": 1},
])
def test_a_lost_answer_says_the_fleet_may_have_acted(sim, admin, fault):
    client = one_try(sim, read_timeout=0.3)
    client.test_connection()
    admin.post("/faults", dict(fault, path_prefix="/v1/repair-orders"))
    with pytest.raises(ai.NoAnswerError) as info:
        client.submit(body())
    key = admin.requests_log("/v1/repair-orders", "POST")[0]["headers"]["Idempotency-Key"]
    assert_sent_without_answer(info.value, key)
    admin.post("/faults", {})
    processed = not fault.get("drop_connection_next")
    # a slow answer is processed after the client gave up waiting
    assert wait_for(lambda: len(admin.ros()) == (1 if processed else 0))
    # trying again, as the message says, never makes a second RO
    ro = client.submit(body())
    assert assert_one_ro(admin, client)["ro_id"] == ro["ro_id"]
    replayed = admin.requests_log("/v1/repair-orders", "POST")[-1]
    assert replayed["headers"]["Idempotency-Key"] == key


@pytest.mark.parametrize("fault", [
    {"drop_connection_next": 1},
    {"truncate_next": 1},
    {"delay_s": 0.6, "delay_next": 1},
])
def test_a_lost_answer_to_a_read_says_reading_again_is_safe(sim, admin, fault):
    client = one_try(sim, read_timeout=0.3)
    ro = client.submit(body())
    admin.post("/faults", dict(fault, path_prefix="/v1/repair-orders/"))
    with pytest.raises(ai.NoAnswerError) as info:
        client.get_ro(ro["ro_id"])
    assert_sent_without_answer(info.value)
    admin.post("/faults", {})
    assert client.get_ro(ro["ro_id"])["ro_id"] == ro["ro_id"]


def test_retries_after_a_lost_answer_replay_the_fleets_answer(sim, admin):
    sleeps = Sleeps()
    client = make_client(sim, sleeps, read_timeout=0.3)
    admin.post("/faults", {"drop_after_processing_next": 1, "truncate_next": 1, "path_prefix": "/v1/repair-orders"})
    ro = client.submit(body())
    assert len(sleeps) == 2
    assert assert_one_ro(admin, client)["ro_id"] == ro["ro_id"]


def test_once_an_attempt_was_sent_the_call_never_says_nothing_was_sent():
    """The first attempt reaches the fleet (which acts) and loses its answer;
    the fleet then goes away: the last attempt is refused, yet the call must
    not say that nothing was sent."""
    own = Simulator(fleets={"ENT-0042": None}, client_id=CLIENT_ID, client_secret=SECRET).start()
    try:
        client = ai.Client(own.url, CLIENT_ID, SECRET, token_cache=TokenCache(), max_attempts=2,
                           sleep=lambda _seconds: own.stop())
        client.test_connection()
        own.faults.set({"drop_after_processing_next": 1})
        with pytest.raises(ai.NoAnswerError) as info:
            client.submit(body())
    finally:
        if own.server is not None:
            own.stop()
    error = info.value
    assert error.request_sent is True and error.idempotency_key.startswith("RO/2026/00031:submit:")
    assert isinstance(error.__cause__, ai.UnreachableError)  # what the last attempt met
    assert "an earlier attempt was sent" in error.message and "could not be reached (connection refused)" \
        in error.message
    assert "may have acted" in error.message and "Sending it again is safe" in error.message
    assert "nothing was sent" not in error.message
