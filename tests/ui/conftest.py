"""A running API for the UI tests: moto server + data plane + uvicorn, on loopback, once.

The moto server runs as its own process rather than a ThreadedMotoServer in this one:
moto's backends are process-global and `mock_aws` (used by the other tiers in the same
pytest run) resets them, so an in-process server could lose its data under our feet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import boto3
import httpx
import pytest

from devstack.netports import free_port
from tests import support
from tests.support import REGION, NewOrder, create_data_plane, service_env, stop_process

if TYPE_CHECKING:
    from collections.abc import Iterator

    from streamlit.testing.v1 import AppTest

    from devstack.identity import LocalIdentity

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "src" / "ui" / "app.py"
OUTPUT = REPO / "tests" / "output" / "ui"
START_TIMEOUT = 30.0
KMS_ALIAS = "alias/orders-ui-test"


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    support.wait_for(url, process, log, timeout=START_TIMEOUT)


@contextmanager
def background(
    name: str, args: list[str], env: dict[str, str], *, stop_timeout: float = 10.0
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """Run `args` with its output in tests/output/ui/<name>.log; stop it afterwards."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    log = OUTPUT / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(args, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            yield process, log
        finally:
            stop_process(process, timeout=stop_timeout)


def _base_env() -> dict[str, str]:
    # Nothing from the developer's shell may point the test processes at real AWS.
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "ORDERS_", "POWERTOOLS_")) and k != "STREAMLIT_SERVER_PORT"
    }


@dataclass(frozen=True)
class Stack:
    moto: str
    api: str
    degraded_api: str
    service_env: dict[str, str]


def api_args(port: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "orders.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """moto, the data plane, a healthy API and one whose bucket does not exist.

    The processes start together (the APIs touch AWS only per request, and name the KMS
    key by an alias created with the data plane), which saves seconds on every run.
    """
    moto_port, api_port, degraded_port = free_port(), free_port(), free_port()
    moto = f"http://127.0.0.1:{moto_port}"
    # Authentication is off here, so every request counts for one caller (the address):
    # the whole browser suite would share one per-caller window and meet 429s that test
    # nothing. Throttling has its own tests (tests/unit/test_throttle.py).
    env = {
        **_base_env(),
        **service_env(KMS_ALIAS, AWS_ENDPOINT_URL=moto),
        "ORDERS_RATE_LIMIT_PER_MINUTE": "0",
    }
    moto_args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
    with (
        background("moto", moto_args, _base_env()) as (moto_process, moto_log),
        background("api", api_args(api_port), env) as (api, api_log),
        background(
            "api-degraded",
            api_args(degraded_port),
            {**env, "ORDERS_BUCKET_NAME": "no-such-bucket"},
        ) as (degraded, degraded_log),
    ):
        wait_for(f"{moto}/moto-api/", moto_process, moto_log)
        with pytest.MonkeyPatch.context() as patch:
            # create_data_plane builds its own clients; the SDK reads the endpoint from here.
            patch.setenv("AWS_ENDPOINT_URL", moto)
            session = boto3.session.Session(
                aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
            )
            plane = create_data_plane(session)
            session.client("kms").create_alias(AliasName=KMS_ALIAS, TargetKeyId=plane["kms_key_id"])
        stack = Stack(
            moto=moto,
            api=f"http://127.0.0.1:{api_port}",
            degraded_api=f"http://127.0.0.1:{degraded_port}",
            service_env=env,
        )
        wait_for(f"{stack.api}/api/health", api, api_log)
        wait_for(f"{stack.degraded_api}/api/health", degraded, degraded_log)
        yield stack


@pytest.fixture(scope="session")
def api_url(stack: Stack) -> str:
    return stack.api


@pytest.fixture
def api(api_url: str) -> Iterator[httpx.Client]:
    """A second user of the API, straight over HTTP (not through the UI's client)."""
    with httpx.Client(base_url=f"{api_url}/api", timeout=10) as client:
        yield client


class MakeApp(Protocol):
    """The `ui` fixture: an AppTest of src/ui/app.py against the stack's API or `url`."""

    def __call__(self, url: str = ...) -> AppTest: ...


# The `publish_outbox` fixture: put one order's pending events on the bus.
PublishOutbox = Callable[[str], None]


@pytest.fixture
def ui(monkeypatch: pytest.MonkeyPatch, api_url: str) -> MakeApp:
    """A factory of AppTests of src/ui/app.py against `api_url` (or another URL)."""
    from streamlit.testing.v1 import AppTest

    def make(url: str = api_url) -> AppTest:
        monkeypatch.setenv("ORDERS_API_URL", url)
        return AppTest.from_file(str(APP), default_timeout=15)

    return make


@pytest.fixture
def new_order(api: httpx.Client) -> NewOrder:
    """Create an order through the API, as another user would."""
    return support.order_maker(api, "/orders")


@pytest.fixture
def publish_outbox(stack: Stack) -> PublishOutbox:
    """Put one order's pending events on the bus through the real outbox handler."""

    def publish(order_id: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "tests.ui.publish_outbox", order_id],
            env=stack.service_env, cwd=REPO, capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    return publish


# -- sign-in (issue 11) ------------------------------------------------------------------


@dataclass(frozen=True)
class LocalPool:
    """What `make dev`'s provisioning made in the test's moto, and the demo passwords."""

    identity: LocalIdentity
    passwords: dict[str, str]

    def ui_env(self, moto: str) -> dict[str, str]:
        """What the UI process needs to sign people in against this pool."""
        return {
            "ORDERS_UI_COGNITO_CLIENT_ID": self.identity.ui_client_id,
            "ORDERS_UI_COGNITO_CLIENT_SECRET_ARN": self.identity.ui_client_secret_arn,
            "AWS_ENDPOINT_URL": moto,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }


@pytest.fixture(scope="session")
def ui_test_user_pool(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> LocalPool:
    """The pool `make dev` provisions (devstack.identity_provision: `orders-local`, client
    `orders-ui` with its secret in Secrets Manager, group `operators`, users `acme` and
    `operator`), created the same way in this test's moto."""
    from devstack.identity_provision import provision

    return LocalPool(*provision(stack.moto, KMS_ALIAS, tmp_path_factory.mktemp("identity")))
