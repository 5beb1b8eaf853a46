"""How the runner behaves as a process: clashes, signals, children that die and come back."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest

from devstack.emulator import cloudformation
from devstack.front_door import SERVED_BY
from devstack.netports import free_port
from tests.e2e.stack import DevStack, alive, clean_env, run_module, start

pytestmark = pytest.mark.e2e


def test_a_port_in_use_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    # Given something already listening where the API should
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # When the stack starts
        result = run_module(
            "devstack",
            "--api-port",
            str(port),
            "--ui-port",
            str(free_port()),
            "--moto-port",
            str(free_port()),
            "--state-dir",
            str(tmp_path),
            timeout=30,
        )

    # Then it says which port and how to move it, and starts nothing
    assert result.returncode == 2, result
    assert f"port {port} is in use (set API_PORT=" in result.stderr
    assert not (tmp_path / "state.json").exists()
    assert not list(tmp_path.glob("*.log"))


def test_a_template_moto_refuses_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    template = tmp_path / "broken.yaml"
    template.write_text(
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      RedrivePolicy: !GetAtt Missing.Arn\n"
    )

    result = run_module(
        "devstack",
        "--no-ui",
        "--template",
        str(template),
        "--api-port",
        str(free_port()),
        "--moto-port",
        str(free_port()),
        "--state-dir",
        str(tmp_path / "state"),
    )

    assert result.returncode == 1
    assert "moto refused broken.yaml" in result.stderr
    assert "Missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_stops_every_child(tmp_path: Path) -> None:
    stack = start(tmp_path)
    pids = stack.children
    assert {"api", "lambda", "front", "outbox"} <= pids.keys()
    assert all(alive(pid) for pid in pids.values())
    # The Lambda entry's execution environments (the ready check started one)
    environments = group_members(pids["lambda"]) - {pids["lambda"]}
    assert environments

    assert stack.stop(signal.SIGTERM) == 0

    assert not [name for name, pid in pids.items() if alive(pid)]
    assert not [pid for pid in environments if alive(pid)]
    assert not (tmp_path / "state.json").exists()
    for url in (stack.api_url, stack.lambda_url, stack.fargate_url):
        assert url is not None
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", int(url.rsplit(":", 1)[1]))) != 0


def group_members(pgid: int) -> set[int]:
    """The processes in a process group (each child of the runner leads its own)."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            members.add(int(stat.parent.name))
    return members


def test_a_restarted_front_door_keeps_the_target(tmp_path: Path) -> None:
    stack = start(tmp_path, "--no-ui", "--target", "both", "--weight", "100")
    try:
        # Given a switch to fargate
        switched = run_module(
            "devstack.switch", "fargate", "--state-dir", str(tmp_path), timeout=30
        )
        assert switched.returncode == 0, switched.stderr
        assert "target: both (100% to fargate, 0% to lambda) -> fargate" in switched.stdout

        # When the front door dies
        os.kill(stack.children["front"], signal.SIGKILL)
        wait_for_line(stack, "front exited with -9")

        # Then it comes back on the same URL, still sending everything to fargate
        deadline = time.monotonic() + 30
        served: list[str] = []
        while time.monotonic() < deadline and len(served) < 5:
            try:
                served.append(httpx.get(f"{stack.api_url}/api/health").headers[SERVED_BY])
            except httpx.TransportError:
                time.sleep(0.2)
        assert served == ["fargate"] * 5
    finally:
        assert stack.stop() == 0, "".join(stack.output)


@pytest.fixture
def profile_env(dev_stack: DevStack, tmp_path: Path) -> dict[str, str]:
    """An AWS profile whose "cloud" is the shared stack's emulator (see `deployed_stack`)."""
    (tmp_path / "config").write_text(
        f"[profile e2e]\nregion = us-east-1\nendpoint_url = {dev_stack.endpoint_url}\n"
    )
    (tmp_path / "credentials").write_text(
        "[e2e]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    return {
        **clean_env(),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }


# A root stack as deployed: the data stack's outputs and the IdentityStack's, re-exported.
DEPLOYED_STACK = "orders-deployed"


