"""`sam build`, then `sam local invoke` and `sam local start-api` as SAM users run them, each
with --skip-pull-image, the function containers on the host network against `make dev`'s
emulator on 127.0.0.1 (tests/docker/sam_host_network.py), the env-vars file written by
`make sam-env` with that endpoint.

An invoke must return what the same event returns through the handler in-process
(`make invoke`, the contract tier's path) on the same emulator state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from devstack.envs import service_variables
from devstack.identity import LocalIdentity, api_env
from devstack.invoke import TOKEN_PLACEHOLDER
from devstack.netports import free_port
from tests.contract.replay import (
    EVENTS_DIR,
    comparable_body,
    comparable_location,
    request_from_event,
    response_from_lambda,
)
from tests.docker import images
from tests.docker.sam_host_network import check_version, host_network
from tests.docker.support import container_ids, http, remove_containers, timed, wait_for
from tests.infra import cfn
from tests.infra.tooling import run, tool, tool_env, tools_python

if TYPE_CHECKING:
    from tests.e2e.stack import DevStack

WRAPPER = Path(__file__).with_name("sam_host_network.py")
SAM_LABEL = "label=sam.cli.container.type=lambda"
# The order the sample events address (events/generate.py ORDER_ID).
SAMPLE_ORDER_ID = "0123456789abcdef0123456789abcdef"
# One event of each kind the functions take.
EVENTS = (
    "apigw-v2/create-order.json",
    "apigw-v1/get-order.json",
    "alb/list-orders.json",
    "dynamodb/outbox-batch.json",
)
# Headers a client acts on (as the contract tier compares them).
KEY_HEADERS = ("content-type", "etag", "idempotent-replayed", "retry-after", "x-request-id")


@pytest.fixture(scope="session")
def sam_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sam build` into a temporary directory; its template.yaml."""
    out = tmp_path_factory.mktemp("sam-build")
    started = time.monotonic()
    proc = run([tool("sam"), "build", "--template", str(cfn.ROOT_TEMPLATE), "--build-dir", str(out)],
               timeout=900)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    timed("sam build", time.monotonic() - started)
    return out / "template.yaml"


