"""The commands the stack's children run: the containers' own, bound to loopback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.config import LOOPBACK

if TYPE_CHECKING:
    from devstack.config import DevConfig


def _tool(name: str) -> list[str]:
    """The venv's console script when there is one (what the container runs), else `python -m`."""
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.is_file() else [sys.executable, "-m", name]


def api_command(port: int) -> list[str]:
    """The API container's command, `granian --interface asgi --factory orders.app:create_app`
    (GRANIAN_HOST 0.0.0.0, GRANIAN_PORT 8000), with only the host and port values changed:
    loopback and the chosen port. granian runs a worker process under the one started here;
    the stack signals process groups, so both stop together."""
    return [
        *_tool("granian"),
        "--interface",
        "asgi",
        "--factory",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "orders.app:create_app",
    ]


def ui_command(config: DevConfig) -> list[str]:
    """Streamlit on loopback, headless, no usage statistics."""
    return [
        *_tool("streamlit"),
        "run",
        str(config.ui_script),
        "--server.port",
        str(config.ui_port),
        "--server.address",
        LOOPBACK,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]


def outbox_command(
    stream_arn: str, dlq_url: str | None, checkpoint: Path | None = None
) -> list[str]:
    argv = [sys.executable, "-m", "devstack.outbox_loop", "--stream-arn", stream_arn]
    if dlq_url:
        argv += ["--dlq-url", dlq_url]
    if checkpoint is not None:
        argv += ["--checkpoint", str(checkpoint)]
    return argv


def lambda_command(port: int, function_name: str, environments: int) -> list[str]:
    """The Lambda entry: the handler behind an HTTP API-shaped server (devstack.apigw_local)."""
    return [
        sys.executable,
        "-m",
        "devstack.apigw_local",
        "--port",
        str(port),
        "--function-name",
        function_name,
        "--environments",
        str(environments),
    ]


def front_door_command(config: DevConfig, routing_file: Path) -> list[str]:
    """The front door on the API's port, in front of both entries (devstack.front_door)."""
    return [
        sys.executable,
        "-m",
        "devstack.front_door",
        "--port",
        str(config.api_port),
        "--lambda-url",
        config.lambda_url,
        "--fargate-url",
        config.fargate_url,
        "--routing-file",
        str(routing_file),
    ]
