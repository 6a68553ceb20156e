"""The command line: --help, start, serve, stop on SIGTERM."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from autointegrate_sim.cli import is_loopback_host, parse_fleet

ROOT = Path(__file__).resolve().parents[2]


def run_module(*args, **kwargs):
    # the simulator from the checkout, the wire protocol from inside the addon
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "omega_autointegrate" / "lib")]))
    return subprocess.Popen([sys.executable, "-m", "autointegrate_sim", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_help_runs():
    proc = run_module("--help")
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "--fleet" in out and "--admin-unsafe" in out


def test_parse_fleet_and_loopback():
    assert parse_fleet("ENT-0042") == ("ENT-0042", None)
    assert parse_fleet("ELM-7:250.00") == ("ELM-7", "250.00")
    assert parse_fleet("A:B") == ("A:B", None)
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1") and is_loopback_host("localhost")
    assert not is_loopback_host("0.0.0.0") and not is_loopback_host("example.com")


def test_admin_on_a_public_address_is_refused():
    proc = run_module("--host", "0.0.0.0", "--port", "0", "--admin", "--fleet", "F", "--client-id", "c",
                      "--client-secret", "s")
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 2 and "--admin-unsafe" in err


def test_start_serve_and_stop_on_sigterm():
    proc = run_module("--port", "0", "--admin", "--fleet", "ENT-0042:100.00", "--client-id", "c",
                      "--client-secret", "s")
    try:
        line = proc.stdout.readline()
        assert line.startswith("AutoIntegrate simulator listening on http://127.0.0.1:"), line
        url = line.rsplit(" ", 1)[1].strip()
        token = requests.post(url + "/oauth/token", timeout=10,
                              data={"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"})
        assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
        assert requests.get(url + "/_admin/config", timeout=10).json()["fleets"] == {
            "ENT-0042": {"auto_approve_threshold": "100.00"}}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