@pytest.fixture(scope="session")
def sam_env(emulator_stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make sam-env SAM_ENDPOINT=<the emulator on loopback> SAM_ENV_FILE=...`."""
    assert emulator_stack.endpoint_url is not None
    path = tmp_path_factory.mktemp("sam-env") / "env.json"
    env = {**os.environ, "SAM_ENDPOINT": emulator_stack.endpoint_url, "SAM_ENV_FILE": str(path)}
    proc = subprocess.run(
        [sys.executable, "-m", "devstack.samenv"], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    document = json.loads(path.read_text())
    # The names `make sam-env` writes are the ones the running `make dev` deployed.
    expected = {
        "AWS_ENDPOINT_URL": emulator_stack.endpoint_url,
        **service_variables(emulator_stack.outputs),
    }
    for function in ("ApiFunction", "OutboxFunction"):
        assert {k: document[function][k] for k in expected} == expected
    # and the API function checks tokens against the running stack's pool, as its API does
    assert emulator_stack.identity is not None
    auth = api_env(LocalIdentity(**emulator_stack.identity))
    assert {k: document["ApiFunction"][k] for k in auth} == auth
    # and the outbox, which checks no tokens, gets none
    assert not auth.keys() & document["OutboxFunction"].keys()
    return path


@pytest.fixture(scope="session")
def sam_ready(lambda_image: str, sam_build: Path, sam_env: Path) -> tuple[Path, Path]:
    return sam_build, sam_env


def sam(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """The SAM CLI through the host-network wrapper, with the tools' fake AWS environment."""
    return subprocess.run(
        [tools_python(), str(WRAPPER), *args],
        cwd=cfn.REPO,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def sam_invoke(template: Path, env_file: Path, function: str, event: Path) -> dict[str, Any]:
    started = time.monotonic()
    proc = sam("local", "invoke", function, "--template", str(template), "--event", str(event),
               "--env-vars", str(env_file), "--skip-pull-image", "--container-host", "127.0.0.1")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    timed(
        f"sam local invoke {function} {event.parent.name}/{event.name}", time.monotonic() - started
    )
    (last, *_) = [line for line in reversed(proc.stdout.splitlines()) if line.strip()]
    response: dict[str, Any] = json.loads(last)
    return response


def in_process(stack: DevStack, event: Path) -> dict[str, Any]:
    """`make invoke EVENT=...`: the handler in this machine's Python, on the same stack."""
    proc = subprocess.run(
        [sys.executable, "-m", "devstack.invoke", str(event), "--state-dir", str(stack.state_dir)],
        cwd=cfn.REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    response: dict[str, Any] = json.loads(proc.stdout)
    return response


def function_of(event: dict[str, Any]) -> str:
    records = event.get("Records") or []
    return "OutboxFunction" if records else "ApiFunction"


@pytest.fixture(scope="module")
def event_dir(emulator_stack: DevStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample events, addressing an order that exists in this stack (made through its API),
    with the machine client's token where they carry the placeholder (as `make invoke` does):
    `sam local invoke` and the in-process call then get the same event."""
    token = emulator_stack.token()
    status, body = http(
        "POST",
        f"{emulator_stack.api_url}/api/orders",
        {"customer": "acme-corp", "product": "widget", "quantity": 3},
        emulator_stack.auth(),
    )
    assert status == 201, body
    order_id = json.loads(body)["id"]
    out = tmp_path_factory.mktemp("events")
    for name in EVENTS:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (EVENTS_DIR / name).read_text()
        target.write_text(text.replace(SAMPLE_ORDER_ID, order_id).replace(TOKEN_PLACEHOLDER, token))
    return out


def test_sam_expects_the_image_we_build() -> None:
    """The Lambda base is made under the name SAM looks up for the template's runtime."""
    code = (
        "from samcli.local.docker.lambda_image import LambdaImage, Runtime; "
        "print(LambdaImage._INVOKE_REPO_PREFIX + '/' + "
        f"Runtime.get_image_name_tag('python{images.PYTHON_VERSION}', '{images.ARCH}'))"
    )
    proc = run([tools_python(), "-c", code])
    assert proc.stdout.strip() == images.LAMBDA_IMAGE, proc.stderr
    template = cfn.load(cfn.ROOT_TEMPLATE)
    assert template["Parameters"]["PythonRuntime"]["Default"] == f"python{images.PYTHON_VERSION}"
    assert template["Parameters"]["Architecture"]["Default"] == images.ARCH


def test_wrapper_refuses_a_sam_version_it_was_not_checked_against() -> None:
    check_version("1.170.0")
    with pytest.raises(SystemExit, match=r"installed 1\.171\.0"):
        check_version("1.171.0")
    installed = run([tools_python(), "-c", "import samcli; print(samcli.__version__)"])
    check_version(installed.stdout.strip())


def test_wrapper_moves_the_container_to_the_host_network() -> None:
    options = host_network(
        {
            "ports": {"8080": ("127.0.0.1", 5123)},
            "entrypoint": ["/var/rapid/aws-lambda-rie", "--log-level", "error"],
            "labels": {"sam.cli.container.type": "lambda"},
        }
    )
    assert options["network_mode"] == "host"
    assert "ports" not in options
    entry = options["entrypoint"]
    assert entry[:3] == ["/var/rapid/aws-lambda-rie", "--log-level", "error"]
    assert entry[entry.index("--runtime-interface-emulator-address") + 1] == "127.0.0.1:5123"
    assert entry[entry.index("--runtime-api-address") + 1].startswith("127.0.0.1:")
    with pytest.raises(SystemExit, match="debug ports"):
        host_network({"ports": {"8080": ("127.0.0.1", 1), "5858": ("127.0.0.1", 2)}})


@pytest.mark.parametrize("name", EVENTS)
def test_sam_local_invoke_returns_what_the_handler_returns_in_process(
    name: str, sam_ready: tuple[Path, Path], emulator_stack: DevStack, event_dir: Path
) -> None:
    template, env_file = sam_ready
    path = event_dir / name
    event = json.loads(path.read_text())
    # When the event goes through `sam local invoke`, and then through the handler in-process
    via_sam = sam_invoke(template, env_file, function_of(event), path)
    local = in_process(emulator_stack, path)
    if function_of(event) == "OutboxFunction":
        # Then the batch result is the same: every record taken, none to redeliver
        assert via_sam == local == {"batchItemFailures": []}
        return
    # Then a client cannot tell the two apart (a write's new ids and clocks masked)
    method = request_from_event(event).method
    sam_side, local_side = response_from_lambda(via_sam), response_from_lambda(local)
    assert sam_side.status == local_side.status, sam_side.body[:500]
    assert sam_side.status in (200, 201)
    assert comparable_body(sam_side, method=method) == comparable_body(local_side, method=method)
    for header in KEY_HEADERS:
        assert sam_side.headers.get(header) == local_side.headers.get(header), header
    assert comparable_location(sam_side) == comparable_location(local_side)


def test_sam_local_start_api_serves_health_create_list_and_docs(
    sam_ready: tuple[Path, Path], emulator_stack: DevStack, tmp_path: Path
) -> None:
    template, env_file = sam_ready
    auth = emulator_stack.auth()
    port = free_port()
    before = container_ids(SAM_LABEL)
    log = (tmp_path / "start-api.log").open("w+")
    argv = [tools_python(), str(WRAPPER), "local", "start-api", "--template", str(template),
            "--env-vars", str(env_file), "--skip-pull-image", "--warm-containers", "EAGER",
            "--host", "127.0.0.1", "--port", str(port), "--container-host", "127.0.0.1"]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cfn.REPO, env=tool_env(), stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert proc.poll() is None, "start-api exited"
        try:
            return http("GET", f"{base}/api/health")[0] == 200
        except OSError:
            return False

    try:
        try:
            wait_for(up, 180, "sam local start-api")
        except AssertionError:
            log.seek(0)
            raise AssertionError(log.read()[-5000:]) from None
        timed("sam local start-api ready", time.monotonic() - started)
        status, body = http(
            "POST",
            f"{base}/api/orders",
            {"customer": "sam-start-api", "product": "gear", "quantity": 1},
            auth,
        )
        assert status == 201, body
        order_id = json.loads(body)["id"]
        status, body = http(
            "GET", f"{base}/api/orders?customer=sam-start-api&limit=10", headers=auth
        )
        assert status == 200, body
        assert order_id in [item["id"] for item in json.loads(body)["items"]]
        status, page = http("GET", f"{base}/api/docs")
        assert status == 200
        assert b"swagger-ui" in page.lower()
        assert b"/api/openapi.json" in page
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        # SAM removes its containers on SIGTERM; anything left of this run goes here.
        remove_containers(container_ids(SAM_LABEL) - before)
