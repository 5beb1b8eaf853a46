"""The Docker tier's images, made with no container registry (none is reachable in CI).

- A Debian trixie root with python3.13 (debootstrap), the one the Lambda build compiles
  with (containers/python.sh, cached under .cache/pyroot/), kept as a tarball under
  .cache/docker/ so a second run on the same machine reuses it, and `docker import`ed.
  It stands in for `python:3.13.13-slim-trixie`: the same Debian release and Python
  minor version, with venv and pip (containers/*/Dockerfile take it as BASE_IMAGE).
- The Lambda python3.13 base SAM asks for (`public.ecr.aws/lambda/python:3.13-x86_64`):
  that root plus awslambdaric in /var/runtime and a /var/runtime/bootstrap, built with
  `docker build --network none`. SAM adds its own runtime emulator on top.
- A wheelhouse (.cache/wheelhouse) for the images' pip installs, downloaded on the host
  for CPython 3.13 on manylinux x86_64, so the image builds run with `--network none`.

Run `python -m tests.docker.images` (make docker-images) to make all three; each step is
skipped when its result is already there and current.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
DOCKER_CACHE = CACHE / "docker"
WHEELHOUSE = CACHE / "wheelhouse"

# The containers run the Lambda default's Python (template.yaml's PythonRuntime), and their
# stand-in base is the root containers/python.sh makes for it (same suite and packages; trixie
# minbase has passwd, which the Dockerfiles' useradd needs; python3 gives them `python3`).
DEBIAN_SUITE = "trixie"  # trixie's python3 is 3.13 (bookworm's is 3.11)
DEBIAN_PACKAGES = ("python3.13", "python3.13-venv", "python3")
PYTHON_VERSION = "3.13"
PYTHON_FOR = REPO / "containers" / "python.sh"
ARCH = "x86_64"
# samcli.local.docker.lambda_image: Runtime.get_image_name_tag("python3.13", "x86_64") under
# public.ecr.aws/lambda (tests/docker/test_sam_local.py checks it against the installed SAM).
LAMBDA_IMAGE = f"public.ecr.aws/lambda/python:{PYTHON_VERSION}-{ARCH}"
# The image SAM builds on top of LAMBDA_IMAGE (its emulator added); stale once ours changes.
LAMBDA_RAPID_IMAGE = f"public.ecr.aws/lambda/python:{PYTHON_VERSION}-rapid-{ARCH}"
LABEL = "orders.ci.recipe"

# pip, for wheels that fit the images whatever the host runs.
PIP_TARGET = (
    "--only-binary=:all:",
    "--implementation=cp",
    f"--python-version={PYTHON_VERSION}",
    f"--abi=cp{PYTHON_VERSION.replace('.', '')}",
    *(f"--platform={p}_{ARCH}" for p in ("manylinux2014", "manylinux_2_28", "manylinux_2_36")),
)

LAMBDA_BOOTSTRAP = f"""#!/bin/sh
# What Lambda's python{PYTHON_VERSION} runtime starts: the runtime interface client on the handler.
cd /var/task || exit 1
export PYTHONPATH="/var/runtime:/var/task:/opt/python${{PYTHONPATH:+:$PYTHONPATH}}"
exec /usr/bin/python{PYTHON_VERSION} -m awslambdaric "${{_HANDLER:-$AWS_LAMBDA_FUNCTION_HANDLER}}"
"""
LAMBDA_DOCKERFILE = """ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime LANG=C.UTF-8 TZ=:UTC
COPY runtime /var/runtime
COPY bootstrap /var/runtime/bootstrap
WORKDIR /var/task
"""


class ImageError(RuntimeError):
    """An image could not be made here; the message says why and what to do."""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def log(message: str) -> None:
    print(f"docker-images: {message}", file=sys.stderr, flush=True)


def docker(*args: str, timeout: float = 600, stdin: bytes | None = None) -> str:
    """Run the docker CLI; its stdout, or ImageError with its stderr."""
    proc = subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise ImageError(
            f"docker {' '.join(args[:3])} ... failed ({proc.returncode}):\n"
            + proc.stderr.decode(errors="replace")[-3000:]
        )
    return proc.stdout.decode()


def engine_answers(timeout: float = 10) -> bool:
    """A Docker engine on this Linux machine answers (the tier needs the host network)."""
    if platform.system() != "Linux" or shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


def can_make_base() -> bool:
    """The base image is here, or its tarball, or this process can run debootstrap."""
    if ROOTFS_TARBALL.is_file() or image_label(BASE_IMAGE) is not None:
        return True
    return os.geteuid() == 0 and shutil.which("debootstrap") is not None


def tier_enabled() -> bool:
    """The Docker tier runs: an engine answers on Linux and the local images can be had."""
    return engine_answers() and can_make_base()


def image_label(image: str) -> str | None:
    """The recipe label of a local image, or None when there is no such image."""
    proc = subprocess.run(
        ["docker", "image", "inspect", image], capture_output=True, timeout=60, check=False
    )
    if proc.returncode != 0:
        return None
    labels = json.loads(proc.stdout)[0]["Config"].get("Labels") or {}
    return str(labels.get(LABEL, ""))


# ------------------------------------------------------------------ the Debian root


# containers/python.sh names its root after the same digest of suite and packages.
ROOTFS_RECIPE = hashlib.sha256(
    f"{DEBIAN_SUITE}\n{','.join(DEBIAN_PACKAGES)}\n".encode()
).hexdigest()[:12]
ROOTFS_TARBALL = DOCKER_CACHE / f"{DEBIAN_SUITE}-python{PYTHON_VERSION}-{ROOTFS_RECIPE}.tar"
BASE_IMAGE = f"orders-ci/debian-python:{PYTHON_VERSION}-{DEBIAN_SUITE}-{ROOTFS_RECIPE}"


def rootfs_tarball() -> Path:
    """The Debian root as a tarball, made once per recipe: the root itself is the Lambda
    build's (containers/python.sh: about 30 s warm, 2-3 min cold, reused when there)."""
    if ROOTFS_TARBALL.is_file():
        return ROOTFS_TARBALL
    started = time.monotonic()
    proc = subprocess.run(
        [str(PYTHON_FOR), "--root", PYTHON_VERSION],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if proc.returncode != 0:
        raise ImageError(
            f"{ROOTFS_TARBALL.relative_to(REPO)} is missing and its Debian root could not be "
            f"made: {proc.stderr.strip()[-2000:]}\n(run `sudo make docker-images` once; .ci/run does)"
        )
    root = Path(proc.stdout.strip())
    if not root.name.endswith(ROOTFS_RECIPE):
        raise ImageError(f"containers/python.sh made {root.name}, not the {ROOTFS_RECIPE} recipe")
    DOCKER_CACHE.mkdir(parents=True, exist_ok=True)
    partial = ROOTFS_TARBALL.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
    partial.rename(ROOTFS_TARBALL)
    log(f"Debian {DEBIAN_SUITE} root and its tarball took {time.monotonic() - started:.0f} s")
    return ROOTFS_TARBALL


def base_image() -> str:
    """The root imported as an image (a few seconds); the name to pass as BASE_IMAGE."""
    if image_label(BASE_IMAGE) is None:
        tarball = rootfs_tarball()
        docker("import", "--change", f"LABEL {LABEL}={ROOTFS_RECIPE}", str(tarball), BASE_IMAGE)
        log(f"imported {BASE_IMAGE}")
    return BASE_IMAGE


# ------------------------------------------------------------------ wheels


def _pyproject() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def image_requirements() -> list[str]:
    """What the two Dockerfiles install: the build backend, the service with its server and
    tracing extras (API), the ui extra (UI)."""
    project = _pyproject()
    build: list[str] = project["build-system"]["requires"]  # type: ignore[index]
    meta: dict[str, object] = project["project"]  # type: ignore[assignment]
    extras: dict[str, list[str]] = meta["optional-dependencies"]  # type: ignore[assignment]
    deps: list[str] = meta["dependencies"]  # type: ignore[assignment]
    return [*build, *deps, *extras["server"], *extras["tracing"], *extras["ui"]]


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        timeout=900,
    )


