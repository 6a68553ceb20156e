"""Fixtures of the client's tests: one simulator per test module (reset before
each test), its control API, a client that records its sleeps."""

import pytest

from autointegrate_sim import Simulator

from .helpers import CLIENT_ID, SECRET, Admin, Sleeps, make_client


@pytest.fixture(scope="module")
def sim():
    simulator = Simulator(
        fleets={"ENT-0042": None, "ELM-7": "250.00"},
        client_id=CLIENT_ID,
        client_secret=SECRET,
        shop_id="SHOP-17",
        admin=True,
    ).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def admin(sim):
    admin = Admin(sim.url)
    admin.post("/reset", {"tokens": True})
    yield admin
    admin.post("/faults", {})


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def client(sim, sleeps):
    return make_client(sim, sleeps)
