"""`make bench` / `python -m bench.run [--quick]`: every measurement, a table, results.json.

Steps, each in fresh processes: build the Lambda artifact with `sam build` into
bench/out/sam (skipped with --quick when an artifact exists), cold init, import by import
(-X importtime: what ours imports and the bare app does not), bytecode,
warm adapter, the access line, the app's stack in-process (middleware), container
throughput, artifact size, local stack start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    FUNCTION,
    LAMBDA_VERSIONS,
    PYTHON,
    ROOT,
    Result,
    artifact,
    build_dir,
    load,
)
from bench.report import RESULTS, table, write

STEPS = {
    "cold": ["bench.cold_start", "--only", "cold"],
    "imports": ["bench.cold_start", "--only", "imports"],
    "bytecode": ["bench.cold_start", "--only", "bytecode"],
    "adapter": ["bench.adapter"],
    "access": ["bench.access_line"],
    "middleware": ["bench.middleware"],
    "throughput": ["bench.throughput"],
    "artifact": ["bench.artifact"],
    "devstack": ["bench.devstack_start"],
}


def sam() -> str | None:
    tools = ROOT / ".tools" / "bin" / "sam"
    return str(tools) if tools.is_file() else shutil.which("sam")


def build(quick: bool) -> None:
    """sam build of the API function alone, once per runtime into bench/out/sam[-pyX.Y]
    (BuildMethod: makefile; LAMBDA_PYTHON_VERSION picks the interpreter and wheels)."""
    exe = sam()
    if exe is None:
        print("bench: no sam (make tools); measuring the existing build or src/", flush=True)
        return
    for version in LAMBDA_VERSIONS:
        if quick and artifact(version)[1] == "":
            continue
        out = build_dir(version)
        env = {
            **os.environ,
            "PATH": f"{Path(exe).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "LAMBDA_PYTHON_VERSION": version,
        }
        subprocess.run(
            [
                exe,
                "build",
                FUNCTION,
                "--build-dir",
                str(out),
                "--cache-dir",
                str(out.parent / f"{out.name}-cache"),
                "--parameter-overrides",
                f"PythonRuntime=python{version}",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def step(name: str, quick: bool) -> list[Result]:
    argv = [PYTHON, "-m", *STEPS[name], *(["--quick"] if quick else [])]
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"bench {name} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    print(f"bench: {name} done in {took:.0f} s", flush=True)
    return load(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one iteration each (smoke run)")
    parser.add_argument("--only", nargs="*", choices=list(STEPS), help="run only these steps")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    build(args.quick)
    results: list[Result] = []
    for name in args.only or list(STEPS):
        results += step(name, args.quick)
    write(results, args.output)
    print()
    print(table(results))
    print(
        f"\nbench: {len(results)} figures in {time.perf_counter() - started:.0f} s -> {args.output}"
    )
    if args.quick:
        print("bench: --quick is a smoke run (one iteration each): its figures mean nothing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
