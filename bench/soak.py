"""Soak: the local stack (`make dev`) under a 64-user create/get/list mix, and its memory.

`make soak` (or `python -m bench.soak --seconds 600`) starts `python -m devstack
--no-ui` on free ports, measures the mix's throughput with 1 user and with 64 users
(the same number of seconds each, one after the other), then keeps 64 users busy
for `--seconds` while sampling the runner's RSS (moto lives in the runner's process)
every `--sample` seconds. It prints one line per sample and a summary, writes
bench/out/soak.json, and exits 1 on any 5xx or transport error, or when 64 users
get less done than one (rps(64)/rps(1) < 1).

Each user loops: create an order (its own Idempotency-Key), read it twice, list the
newest 20, all as the machine client (a token from the stack's user pool, see
devstack.tokens; it may act for the one customer all orders are made for). The e2e
tier (tests/e2e/test_concurrency.py) runs the same mix for a few
seconds with an RSS bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench.processes import interrupt_group

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
READY_TIMEOUT_SECONDS = 120.0
REQUEST_TIMEOUT_SECONDS = 30.0
RATIO_WARMUP_SECONDS = 3.0


@dataclass
class Load:
    """What one run of the mix got: status counts, transport errors, completions in time.

    Throughput counts the responses that arrived within the window, after a warm-up:
    64 users all start with a create at once, and the requests still running at the
    end finish (their status is counted) with fewer and fewer users left; counting
    either would measure the ramp and the tail, not the load.
    """

    users: int
    seconds: float = 0.0
    in_window: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    orders: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def rps(self) -> float:
        return self.in_window / self.seconds if self.seconds else 0.0

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    def summary(self) -> dict[str, object]:
        return {
            "users": self.users,
            "seconds": round(self.seconds, 2),
            "requests": self.requests,
            "in_window": self.in_window,
            "rps": round(self.rps, 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "server_errors": self.server_errors,
            "transport_errors": dict(self.transport_errors),
            "orders_created": len(self.orders),
        }


async def _user(
    client: httpx.AsyncClient, counted_from: float, deadline: float, load: Load
) -> None:
    async def call(method: str, url: str, **kwargs: object) -> httpx.Response | None:
        try:
            response = await client.request(method, url, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            load.transport_errors[type(exc).__name__] += 1
            return None
        load.statuses[response.status_code] += 1
        if counted_from <= time.monotonic() <= deadline:
            load.in_window += 1
        return response

    while time.monotonic() < deadline:
        created = await call(
            "POST",
            "/api/orders",
            json={"customer": "soak", "product": "widget", "quantity": 1},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if created is not None and created.status_code == 201:
            order_id = created.json()["id"]
            load.orders.append(order_id)
            for _ in range(2):
                if time.monotonic() < deadline:
                    await call("GET", f"/api/orders/{order_id}")
        if time.monotonic() < deadline:
            await call("GET", "/api/orders", params={"limit": 20})


async def _mix(
    api_url: str, users: int, seconds: float, warmup: float, headers: dict[str, str]
) -> Load:
    load = Load(users)
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(
        base_url=api_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS, headers=headers
    ) as client:
        counted_from = time.monotonic() + warmup
        deadline = counted_from + seconds
        await asyncio.gather(*(_user(client, counted_from, deadline, load) for _ in range(users)))
        load.seconds = seconds
    return load


def run_mix(
    api_url: str,
    users: int,
    seconds: float,
    warmup: float = 0.0,
    headers: dict[str, str] | None = None,
) -> Load:
    """`users` closed-loop users for `warmup` + `seconds`; throughput over `seconds`.

    `headers` go with every request: the Authorization header with the stack's token.
    """
    return asyncio.run(_mix(api_url, users, seconds, warmup, headers or {}))


def machine_auth(state_dir: Path) -> dict[str, str]:
    """The Authorization header with the machine client's token from the stack in `state_dir`."""
    from devstack.identity import MACHINE
    from devstack.tokens import access_token

    return {"Authorization": f"Bearer {access_token(MACHINE, state_dir)}"}


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _mib(value: int) -> float:
    return round(value / 2**20, 1)


