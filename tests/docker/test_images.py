"""containers/api and containers/ui: built the way CI can build them (no registry, no network:
`docker build --network none` from the local base and the wheelhouse), and run the way the
Fargate tasks run them (read-only root with a /tmp volume, the image's non-root user, its
HEALTHCHECK), on the host network against `make dev`'s emulator on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devstack.envs import emulator_env
from devstack.identity import LocalIdentity, ui_env, with_auth
from devstack.netports import free_port
from tests.docker.images import REPO
from tests.docker.support import answers, http, remove_containers, timed, wait_for
from tests.unit.test_ui_imports import SERVICE_ONLY

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.e2e.stack import DevStack

# Tags of this run alone: two runs on one engine must not replace each other's images (the
# layers are still shared through the build cache). Removed when the session ends.
RUN_TAG = f"docker-tier-{uuid.uuid4().hex[:8]}"
TAGS = {"api": f"orders-api:{RUN_TAG}", "ui": f"orders-ui:{RUN_TAG}"}
LABEL = "orders.test=docker-tier"
APP_UID = 10001  # the Dockerfiles' `USER 10001:10001`


@pytest.fixture(scope="session")
def built(base_image: str, wheelhouse: Path) -> Iterator[dict[str, str]]:
    """Both images, built side by side from the local base, pip reading only the wheelhouse."""
    started = time.monotonic()
    builds = {}
    for name, tag in TAGS.items():
        argv = [
            "docker", "build", "--network", "none", "-f", f"containers/{name}/Dockerfile",
            "--build-arg", f"BASE_IMAGE={base_image}",
            "--build-arg", f"WHEELHOUSE={wheelhouse.relative_to(REPO)}",
            "--build-arg", "PIP_NO_INDEX=1",
            "-t", tag, ".",
        ]  # fmt: skip
        builds[name] = subprocess.Popen(
            argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
    for name, proc in builds.items():
        output, _ = proc.communicate(timeout=1200)
        assert proc.returncode == 0, f"docker build {name}:\n{output[-6000:]}"
        timed(f"docker build {name} (both in parallel)", time.monotonic() - started)
    try:
        yield TAGS
    finally:
        subprocess.run(["docker", "image", "rm", *TAGS.values()], capture_output=True, check=False)


def run(image: str, env: dict[str, str]) -> str:
    """`docker run` as the task runs: read-only root, /tmp writable, host network."""
    argv = ["docker", "run", "-d", "--network", "host", "--read-only", "--tmpfs", "/tmp",
            "--label", LABEL]  # fmt: skip
    for name, value in env.items():
        argv += ["-e", f"{name}={value}"]
    proc = subprocess.run([*argv, image], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@contextmanager
def serving(image: str, env: dict[str, str], port: int, health: str) -> Iterator[tuple[str, str]]:
    """`image` run (as `run` runs it) until `health` answers on `port`: (container, base URL).
    The container is removed afterwards, whatever happened."""
    container = run(image, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(f"{url}{health}"), 60, f"{image} on {url}")
        yield container, url
    finally:
        remove_containers({container})


def inspect(container: str, template: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", template, container],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def logs(container: str) -> str:
    proc = subprocess.run(["docker", "logs", container], capture_output=True, text=True)
    return (proc.stdout + proc.stderr)[-4000:]


def main_process_uid(container: str) -> int:
    """The real uid of the container's first process, as the host sees it."""
    pid = inspect(container, "{{.State.Pid}}")
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for pid {pid}")


def wait_healthy(container: str, timeout: float = 90) -> float:
    """Seconds until the image's own HEALTHCHECK says healthy; fails on unhealthy."""
    started = time.monotonic()

    def healthy() -> bool:
        status = inspect(container, "{{.State.Health.Status}}")
        assert status != "unhealthy", logs(container)
        return status == "healthy"

    wait_for(healthy, timeout, f"{container[:12]} healthy")
    return time.monotonic() - started


@pytest.fixture(scope="module")
def api(built: dict[str, str], emulator_stack: DevStack) -> Iterator[tuple[str, str]]:
    """The API container on a free loopback port against the emulator: (container, base URL)."""
    assert emulator_stack.endpoint_url is not None
    assert emulator_stack.identity is not None
    port = free_port()
    env = {
        # The token settings `make dev` gives its API: the pool's JWKS on loopback.
        **with_auth(
            emulator_env(emulator_stack.outputs, emulator_stack.endpoint_url),
            LocalIdentity(**emulator_stack.identity),
        ),
        "GRANIAN_HOST": "127.0.0.1",
        "GRANIAN_PORT": str(port),
    }
    with serving(built["api"], env, port, "/api/health") as (container, url):
        yield container, url


