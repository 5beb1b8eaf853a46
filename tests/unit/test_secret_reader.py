"""The Secrets Manager adapter the origin check reads through: a value, a missing stage, a
failure reported as what it is."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from orders.adapters.secrets import secret_reader
from orders.ports import DependencyUnavailable
from orders.settings import Settings

SETTINGS = Settings(
    table_name="orders-table", bucket_name="orders-bucket", event_bus_name="orders",
    kms_key_id="alias/orders", AWS_REGION="us-east-1", auth_disabled=True,
)  # fmt: skip
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-origin-verify-AbCdEf"


class NotFound(Exception):
    pass


class Throttled(Exception):
    pass


class FakeClient:
    class exceptions:
        ResourceNotFoundException = NotFound

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def get_secret_value(self, SecretId: str, VersionStage: str) -> dict[str, Any]:
        self.calls.append((SecretId, VersionStage))
        answer = self.answers[VersionStage]
        if isinstance(answer, Exception):
            raise answer
        return {"SecretString": answer}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    fake = FakeClient(
        {"AWSCURRENT": "current", "AWSPREVIOUS": NotFound(), "AWSPENDING": Throttled()}
    )
    built: list[str] = []

    class Session:
        def client(self, service: str, config: Any = None) -> FakeClient:
            built.append(service)
            return fake

    monkeypatch.setattr(boto3.session, "Session", Session)
    fake.built = built  # type: ignore[attr-defined]
    return fake


def test_reads_a_stage_and_builds_one_client_on_first_use(client: FakeClient) -> None:
    read = secret_reader(SETTINGS)
    assert client.built == []  # type: ignore[attr-defined]
    assert read(ARN, "AWSCURRENT") == "current"
    assert read(ARN, "AWSCURRENT") == "current"
    assert client.built == ["secretsmanager"]  # type: ignore[attr-defined]
    assert client.calls == [(ARN, "AWSCURRENT")] * 2


def test_a_missing_stage_is_none(client: FakeClient) -> None:
    assert secret_reader(SETTINGS)(ARN, "AWSPREVIOUS") is None


def test_a_failure_is_a_dependency_failure_named_by_its_cause(client: FakeClient) -> None:
    with pytest.raises(DependencyUnavailable) as raised:
        secret_reader(SETTINGS)(ARN, "AWSPENDING")
    assert (raised.value.dependency, raised.value.reason) == ("secretsmanager", "Throttled")
