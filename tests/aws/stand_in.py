#!/usr/bin/env python3
"""The AWS side of the stand-in EKS: moto on loopback, fronted so that presigned
STS GetCallerIdentity requests (EKS tokens) are verified like STS does.

    python3 tests/aws/stand_in.py --host 127.0.0.1 --port 0 --region us-east-1

Prints exactly one line `READY http://HOST:PORT` on stdout once listening, logs
to stderr, exits when stdin closes or on SIGTERM/SIGINT. See README.md here.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

_START = time.monotonic()
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

log = logging.getLogger("stand_in")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="AWS side of the stand-in EKS (moto + presigned STS)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    parser.add_argument("--region", default="us-east-1", help="region of the testbed's clusters (default us-east-1)")
    parser.add_argument("--verbose", action="store_true", help="log every request (method, path, status) to stderr")
    parser.add_argument(
        "--ignore-stdin",
        action="store_true",
        help="do not exit when stdin closes (for running by hand with stdin at /dev/null); SIGTERM still stops it",
    )
    return parser.parse_args(argv)


def _handler_class(verbose: bool):
    from werkzeug.serving import WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        # werkzeug logs the request line, query string included: a presigned
        # URL's signature and session token would land in the log. Log the path only.
        def log_request(self, code="-", size="-"):
            if verbose:
                path = self.path.split("?", 1)[0]
                log.info("%s %s %s", self.command, path, code)

    return Handler


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="aws-stand-in: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from werkzeug.serving import make_server

    from standin_front import Front
    from standin_world import World

    world = World(args.region)
    front = Front(world)
    server = make_server(args.host, args.port, front, threaded=True, request_handler=_handler_class(args.verbose))
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="serve", daemon=True)
    serving.start()

    host = f"[{args.host}]" if ":" in args.host else args.host
    real_stdout = sys.stdout
    real_stdout.write(f"READY http://{host}:{server.server_port}\n")
    real_stdout.flush()
    # stdout carries the READY line only: moto print()s diagnostics, send them to stderr.
    sys.stdout = sys.stderr
    log.info("listening on %s:%d (region %s) after %.2f s", args.host, server.server_port, args.region,
             time.monotonic() - _START)

    def warm_up() -> None:
        started = time.monotonic()
        front.warm_up()
        log.info("moto iam/sts/eks loaded in %.2f s", time.monotonic() - started)

    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()

    stop = threading.Event()

    def on_signal(signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if args.ignore_stdin:
            stop.wait()
        else:
            # The parent holds our stdin: when it goes away (even killed), read() sees EOF.
            while os.read(0, 65536):
                pass
            log.info("stdin closed, stopping")
    except SystemExit:
        log.info("signal received, stopping")
    except OSError as err:
        log.info("stdin unreadable (%s), stopping", err)
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
