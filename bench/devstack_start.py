"""Local stack start: `python -m devstack` (what `make dev` runs) to its "ready" line.

An absolute figure in seconds (there is no baseline to divide by): moto, the data stack
from cform/ through moto's CloudFormation, the API, the outbox loop and the UI. Ports
are free ones and state goes to bench/out, so a running `make dev` is not disturbed.
"""

from __future__ import annotations

import os
import subprocess
import time

from bench.common import OUT, PYTHON, ROOT, Result, median, rounds
from bench.processes import interrupt_group, step_main
from devstack.netports import free_port

TIMEOUT_S = 120.0


def start_once() -> float:
    state = OUT / "devstack"
    state.mkdir(parents=True, exist_ok=True)
    argv = [PYTHON, "-m", "devstack", "--state-dir", str(state)]
    for flag in ("--api-port", "--ui-port", "--moto-port"):
        argv += [flag, str(free_port())]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if line.startswith("ready in"):
                return time.perf_counter() - started
            if time.perf_counter() - started > TIMEOUT_S:
                break
        raise RuntimeError("devstack never said ready:\n" + "".join(seen[-30:]))
    finally:
        interrupt_group(proc)


def measure(quick: bool) -> list[Result]:
    n = rounds(quick, 3) if quick else 3
    times = [start_once() for _ in range(n)]
    return [
        Result(
            "local stack start (make dev -> ready)",
            median(times),
            None,
            None,
            unit="s",
            note=f"absolute seconds, median of {n}: moto + data stack + API + outbox + UI",
            samples=n,
        )
    ]


if __name__ == "__main__":
    step_main(measure, __doc__)
