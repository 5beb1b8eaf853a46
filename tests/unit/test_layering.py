"""Imports go one way: domain <- service/publishing <- api; AWS only in adapters.

Read from the source (no import runs), so a leak fails here before review.
Imports under `if TYPE_CHECKING:` are only for the type checker and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
AWS_SDK = ("boto3", "botocore", "mypy_boto3")
# Where production adapters may be named: the wiring, and the stream entry point.
WIRING = {"orders.bootstrap", "orders.outbox"}


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted((SRC / "orders").rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def runtime_imports(path: Path) -> set[str]:
    """Every module the file imports when it runs (anywhere in it, functions included)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


def _under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(f"{p}.") for p in packages)


def test_the_source_tree_is_found() -> None:
    assert {"orders.domain.model", "orders.service", "orders.adapters.dynamodb"} <= set(MODULES)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _under(m, "orders.adapters")))
def test_the_aws_sdk_is_imported_only_by_adapters(module: str) -> None:
    leaks = {i for i in runtime_imports(MODULES[module]) if _under(i, *AWS_SDK)}
    assert leaks == set()


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _under(m, "orders.domain")))
def test_the_domain_imports_nothing_of_the_service_around_it(module: str) -> None:
    outside = {
        i
        for i in runtime_imports(MODULES[module])
        if _under(i, "orders") and not _under(i, "orders.domain")
    }
    assert outside == set()


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if not _under(m, "orders.adapters", *WIRING))
)
def test_only_the_wiring_names_the_adapters(module: str) -> None:
    assert {i for i in runtime_imports(MODULES[module]) if _under(i, "orders.adapters")} == set()


@pytest.mark.parametrize("module", ["orders.service", "orders.publishing", "orders.ports"])
def test_the_use_cases_know_no_http(module: str) -> None:
    imports = runtime_imports(MODULES[module])
    assert {i for i in imports if _under(i, "fastapi", "starlette", "orders.api")} == set()


@pytest.mark.parametrize("module", sorted(m for m in MODULES if ".routes_" in m))
def test_routers_do_not_import_each_other(module: str) -> None:
    others = {i for i in runtime_imports(MODULES[module]) if ".routes_" in i}
    assert others == set()
