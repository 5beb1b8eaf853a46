"""Contributor habits that repeat a fact from elsewhere stay equal to it: the pre-commit
hooks run what `make lint` runs, the editor's line length is ruff's, CONTRIBUTING.md
names only targets, paths and markers that exist, and `make unit` is what its help says."""

from __future__ import annotations

import ast
import configparser
import os
import re
import shlex
import subprocess
import tomllib
from typing import Any

import pytest
import yaml

from tests.infra import cfn

PYPROJECT = tomllib.loads((cfn.REPO / "pyproject.toml").read_text())
CONTRIBUTING = (cfn.REPO / "CONTRIBUTING.md").read_text()


def make(*args: str) -> subprocess.CompletedProcess[str]:
    """`make` in the repo, deaf to the make (and its variables) that may be running pytest."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    return subprocess.run(
        ["make", "--no-print-directory", "PYTEST_ARGS=", *args],
        cwd=cfn.REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def make_dry_run(*args: str) -> list[str]:
    """The commands `make` would run, with the venv stamp taken as up to date."""
    proc = make("-n", "-o", ".venv/.installed", *args)
    assert proc.returncode == 0, proc.stderr
    commands = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    assert commands, f"make -n {' '.join(args)} printed no command"
    return commands


def make_targets() -> set[str]:
    """The targets `make help` lists (every target a person is meant to type)."""
    proc = make("help")
    assert proc.returncode == 0, proc.stderr
    targets = {line.split("\t", 1)[0] for line in proc.stdout.splitlines() if "\t" in line}
    assert {"dev", "test", "lint"} <= targets, proc.stdout
    return targets


def hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load((cfn.REPO / ".pre-commit-config.yaml").read_text())
    found = [hook for repo in config["repos"] for hook in repo["hooks"]]
    assert found, "no hook in .pre-commit-config.yaml"
    return found


def test_pre_commit_runs_exactly_what_make_lint_runs() -> None:
    entries = [shlex.split(hook["entry"]) for hook in hooks()]
    lint = [shlex.split(command) for command in make_dry_run("lint")]
    assert sorted(entries) == sorted(lint)


def test_pre_commit_hooks_are_local_and_offline() -> None:
    config = yaml.safe_load((cfn.REPO / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    for hook in hooks():
        assert hook["language"] == "system", hook["id"]
        # The project's own tools, as `make lint` runs them: the whole tree, one version.
        assert hook["entry"].startswith(".venv/bin/"), hook["id"]
        assert hook["pass_filenames"] is False, hook["id"]


def test_editorconfig_line_length_is_ruffs() -> None:
    editorconfig = configparser.ConfigParser()
    editorconfig.read_string((cfn.REPO / ".editorconfig").read_text().replace("root = true", ""))
    assert int(editorconfig["*.py"]["max_line_length"]) == PYPROJECT["tool"]["ruff"]["line-length"]
    assert editorconfig["{Makefile,*.mk}"]["indent_style"] == "tab"


def test_contributing_names_only_make_targets_that_exist() -> None:
    named = set(re.findall(r"`make ([a-z][a-z-]*)", CONTRIBUTING))
    assert {"unit", "contract", "lint", "test"} <= named
    assert named <= make_targets()


def test_contributing_names_only_paths_that_exist() -> None:
    named = set(re.findall(r"`((?:src|tests|cform|events|make)/[^`\s:]+)", CONTRIBUTING))
    assert len(named) > 10, sorted(named)
    missing = sorted(p for p in named if not list(cfn.REPO.glob(p.rstrip("/"))))
    assert missing == []


def test_contributing_names_only_declared_markers() -> None:
    declared = {m.split(":", 1)[0] for m in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]}
    # pytest's -m, not python's (`python -m pytest`).
    expressions = re.findall(r'(?<!python) -m (?:"([^"]+)"|(\w+))', CONTRIBUTING)
    words = {w for quoted, bare in expressions for w in (quoted or bare).split()}
    named = words - {"not", "and", "or"}
    assert named, "CONTRIBUTING.md shows no marker"
    assert named <= declared, named - declared


@pytest.mark.parametrize(
    ("target", "tier"), [("unit", "tests/unit"), ("contract", "tests/contract")]
)
def test_one_tier_targets_run_their_tier_only(target: str, tier: str) -> None:
    (command,) = make_dry_run(target)
    argv = shlex.split(command)
    assert argv[1:] == ["-m", "pytest", tier], argv


def test_unit_tier_starts_no_emulator_and_no_process() -> None:
    """`make unit` promises no AWS emulator, no templates, no processes."""
    forbidden = ("moto", "subprocess", "tests.infra", "tests.support")
    files = sorted((cfn.REPO / "tests" / "unit").glob("test_*.py"))
    assert files, "no test module in tests/unit"
    found = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.FunctionDef):
                # tests/conftest.py's `aws` fixture is moto with the data plane in it.
                names = [f"fixture {a.arg}" for a in node.args.args if a.arg == "aws"]
            else:
                continue
            found += [
                f"{path.name}: {name}"
                for name in names
                if name.startswith("fixture ")
                or any(name == f or name.startswith(f"{f}.") for f in forbidden)
            ]
    assert found == []
