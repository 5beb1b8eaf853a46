"""The API's servers as real processes on loopback: granian (the container's command,
devstack.commands.api_command) and uvicorn (the alternative), held to the same behaviour."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from devstack.commands import api_command
from devstack.netports import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

SERVERS = ["granian", "uvicorn"]
# A clean stop: granian exits 0; uvicorn, once shut down, re-raises the SIGTERM it got.
STOPPED = {0, -signal.SIGTERM}


def server_argv(server: str, port: int) -> list[str]:
    if server == "granian":
        return api_command(port)  # what the container and `make dev` run
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    return [
        uvicorn,
        "orders.app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path | None = None) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, headers={"X-Request-Id": "warmup"}, timeout=2)
            return
        except httpx.TransportError:
            detail = log.read_text() if log else url
            assert process.poll() is None, detail
            assert time.monotonic() < deadline, detail
            time.sleep(0.1)


@contextlib.contextmanager
def running(
    server: str, log: Path, env: dict[str, str]
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """The server on a free loopback port, ready; stopped with SIGTERM if still running."""
    port = free_port()
    with log.open("w") as out:
        process = subprocess.Popen(
            server_argv(server, port), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/health", process, log)
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
