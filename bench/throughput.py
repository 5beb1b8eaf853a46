"""Container throughput: the API container's server under load, vs baselines, same server.

Servers run the API container's command with only host and port changed (granian: its ASGI
interface, one worker, one runtime thread), next to uvicorn (uvloop + httptools, the
alternative) and plain uvicorn (asyncio + h11), each pinned to core 0. The load comes from
wrk (Debian's `wrk`) pinned to core 1 with the moto server the app talks to: a load
generator in C, so the figure is the server's and not the generator's (the asyncio one in
bench/loadgen.py tops out near 1k requests/s on one core). Without wrk the step falls back
to bench/loadgen.py and says so in every row's note. One server is loaded at a time;
configurations are interleaved round by round; the figure is the median requests/s.

Each Python the servers run on is measured in the same run: the venv's, and CPython 3.13
(the containers' Python, from the Debian root containers/python.sh makes) when it is there.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

from bench.common import OUT, PYTHON, ROOT, Result, median, pinned, rounds
from bench.processes import step_main, stop, wait_http
from devstack.netports import free_port

SERVER_CORE, LOAD_CORE = 0, 1
# A load configuration: (port, path, connections).
Config = tuple[int, str, int]
HIGH, LOW = 64, 1
OURS, HELLO = "orders.app:create_app", "bench.baselines.hello:create_app"
# The servers' Python besides the venv's: the containers run 3.13 (containers/api/Dockerfile).
CONTAINER_PYTHON = "3.13"


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]


@dataclass
class Interpreter:
    """How to start the servers' Python: its argv and what it needs on PYTHONPATH."""

    version: str
    argv: list[str]
    path: list[str]


def start(name: str, argv: list[str], env: dict[str, str], port: int, ready: str) -> Server:
    """Start a server; its stderr (the server's own messages) goes to bench/out/logs.

    stdout, where the app writes its JSON lines, goes to /dev/null: thousands of lines a
    second would otherwise fill the disk, and writing them is the same syscall either way.
    """
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / f"{name}.log", "wb") as log:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=log, cwd=ROOT)
    server = Server(name, port, proc)
    try:
        wait_http(f"http://127.0.0.1:{port}{ready}")
    except OSError:
        stop(server.proc)
        raise RuntimeError(f"{name} did not start; see {logs / (name + '.log')}") from None
    return server


