"""The UI reads the API's answers with the API's own models (orders.api.models), so the UI image
holds those modules too. What ui.client imports, module by module down to the packages'
__init__ files, must stay light: no FastAPI, no AWS SDK, no Powertools, nothing of the
service's runtime. Read from the source (no import runs, no process starts); the infra tier
imports it from the image's file tree (tests/infra/test_containers.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_layering import runtime_imports

SRC = Path(__file__).resolve().parents[2] / "src"
# The service's runtime, none of it in the ui extra's reach for ui.client (boto3 is in the
# extra for sign-in, ui.auth, but the client that reads the API's answers needs none).
SERVICE_ONLY = (
    "fastapi",
    "starlette",
    "mangum",
    "boto3",
    "botocore",
    "aws_lambda_powertools",
    "pydantic_settings",
    "joserfc",
    "granian",
    "uvicorn",
)


def source_of(module: str) -> Path | None:
    """The file under src/ that `module` is, or None if it is not ours."""
    base = SRC.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def closure(root: str) -> tuple[set[str], set[str]]:
    """(our modules, other top-level packages) that importing `root` can reach: its imports,
    theirs, and every package __init__ on the way (Python runs those first)."""
    ours: set[str] = set()
    others: set[str] = set()
    pending = [root]
    while pending:
        module = pending.pop()
        parts = module.split(".")
        for name in (".".join(parts[:n]) for n in range(1, len(parts) + 1)):
            path = source_of(name)
            if path is None:
                # `from orders.api.models import OrderPublic` also names orders.api.models.OrderPublic
                if source_of(parts[0]) is None:
                    others.add(parts[0])
                continue
            if name not in ours:
                ours.add(name)
                pending.extend(runtime_imports(path))
    return ours, others


def test_the_closure_follows_imports_and_packages() -> None:
    ours, others = closure("ui.client")
    assert {"ui", "ui.client", "orders", "orders.api", "orders.api.models"} <= ours
    assert "orders.domain.model" in ours  # through orders.api.models
    assert {"httpx", "pydantic"} <= others


def test_the_clients_imports_are_light() -> None:
    ours, others = closure("ui.client")
    assert not {m for m in others if m in SERVICE_ONLY}, sorted(others)
    # Of the service, the response models and the domain: its routes and wiring import FastAPI.
    service = {m for m in ours if m.startswith("orders.")}
    domain = {m for m in service if m.startswith("orders.domain")}
    assert service - domain == {"orders.api", "orders.api.models"}, sorted(service)


@pytest.mark.parametrize("package", ["orders", "orders.api", "orders.domain"])
def test_the_packages_the_ui_passes_through_import_nothing(package: str) -> None:
    """Importing orders.api.models runs these first: they stay docstrings and constants."""
    path = source_of(package)
    assert path is not None
    assert runtime_imports(path) == set()
