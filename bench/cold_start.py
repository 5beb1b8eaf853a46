"""Cold init of the Lambda handler from the built artifact, and what bytecode does to it.

Each sample is a fresh interpreter (`python -I -S -B`: no site-packages, no env-driven
paths, no .pyc written, so one run cannot warm the next) whose sys.path is only the
artifact, as on Lambda. Inside the process we time from the first import to the handler
having served one request (GET /api/health, an API Gateway v2 event, no AWS call); the
parent also times the whole process (wall). Variants are interleaved round by round.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sysconfig
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    DEFAULT_VERSION,
    EVENTS,
    LAMBDA_VERSIONS,
    OUT,
    ROOT,
    Op,
    Result,
    artifact,
    emit,
    function_env,
    interpreter,
    median,
    rounds,
    suffix,
)

HEALTH_EVENT = EVENTS / "apigw-v2" / "health.json"
BASELINES = ROOT / "bench" / "baselines"

# Runs inside the fresh interpreter: argv = [path-list, module:attr, event file].
PROBE = """\
import time
_t0 = time.perf_counter()
import sys
sys.path[:0] = sys.argv[1].split(":")
import importlib, json
_mod, _, _attr = sys.argv[2].partition(":")
handler = getattr(importlib.import_module(_mod), _attr)
if len(sys.argv) > 4:
    # SnapStart's restored path: everything before the snapshot done (untimed), then the
    # restore hook and the first request (timed), as a restored environment runs them.
    from orders import snapstart
    snapstart.before_snapshot()
    _t0 = time.perf_counter()
    snapstart.after_restore()
with open(sys.argv[3], "rb") as f:
    event = json.load(f)
class Context:
    function_name = "orders-api"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/orders-api"
    log_stream_name = "2026/01/01/[$LATEST]abc"
    def get_remaining_time_in_millis(self):
        return 29000
response = handler(event, Context())
_elapsed = time.perf_counter() - _t0
sys.stdout.flush()
_result = {"init_s": _elapsed, "status": response["statusCode"]}
sys.stderr.write("\\nBENCH " + json.dumps(_result) + "\\n")
"""


@dataclass(frozen=True, slots=True)
class Variant:
    label: str
    path: list[Path]
    target: str | None  # module:attr, or None for `python -c pass`
    env: dict[str, str]
    version: str = DEFAULT_VERSION  # the Python that runs it
    restored: bool = False  # time only after_restore + the first request (PROBE)


@dataclass(frozen=True, slots=True)
class Sample:
    init_s: float  # inside the process: first import -> one response
    wall_s: float  # the whole process, interpreter start to exit


def timed(
    name: str,
    value: float,
    baseline: float | None,
    note: str,
    samples: int,
    at_most: float | None = None,
) -> Result:
    """A figure in seconds, informational unless it has a target (a ratio at most `at_most`)."""
    op: Op | None = "<=" if at_most is not None else None
    return Result(name, value, baseline, at_most, op, unit="s", note=note, samples=samples)


def _argv(variant: Variant, *python_flags: str) -> list[str]:
    flags = [*interpreter(variant.version), *python_flags, "-I", "-S", "-B"]
    if variant.target is None:
        return [*flags, "-c", "pass"]
    path = os.pathsep.join(str(p) for p in variant.path)
    argv = [*flags, "-c", PROBE, path, variant.target, str(HEALTH_EVENT)]
    if variant.restored:
        argv.append("restored")
    return argv


def run_once(variant: Variant) -> Sample:
    argv = _argv(variant)
    started = time.perf_counter()
    proc = subprocess.run(argv, env=variant.env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{variant.label}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    if variant.target is None:
        return Sample(init_s=0.0, wall_s=wall)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH ")][-1]
    data = json.loads(line.removeprefix("BENCH "))
    if data["status"] != 200:
        raise RuntimeError(f"{variant.label}: answered {data['status']}\n{proc.stdout[-2000:]}")
    return Sample(init_s=float(data["init_s"]), wall_s=wall)


def interleave(variants: list[Variant], n: int) -> dict[str, list[Sample]]:
    """n rounds; each round runs every variant once, starting one later than the last round."""
    samples: dict[str, list[Sample]] = {v.label: [] for v in variants}
    for i in range(n):
        order = variants[i % len(variants) :] + variants[: i % len(variants)]
        for variant in order:
            samples[variant.label].append(run_once(variant))
    return samples


def _site_packages(path: Path) -> list[Path]:
    """The artifact is self-contained; src/ (the fallback) needs the venv's packages."""
    if path.name == "src":
        return [path, Path(sysconfig.get_paths()["purelib"])]
    return [path]


def _baseline_dir(version: str) -> Path:
    """The baseline app, precompiled like the artifact (it is one small module)."""
    target = OUT / f"baselines-py{version}"
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BASELINES / "bare_mangum.py", target / "bare_mangum.py")
    _compile(target, version)
    return target


def cold_init(quick: bool) -> list[Result]:
    results: list[Result] = []
    for version in LAMBDA_VERSIONS:
        results += _cold_init(quick, version)
    return results


