"""The bench stands on its own: it imports the service and devstack, never the tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", ["bench", "src/devstack"])
def test_no_import_of_the_tests(package: str) -> None:
    files = sorted((ROOT / package).glob("*.py"))
    assert len(files) >= 2, f"no modules found in {package}/"
    offenders = sorted(
        f"{path.name}: {module}"
        for path in files
        for module in imported_modules(path)
        if module == "tests" or module.startswith("tests.")
    )
    assert offenders == []


def test_bench_and_tests_share_the_one_data_plane() -> None:
    """What bench needed from tests.support lives in devstack.moto_plane; both use that copy."""
    from bench import adapter, common, middleware, throughput
    from devstack import moto_plane as dataplane
    from tests import support

    assert support.create_data_plane is dataplane.create_data_plane
    assert support.service_env is dataplane.service_env
    # common.in_process_service for the in-process steps; throughput's server plane itself.
    for module in (common, throughput):
        assert "devstack.moto_plane" in imported_modules(Path(module.__file__ or ""))
    for module in (adapter, middleware):
        assert module.in_process_service is common.in_process_service
