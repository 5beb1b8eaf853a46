"""The committed samples are exactly what events/generate.py writes, so they cannot drift."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest

from tests.contract.conftest import samples
from tests.contract.replay import API_EVENT_FILES, EVENTS_DIR, event_id, load_event

# Not written by the generator: its inputs, and the dev stack's env file (not ours).
NOT_GENERATED = {"local-env.json"}

if TYPE_CHECKING:
    from pathlib import Path


def committed_files() -> dict[str, str]:
    return {
        str(p.relative_to(EVENTS_DIR)): p.read_text()
        for p in sorted(EVENTS_DIR.rglob("*.json"))
        if p.parent.name != "templates" and p.name not in NOT_GENERATED
    }


def test_committed_samples_equal_the_generators_output() -> None:
    expected = {path: samples.render(document) for path, document in samples.build().items()}
    committed = committed_files()
    assert sorted(committed) == sorted(expected), "run: .venv/bin/python events/generate.py"
    for path, text in expected.items():
        assert committed[path] == text, f"{path} differs: run .venv/bin/python events/generate.py"


@pytest.mark.parametrize("path", API_EVENT_FILES, ids=event_id)
def test_bodies_are_encoded_as_each_source_sends_them(path: Path) -> None:
    """HTTP API bodies are base64 (as sam writes them); REST API and ALB bodies plain text."""
    event = load_event(path)
    body = event.get("body")
    if not body:
        assert event["isBase64Encoded"] is False
        return
    text = base64.b64decode(body).decode() if event["isBase64Encoded"] else body
    assert event["isBase64Encoded"] is (path.parent.name == "apigw-v2")
    if path.stem != "bad-json":
        json.loads(text)


def test_readme_explains_every_directory() -> None:
    readme = (EVENTS_DIR / "README.md").read_text()
    for directory in ("apigw-v2", "apigw-v1", "alb", "dynamodb", "eventbridge", "templates"):
        assert f"{directory}/" in readme, directory
