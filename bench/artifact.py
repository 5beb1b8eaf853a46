"""Artifact size: the built function, zipped as Lambda takes it, vs a naive `pip install`.

Naive = `pip install --target` of the same runtime requirements (pyproject's dependencies
plus the tracing extra, aws-xray-sdk) with pip's defaults: whatever pip pulls, .pyc
included, nothing removed. Both are zipped the same way (deflate, level 6).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tomllib
import zipfile
from pathlib import Path

from bench.common import OUT, PYTHON, ROOT, Result, artifact, emit


def requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["tracing"]]


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def zipped_size(root: Path, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for dirpath, dirnames, files in os.walk(root):
            dirnames.sort()
            for name in sorted(files):
                path = Path(dirpath) / name
                archive.write(path, path.relative_to(root))
    return target.stat().st_size


def naive_build() -> Path:
    """pip install --target of the requirements; cached under bench/out by their hash."""
    reqs = requirements()
    key = hashlib.sha256("\n".join(reqs).encode()).hexdigest()[:12]
    target = OUT / "naive" / key
    if not (target / ".done").is_file():
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(
            [
                PYTHON,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(target),
                *reqs,
            ],
            check=True,
        )
        (target / ".done").touch()
    return target


def measure() -> list[Result]:
    art, note = artifact()
    naive = naive_build()
    ours_zip = zipped_size(art, OUT / "zips" / "ours.zip")
    naive_zip = zipped_size(naive, OUT / "zips" / "naive.zip")
    mib = 1024 * 1024
    present = sorted(
        name for name in ("awscrt", "OpenSSL", "pytest", "moto", "uvicorn") if (art / name).exists()
    )
    kept_out = (
        "awscrt, pyOpenSSL, pytest, moto, uvicorn absent" if not present else f"present: {present}"
    )
    return [
        Result(
            "artifact zipped: ours / naive pip install",
            ours_zip / mib,
            naive_zip / mib,
            0.5,
            "<=",
            unit="MiB",
            note=f"{art.relative_to(ROOT)}; {kept_out}" + (f"; {note}" if note else ""),
        ),
        Result(
            "artifact unzipped: ours / naive pip install",
            tree_size(art) / mib,
            tree_size(naive) / mib,
            None,
            unit="MiB",
            note="informational (Lambda's limit is 250 MB unzipped)",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.parse_args()
    emit(measure())


if __name__ == "__main__":
    main()
