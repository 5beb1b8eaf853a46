"""`orders-advise --stack`: a deployed stack's traffic and timings read from CloudWatch (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from advisor import cli
from advisor.stack_metrics import read_stack
from devstack.envs import FAKE_CREDENTIALS
from tests.env import set_env

if TYPE_CHECKING:
    from collections.abc import Iterator

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
FUNCTION_STACK = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                        }
                    ],
                }
            },
        },
        "ApiFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "FunctionName": "orders-api",
                "Runtime": "python3.11",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
            },
        },
    }
}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    set_env(monkeypatch, {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1"})
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def _put(namespace: str, name: str, dimensions: dict[str, str], per_hour: dict[int, float]) -> None:
    cloudwatch = boto3.client("cloudwatch")
    for hours_ago, value in per_hour.items():
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": name,
                    "Value": value,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    "Timestamp": NOW - timedelta(hours=hours_ago, minutes=-10),
                }
            ],
        )


@pytest.mark.usefixtures("aws")
def test_traffic_and_duration_come_from_the_stacks_metrics() -> None:
    boto3.client("cloudformation").create_stack(
        StackName="orders-prod", TemplateBody=json.dumps(FUNCTION_STACK)
    )
    # 7,200 requests in each of the last 3 hours of a 1-day window: 2 req/s for 3 of 24 hours
    _put("OrdersService", "Requests", {"service": "orders"}, {1: 7200, 2: 7200, 3: 7200})
    _put("OrdersService", "Latency", {"service": "orders"}, {1: 80, 2: 80})
    _put("AWS/Lambda", "Duration", {"FunctionName": "orders-api"}, {1: 40, 2: 60})
    reading = read_stack(
        "orders-prod", 1, boto3.client("cloudwatch"), boto3.client("cloudformation"), now=NOW
    )
    assert len(reading.profile.hourly_rps) == 24
    assert sorted(reading.profile.hourly_rps)[-3:] == [2.0, 2.0, 2.0]
    assert reading.profile.mean_rps == pytest.approx(6 / 24)
    assert reading.duration_ms == pytest.approx(50)  # Lambda's own Duration wins over Latency
    assert reading.notes == ()


@pytest.mark.usefixtures("aws")
def test_without_the_function_the_services_latency_stands_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _put("OrdersService", "Requests", {"service": "orders"}, {1: 3600})
    _put("OrdersService", "Latency", {"service": "orders"}, {1: 25})
    reading = read_stack(
        "gone", 2, boto3.client("cloudwatch"), boto3.client("cloudformation"), now=NOW
    )
    assert reading.duration_ms == pytest.approx(25)
    assert "no ApiFunction" in reading.notes[0]
    assert cli.main(["--stack", "gone", "--days", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["workload"]["duration_ms"] == pytest.approx(25)
    assert data["profile"]["description"] == "gone, last 2 days"


@pytest.mark.usefixtures("aws")
def test_a_stack_without_traffic_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--stack", "quiet", "--days", "3"]) == 2
    assert "no Requests metric" in capsys.readouterr().err
    assert cli.main(["--stack", "quiet", "--days", "90"]) == 2
    assert "1..63" in capsys.readouterr().err