def start_stack(state_dir: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    """`python -m devstack --no-ui` on free ports; its process and state.json once ready."""
    from devstack.netports import free_port

    state_dir.mkdir(parents=True, exist_ok=True)
    # 64 users on one machine client's token: the per-caller limit off, or it is measured.
    argv = [sys.executable, "-m", "devstack", "--no-ui", "--state-dir", str(state_dir)]
    argv += ["--rate-limit-per-minute", "0"]
    for flag in ("--api-port", "--ui-port", "--moto-port"):
        argv += [flag, str(free_port())]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ORDERS_"))}
    process = subprocess.Popen(
        argv,
        cwd=ROOT,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: list[str] = []
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(line)
        if line.startswith("ready in"):
            return process, json.loads((state_dir / "state.json").read_text())
        if time.monotonic() > deadline:
            break
    stop_stack(process)
    raise RuntimeError("devstack never said ready:\n" + "".join(seen[-30:]))


def stop_stack(process: subprocess.Popen[str]) -> None:
    interrupt_group(process)


def soak(
    api_url: str,
    runner_pid: int,
    seconds: float,
    sample: float,
    ratio_seconds: float,
    auth: Callable[[], dict[str, str]] = dict,
) -> dict[str, object]:
    """The ratio phases, then the soak; `auth()` gives each run its Authorization header."""
    run_mix(api_url, 4, 2.0, headers=auth())  # warm up: imports, connection pools, first writes
    one = run_mix(api_url, 1, ratio_seconds, warmup=RATIO_WARMUP_SECONDS, headers=auth())
    many = run_mix(api_url, 64, ratio_seconds, warmup=RATIO_WARMUP_SECONDS, headers=auth())
    print(
        f"rps(1) {one.rps:.1f}  rps(64) {many.rps:.1f}  ratio {many.rps / one.rps:.2f}", flush=True
    )
    samples = [{"t": 0.0, "rss_mib": _mib(rss_bytes(runner_pid)), "orders": 0, "rps": 0.0}]
    runs = [one, many]
    started, orders = time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < seconds:
        chunk = run_mix(api_url, 64, min(sample, seconds - elapsed), headers=auth())
        runs.append(chunk)
        orders += len(chunk.orders)
        point = {
            "t": round(time.monotonic() - started, 1),
            "rss_mib": _mib(rss_bytes(runner_pid)),
            "orders": orders,
            "rps": round(chunk.rps, 1),
            "server_errors": chunk.server_errors,
        }
        samples.append(point)
        print(json.dumps(point), flush=True)
    rss = [float(s["rss_mib"]) for s in samples]
    return {
        "rps_1": round(one.rps, 1),
        "rps_64": round(many.rps, 1),
        "ratio": round(many.rps / one.rps, 2) if one.rps else 0.0,
        "server_errors": sum(r.server_errors for r in runs),
        "transport_errors": sum(sum(r.transport_errors.values()) for r in runs),
        "soak_seconds": seconds,
        "orders_in_soak": orders,
        "rss_start_mib": rss[0],
        "rss_max_mib": max(rss),
        "rss_end_mib": rss[-1],
        "samples": samples,
        "phases": [r.summary() for r in runs[:2]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=600.0, help="soak length (default 600)")
    parser.add_argument("--sample", type=float, default=30.0, help="RSS sample interval")
    parser.add_argument("--ratio-seconds", type=float, default=15.0, help="each rps phase")
    args = parser.parse_args(argv)
    process, state = start_stack(OUT / "soak")
    try:
        api_url = str(state["api_url"])
        # A new token for each run of the mix: a soak may outlast one (an hour).
        result = soak(
            api_url,
            process.pid,
            args.seconds,
            args.sample,
            args.ratio_seconds,
            lambda: machine_auth(OUT / "soak"),
        )
    finally:
        stop_stack(process)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("samples", "phases")}))
    failed = result["server_errors"] or result["transport_errors"] or float(result["ratio"]) < 1  # type: ignore[arg-type]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
