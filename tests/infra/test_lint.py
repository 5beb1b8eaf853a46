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


# A template cfn-lint must flag (E3002: a property the type does not have). Linted in the
# same run as ours, it shows the run reads templates and reports matches: a clean result
# for ours then means clean, not "nothing was linted".
CANARY = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      NoSuchProperty: true
"""


def test_templates_found() -> None:
    # An empty glob would make every parametrized test here vanish rather than fail.
    assert RAW_TEMPLATES[0] == cfn.ROOT_TEMPLATE
    assert {"data.yaml", "fargate.yaml", "ci.yaml"} <= {p.name for p in RAW_TEMPLATES}
    assert all(p.is_file() for p in RAW_TEMPLATES)


@pytest.fixture(scope="module")
def cfn_lint_matches(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """One cfn-lint run (with the serverless rules) over every template, matches per file."""
    canary = tmp_path_factory.mktemp("cfn-lint") / "canary.yaml"
    canary.write_text(CANARY)
    proc = run(
        [tool("cfn-lint"), "-a", "cfn_lint_serverless.rules", "--format", "json", "-t"]
        + [str(p) for p in RAW_TEMPLATES]
        + [str(canary)]
    )
    # Exit code is a bitmask (2 errors, 4 warnings, 8 informational); 1 is a crash.
    assert proc.returncode != 1, proc.stderr
    matches: dict[str, list[str]] = {p.name: [] for p in [*RAW_TEMPLATES, canary]}
    for match in json.loads(proc.stdout or "[]"):
        where = f"{match['Location']['Start']['LineNumber']}"
        matches[Path(match["Filename"]).name].append(
            f"{match['Rule']['Id']} line {where}: {match['Message']}"
        )
    canary_matches = matches.pop(canary.name)
    assert any(m.startswith("E3002 ") for m in canary_matches), (canary_matches, proc.stderr)
    return matches


@pytest.mark.parametrize("path", RAW_TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_clean(cfn_lint_matches: dict[str, list[str]], path: Path) -> None:
    # Errors, warnings and informational matches all count: none is allowed.
    assert cfn_lint_matches[path.name] == []


@pytest.mark.parametrize("path", RAW_TEMPLATES, ids=lambda p: p.name)
def test_every_suppression_says_why(path: Path) -> None:
    """A cfn-lint ignore_checks sits under a comment; a checkov skip carries a comment."""
    text = path.read_text()
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if "ignore_checks" in line:
            above = lines[number - 1].strip()
            assert above.startswith("#"), f"{path.name}:{number + 1}: no comment above"
            assert len(above) > 20, f"{path.name}:{number + 1}: say why"
    template = cfn.load(path)
    resources = template.get("Resources", {})
    ignores = [
        r["Metadata"]["cfn-lint"]["config"]["ignore_checks"]
        for r in resources.values()
        if "ignore_checks" in r.get("Metadata", {}).get("cfn-lint", {}).get("config", {})
    ]
    skips = [
        (name, skip)
        for name, resource in resources.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    # What the loops below read is every suppression the file has, or they prove nothing.
    assert len(ignores) == text.count("ignore_checks"), "an ignore_checks outside a resource"
    assert len(skips) == len(re.findall(r"\bid:\s*CKV", text)), "a checkov skip not parsed"
    for ignore in ignores:
        assert ignore, f"{path.name}: empty ignore_checks"
    for name, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (name, skip)
        assert len(skip.get("comment", "")) >= 20, (name, skip["id"])


def test_templates_have_suppressions_to_check() -> None:
    """Suppressions exist, so test_every_suppression_says_why has something to check."""
    texts = [p.read_text() for p in RAW_TEMPLATES]
    assert any("ignore_checks" in t for t in texts)
    assert any(re.search(r"\bid:\s*CKV", t) for t in texts)
