"""Dockerfiles: hadolint-clean, pinned, non-root, HEALTHCHECK, no registry-only directives;
and the API image's CMD, run as written against moto on loopback, answers /api/health.
(tests/docker builds and runs the images themselves where a Docker engine answers.)"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from devstack import envs
from devstack.emulator import start_with_data_stack
from devstack.netports import free_port
from tests import tokens
from tests.infra import cfn
from tests.infra.tooling import run, tool
from tests.support import stop_process
from tests.unit.test_ui_imports import SERVICE_ONLY

if TYPE_CHECKING:
    from collections.abc import Iterator

CONTAINERS = cfn.REPO / "containers"
DOCKERFILES = sorted(CONTAINERS.glob("*/Dockerfile"))
API_CMD = ["granian", "--interface", "asgi", "--factory", "orders.app:create_app"]
# The official slim image both Dockerfiles default to (BASE_IMAGE); CI passes a local one.
OFFICIAL_BASE = "python:3.13.13-slim-trixie"


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in logical]


def exec_form(path: Path, instruction: str) -> list[str]:
    (*_, last) = [args for name, args in instructions(path) if name == instruction]
    form: list[str] = json.loads(last)
    return form


def env_of(path: Path) -> dict[str, str]:
    """The final stage's ENV values (KEY=value form, as both Dockerfiles write them)."""
    steps = instructions(path)
    final = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    env: dict[str, str] = {}
    for name, args in steps[final:]:
        if name == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))  # type: ignore[misc]
    return env


def healthcheck(path: Path) -> list[str]:
    (args,) = [args for name, args in instructions(path) if name == "HEALTHCHECK"]
    command: list[str] = json.loads(args.split(" CMD ", 1)[1])
    return command


def arg_defaults(path: Path) -> dict[str, str]:
    return dict(
        args.split("=", 1) for name, args in instructions(path) if name == "ARG" and "=" in args
    )


