"""checkov: no failed check and no parse error on any template, raw or expanded per target."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra import cfn
from tests.infra.tooling import RAW_TEMPLATES, SCENARIOS

SCANNED = [f"raw-{p.name}" for p in RAW_TEMPLATES] + [f"expanded-{n}.json" for n in SCENARIOS]


def scanned_templates(expanded: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each scanned file's template, as the fixture wrote it for checkov."""
    raw = {f"raw-{p.name}": cfn.load(p) for p in RAW_TEMPLATES}
    return raw | {f"expanded-{name}.json": template for name, template in expanded.items()}


def declared_skips(template: dict[str, Any]) -> set[tuple[str, str]]:
    """(logical id, check id) of every skip in the resources' Metadata.checkov."""
    return {
        (name, skip["id"])
        for name, resource in template.get("Resources", {}).items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    }


def test_checkov_scanned_every_template(checkov_results: dict[str, Any]) -> None:
    # An empty glob would make every parametrized test below vanish rather than fail.
    assert cfn.ROOT_TEMPLATE in RAW_TEMPLATES
    assert cfn.CFORM / "data.yaml" in RAW_TEMPLATES
    assert set(SCENARIOS) == {"lambda", "fargate", "both", "both-50"}
    assert sorted(checkov_results["files"]) == sorted(SCANNED)


def test_checkov_parsed_everything(checkov_results: dict[str, Any]) -> None:
    # checkov exits 0 on a YAML parse error, so the summary is the only honest signal.
    summary = checkov_results["report"]["summary"]
    assert summary["parsing_errors"] == 0, checkov_results["proc"].stderr
    assert summary["resource_count"] > 0


@pytest.mark.parametrize("name", SCANNED)
def test_checkov_passes(checkov_results: dict[str, Any], name: str) -> None:
    results = checkov_results["files"][name]
    assert results["passed"], f"checkov checked nothing in {name}: not parsed?"
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in results["failed"]]
    assert failed == []


def test_templates_declare_skips() -> None:
    """The templates do skip checks (each with its reason), so the test below has input."""
    assert any(declared_skips(cfn.load(path)) for path in RAW_TEMPLATES)


@pytest.mark.parametrize("name", SCANNED)
def test_checkov_skips_are_the_declared_ones_with_reasons(
    checkov_results: dict[str, Any], expanded: dict[str, dict[str, Any]], name: str
) -> None:
    """checkov skipped exactly what the template's Metadata asks, no more and no fewer: a
    skip it did not read (or one for a check that never runs there) fails here."""
    skipped = checkov_results["files"][name]["skipped"]
    applied = {(check["resource"].rsplit(".", 1)[-1], check["check_id"]) for check in skipped}
    assert applied == declared_skips(scanned_templates(expanded)[name])
    for check in skipped:
        reason = check.get("check_result", {}).get("suppress_comment", "")
        assert len(reason) >= 20, (
            f"{check['check_id']} on {check['resource']} skipped without a reason"
        )
