"""`sam build` offline: the functions' artifact holds the runtime dependencies, the package
and its bytecode, and nothing from dev, test, the container server or the UI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.infra import cfn
from tests.infra.tooling import run, tool

# Import names that must never ship in the Lambda artifact.
FORBIDDEN = {
    "pytest", "_pytest", "moto", "hypothesis", "schemathesis", "ruff", "mypy", "playwright",
    "uvicorn", "uvloop", "httptools", "watchfiles", "streamlit", "httpx", "awscrt", "OpenSSL",
    "boto3_stubs", "mypy_boto3_dynamodb", "tests",
}  # fmt: skip
REQUIRED = {
    "orders", "fastapi", "mangum", "aws_lambda_powertools", "pydantic", "pydantic_settings",
    "aws_xray_sdk", "boto3",
}  # fmt: skip
# The AWS services the code calls (see LAMBDA_BOTOCORE_SERVICES in make/infra.mk).
AWS_SERVICES = {"dynamodb", "s3", "events", "sts", "secretsmanager"}
# The interpreter of the template's default runtime (containers/python.sh finds or makes it).
PYTHON_FOR = cfn.REPO / "containers" / "python.sh"
# Unzipped Lambda limit is 250 MB; staying well under it keeps code download and cold start small.
# cryptography (RS256 for the token check, through joserfc) is about 13 MB of it: it is
# imported when the first token is checked, not at init.
MAX_ARTIFACT_BYTES = 56 * 1024 * 1024


def default_runtime_version() -> str:
    runtime = cfn.load(cfn.ROOT_TEMPLATE)["Parameters"]["PythonRuntime"]["Default"]
    return str(runtime).removeprefix("python")


def test_the_build_defaults_to_the_template_runtime() -> None:
    """make/infra.mk's LAMBDA_PYTHON_VERSION default is the template's PythonRuntime default:
    sam build passes no runtime to the makefile build, so the two must agree."""
    infra = (cfn.REPO / "make" / "infra.mk").read_text()
    match = re.search(r"^LAMBDA_PYTHON_VERSION \?= (\S+)$", infra, re.MULTILINE)
    assert match, "LAMBDA_PYTHON_VERSION default not found in make/infra.mk"
    assert match.group(1) == default_runtime_version() == "3.13"


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sam-build")
    proc = run(
        [tool("sam"), "build", "--template", str(cfn.ROOT_TEMPLATE), "--build-dir", str(out)],
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


@pytest.mark.parametrize("function", ["ApiFunction", "OutboxFunction"])
def test_artifact_has_runtime_dependencies_only(build_dir: Path, function: str) -> None:
    artifact = build_dir / function
    top = {p.name.split("-")[0] if p.suffix == ".dist-info" else p.stem for p in artifact.iterdir()}
    assert top >= REQUIRED
    assert not top & FORBIDDEN, sorted(top & FORBIDDEN)
    size = sum(p.stat().st_size for p in artifact.rglob("*") if p.is_file())
    assert size < MAX_ARTIFACT_BYTES, f"{function} is {size / 2**20:.0f} MB"


@pytest.mark.parametrize("function", ["ApiFunction", "OutboxFunction"])
def test_artifact_ships_unchecked_hash_bytecode(build_dir: Path, function: str) -> None:
    """Lambda's code directory is read-only: .pyc must ship, valid whatever the file mtimes."""
    package = build_dir / function / "orders"
    sources = sorted(package.rglob("*.py"))
    assert sources
    # Written by the runtime's own interpreter version: any other version ignores them.
    tag = "cpython-" + default_runtime_version().replace(".", "")
    for source in sources:
        compiled = list((source.parent / "__pycache__").glob(f"{source.stem}.{tag}.pyc"))
        assert compiled, f"no bytecode for {source.relative_to(package)}"
        flags = int.from_bytes(compiled[0].read_bytes()[4:8], "little")
        # PEP 552: bit 0 = hash-based, bit 1 = check_source; unchecked-hash is 0b01.
        assert flags == 0b01, f"{compiled[0].name} flags {flags:#b}"
    assert not list(package.rglob("test_*.py"))


def test_artifact_keeps_only_the_aws_models_it_calls(build_dir: Path) -> None:
    """Pruned botocore still builds every client the functions use, and nothing else ships."""
    artifact = build_dir / "ApiFunction"
    services = sorted(p.name for p in (artifact / "botocore" / "data").iterdir() if p.is_dir())
    assert services == sorted(AWS_SERVICES)
    script = (
        "import boto3\n"
        f"for name in {sorted(AWS_SERVICES)!r}:\n"
        "    boto3.client(name, region_name='us-east-1', aws_access_key_id='x',"
        " aws_secret_access_key='x')\n"
        "print('ok')\n"
    )
    preamble = f"import sys; sys.path[:0] = [{str(artifact)!r}]\n"
    proc = run([str(PYTHON_FOR), default_runtime_version(), "-I", "-S", "-c", preamble + script])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_built_template_points_at_the_artifacts(build_dir: Path) -> None:
    built = cfn.load(build_dir / "template.yaml")
    for function in ("ApiFunction", "OutboxFunction"):
        assert built["Resources"][function]["Properties"]["CodeUri"] == function


def test_artifact_runs_on_the_runtime_python(build_dir: Path) -> None:
    """The handler imports on the runtime's interpreter with the artifact alone (binary wheels
    for that version), and loads its bytecode instead of compiling: no module of the package
    or its dependencies is compiled at import."""
    artifact = build_dir / "ApiFunction"
    script = (
        f"import sys; sys.path[:0] = [{str(artifact)!r}]; sys.dont_write_bytecode = True\n"
        "import importlib.machinery as m\n"
        "compiled = []\n"
        "original = m.SourceFileLoader.source_to_code\n"
        "def counting(self, data, path, *a, **k):\n"
        "    compiled.append(path)\n"
        "    return original(self, data, path, *a, **k)\n"
        "m.SourceFileLoader.source_to_code = counting\n"
        "import orders.lambda_handler, pydantic_core, boto3\n"
        "print(sys.version_info[0], sys.version_info[1])\n"
        f"print([p for p in compiled if p.startswith({str(artifact)!r})])\n"
    )
    proc = run([str(PYTHON_FOR), default_runtime_version(), "-I", "-S", "-c", script])
    assert proc.returncode == 0, proc.stderr[-2000:]
    version, compiled = proc.stdout.strip().splitlines()
    assert version.replace(" ", ".") == default_runtime_version()
    assert compiled == "[]"


def test_ci_runs_the_fast_tiers_on_the_default_runtime_too() -> None:
    """make test runs on 3.11; the unit, integration and contract tiers also run on the
    template's default runtime: a GitHub job in that Python's image, and .ci/py313 (in the
    build's Debian root) from .ci/run."""
    version = default_runtime_version()
    workflow = cfn.load(cfn.REPO / ".github" / "workflows" / "ci.yml")
    jobs = [j for j in workflow["jobs"].values() if j["container"].startswith(f"python:{version}-")]
    assert len(jobs) == 1
    commands = " ".join(step.get("run", "") for step in jobs[0]["steps"])
    assert "pytest tests/unit tests/integration tests/contract" in commands
    assert "\n.ci/py313\n" in (cfn.REPO / ".ci" / "run").read_text().replace(
        "  .ci/py313", ".ci/py313"
    )
    assert version == "3.13"
    assert (
        "(tests/unit tests/integration tests/contract)" in (cfn.REPO / ".ci" / "py313").read_text()
    )