HANDLER = "orders.lambda_handler:handler"


def _ours_and_bare(version: str) -> tuple[Variant, Variant]:
    """Our handler from the artifact and the bare app (beside the same packages), tracing off."""
    paths = _site_packages(artifact(version)[0])
    env = function_env()
    ours = Variant("ours", paths, HANDLER, env, version)
    base = Variant("bare", [_baseline_dir(version), *paths], "bare_mangum:handler", env, version)
    return ours, base


def _cold_init(quick: bool, version: str) -> list[Result]:
    art, note = artifact(version)
    paths = _site_packages(art)
    env = function_env()
    traced = Variant("ours-traced", paths, HANDLER, _traced_env(art), version)
    ours, base = _ours_and_bare(version)
    nothing = Variant("pass", [], None, env, version)
    restored = Variant("restored", paths, HANDLER, env, version, restored=True)
    n = rounds(quick, 12)
    s = interleave([ours, base, nothing, traced, restored], n)
    init = {k: median([x.init_s for x in v]) for k, v in s.items()}
    wall = {k: median([x.wall_s for x in v]) for k, v in s.items()}
    where = f"artifact {art.relative_to(ROOT)}; GET /api/health (API Gateway v2 event)"
    note = f"{where}; {note}" if note else where
    return _cold_init_rows(init, wall, note, version, n)


def _traced_env(art: Path) -> dict[str, str]:
    """The function's env with tracing on, inside an invocation, as deployed."""
    return function_env(
        ORDERS_TRACING_ENABLED="true",
        LAMBDA_TASK_ROOT=str(art),
        AWS_LAMBDA_FUNCTION_NAME="orders-api",
        _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:2000",
        AWS_XRAY_CONTEXT_MISSING="IGNORE_ERROR",
    )


def _cold_init_rows(
    init: dict[str, float], wall: dict[str, float], note: str, version: str, n: int
) -> list[Result]:
    """The report's rows from the variants' median init and wall times."""
    tag = suffix(version)
    return [
        timed(
            f"cold init: our handler / bare FastAPI+Mangum (5 routes){tag}",
            init["ours"],
            init["bare"],
            f"python{version}, in-process, import to first response; tracing off; {note}",
            n,
            at_most=1.0,
        ),
        timed(
            f"cold init, everything before the snapshot done / bare FastAPI+Mangum{tag}",
            init["restored"],
            init["bare"],
            "SnapStart's restored path: orders.snapstart.before_snapshot untimed, then "
            "after_restore + the first response (the snapshot's own restore is not "
            "emulated; informational)",
            n,
        ),
        timed(
            f"cold init wall: our handler / bare FastAPI+Mangum{tag}",
            wall["ours"],
            wall["bare"],
            "whole process, interpreter start to exit (informational)",
            n,
        ),
        timed(
            f"cold init wall: our handler / python -c pass{tag}",
            wall["ours"],
            wall["pass"],
            "whole process (informational)",
            n,
        ),
        timed(
            f"cold init, tracing on (as deployed) / bare FastAPI+Mangum{tag}",
            init["ours-traced"],
            init["bare"],
            "ORDERS_TRACING_ENABLED=true + Lambda env: X-Ray SDK loaded (informational)",
            n,
        ),
    ]


# --- import by import ------------------------------------------------------------------

# How many of the costliest imports (ours, not the bare app's) the report lists per runtime.
TOP_IMPORTS = 12


def parse_importtime(stderr: str) -> dict[str, int]:
    """`-X importtime` output -> {module: self time in microseconds}.

    Self time is the module's own body: for our modules that includes the pydantic models
    and FastAPI routes they build at import, not only the loading.
    """
    times: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        times[fields[2].strip()] = int(fields[0])
    return times


def import_group(module: str) -> str:
    """Our own modules one by one (each is a choice made here); a library as one package."""
    top = module.partition(".")[0]
    return module if top == "orders" else top


def extra_imports(ours: list[dict[str, int]], bare: list[dict[str, int]]) -> dict[str, float]:
    """{group: median seconds over the runs} of the modules ours imports and the bare app does
    not (on the way to the first response), costliest first."""
    theirs = set().union(*bare)
    per_run: dict[str, list[float]] = defaultdict(list)
    for run in ours:
        summed: dict[str, int] = defaultdict(int)
        for module, micros in run.items():
            if module not in theirs:
                summed[import_group(module)] += micros
        for group, micros in summed.items():
            per_run[group].append(micros / 1e6)
        per_run[""].append(sum(summed.values()) / 1e6)  # the total of this run
    # A group missing from a run (it never is: imports are deterministic) counts as 0 there.
    medians = {g: median(v + [0.0] * (len(ours) - len(v))) for g, v in per_run.items()}
    return dict(sorted(medians.items(), key=lambda item: -item[1]))


