"""`make switch TARGET=lambda|both|fargate [WEIGHT=n]`: move the running `make dev` live.

The local counterpart of a `make deploy` step of the switch runbook: the front door's
URL stays, and from the moment this returns every new request is routed by the new
target (requests in flight finish where they started). Like CloudFormation, which
moves traffic only to a target whose resources are healthy, it refuses to send
traffic to an entry that does not answer its readiness check, and leaves the target
as it was.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from devstack import routing, state
from devstack.config import default_state_dir
from devstack.probe import http_ok

if TYPE_CHECKING:
    from collections.abc import Sequence

NOT_RUNNING = "make dev is not running: start it in another terminal"
EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.switch", description=__doc__)
    parser.add_argument("target", choices=routing.TARGETS)
    parser.add_argument(
        "--weight", type=int, default=None, help="with `both`: the percent sent to fargate, 0-100"
    )
    parser.add_argument(
        "--state-dir", type=Path, default=default_state_dir(), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.weight is not None and args.target != "both":
        print(
            f"make switch: WEIGHT applies to TARGET=both only ({args.target} sends "
            f"{'all' if args.target == 'fargate' else 'nothing'} to fargate)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        wanted = routing.Routing(args.target, 0 if args.weight is None else args.weight)
    except routing.RoutingError as exc:
        print(f"make switch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    running = state.read(args.state_dir)
    if running is None or running.target_file is None:
        print(NOT_RUNNING, file=sys.stderr)
        return 1
    path = Path(running.target_file)
    try:
        before = routing.read(path).describe()
    except routing.RoutingError:
        before = "unknown"
    share = wanted.fargate_percent
    taking = [
        (name, url)
        for name, url, gets in (
            ("lambda", running.lambda_url, share < 100),
            ("fargate", running.fargate_url, share > 0),
        )
        if gets
    ]
    for name, url in taking:
        if url is None or not http_ok(f"{url}/api/ready", timeout=5.0):
            print(
                f"make switch: the {name} entry does not answer at {url}/api/ready; "
                f"the target stays {before}",
                file=sys.stderr,
            )
            return 1
    routing.write(path.parent, wanted)
    print(f"target: {before} -> {wanted.describe()}; the API stays at {running.api_url}/api")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
