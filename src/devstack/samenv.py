"""events/local-env.json: the `sam local --env-vars` file that points functions at `make dev`.

`sam local` runs each function in a container. With Docker Desktop (macOS, Windows) the
container reaches `make dev`'s emulator through the Docker host, host.docker.internal, on
the default emulator port: that is the committed file. On Linux, run the containers on
the host network (tests/docker/sam_host_network.py) and write a file whose endpoint is
the emulator on loopback: `make sam-env SAM_ENDPOINT=http://127.0.0.1:5000
SAM_ENV_FILE=.dev/sam-env.json` (--endpoint-url, --output).

The resource names are the ones `make dev` deploys: stable across runs because the
emulator's random generator is seeded (devstack.emulator.MOTO_SEED). When cform/data.yaml
changes them, `make sam-env` rewrites the file (an e2e test says when it is due). So are
the user pool's ids (moto's HASH id strategies, devstack.identity): ApiFunction gets the
ORDERS_AUTH_* settings `make dev` gives its API, so `make token`'s tokens work against it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devstack.config import DEFAULT_MOTO_PORT, LOCAL_STACK_NAME, repo_root
from devstack.envs import service_variables
from devstack.identity import api_env, jwks_url_for

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from devstack.identity import LocalIdentity

ENV_FILE = "events/local-env.json"
DOCKER_HOST_ENDPOINT = f"http://host.docker.internal:{DEFAULT_MOTO_PORT}"


def render(
    outputs: Mapping[str, str],
    endpoint_url: str = DOCKER_HOST_ENDPOINT,
    identity: LocalIdentity | None = None,
) -> dict[str, Any]:
    """The env-vars document: per function, only variables template.yaml declares.

    `sam local` passes a variable from this file only if the function declares it
    (SAM ignores the rest), so AWS_ENDPOINT_URL must be declared in the template.
    With `identity`, ApiFunction also gets the token settings, its JWKS URL as the
    containers reach the emulator (`endpoint_url`).
    """
    variables = {
        "AWS_ENDPOINT_URL": endpoint_url,
        **service_variables(outputs),
        # No X-Ray daemon next to `sam local`; the SDK would only complain.
        "ORDERS_TRACING_ENABLED": "false",
    }
    # The API's own: no front door locally (sam local would pass the secret's logical id
    # for its ARN), and the token settings, which the outbox neither checks nor gets.
    api = {**variables, "ORDERS_ORIGIN_SECRET_ARN": ""}
    if identity is not None:
        api |= api_env(identity)
        api["ORDERS_AUTH_JWKS_URL"] = jwks_url_for(endpoint_url, identity.pool_id)
    return {"ApiFunction": api, "OutboxFunction": variables}


def dumps(document: Mapping[str, object]) -> str:
    return json.dumps(document, indent=2) + "\n"


def generate(endpoint_url: str = DOCKER_HOST_ENDPOINT) -> str:
    """Deploy the data stack into a throwaway emulator, exactly as `make dev` does, and render."""
    import tempfile
    from pathlib import Path

    from devstack.emulator import start_with_data_stack
    from devstack.identity_provision import provision
    from devstack.netports import free_port

    port = free_port()
    local_url = f"http://127.0.0.1:{port}"
    emulator, outputs = start_with_data_stack(
        "127.0.0.1", port, local_url, repo_root() / "cform" / "data.yaml", LOCAL_STACK_NAME
    )
    try:
        # The passwords this writes are thrown away with the directory: only ids are kept.
        with tempfile.TemporaryDirectory() as scratch:
            identity, _ = provision(local_url, outputs["KmsKeyArn"], Path(scratch))
    finally:
        emulator.stop()
    return dumps(render(outputs, endpoint_url, identity))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.samenv", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("SAM_ENDPOINT") or DOCKER_HOST_ENDPOINT,
        help="the emulator as the function containers reach it (env SAM_ENDPOINT, default "
        "%(default)s; on the host network: http://127.0.0.1:<MOTO_PORT>)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(os.environ.get("SAM_ENV_FILE") or ENV_FILE),
        help="the file to write, relative to the repo (env SAM_ENV_FILE, default %(default)s)",
    )
    args = parser.parse_args(argv)
    if not args.endpoint_url.startswith(("http://", "https://")):
        parser.error(f"--endpoint-url must be an http(s) URL, not {args.endpoint_url!r}")
    # moto's notes on the resource types it skips are for `make dev`'s log, not this output.
    logging.basicConfig(level=logging.ERROR)
    # moto's HTTP server logs each request at INFO on its own handler.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    warnings.simplefilter("ignore")
    path = args.output if args.output.is_absolute() else repo_root() / args.output
    text = generate(args.endpoint_url)
    current = path.read_text(encoding="utf-8") if path.is_file() else ""
    if args.check:
        if current != text:
            print(f"{args.output} is out of date: run `make sam-env`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(f"{args.output} is up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