def import_times(variant: Variant) -> dict[str, int]:
    """One fresh process under `-X importtime`: import to the first response."""
    proc = subprocess.run(
        _argv(variant, "-X", "importtime"),
        env=variant.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or "BENCH " not in proc.stderr:
        raise RuntimeError(f"{variant.label}: exit {proc.returncode}\n{proc.stderr[-3000:]}")
    return parse_importtime(proc.stderr)


def imports(quick: bool) -> list[Result]:
    results: list[Result] = []
    for version in LAMBDA_VERSIONS:
        results += _imports(quick, version)
    return results


def _imports(quick: bool, version: str) -> list[Result]:
    ours, base = _ours_and_bare(version)
    n = rounds(quick, 10)
    runs: dict[str, list[dict[str, int]]] = {"ours": [], "bare": []}
    for i in range(n):  # interleaved, as the timed runs
        for variant in (ours, base) if i % 2 == 0 else (base, ours):
            runs[variant.label].append(import_times(variant))
    extra = extra_imports(runs["ours"], runs["bare"])
    total = extra.pop("")
    bare_total = median([sum(run.values()) / 1e6 for run in runs["bare"]])
    tag = suffix(version)
    how = f"python{version}, -X importtime, median self time of {n} runs, tracing off"
    rows = [
        timed(
            f"imports ours pays, the bare app does not: all / the bare app's imports{tag}",
            total,
            bare_total,
            f"{how}; import to the first GET /api/health (informational)",
            n,
        )
    ]
    for group, seconds in list(extra.items())[:TOP_IMPORTS]:
        rows.append(
            timed(
                f"import ours pays, the bare app does not: {group}{tag}",
                seconds,
                None,
                f"{how}; module bodies included (models, routes built at import)",
                n,
            )
        )
    return rows


# --- bytecode ---------------------------------------------------------------------------


def _fingerprint(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        st = path.stat()
        digest.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _writable(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)


def _strip_pyc(root: Path) -> None:
    for cache in list(root.rglob("__pycache__")):
        shutil.rmtree(cache)
    for pyc in root.rglob("*.pyc"):
        pyc.unlink()


def _compile(root: Path, version: str = DEFAULT_VERSION) -> None:
    subprocess.run(
        [
            *interpreter(version),
            "-m",
            "compileall",
            "-q",
            # One process: a Debian root's interpreter cannot start workers (make/infra.mk).
            "-j1",
            "--invalidation-mode",
            "unchecked-hash",
            str(root),
        ],
        check=True,
    )


def _read_only(root: Path) -> None:
    """As Lambda's /var/task: nothing can be written (root ignores it; -B covers that)."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            os.chmod(p, stat.S_IMODE(os.stat(p).st_mode) & ~0o222)
        os.chmod(dirpath, stat.S_IMODE(os.stat(dirpath).st_mode) & ~0o222)


def prepare_copies(art: Path) -> tuple[Path, Path]:
    """bench/out/bytecode/{nopyc,precompiled}: the artifact without and with fresh .pyc.

    Rebuilt only when the artifact's sources change (compiling takes a while).
    """
    base = OUT / "bytecode"
    stamp = base / "fingerprint"
    nopyc, precompiled = base / "nopyc", base / "precompiled"
    fingerprint = _fingerprint(art)
    if stamp.is_file() and stamp.read_text() == fingerprint and nopyc.is_dir():
        return nopyc, precompiled
    if base.exists():
        _writable(base)
        shutil.rmtree(base)
    base.mkdir(parents=True)
    for copy in (nopyc, precompiled):
        shutil.copytree(art, copy, symlinks=True)
        _strip_pyc(copy)
    _compile(precompiled)
    _read_only(nopyc)
    stamp.write_text(fingerprint)
    return nopyc, precompiled


def bytecode(quick: bool) -> list[Result]:
    art, note = artifact()
    if note:
        return [
            Result(
                "bytecode: shipped / precompiled artifact cold init",
                float("nan"),
                float("nan"),
                1.05,
                "<=",
                note="no sam build output: nothing shipped to measure",
            )
        ]
    nopyc, precompiled = prepare_copies(art)
    env = function_env()
    target = HANDLER
    variants = [
        Variant("shipped", [art], target, env),
        Variant("precompiled", [precompiled], target, env),
        Variant("nopyc", [nopyc], target, env),
    ]
    # Two near-identical figures against a 5% target: more samples than elsewhere.
    n = rounds(quick, 20)
    s = interleave(variants, n)
    init = {k: median([x.init_s for x in v]) for k, v in s.items()}
    pyc = sum(1 for _ in art.rglob("*.pyc"))
    return [
        timed(
            "bytecode: shipped / precompiled artifact cold init",
            init["shipped"],
            init["precompiled"],
            f"shipped = sam build output as is ({pyc} .pyc files)",
            n,
            at_most=1.05,
        ),
        timed(
            "bytecode: no .pyc (read-only) / precompiled artifact cold init",
            init["nopyc"],
            init["precompiled"],
            "what a build that strips .pyc costs on every cold start (informational)",
            n,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["cold", "imports", "bytecode"])
    args = parser.parse_args()
    results = []
    if args.only in (None, "cold"):
        results += cold_init(args.quick)
    if args.only in (None, "imports"):
        results += imports(args.quick)
    if args.only in (None, "bytecode"):
        results += bytecode(args.quick)
    emit(results)


if __name__ == "__main__":
    main()
