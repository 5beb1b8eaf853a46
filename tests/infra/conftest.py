"""Fixtures for the template tier: tools on PATH, SAM expansion per target, one checkov run.

The expensive steps (aws-sam-translator, checkov, sam build) run once per session and the
tests assert on their cached results, which keeps the tier inside a few minutes on 2 cores.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.infra.tooling import RAW_TEMPLATES, SCENARIOS, expand_root, run, tool


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.infra)


@pytest.fixture(scope="session")
def expanded() -> dict[str, dict[str, Any]]:
    """template.yaml expanded by aws-sam-translator and resolved for each scenario."""
    return {name: expand_root(params) for name, params in SCENARIOS.items()}


@pytest.fixture(scope="session")
def checkov_results(
    expanded: dict[str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One checkov run over every raw template and the expanded root for each target.

    Returns the JSON report plus, per scanned file name, its failed/passed/skipped checks.
    """
    scan = tmp_path_factory.mktemp("checkov")
    for path in RAW_TEMPLATES:
        shutil.copy(path, scan / f"raw-{path.name}")
    for name, template in expanded.items():
        (scan / f"expanded-{name}.json").write_text(json.dumps(template, indent=1))
    proc = run(
        [
            tool("checkov"),
            "-d",
            str(scan),
            "--framework",
            "cloudformation",
            "--skip-download",
            "-o",
            "json",
            "--compact",
        ],
        timeout=600,
    )
    assert proc.stdout.strip(), proc.stderr
    report = json.loads(proc.stdout)
    per_file: dict[str, dict[str, list[Any]]] = {
        p.name: {"passed": [], "failed": [], "skipped": []} for p in scan.iterdir()
    }
    for kind in ("passed", "failed", "skipped"):
        for check in report["results"].get(f"{kind}_checks", []):
            per_file[Path(check["file_path"]).name][kind].append(check)
    return {"report": report, "files": per_file, "proc": proc}
