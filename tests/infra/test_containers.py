"""Dockerfiles: hadolint-clean, pinned, non-root, HEALTHCHECK; and the API image's CMD,
run as written against moto on loopback, answers /api/health."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from devstack.ports import free_port
from tests.infra import cfn
from tests.infra.tooling import run, tool

if TYPE_CHECKING:
    from collections.abc import Iterator

CONTAINERS = cfn.REPO / "containers"
DOCKERFILES = sorted(CONTAINERS.glob("*/Dockerfile"))
API_CMD = ["uvicorn", "orders.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in logical]


def exec_form(path: Path, instruction: str) -> list[str]:
    (*_, last) = [args for name, args in instructions(path) if name == instruction]
    return json.loads(last)


def test_both_images_exist() -> None:
    assert [p.parent.name for p in DOCKERFILES] == ["api", "ui"]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_clean(path: Path) -> None:
    proc = run([tool("hadolint"), str(path)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_slim_pinned_non_root_with_healthcheck(path: Path) -> None:
    steps = instructions(path)
    images = [args.split()[0] for name, args in steps if name == "FROM"]
    assert images, f"no FROM read in {path}"
    for image in images:
        assert "-slim" in image, image
        # An exact patch release (or a digest), never a floating tag.
        assert "@sha256:" in image or image.split(":")[1][0].isdigit(), image
        assert image.split(":")[1].count(".") >= 2 or "@sha256:" in image, image
    user = [args for name, args in steps if name == "USER"][-1]
    assert user.split(":")[0] not in {"root", "0"}
    assert any(name == "HEALTHCHECK" for name, _ in steps)


def test_api_cmd_is_exactly_the_uvicorn_command() -> None:
    assert exec_form(CONTAINERS / "api" / "Dockerfile", "CMD") == API_CMD


def test_ui_cmd_runs_streamlit_on_8501() -> None:
    cmd = exec_form(CONTAINERS / "ui" / "Dockerfile", "CMD")
    assert cmd[:3] == ["streamlit", "run", "ui/app.py"]
    assert "--server.port=8501" in cmd
    assert "--server.address=0.0.0.0" in cmd
    assert "--server.headless=true" in cmd


@pytest.fixture
def moto_data_plane(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto server on loopback with cform/data.yaml deployed into its CloudFormation."""
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=endpoint)
        client.create_stack(
            StackName="orders-cmd-test", TemplateBody=(cfn.CFORM / "data.yaml").read_text()
        )
        (stack,) = client.describe_stacks(StackName="orders-cmd-test")["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        yield {"endpoint": endpoint, **outputs}
    finally:
        server.stop()


@pytest.mark.filterwarnings("ignore::UserWarning:moto.cloudformation.parsing")
def test_api_cmd_serves_health_against_moto(
    moto_data_plane: dict[str, str], tmp_path: Path
) -> None:
    """Run the Dockerfile's CMD itself. Only the --port value is swapped for a free port
    (8000 may be taken here); every other argument is asserted unchanged."""
    argv = exec_form(CONTAINERS / "api" / "Dockerfile", "CMD")
    port = free_port()
    at = argv.index("--port") + 1
    argv[at] = str(port)
    assert argv[:at] + argv[at + 1 :] == API_CMD[:at] + API_CMD[at + 1 :]
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "AWS_ENDPOINT_URL": moto_data_plane["endpoint"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "ORDERS_TABLE_NAME": moto_data_plane["TableName"],
        "ORDERS_BUCKET_NAME": moto_data_plane["BucketName"],
        "ORDERS_EVENT_BUS_NAME": moto_data_plane["EventBusName"],
        "ORDERS_KMS_KEY_ID": moto_data_plane["KmsKeyArn"],
        "ORDERS_TRACING_ENABLED": "false",
        "ORDERS_REQUEST_TIMEOUT_SECONDS": "30",
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_METRICS_NAMESPACE": "OrdersService",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    log = (tmp_path / "uvicorn.log").open("w+")
    # cwd is an empty directory, as in the image: the package must come from the install.
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    status = r.status
                    break
            except OSError:
                time.sleep(0.2)
        log.seek(0)
        assert status == 200, f"{shlex.join(argv)} did not answer /api/health:\n{log.read()}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