def test_both_images_exist() -> None:
    assert [p.parent.name for p in DOCKERFILES] == ["api", "ui"]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_clean(path: Path) -> None:
    proc = run([tool("hadolint"), str(path)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_slim_pinned_non_root_with_healthcheck(path: Path) -> None:
    steps = instructions(path)
    # Every stage starts from BASE_IMAGE, whose default is the official slim image at an
    # exact patch release (or a digest), never a floating tag.
    assert [args.split()[0] for name, args in steps if name == "FROM"] == ["${BASE_IMAGE}"] * 2
    image = arg_defaults(path)["BASE_IMAGE"]
    assert image == OFFICIAL_BASE, image
    assert "-slim" in image, image
    assert "@sha256:" in image or image.split(":")[1].split("-")[0].count(".") == 2, image
    user = [args for name, args in steps if name == "USER"][-1]
    assert user.split(":")[0] not in {"root", "0"}
    assert any(name == "HEALTHCHECK" for name, _ in steps)


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_no_parser_directive_that_needs_a_registry(path: Path) -> None:
    """`# syntax=` makes BuildKit pull a frontend image before it reads the file: a build
    with no registry (CI) fails on that line alone."""
    head = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        head.append(line.lstrip("# ").lower())
    assert not [h for h in head if h.replace(" ", "").startswith("syntax=")], head


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_offline_build_inputs_are_arguments(path: Path) -> None:
    """The base image and the wheelhouse are build arguments whose defaults change nothing
    for a registry build: an empty wheelhouse in the context, the package index on."""
    defaults = arg_defaults(path)
    assert defaults["WHEELHOUSE"] == "containers/wheelhouse"
    assert defaults["PIP_NO_INDEX"] == "0"
    assert not [p for p in (cfn.REPO / "containers" / "wheelhouse").iterdir() if p.suffix == ".whl"]


def test_dockerignore_is_an_allowlist_of_what_the_images_copy() -> None:
    """The context is only what a COPY names (tests/docker lists what really arrives)."""
    lines = [
        ln.strip()
        for ln in (cfn.REPO / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {ln[1:] for ln in lines if ln.startswith("!")}
    sources = set()
    for path in DOCKERFILES:
        defaults = arg_defaults(path)
        for name, args in instructions(path):
            if name == "COPY" and "--from" not in args:
                for source in args.split()[:-1]:
                    sources.add(defaults["WHEELHOUSE"] if source == "${WHEELHOUSE}" else source)
    assert {"pyproject.toml", "src/orders", "src/ui", "containers/wheelhouse"} <= sources

    def within(source: str, entry: str) -> bool:
        return source == entry or source.startswith(f"{entry}/")

    # A COPY may name a file inside an allowed folder (the UI image takes parts of src/orders).
    assert not {s for s in sources if not any(within(s, a) for a in allowed)}, sources
    # Only the wheelhouse of the CI cache; nothing else of .cache, no venv, no .git.
    unused = {a for a in allowed if not any(within(s, a) for s in sources)}
    assert unused <= {".cache/wheelhouse"}, unused


def test_api_cmd_is_exactly_the_granian_command() -> None:
    assert exec_form(CONTAINERS / "api" / "Dockerfile", "CMD") == API_CMD


def test_api_listens_on_8000_of_every_interface_by_default() -> None:
    """granian reads GRANIAN_HOST/GRANIAN_PORT; the HEALTHCHECK reads the same port."""
    env = env_of(CONTAINERS / "api" / "Dockerfile")
    assert env["GRANIAN_HOST"] == "0.0.0.0"
    assert env["GRANIAN_PORT"] == "8000"
    assert "os.environ['GRANIAN_PORT']" in healthcheck(CONTAINERS / "api" / "Dockerfile")[-1]


def test_ui_cmd_runs_streamlit_on_8501() -> None:
    assert exec_form(CONTAINERS / "ui" / "Dockerfile", "CMD") == ["streamlit", "run", "ui/app.py"]
    env = env_of(CONTAINERS / "ui" / "Dockerfile")
    assert env["STREAMLIT_SERVER_PORT"] == "8501"
    assert env["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0"
    assert env["STREAMLIT_SERVER_HEADLESS"] == "true"
    assert (
        "os.environ['STREAMLIT_SERVER_PORT']" in healthcheck(CONTAINERS / "ui" / "Dockerfile")[-1]
    )


@pytest.fixture
def emulator_env() -> Iterator[dict[str, str]]:
    """The service's environment against the emulator as `make dev` starts it: moto on
    loopback with cform/data.yaml deployed through its CloudFormation."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    emulator, outputs = start_with_data_stack(
        "127.0.0.1", port, endpoint, cfn.CFORM / "data.yaml", "orders-cmd-test"
    )
    try:
        yield envs.emulator_env(outputs, endpoint)
    finally:
        emulator.stop()


@pytest.mark.filterwarnings("ignore::UserWarning:moto.cloudformation.parsing")
def test_api_cmd_serves_health_against_moto(emulator_env: dict[str, str], tmp_path: Path) -> None:
    """Run the Dockerfile's CMD itself with the image's GRANIAN_* settings. Only the port
    value is swapped for a free one (8000 may be taken here)."""
    argv = exec_form(CONTAINERS / "api" / "Dockerfile", "CMD")
    assert argv == API_CMD
    port = free_port()
    image_env = env_of(CONTAINERS / "api" / "Dockerfile")
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "GRANIAN_HOST": image_env["GRANIAN_HOST"],
        "GRANIAN_PORT": str(port),
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        **emulator_env,
        # The task gets the pool's issuer and clients (template); health needs no token.
        **tokens.auth_env(),
        "ORDERS_TRACING_ENABLED": "false",
    }
    log = (tmp_path / "server.log").open("w+")
    # cwd is an empty directory, as in the image: the package must come from the install.
    proc = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    status = r.status
                    break
            except OSError:
                time.sleep(0.2)
        log.seek(0)
        assert status == 200, f"{shlex.join(argv)} did not answer /api/health:\n{log.read()}"
    finally:
        stop_process(proc)
        log.close()


def image_tree(path: Path, root: Path) -> Path:
    """The final stage's WORKDIR as its COPY instructions fill it from this checkout (the
    `--from` copies, a build stage's venv, left out): what the image's Python imports from."""
    steps = instructions(path)
    final = max(i for i, (name, _) in enumerate(steps) if name == "FROM")
    workdir = root
    for name, args in steps[final:]:
        if name == "WORKDIR":
            workdir = root / args.lstrip("/")
        if name != "COPY" or "--from" in args:
            continue
        *sources, dest = args.split()
        target = workdir / dest
        for source in (cfn.REPO / s for s in sources):
            # Docker's COPY: a folder's contents into the destination; a file into a
            # destination that ends in "/", else as the destination itself.
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
            else:
                into = target / source.name if dest.endswith("/") else target
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, into)
    return workdir


# Each of our modules it loaded and where from; and every top-level package it loaded.
LOADED = (
    "import json, sys\n"
    "import {module}\n"
    "print(json.dumps({{'ours': {{n: m.__file__ for n, m in sys.modules.items()"
    " if n.split('.')[0] in ('ui', 'orders', 'advisor')}},"
    " 'all': sorted({{n.split('.')[0] for n in sys.modules}})}}))"
)


@pytest.mark.parametrize("module", ["ui.client", "ui.page"])
def test_the_ui_image_holds_what_the_ui_imports(tmp_path: Path, module: str) -> None:
    """`python -c "import ui.client"` in the UI image's /app as its COPY lines make it: our
    modules all come from there (not from this checkout's src/), and ui.client loads none of
    the service's runtime. ui.page is the whole UI: every view, the advisor."""
    app = image_tree(CONTAINERS / "ui" / "Dockerfile", tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-c", LOADED.format(module=module)],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.splitlines()[-1])
    assert {"ui.client", "orders.api.models"} <= set(loaded["ours"])
    strays = {n: f for n, f in loaded["ours"].items() if not Path(f).is_relative_to(app)}
    assert not strays, strays
    if module == "ui.client":
        assert not set(loaded["all"]) & set(SERVICE_ONLY), loaded["all"]