@pytest.fixture(scope="module")
def deployed_stack(dev_stack: DevStack) -> str:
    """A stack in the shared emulator whose outputs are a deployed root stack's: the shared
    stack's data plane and its user pool (moto's CloudFormation has no Cognito)."""
    assert dev_stack.identity is not None
    ids = dev_stack.identity
    outputs = {
        **{k: dev_stack.outputs[k] for k in ("TableName", "BucketName", "EventBusName")},
        "KmsKeyArn": dev_stack.outputs["KmsKeyArn"],
        "AuthIssuer": ids["issuer"],
        # A deployed pool's keys are at its issuer; this one's are on the emulator's port.
        "JwksUrl": ids["jwks_url"],
        "UiClientId": ids["ui_client_id"],
        "MachineClientId": ids["machine_client_id"],
        "UiClientSecretArn": ids["ui_client_secret_arn"],
    }
    template = {
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    cloudformation(str(dev_stack.endpoint_url)).create_stack(
        StackName=DEPLOYED_STACK, TemplateBody=json.dumps(template)
    )
    return DEPLOYED_STACK


def against_profile(state_dir: Path, env: dict[str, str], *args: str) -> DevStack:
    """The runner as `make dev AWS_PROFILE=e2e STACK=orders-deployed` starts it."""
    return start(state_dir, "--aws-profile", "e2e", "--stack", DEPLOYED_STACK, *args, env=env)


def test_with_a_profile_the_api_runs_against_a_deployed_stack(
    dev_stack: DevStack, deployed_stack: str, profile_env: dict[str, str], tmp_path: Path
) -> None:
    local = against_profile(tmp_path / "state", profile_env, "--no-ui")
    try:
        # The deployed pool's token (here the shared stack's pool stands in for it)
        created = httpx.post(
            f"{local.api_url}/api/orders",
            json={"customer": "profile", "product": "widget", "quantity": 1},
            headers=dev_stack.auth(),
        )
        # Then it needs no emulator of its own, and writes to the deployed stack's table
        assert created.status_code == 201, created.text
        fetched = httpx.get(
            f"{dev_stack.api_url}/api/orders/{created.json()['id']}", headers=dev_stack.auth()
        )
        assert fetched.status_code == 200
        assert "outbox" not in local.children
        assert local.endpoint_url is None
        # and the API checks tokens against the deployed stack's user pool
        assert local.identity == dev_stack.identity
        env = json.loads((local.state_dir / "state.json").read_text())["env"]
        assert dev_stack.identity is not None
        assert env["ORDERS_AUTH_ISSUER"] == dev_stack.identity["issuer"]
        assert env["ORDERS_AUTH_JWKS_URL"] == dev_stack.identity["jwks_url"]
    finally:
        assert local.stop() == 0


def wait_for_line(stack: DevStack, text: str, timeout: float = 30) -> str:
    """The first line of the runner's output containing `text`, waiting up to `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(stack.output):
            if text in line:
                return line
        time.sleep(0.1)
    raise AssertionError(f"no line with {text!r} in:\n" + "".join(stack.output))


def current_children(stack: DevStack) -> dict[str, int]:
    return dict(json.loads((stack.state_dir / "state.json").read_text())["children"])


def test_a_killed_lambda_entry_leaves_no_environment_behind(tmp_path: Path) -> None:
    stack = start(tmp_path, "--no-ui")
    try:
        entry = stack.children["lambda"]
        environments = group_members(entry) - {entry}
        assert environments

        # When the Lambda entry is killed (its workers are not: SIGKILL is not passed on)
        os.kill(entry, signal.SIGKILL)

        # Then the runner ends its orphaned environments and starts a new entry, which
        # serves through the front door again
        wait_for_line(stack, "lambda exited with -9")
        deadline = time.monotonic() + 30
        while not any(
            line.split()[:1] == ["lambda"] and "restarted" in line for line in list(stack.output)
        ):
            assert time.monotonic() < deadline, "".join(stack.output)
            time.sleep(0.1)
        assert not [pid for pid in environments if alive(pid)]
        answered = None
        while time.monotonic() < deadline:
            answered = httpx.get(f"{stack.api_url}/api/health", timeout=10)
            if answered.status_code == 200:
                break
            time.sleep(0.3)
        assert answered is not None
        assert answered.status_code == 200
        assert answered.headers[SERVED_BY] == "lambda"
    finally:
        assert stack.stop() == 0, "".join(stack.output)


def test_a_killed_api_and_outbox_come_back_and_the_data_stays(tmp_path: Path) -> None:
    stack = start(tmp_path, "--no-ui")
    try:
        # uvicorn's own URL (the `api` child), not the front door's, which would answer
        # through the Lambda entry while uvicorn is down
        api = httpx.Client(base_url=f"{stack.fargate_url}/api", timeout=10, headers=stack.auth())
        before = api.post("/orders", json={"customer": "c", "product": "p", "quantity": 1})
        assert before.status_code == 201, before.text
        order = before.json()
        old = dict(stack.children)

        # When the API and the outbox loop are killed
        os.kill(old["api"], signal.SIGKILL)
        os.kill(old["outbox"], signal.SIGKILL)

        # Then the runner says so and starts them again, after a backoff
        assert "restarting in 1 s (attempt 2/5)" in wait_for_line(stack, "api exited with -9")
        assert "restarting in 1 s (attempt 2/5)" in wait_for_line(stack, "outbox exited with -9")
        deadline = time.monotonic() + 30
        fetched = None
        while time.monotonic() < deadline:
            try:
                fetched = api.get(f"/orders/{order['id']}")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        # and the order written before is still there (the emulator is the runner's)
        assert fetched is not None
        assert fetched.status_code == 200
        assert fetched.json() == order
        new = current_children(stack)
        assert new["api"] != old["api"]
        assert alive(new["api"])
        assert alive(new["outbox"])
        # and the restarted outbox loop publishes new events, from its checkpoint: the
        # first order's event is not published a second time
        after = api.post("/orders", json={"customer": "c", "product": "p", "quantity": 1})
        assert after.status_code == 201
        events: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            events = api.get(f"/orders/{after.json()['id']}/events").json()["items"]
            if events and all(e["published_at"] for e in events):
                break
            time.sleep(0.3)
        assert events
        assert all(e["published_at"] for e in events)
        first = api.get(f"/orders/{order['id']}/events").json()["items"]
        assert len(first) == 1
        outbox_log = (tmp_path / "outbox.log").read_text()
        assert outbox_log.count(f'"event_id":"{first[0]["id"]}"') == 1
        assert stack.process.poll() is None
    finally:
        running = current_children(stack)
        assert stack.stop() == 0, "".join(stack.output)
    assert not [name for name, pid in running.items() if alive(pid)]


def test_a_child_that_keeps_failing_stops_the_stack_after_the_limit(
    deployed_stack: str, profile_env: dict[str, str], tmp_path: Path
) -> None:
    # Against a "deployed" stack: the same supervision, without an emulator to start.
    stack = against_profile(tmp_path / "state", profile_env, "--no-ui", "--max-failures", "2")
    # uvicorn's own port (the front door holds api_url's)
    assert stack.fargate_url is not None
    api_port = int(stack.fargate_url.rsplit(":", 1)[1])
    others = {name: pid for name, pid in stack.children.items() if name != "api"}

    # When the API dies and its port is taken before it can come back
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        os.kill(stack.children["api"], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while True:
            try:
                taken.bind(("127.0.0.1", api_port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        taken.listen()

        # Then it is restarted once, fails again, and the stack stops with its log's tail
        assert stack.process.wait(60) == 1

    time.sleep(0.2)  # the output pump catches up
    output = "".join(stack.output)
    assert "api exited with -9 (SIGKILL); restarting in 1 s (attempt 2/2)" in output
    assert re.search(r"api exited with \d+, 2 times within 60 s; not restarting it", output)
    assert "address already in use" in output.lower()
    assert not [name for name, pid in others.items() if alive(pid)]
