"""A running API for the UI tests: moto server + data plane + uvicorn, on loopback, once.

The moto server runs as its own process rather than a ThreadedMotoServer in this one:
moto's backends are process-global and `mock_aws` (used by the other tiers in the same
pytest run) resets them, so an in-process server could lose its data under our feet.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import httpx
import pytest

from tests.support import create_data_plane, service_env

if TYPE_CHECKING:
    from collections.abc import Iterator

    from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "src" / "ui" / "app.py"
OUTPUT = REPO / "tests" / "output" / "ui"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `url` until it answers; fail with the process's log if it exits or never does."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{process.args!r} exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1.0)
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        return
    pytest.fail(f"{url} did not answer in {START_TIMEOUT:.0f}s:\n{log.read_text()}")


@contextmanager
def background(
    name: str, args: list[str], env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """Run `args` with its output in tests/output/ui/<name>.log; stop it afterwards."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = OUTPUT / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            yield process, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _base_env() -> dict[str, str]:
    # Nothing from the developer's shell may point the test processes at real AWS.
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "ORDERS_", "POWERTOOLS_")) and k != "STREAMLIT_SERVER_PORT"
    }


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with background("moto", args, _base_env()) as (process, log):
        endpoint = f"http://127.0.0.1:{port}"
        wait_for(f"{endpoint}/moto-api/", process, log)
        yield endpoint


@pytest.fixture(scope="session")
def data_plane(moto_endpoint: str) -> dict[str, str]:
    with pytest.MonkeyPatch.context() as env:
        # create_data_plane builds its own clients; the SDK reads the endpoint from here.
        env.setenv("AWS_ENDPOINT_URL", moto_endpoint)
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        return create_data_plane(session)


@pytest.fixture(scope="session")
def apis(moto_endpoint: str, data_plane: dict[str, str]) -> Iterator[dict[str, str]]:
    """Two APIs started side by side: a healthy one and one whose bucket does not exist."""

    def api_args(port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "orders.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip

    env = {**_base_env(), **service_env(data_plane["kms_key_id"], AWS_ENDPOINT_URL=moto_endpoint)}
    ok_port, degraded_port = free_port(), free_port()
    with (
        background("api", api_args(ok_port), env) as (ok, ok_log),
        background(
            "api-degraded",
            api_args(degraded_port),
            {**env, "ORDERS_BUCKET_NAME": "no-such-bucket"},
        ) as (degraded, degraded_log),
    ):
        urls = {
            "ok": f"http://127.0.0.1:{ok_port}",
            "degraded": f"http://127.0.0.1:{degraded_port}",
        }
        wait_for(f"{urls['ok']}/api/health", ok, ok_log)
        wait_for(f"{urls['degraded']}/api/health", degraded, degraded_log)
        yield urls


@pytest.fixture(scope="session")
def api_url(apis: dict[str, str]) -> str:
    return apis["ok"]


@pytest.fixture
def api(api_url: str) -> Iterator[httpx.Client]:
    """A second user of the API, straight over HTTP (not through the UI's client)."""
    with httpx.Client(base_url=f"{api_url}/api", timeout=10) as client:
        yield client


@pytest.fixture
def ui(monkeypatch: pytest.MonkeyPatch, api_url: str):  # type: ignore[no-untyped-def]
    """A factory of AppTests of src/ui/app.py against `api_url` (or another URL)."""
    from streamlit.testing.v1 import AppTest

    def make(url: str = api_url) -> AppTest:
        monkeypatch.setenv("ORDERS_API_URL", url)
        return AppTest.from_file(str(APP), default_timeout=15)

    return make


@pytest.fixture
def new_order(api: httpx.Client):  # type: ignore[no-untyped-def]
    """Create an order through the API, as another user would."""

    def make(**overrides: object) -> dict[str, object]:
        body = {"customer": "acme", "product": "widget", "quantity": 2, **overrides}
        response = api.post("/orders", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make