def wheelhouse() -> Path:
    """.cache/wheelhouse with every wheel the images install; remade when they change."""
    requirements = "\n".join(image_requirements()) + "\n"
    stamp = WHEELHOUSE / ".requirements"
    if stamp.is_file() and stamp.read_text() == requirements:
        return WHEELHOUSE
    started = time.monotonic()
    shutil.rmtree(WHEELHOUSE, ignore_errors=True)
    WHEELHOUSE.mkdir(parents=True)
    (WHEELHOUSE / "requirements.txt").write_text(requirements)
    _pip("download", "-d", str(WHEELHOUSE), *PIP_TARGET, "-r", str(WHEELHOUSE / "requirements.txt"))
    stamp.write_text(requirements)
    log(f"wheelhouse took {time.monotonic() - started:.0f} s")
    return WHEELHOUSE


# ------------------------------------------------------------------ the Lambda base


LAMBDA_RECIPE = _digest(ROOTFS_RECIPE, LAMBDA_BOOTSTRAP, LAMBDA_DOCKERFILE, "awslambdaric")


def lambda_image() -> str:
    """LAMBDA_IMAGE built from the base with awslambdaric; SAM's image on top is dropped
    when ours changes (SAM rebuilds it only when it is missing)."""
    if image_label(LAMBDA_IMAGE) == LAMBDA_RECIPE:
        return LAMBDA_IMAGE
    base = base_image()
    with tempfile.TemporaryDirectory(prefix="lambda-base-") as work:
        context = Path(work)
        _pip("install", "--target", str(context / "runtime"), "--no-compile", *PIP_TARGET,
             "awslambdaric")  # fmt: skip
        (context / "Dockerfile").write_text(LAMBDA_DOCKERFILE)
        bootstrap = context / "bootstrap"
        bootstrap.write_text(LAMBDA_BOOTSTRAP)
        bootstrap.chmod(0o755)
        docker(
            "build", "--network", "none", "--build-arg", f"BASE_IMAGE={base}",
            "--label", f"{LABEL}={LAMBDA_RECIPE}", "-t", LAMBDA_IMAGE, str(context),
        )  # fmt: skip
    subprocess.run(["docker", "image", "rm", LAMBDA_RAPID_IMAGE], capture_output=True, check=False)
    log(f"built {LAMBDA_IMAGE}")
    return LAMBDA_IMAGE


def main() -> int:
    if not engine_answers():
        print("docker-images: no Docker engine answers `docker info`", file=sys.stderr)
        return 1
    try:
        base_image()
        lambda_image()
        wheelhouse()
    except ImageError as exc:
        print(f"docker-images: {exc}", file=sys.stderr)
        return 1
    # Untagged build stages of earlier runs: a day of build cache is kept, not more.
    docker("image", "prune", "--force", "--filter", "until=24h")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
