"""Container throughput: the API container's command under load, vs baselines, same server.

Servers run `uvicorn <app> --factory --host 127.0.0.1 --port N` (the API container's
command, only host/port changed) pinned to core 0; the load generator (bench/loadgen.py)
and the moto server the app talks to share core 1. One server is loaded at a time;
configurations are interleaved round by round; the figure is the median requests/s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import OUT, PYTHON, ROOT, Result, emit, median, pinned, rounds
from devstack.netports import free_port

SERVER_CORE, LOAD_CORE = 0, 1
HIGH, LOW = 64, 1


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start(name: str, argv: list[str], env: dict[str, str], port: int, ready: str) -> Server:
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name}.log", "wb") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    server = Server(name, port, proc)
    try:
        _wait_http(f"http://127.0.0.1:{port}{ready}")
    except OSError:
        stop(server)
        raise RuntimeError(f"{name} did not start; see {logs / (name + '.log')}") from None
    return server


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def uvicorn(app: str, port: int, *extra: str) -> list[str]:
    """The container's command (containers/api: uvicorn ... --factory), on loopback."""
    argv = [PYTHON, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port)]
    return pinned(SERVER_CORE, [*argv, *extra])


def load(port: int, path: str, connections: int, seconds: float) -> float:
    argv = pinned(
        LOAD_CORE,
        [
            PYTHON,
            "-m",
            "bench.loadgen",
            "--port",
            str(port),
            "--path",
            path,
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
        ],
    )
    out = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT)
    data: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    if data["errors"] or not data["requests"]:
        raise RuntimeError(f"load on :{port}{path}: {data}")
    return float(data["rps"])


def data_plane(endpoint: str) -> tuple[dict[str, str], str]:
    """Table, bucket, bus and key in the moto server; returns the service env and a stored order."""
    import boto3

    from devstack.moto_plane import create_data_plane, service_env

    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    plane = create_data_plane(boto3.session.Session())
    env = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}},
        **service_env(plane["kms_key_id"]),
        "AWS_ENDPOINT_URL": endpoint,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    return env, plane["kms_key_id"]


def create_order(port: int) -> str:
    body = json.dumps({"customer": "bench", "product": "widget", "quantity": 1}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/orders",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["id"])


def measure(quick: bool) -> list[Result]:
    seconds = 0.5 if quick else 2.0
    n = rounds(quick, 10)
    moto_port = free_port()
    moto = start(
        "moto",
        pinned(LOAD_CORE, [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]),
        dict(os.environ),
        moto_port,
        "/moto-api/",
    )
    servers: list[Server] = [moto]
    try:
        env, _ = data_plane(f"http://127.0.0.1:{moto_port}")
        ours = start(
            "ours", uvicorn("orders.app:create_app", p := free_port()), env, p, "/api/health"
        )
        servers.append(ours)
        h11 = start(
            "ours-h11",
            uvicorn(
                "orders.app:create_app", p := free_port(), "--loop", "asyncio", "--http", "h11"
            ),
            env,
            p,
            "/api/health",
        )
        servers.append(h11)
        hello = start(
            "hello",
            uvicorn("bench.baselines.hello:create_app", p := free_port()),
            env,
            p,
            "/api/health",
        )
        servers.append(hello)
        order = f"/api/orders/{create_order(ours.port)}"
        configs: dict[str, tuple[int, str, int]] = {
            "ours health": (ours.port, "/api/health", HIGH),
            "hello health": (hello.port, "/api/health", HIGH),
            "h11 health": (h11.port, "/api/health", HIGH),
            "ours order x64": (ours.port, order, HIGH),
            "ours order x1": (ours.port, order, LOW),
        }
        for port, path, _ in configs.values():  # warm every path once
            load(port, path, 4, 0.3)
        rps: dict[str, list[float]] = {k: [] for k in configs}
        names = list(configs)
        for i in range(n):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                port, path, connections = configs[name]
                rps[name].append(load(port, path, connections, seconds))
    finally:
        for server in reversed(servers):
            stop(server)
    m = {k: median(v) for k, v in rps.items()}
    where = (
        f"uvicorn on core {SERVER_CORE}; load generator + moto on core {LOAD_CORE};"
        f" {seconds} s x {n} rounds"
    )
    return [
        Result(
            f"uvicorn GET /api/orders/{{id}}: {HIGH} connections / {LOW} connection",
            m["ours order x64"],
            m["ours order x1"],
            2.0,
            ">=",
            unit="req/s",
            note=f"{where}; moto on the same machine caps the 64-connection figure",
            samples=n,
        ),
        Result(
            "uvicorn GET /api/health: ours / bare FastAPI hello",
            m["ours health"],
            m["hello health"],
            0.8,
            ">=",
            unit="req/s",
            note=f"{HIGH} connections; {where}",
            samples=n,
        ),
        Result(
            "uvicorn GET /api/health: our server (uvloop+httptools) / plain uvicorn (asyncio+h11)",
            m["ours health"],
            m["h11 health"],
            1.6,
            ">=",
            unit="req/s",
            note=f"same app, {HIGH} connections; {where}",
            samples=n,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    emit(measure(args.quick))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