def test_build_context_is_only_what_the_images_copy(base_image: str) -> None:
    """.dockerignore: no .git, virtualenvs, caches or tests reach the daemon."""
    tag = f"orders-context:{RUN_TAG}"
    build = subprocess.run(
        ["docker", "build", "--network", "none", "-t", tag, "-f", "-", "."],
        input=f"FROM {base_image}\nCOPY . /context\n",
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    try:
        listing = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", tag, "find", "/context", "-type", "f"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    finally:
        subprocess.run(["docker", "image", "rm", tag], capture_output=True, check=False)
    files = {path.removeprefix("/context/") for path in listing}
    allowed = (
        "src/orders/",
        "src/ui/",
        "src/advisor/",
        "containers/wheelhouse/",
        "containers/venv.sh",
        ".cache/wheelhouse/",
    )
    assert {"pyproject.toml", "README.md", "src/orders/app.py", "src/ui/app.py"} <= files
    strays = sorted(f for f in files - {"pyproject.toml", "README.md"} if not f.startswith(allowed))
    assert not strays, strays[:20]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_api_image_serves_health_ready_and_an_order(
    api: tuple[str, str], emulator_stack: DevStack
) -> None:
    container, url = api
    # Given the image running as the task runs it
    assert inspect(container, "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.NetworkMode}}") == (
        "true host"
    )
    assert main_process_uid(container) == APP_UID
    # Then it is alive, ready (DynamoDB, S3 and EventBridge of the emulator answer) ...
    assert http("GET", f"{url}/api/health") == (200, b'{"status":"ok"}')
    status, body = http("GET", f"{url}/api/ready")
    assert status == 200, body
    assert json.loads(body)["checks"] == {"dynamodb": "ok", "s3": "ok", "eventbridge": "ok"}
    # ... and an order it creates is in the emulator's table: `make dev`'s own API reads it
    order = {"customer": "docker-tier", "product": "widget", "quantity": 2}
    auth = emulator_stack.auth()
    status, body = http("POST", f"{url}/api/orders", order, auth)
    assert status == 201, body
    created = json.loads(body)
    status, body = http("GET", f"{emulator_stack.api_url}/api/orders/{created['id']}", headers=auth)
    assert status == 200, body
    assert {k: json.loads(body)[k] for k in order} == order


def test_api_healthcheck_turns_healthy(api: tuple[str, str]) -> None:
    container, _ = api
    timed("API HEALTHCHECK healthy", wait_healthy(container))


def test_ui_image_serves_its_page_and_turns_healthy(
    built: dict[str, str], api: tuple[str, str], emulator_stack: DevStack
) -> None:
    assert emulator_stack.endpoint_url is not None
    assert emulator_stack.identity is not None
    port = free_port()
    env = {
        # Sign-in as `make dev` configures it: the pool's UI client, its secret read from
        # the emulator's Secrets Manager.
        **{
            k: v
            for k, v in emulator_env(emulator_stack.outputs, emulator_stack.endpoint_url).items()
            if k.startswith("AWS_")
        },
        **ui_env(LocalIdentity(**emulator_stack.identity)),
        "ORDERS_API_URL": api[1],
        "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
        "STREAMLIT_SERVER_PORT": str(port),
    }
    with serving(built["ui"], env, port, "/_stcore/health") as (container, url):
        assert main_process_uid(container) == APP_UID
        status, page = http("GET", f"{url}/")
        assert status == 200
        assert b"<title>Streamlit</title>" in page, page[:300]
        assert http("GET", f"{url}/_stcore/health") == (200, b"ok")
        timed("UI HEALTHCHECK healthy", wait_healthy(container))


def test_ui_image_imports_its_client_without_the_service(built: dict[str, str]) -> None:
    """ui.client reads answers with orders.api.models: the image holds them (from /app, as
    the Dockerfile copies them), and importing the client loads no FastAPI, AWS SDK or
    Powertools (tests/unit/test_ui_imports.py reads the same from the source)."""
    check = (
        "import json, sys, ui.client, orders.api.models as m; "
        "print(json.dumps([m.__file__, sorted({n.split('.')[0] for n in sys.modules})]))"
    )
    proc = subprocess.run(
        ["docker", "run", "--rm", "--network", "none", "--read-only", "--label", LABEL,
         built["ui"], "python", "-c", check],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    models_file, loaded = json.loads(proc.stdout.splitlines()[-1])
    assert models_file.startswith("/app/orders/api/"), models_file
    assert not set(loaded) & set(SERVICE_ONLY), loaded
