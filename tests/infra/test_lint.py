"""sam validate --lint and cfn-lint (with the serverless rules) on every template."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.infra import cfn
from tests.infra.tooling import RAW_TEMPLATES, run, tool


def test_sam_validate_lint() -> None:
    proc = run([tool("sam"), "validate", "--lint", "--template", str(cfn.ROOT_TEMPLATE)])
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def cfn_lint_matches() -> dict[str, list[str]]:
    """One cfn-lint run (with the serverless rules) over every template, matches per file."""
    proc = run(
        [tool("cfn-lint"), "-a", "cfn_lint_serverless.rules", "--format", "json", "-t"]
        + [str(p) for p in RAW_TEMPLATES]
    )
    # Exit code is a bitmask (2 errors, 4 warnings, 8 informational); 1 is a crash.
    assert proc.returncode != 1, proc.stderr
    matches: dict[str, list[str]] = {p.name: [] for p in RAW_TEMPLATES}
    for match in json.loads(proc.stdout or "[]"):
        where = f"{match['Location']['Start']['LineNumber']}"
        matches[Path(match["Filename"]).name].append(
            f"{match['Rule']['Id']} line {where}: {match['Message']}"
        )
    if proc.returncode == 0:
        assert not any(matches.values())
    return matches


@pytest.mark.parametrize("path", RAW_TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_clean(cfn_lint_matches: dict[str, list[str]], path: Path) -> None:
    # Errors, warnings and informational matches all count: none is allowed.
    assert cfn_lint_matches[path.name] == []


@pytest.mark.parametrize("path", RAW_TEMPLATES, ids=lambda p: p.name)
def test_every_suppression_says_why(path: Path) -> None:
    """A cfn-lint ignore_checks sits under a comment; a checkov skip carries a comment."""
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines):
        if "ignore_checks" in line:
            above = lines[number - 1].strip()
            assert above.startswith("#"), f"{path.name}:{number + 1}: no comment above"
            assert len(above) > 20, f"{path.name}:{number + 1}: say why"
    template = cfn.load(path)
    for name, resource in template.get("Resources", {}).items():
        skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
        for skip in skips:
            assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
            assert len(skip.get("comment", "")) >= 20, (name, skip["id"])
