"""checkov: no failed check and no parse error on any template, raw or expanded per target."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.tooling import RAW_TEMPLATES, SCENARIOS

SCANNED = [f"raw-{p.name}" for p in RAW_TEMPLATES] + [f"expanded-{n}.json" for n in SCENARIOS]


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


@pytest.mark.parametrize("name", SCANNED)
def test_checkov_skips_have_reasons(checkov_results: dict[str, Any], name: str) -> None:
    for check in checkov_results["files"][name]["skipped"]:
        reason = check.get("check_result", {}).get("suppress_comment", "")
        assert len(reason) >= 20, (
            f"{check['check_id']} on {check['resource']} skipped without a reason"
        )
