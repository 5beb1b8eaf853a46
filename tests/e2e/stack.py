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
from dataclasses import dataclass, field
from pathlib import Path

from devstack.identity import MACHINE, access_token
from devstack.netports import free_port

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

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20) -> int:
        """Signal the runner and wait for it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would steer the runner."""
    drop = ("API_PORT", "UI_PORT", "MOTO_PORT", "MOTO_HOST", "DEV_", "STACK", "AWS_", "ORDERS_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


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
    lines: queue.Queue[str | None] = queue.Queue()
    output: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = started + START_TIMEOUT_SECONDS
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
            break
    state = json.loads((state_dir / "state.json").read_text())
    # Keep draining stdout so the runner never blocks on a full pipe.
    threading.Thread(target=lambda: _drain(lines, output), daemon=True).start()
    return DevStack(
        api_url=state["api_url"],
        ui_url=state["ui_url"],
        endpoint_url=state["endpoint_url"],
        outputs=state["outputs"],
        children=state["children"],
        state_dir=state_dir,
        process=process,
        output=output,
        startup_seconds=time.monotonic() - started,
        lambda_url=state["lambda_url"],
        fargate_url=state["fargate_url"],
        identity=state.get("identity"),
    )


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
