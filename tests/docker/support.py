"""Helpers of the Docker tier: HTTP on loopback, waiting, container clean-up, step times."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


def http(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """(status, body) of one request; an HTTP error status is an answer, not an exception."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def answers(url: str) -> bool:
    try:
        return http("GET", url)[0] == 200
    except OSError:
        return False


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def container_ids(*filters: str) -> set[str]:
    argv = ["docker", "ps", "-aq", *(f"--filter={f}" for f in filters)]
    return set(subprocess.run(argv, capture_output=True, text=True, check=False).stdout.split())


def remove_containers(ids: set[str]) -> None:
    if ids:
        subprocess.run(["docker", "rm", "-f", *sorted(ids)], capture_output=True, check=False)


def timed(step: str, seconds: float) -> None:
    """Steps print their time (seen with pytest -s, and in a failure's captured output)."""
    print(f"docker tier: {step} took {seconds:.1f} s")
