"""Start and stop `python -m devstack` the way `make dev` does, for the e2e tier."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from devstack import state
from devstack.identity import MACHINE, access_token
from devstack.netports import free_port

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60
# Tokens live an hour (devstack.tokens.TOKEN_SECONDS); a new one well before that.
TOKEN_REUSE_SECONDS = 1800


@dataclass
class DevStack:
    """A running stack: where to reach it, and the process behind it."""

    api_url: str  # the front door
    ui_url: str | None
    endpoint_url: str | None  # None when running against a deployed stack
    outputs: dict[str, str]
    children: dict[str, int]
    state_dir: Path
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    startup_seconds: float = 0.0
    # The entries behind the front door: the Lambda handler's and uvicorn's.
    lambda_url: str | None = None
    fargate_url: str | None = None
    # devstack.identity.LocalIdentity's fields (None against a deployed stack without one).
    identity: dict[str, str] | None = None
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict, repr=False)

    def token(self, user: str = MACHINE) -> str:
        """An access token from this stack's user pool, as `make token USER=...` prints it.

        The machine token (the default) may act for any customer; a test about a user asks
        for `acme` or `operator`. Kept for a while: a run of the tier is shorter than an hour.
        """
        cached = self._tokens.get(user)
        if cached is None or time.monotonic() - cached[1] > TOKEN_REUSE_SECONDS:
            cached = (access_token(user, self.state_dir), time.monotonic())
            self._tokens[user] = cached
        return cached[0]

    def auth(self, user: str = MACHINE) -> dict[str, str]:
        """The Authorization header for `user`'s token."""
        return {"Authorization": f"Bearer {self.token(user)}"}

    def sqs(self) -> SQSClient:
        """An SQS client on this stack's emulator (the rule's target queue is there)."""
        return boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client("sqs", endpoint_url=self.endpoint_url)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20) -> int:
        """Signal the runner and wait for it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


# What DevStack takes from devstack's state.json (the same names there).
_FROM_STATE = {f.name for f in fields(DevStack)} & {f.name for f in fields(state.DevState)}


def bus_events(
    stack: DevStack,
    order_ids: set[str],
    done: Callable[[list[dict[str, Any]]], bool],
    *,
    timeout: float,
    linger: float = 0.0,
) -> list[dict[str, Any]]:
    """The EventBridge events about these orders that reached the rule's queue, in arrival
    order, each message deleted once read: until `done(events)` holds, then `linger`
    seconds more (to catch a late or second copy), or until `timeout` passed."""
    sqs, queue = stack.sqs(), stack.outputs["EventsQueueUrl"]
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            event = json.loads(message["Body"])
            if event["detail"]["order"]["id"] in order_ids:
                events.append(event)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
        if done(events) and deadline > time.monotonic() + linger:
            deadline = time.monotonic() + linger
    return events


def distinct_event_ids(expected: int) -> Callable[[list[dict[str, Any]]], bool]:
    """A `done` for bus_events: `expected` different event ids have arrived."""
    return lambda events: len({e["detail"]["event_id"] for e in events}) >= expected


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would steer the runner."""
    drop = ("API_PORT", "UI_PORT", "MOTO_PORT", "MOTO_HOST", "DEV_", "STACK", "AWS_", "ORDERS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def run_module(module: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m module args` from the repo root, as a make target runs it; output captured."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def start(state_dir: Path, *args: str, env: dict[str, str] | None = None) -> DevStack:
    """`python -m devstack` on free ports; returns once it printed its ready line."""
    api_port, ui_port, moto_port = free_port(), free_port(), free_port()
    argv = [
        sys.executable,
        "-m",
        "devstack",
        "--api-port",
        str(api_port),
        "--ui-port",
        str(ui_port),
        "--moto-port",
        str(moto_port),
        "--state-dir",
        str(state_dir),
        *args,
    ]
    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=clean_env() if env is None else env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines = _stdout_lines(process)
    output: list[str] = []
    _wait_for_ready(process, lines, output, deadline=started + START_TIMEOUT_SECONDS)
    # Read as make invoke/seed/token read it (devstack.state): one definition of the file.
    ready = state.read(state_dir)
    assert ready is not None, "ready, but no state.json:\n" + "".join(output)
    # Keep draining stdout so the runner never blocks on a full pipe.
    threading.Thread(target=lambda: _drain(lines, output), daemon=True).start()
    shared = {name: value for name, value in asdict(ready).items() if name in _FROM_STATE}
    return DevStack(
        **shared,
        state_dir=state_dir,
        process=process,
        output=output,
        startup_seconds=time.monotonic() - started,
    )


def _stdout_lines(process: subprocess.Popen[str]) -> queue.Queue[str | None]:
    """The runner's output line by line, then None; read on a thread so a wait can time out."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def _wait_for_ready(
    process: subprocess.Popen[str],
    lines: queue.Queue[str | None],
    output: list[str],
    *,
    deadline: float,
) -> None:
    """Collect output up to the ready line; fail with all of it if the runner exits or is late."""
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise AssertionError("no ready line in time:\n" + "".join(output)) from None
        if line is None:
            raise AssertionError(f"devstack exited {process.wait()}:\n" + "".join(output))
        output.append(line)
        if line.startswith("ready in"):
            return


def _drain(lines: queue.Queue[str | None], output: list[str]) -> None:
    while (line := lines.get()) is not None:
        output.append(line)


def environ(pid: int) -> dict[str, str]:
    """A running process's environment (Linux /proc)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped) is gone for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
