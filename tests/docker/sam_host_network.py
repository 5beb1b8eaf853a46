"""`sam` with its function containers on the host network and their emulator on 127.0.0.1.

Usage (with the SAM CLI's own Python, e.g. `.tools/bin/python`):

    .tools/bin/python tests/docker/sam_host_network.py local invoke ApiFunction -e ... \\
        --env-vars env.json --skip-pull-image --container-host 127.0.0.1

Why: stock `sam local` puts each function container on Docker's bridge and publishes the
runtime emulator's port, so a function reaches `make dev`'s emulator only through a
bridge address. `--docker-network host` does not help: SAM never sets the container's
network mode for it (upstream declined the change, aws-sam-cli PR 7278). This wrapper
changes only how SAM's Lambda containers are created, and runs SAM's CLI unchanged:

- network_mode=host and no published ports: the function calls 127.0.0.1 (the emulator)
  and nothing leaves the machine's loopback;
- the runtime emulator (aws-lambda-rie, shipped by SAM) listens on 127.0.0.1 at the port
  SAM picked for it, and its runtime API on another free loopback port, so several
  containers (start-api, warm containers) share the host without clashing on 8080/9001.

It patches docker-py's container creation, which only SAM versions checked against this
code may rely on: another version stops here with a message (update SUPPORTED after
reading samcli/local/docker/container.py `Container.create` of that version).
"""

from __future__ import annotations

import socket
import sys
from typing import Any

SUPPORTED = ("1.170.",)
# What SAM labels its function containers with (samcli/local/docker/lambda_container.py).
LAMBDA_LABEL = ("sam.cli.container.type", "lambda")
# The emulator's port inside the container (samcli Container.RAPID_PORT_CONTAINER).
RIE_PORT = "8080"
LOOPBACK = "127.0.0.1"


def check_version(version: str) -> None:
    if not version.startswith(SUPPORTED):
        raise SystemExit(
            f"sam_host_network: written for aws-sam-cli {' or '.join(SUPPORTED)}x; installed "
            f"{version}. Read that version's samcli/local/docker/container.py (Container.create)"
            " and update SUPPORTED, or pin aws-sam-cli in .ci/tools.txt."
        )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def host_network(options: dict[str, Any]) -> dict[str, Any]:
    """docker-py create() options of a SAM function container, moved to the host network."""
    ports = dict(options.pop("ports", None) or {})
    published = ports.pop(RIE_PORT, None)
    if published is None or ports:
        raise SystemExit(
            "sam_host_network: expected exactly the emulator's port to be published, got "
            f"{sorted([RIE_PORT, *ports]) if published else sorted(ports)} (debug ports are not "
            "supported on the host network)"
        )
    rie_port = published[1] if isinstance(published, tuple) else published
    entrypoint = list(options.get("entrypoint") or [])
    if not entrypoint or not entrypoint[0].endswith("aws-lambda-rie"):
        raise SystemExit(f"sam_host_network: unexpected entrypoint {entrypoint}")
    options["entrypoint"] = [
        *entrypoint,
        "--runtime-interface-emulator-address",
        f"{LOOPBACK}:{rie_port}",
        "--runtime-api-address",
        f"{LOOPBACK}:{free_port()}",
    ]
    options["network_mode"] = "host"
    # Names resolve as on the host; a container on the host network takes no DNS override.
    options.pop("dns", None)
    return options


def patch() -> None:
    from docker.models.containers import ContainerCollection

    create = ContainerCollection.create

    def create_on_host_network(
        self: ContainerCollection, image: str, command: Any = None, **options: Any
    ) -> Any:
        labels = options.get("labels") or {}
        if labels.get(LAMBDA_LABEL[0]) == LAMBDA_LABEL[1]:
            options = host_network(options)
        return create(self, image, command, **options)

    ContainerCollection.create = create_on_host_network


def main(argv: list[str]) -> int:
    import samcli
    from samcli.cli.main import cli

    check_version(samcli.__version__)
    patch()
    sys.argv = ["sam", *argv]
    result: int = cli()
    return result


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
