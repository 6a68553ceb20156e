"""Command line: ``autointegrate-sim --port 8070 --admin --fleet ENT-0042:250.00 ...``."""

import argparse
import signal
import threading

from autointegrate.client import is_loopback_host
from autointegrate.formatting import parse_amount

from .simulator import Simulator


def parse_fleet(spec):
    """``ENT-0042`` or ``ENT-0042:250.00`` -> ``("ENT-0042", "250.00" | None)``.

    Fleet ids may contain ``:`` themselves, so only a trailing amount counts.
    """
    fleet, sep, limit = spec.rpartition(":")
    if sep and fleet and parse_amount(limit) is not None:
        return fleet, limit
    return spec, None


def build_parser():
    parser = argparse.ArgumentParser(prog="autointegrate-sim",
                                     description="AutoIntegrate fleet platform simulator (tests and demos only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8070, help="0 picks a free port")
    parser.add_argument("--admin", action="store_true", help="serve /_admin (control API and fleet web page)")
    parser.add_argument("--admin-unsafe", action="store_true", help="allow --admin on a non-loopback host")
    parser.add_argument("--fleet", action="append", required=True, metavar="ID[:AUTO_APPROVE_LIMIT]",
                        help="a fleet company, optionally auto-approving ROs up to that total (repeatable)")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--shop-id", help="bind the client to this shop id")
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret")
    parser.add_argument("--db", help="SQLite file that keeps state across restarts (default: in memory)")
    parser.add_argument("--token-ttl", type=int, default=3600, help="seconds")
    parser.add_argument("--webhook-backoff", type=float, default=30, help="first retry delay, seconds")
    parser.add_argument("--webhook-max-attempts", type=int, default=20)
    parser.add_argument("--webhook-timeout", type=float, default=10, help="seconds")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.admin and not is_loopback_host(args.host) and not args.admin_unsafe:
        parser.error(f"--admin serves an unauthenticated control API; refusing it on {args.host} "
                     "(use a loopback host, or --admin-unsafe)")
    if bool(args.webhook_url) != bool(args.webhook_secret):
        parser.error("--webhook-url and --webhook-secret go together")
    sim = Simulator(
        fleets=dict(parse_fleet(spec) for spec in args.fleet), client_id=args.client_id,
        client_secret=args.client_secret, shop_id=args.shop_id, webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret, db_path=args.db, token_ttl=args.token_ttl,
        webhook_backoff_s=args.webhook_backoff, webhook_max_attempts=args.webhook_max_attempts,
        webhook_timeout_s=args.webhook_timeout, admin=args.admin, verbose=args.verbose,
    )
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    sim.start(args.host, args.port)
    print(f"AutoIntegrate simulator listening on {sim.url}", flush=True)
    try:
        # a timed wait, so the signal handler gets to run in the main thread
        while not stopping.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0
