"""Fixtures: a fresh simulator on a free loopback port for every test."""

import pytest

from autointegrate_sim.admin import AdminClient

from .helpers import Api, Receiver, make_sim


@pytest.fixture
def sim():
    simulator = make_sim().start()
    yield simulator
    simulator.stop()


@pytest.fixture
def api(sim):
    return Api(sim.url)


@pytest.fixture
def admin(sim):
    return AdminClient(sim.url)


@pytest.fixture
def receiver():
    hook = Receiver()
    yield hook
    hook.stop()
