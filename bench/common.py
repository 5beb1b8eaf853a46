"""What every measurement shares: paths, the result shape, medians, the function's env."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from devstack.envs import FAKE_CREDENTIALS, POWERTOOLS

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
EVENTS = ROOT / "events"
# What `sam build` makes for the API function (template.yaml: ApiFunction, BuildMethod
# makefile). The bench builds its own copy (bench/out/sam) so it measures the current
# sources and never races a `sam build` someone else runs; .aws-sam/build is the fallback.
FUNCTION = "ApiFunction"
# The Lambda runtimes measured: the template's default first (its figures carry the plain
# names), then python3.11, still selectable. Each has its own build, run by its own Python.
DEFAULT_VERSION = "3.13"
LAMBDA_VERSIONS = (DEFAULT_VERSION, "3.11")
BENCH_BUILD = OUT / "sam"
SAM_ARTIFACTS = (BENCH_BUILD / FUNCTION, ROOT / ".aws-sam" / "build" / FUNCTION)
PYTHON = sys.executable


def build_dir(version: str) -> Path:
    """Where the bench's `sam build` for one runtime goes (the default's is BENCH_BUILD)."""
    return BENCH_BUILD if version == DEFAULT_VERSION else OUT / f"sam-py{version}"


@functools.cache
def interpreter(version: str) -> list[str]:
    """argv prefix of the CPython that runs an artifact built for `version` (its .pyc and
    binary wheels load on no other): containers/python.sh finds or makes it, once, so the
    timed starts pay no lookup (a pyenv shim on PATH alone costs a few hundred ms)."""
    proc = subprocess.run(
        [str(ROOT / "containers" / "python.sh"), "--argv", version],
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.splitlines()


def suffix(version: str) -> str:
    """Figures of the default runtime keep their names; the others say which Python."""
    return "" if version == DEFAULT_VERSION else f" [py{version}]"


REGION = "us-east-1"

Op = Literal["<=", ">="]


@dataclass(slots=True)
class Result:
    """One line of the table and one object of results.json.

    `target`/`op` are None for figures reported without a target (absolute or informational).
    """

    name: str
    value: float
    baseline: float | None
    target: float | None
    op: Op | None = None
    unit: str = ""
    note: str = ""
    samples: int = 0
    ratio: float | None = field(init=False)
    passed: bool | None = field(init=False)

    def __post_init__(self) -> None:
        self.ratio = self.value / self.baseline if self.baseline else None
        measured = self.ratio if self.baseline is not None else self.value
        if self.target is None or self.op is None or measured is None:
            self.passed = None
        elif self.op == "<=":
            self.passed = measured <= self.target
        else:
            self.passed = measured >= self.target

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["pass"] = data.pop("passed")
        return data


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rounds(quick: bool, full: int) -> int:
    """One iteration in --quick (the smoke run), else `full` (at least 10 for medians)."""
    return 1 if quick else max(10, full)


def artifact(version: str = DEFAULT_VERSION) -> tuple[Path, str]:
    """The built API function, or src/ with a note saying the figure is not the artifact's."""
    paths = SAM_ARTIFACTS if version == DEFAULT_VERSION else (build_dir(version) / FUNCTION,)
    for path in paths:
        if (path / "orders" / "lambda_handler.py").is_file():
            return path, ""
    return ROOT / "src", "no sam build output: measured src/ with the venv's packages"


def function_env(**extra: str) -> dict[str, str]:
    """The env the Lambda function gets, with fake credentials and no network needed.

    /api/health makes no AWS call, so nothing here has to answer. Tracing off unless
    `extra` turns it on.
    """
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {
        **keep,
        "ORDERS_TABLE_NAME": "orders-bench",
        "ORDERS_BUCKET_NAME": "orders-bench-attachments",
        "ORDERS_EVENT_BUS_NAME": "orders-bench-bus",
        "ORDERS_KMS_KEY_ID": "alias/orders-bench",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        **FAKE_CREDENTIALS,
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        **POWERTOOLS,
        "POWERTOOLS_LOG_LEVEL": "INFO",
        # /api/health needs no token; without an issuer the app would refuse to start.
        "ORDERS_AUTH_DISABLED": "true",
        **extra,
    }


def pinned(core: int, argv: list[str]) -> list[str]:
    """argv pinned to one core with taskset when there is one (and the core exists)."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > core:
        return ["taskset", "-c", str(core), *argv]
    return argv


def emit(results: list[Result]) -> None:
    """A module run as a script prints its results as JSON on the last line."""
    print(json.dumps([r.as_json() for r in results]))


def load(line: str) -> list[Result]:
    out = []
    for data in json.loads(line):
        result = Result(
            name=data["name"],
            value=data["value"],
            baseline=data["baseline"],
            target=data["target"],
            op=data["op"],
            unit=data["unit"],
            note=data["note"],
            samples=data["samples"],
        )
        out.append(result)
    return out


@contextlib.contextmanager
def in_process_service() -> Iterator[dict[str, str]]:
    """moto in-process with the data plane, and this process's environment set as the
    service's (tracing off): for the in-process steps, which build the app themselves."""
    import boto3
    from moto import mock_aws

    from devstack.moto_plane import create_data_plane, service_env

    with mock_aws():
        plane = create_data_plane(boto3.session.Session())
        os.environ.update(service_env(plane["kms_key_id"]))
        os.environ.pop("ORDERS_TRACING_ENABLED", None)
        yield plane