def uvicorn(python: Interpreter, app: str, port: int, *extra: str) -> list[str]:
    """The container's command (containers/api: uvicorn ... --factory), on loopback."""
    argv = [*python.argv, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1"]
    return pinned(SERVER_CORE, [*argv, "--port", str(port), *extra])


def granian(python: Interpreter, app: str, port: int) -> list[str]:
    """granian's ASGI server, one worker with one runtime thread: one core, as uvicorn."""
    argv = [*python.argv, "-m", "granian", "--interface", "asgi", "--factory"]
    argv += ["--workers", "1", "--runtime-threads", "1", "--no-access-log"]
    return pinned(SERVER_CORE, [*argv, "--host", "127.0.0.1", "--port", str(port), app])


# ---- load ------------------------------------------------------------------------------


def load_tool() -> tuple[str, str]:
    """("wrk", "") when Debian's wrk is installed, else ("loadgen", the reason)."""
    if shutil.which("wrk"):
        return "wrk", ""
    reason = "no wrk (apt-get install wrk): bench/loadgen.py, whose own ceiling is ~1k rps"
    print(f"bench throughput: {reason}", file=sys.stderr, flush=True)
    return "loadgen", reason


_WRK_RPS = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def parse_wrk(output: str) -> float:
    """Requests/s from wrk's report; an error when any answer was not 2xx or a socket failed."""
    found = _WRK_RPS.search(output)
    if found is None:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    errors = sum(int(n) for n in _WRK_NON_2XX.findall(output))
    if socket := _WRK_SOCKET.search(output):
        errors += sum(int(n) for n in socket.groups())
    if errors:
        raise RuntimeError(f"wrk saw {errors} failed requests:\n{output}")
    return float(found.group(1))


def load(tool: str, port: int, path: str, connections: int, seconds: float) -> float:
    """Requests/s over `seconds` with `connections` keep-alive connections, from core 1."""
    url = f"http://127.0.0.1:{port}{path}"
    if tool == "wrk":
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        argv += ["--timeout", "10s", url]  # a slow answer on a busy machine is not a failure
        out = subprocess.run(
            pinned(LOAD_CORE, argv), capture_output=True, text=True, check=True, timeout=60
        )
        return parse_wrk(out.stdout)
    argv = [PYTHON, "-m", "bench.loadgen", "--port", str(port), "--path", path]
    argv += ["--connections", str(connections), "--seconds", str(seconds)]
    out = subprocess.run(
        pinned(LOAD_CORE, argv), capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    data: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    if data["errors"] or not data["requests"]:
        raise RuntimeError(f"load on {url}: {data}")
    return float(data["rps"])


# ---- the servers' Pythons ----------------------------------------------------------------


def venv_python() -> Interpreter:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return Interpreter(version, [PYTHON], [])


def container_python() -> Interpreter | None:
    """CPython 3.13 with the service's and the servers' wheels, or None (reason printed).

    The Debian root's interpreter cannot load the venv (another Python), so the wheels for
    3.13 are fetched by this venv's pip into bench/out (made once per pyproject.toml).
    """
    helper = ROOT / "containers" / "python.sh"
    found = subprocess.run(
        [str(helper), "--argv", CONTAINER_PYTHON], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        print(f"bench throughput: no {CONTAINER_PYTHON} rows: {found.stderr.strip()}", flush=True)
        return None
    site = OUT / f"site-py{CONTAINER_PYTHON}"
    stamp = site / ".requirements"
    wanted = "\n".join(_server_requirements())
    if not stamp.is_file() or stamp.read_text() != wanted:
        shutil.rmtree(site, ignore_errors=True)
        site.mkdir(parents=True)
        pip = [PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        pip += ["--target", str(site), "--implementation", "cp", "--only-binary=:all:"]
        pip += ["--python-version", CONTAINER_PYTHON, "--platform", "manylinux2014_x86_64"]
        pip += ["--platform", "manylinux_2_28_x86_64", *wanted.splitlines()]
        subprocess.run(
            pip,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        stamp.write_text(wanted)
    return Interpreter(CONTAINER_PYTHON, found.stdout.split(), [str(site)])


def _server_requirements() -> list[str]:
    """The service's dependencies, its server extra (uvicorn) and granian (compared here)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [*project["dependencies"], *extras["server"], *_granian(extras)]


def _granian(extras: dict[str, list[str]]) -> list[str]:
    named = [r for reqs in extras.values() for r in reqs if r.startswith("granian")]
    return named[:1] or ["granian>=2.5,<3"]


# ---- one run -----------------------------------------------------------------------------


def data_plane(endpoint: str) -> dict[str, str]:
    """Table, bucket, bus and key in the moto server; returns the service's environment."""
    import boto3

    from devstack.moto_plane import create_data_plane, service_env

    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    plane = create_data_plane(boto3.session.Session())
    return {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}},
        **service_env(plane["kms_key_id"]),
        "AWS_ENDPOINT_URL": endpoint,
        # One caller sends every request here: the per-caller 429s would be what is measured.
        "ORDERS_RATE_LIMIT_PER_MINUTE": "0",
    }


def create_order(port: int) -> str:
    import urllib.request

    body = json.dumps({"customer": "bench", "product": "widget", "quantity": 1}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/orders",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.loads(response.read())["id"])


def start_servers(python: Interpreter, env: dict[str, str], tag: str) -> dict[str, Server]:
    """The five servers of one Python: ours and the bare hello on granian (the container's
    server) and on uvicorn (uvloop + httptools), and ours on plain uvicorn (h11)."""
    env = {**env, "PYTHONPATH": os.pathsep.join([*python.path, str(ROOT / "src"), str(ROOT)])}
    # The app switches uvicorn's own access line off (it writes its JSON one); so does the
    # bare hello here, or it would pay for a line ours does not write.
    quiet = "--no-access-log"
    plans: dict[str, Callable[[int], list[str]]] = {
        "ours": lambda p: granian(python, OURS, p),
        "hello": lambda p: granian(python, HELLO, p),
        "ours-uvicorn": lambda p: uvicorn(python, OURS, p),
        "hello-uvicorn": lambda p: uvicorn(python, HELLO, p, quiet),
        "ours-h11": lambda p: uvicorn(python, OURS, p, "--loop", "asyncio", "--http", "h11"),
    }
    servers: dict[str, Server] = {}
    try:
        for name, argv in plans.items():
            port = free_port()
            servers[name] = start(f"{name}-py{tag}", argv(port), env, port, "/api/health")
    except BaseException:
        stop_all(servers.values())
        raise
    return servers


def stop_all(servers: Any) -> None:
    for server in reversed(list(servers)):
        stop(server.proc)


def configurations(servers: dict[str, Server], order: str | None) -> dict[str, Config]:
    """What is loaded: (port, path, connections) by configuration name."""
    health = "/api/health"
    configs: dict[str, Config] = {
        "ours health": (servers["ours"].port, health, HIGH),
        "hello health": (servers["hello"].port, health, HIGH),
        "h11 health": (servers["ours-h11"].port, health, HIGH),
        "uvicorn health": (servers["ours-uvicorn"].port, health, HIGH),
        "uvicorn hello health": (servers["hello-uvicorn"].port, health, HIGH),
    }
    if order:
        configs["ours order x64"] = (servers["ours"].port, order, HIGH)
        configs["ours order x1"] = (servers["ours"].port, order, LOW)
    return configs


def interleave(tool: str, configs: dict[str, Config], n: int, seconds: float) -> dict[str, float]:
    """Every configuration once per round, starting one further each round; median rps."""
    for port, path, _ in configs.values():  # warm every path once
        load(tool, port, path, 4, 1.0)
    rps: dict[str, list[float]] = {k: [] for k in configs}
    names = list(configs)
    for i in range(n):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            port, path, connections = configs[name]
            rps[name].append(load(tool, port, path, connections, seconds))
    return {k: median(v) for k, v in rps.items()}


def measure_python(
    python: Interpreter, env: dict[str, str], tool: str, quick: bool, with_order: bool
) -> dict[str, float]:
    servers = start_servers(python, env, python.version)
    try:
        order = f"/api/orders/{create_order(servers['ours'].port)}" if with_order else None
        seconds = 1.0 if quick else 2.0
        return interleave(tool, configurations(servers, order), rounds(quick, 8), seconds)
    finally:
        stop_all(servers.values())


def measure(quick: bool) -> list[Result]:
    tool, why_not_wrk = load_tool()
    pythons = [venv_python()]
    if not quick and (container := container_python()) is not None:
        pythons.append(container)
    moto_port = free_port()
    moto = start(
        "moto",
        pinned(LOAD_CORE, [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]),
        dict(os.environ),
        moto_port,
        "/moto-api/",
    )
    try:
        env = data_plane(f"http://127.0.0.1:{moto_port}")
        figures = [
            (python, measure_python(python, env, tool, quick, with_order=i == 0))
            for i, python in enumerate(pythons)
        ]
    finally:
        stop(moto.proc)
    where = (
        f"{tool}{f' ({why_not_wrk})' if why_not_wrk else ''} + moto on core {LOAD_CORE},"
        f" server on core {SERVER_CORE}; {1.0 if quick else 2.0} s x {rounds(quick, 8)} rounds"
    )
    results: list[Result] = []
    for i, (python, m) in enumerate(figures):
        results += rows(m, python.version, where, plain_names=i == 0, samples=rounds(quick, 8))
    return results


# The health rows: (row name, figure, baseline figure, the ratio's target or None
# where the ratio is only reported).
HEALTH_RATIOS: tuple[tuple[str, str, str, float | None], ...] = (
    (
        "granian (the container's server) GET /api/health: ours / bare FastAPI hello",
        "ours health",
        "hello health",
        0.8,
    ),
    (
        "GET /api/health: our server (granian) / plain uvicorn (asyncio+h11)",
        "ours health",
        "h11 health",
        1.6,
    ),
    (
        "uvicorn (uvloop+httptools) GET /api/health: ours / bare FastAPI hello",
        "uvicorn health",
        "uvicorn hello health",
        None,
    ),
    (
        "GET /api/health, ours: granian / uvicorn (uvloop+httptools)",
        "ours health",
        "uvicorn health",
        None,
    ),
    (
        "GET /api/health, bare hello: granian / uvicorn (uvloop+httptools)",
        "hello health",
        "uvicorn hello health",
        None,
    ),
)


def rows(
    m: dict[str, float], version: str, where: str, *, plain_names: bool, samples: int
) -> list[Result]:
    """The table's rows for one Python; the venv's keep the names earlier runs used."""
    tag = "" if plain_names else f" [py{version}]"
    note = f"CPython {version}; {HIGH} connections; {where}"
    out = []
    if "ours order x64" in m:
        out.append(
            Result(
                f"granian GET /api/orders/{{id}}: {HIGH} connections / {LOW} connection{tag}",
                m["ours order x64"],
                m["ours order x1"],
                2.0,
                ">=",
                unit="req/s",
                note=f"{note}; moto on the load's core caps the 64-connection figure",
                samples=samples,
            )
        )
    for name, value, baseline, target in HEALTH_RATIOS:
        out.append(
            Result(
                name + tag,
                m[value],
                m[baseline],
                target,
                ">=" if target else None,
                unit="req/s",
                note=note,
                samples=samples,
            )
        )
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    step_main(measure, __doc__)
