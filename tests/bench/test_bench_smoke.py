"""The bench's smoke run: every measurement runs once, so `make bench` cannot rot.

No timing assertions: only that each named figure is there with numbers.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "cold init: our handler / bare FastAPI+Mangum (5 routes)",
    "imports ours pays, the bare app does not: all / the bare app's imports",
    "bytecode: shipped / precompiled artifact cold init",
    "warm GET /api/orders/{id}: Mangum handler / raw ASGI",
    "warm GET /api/health: Mangum handler / raw ASGI",
    "granian GET /api/orders/{id}: 64 connections / 1 connection",
    "granian (the container's server) GET /api/health: ours / bare FastAPI hello",
    "GET /api/health: our server (granian) / plain uvicorn (asyncio+h11)",
    "uvicorn (uvloop+httptools) GET /api/health: ours / bare FastAPI hello",
    "GET /api/health, ours: granian / uvicorn (uvloop+httptools)",
    "GET /api/health, bare hello: granian / uvicorn (uvloop+httptools)",
    "access line per request: access_line / Powertools logger.info",
    "in-process GET /api/health (no server): ours / bare FastAPI hello",
    "in-process GET /api/health: ours without its middlewares / bare FastAPI hello",
    "in-process: the observability middleware per request (ours - ours without it)",
    "in-process: the body and header policy per request (ours - ours without it)",
    "artifact zipped: ours / naive pip install",
    "local stack start (make dev -> ready)",
}


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_quick_bench_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(output.read_text())
    by_name = {r["name"]: r for r in results}
    assert set(by_name) >= EXPECTED, EXPECTED - set(by_name)
    for name, r in by_name.items():
        assert set(r) >= {"name", "value", "baseline", "ratio", "target", "pass"}, name
        assert isinstance(r["value"], int | float), name
        assert math.isfinite(r["value"]), name
        if r["baseline"] is not None:
            assert isinstance(r["ratio"], int | float), name
            assert math.isfinite(r["ratio"]), name
        if r["target"] is not None:
            assert isinstance(r["pass"], bool), name
    for line in ("PASS/MISS", "ratio"):
        assert line in proc.stdout
