"""A deployed stack's own traffic and timings, from CloudWatch, as the advisor's inputs.

Reads the service's EMF metrics (namespace OrdersService: `Requests`, `Latency`), Lambda's
`Duration` for the stack's ApiFunction and ECS's `CPUUtilization` for its API service.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from advisor.profile import TrafficProfile

log = logging.getLogger(__name__)

NAMESPACE = "OrdersService"  # orders.observability.NAMESPACE, without importing the service
SERVICE = "orders"
HOUR = 3600


@dataclass(frozen=True)
class StackReading:
    profile: TrafficProfile
    duration_ms: float | None
    cpu_utilisation: float | None
    notes: tuple[str, ...] = field(default=())


def _query(
    qid: str, namespace: str, metric: str, dimensions: dict[str, str], stat: str
) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": HOUR,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def _series(
    cloudwatch: Any, queries: list[dict[str, Any]], start: datetime, end: datetime
) -> dict[str, dict[datetime, float]]:
    found: dict[str, dict[datetime, float]] = {query["Id"]: {} for query in queries}
    paginator = cloudwatch.get_paginator("get_metric_data")
    for page in paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end):
        for result in page["MetricDataResults"]:
            values = found[result["Id"]]
            for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                values[stamp.replace(minute=0, second=0, microsecond=0)] = float(value)
    return found


def _resource(cloudformation: Any, stack: str, logical_id: str) -> str | None:
    """The physical id of `logical_id` in `stack`, or None when there is none."""
    try:
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=stack):
            for resource in page["StackResourceSummaries"]:
                if resource["LogicalResourceId"] == logical_id:
                    return str(resource["PhysicalResourceId"])
    except ClientError as exc:
        log.warning("cannot list the resources of %s: %s", stack, exc)
    return None


def _mean(values: dict[datetime, float]) -> float | None:
    return sum(values.values()) / len(values) if values else None


def read_stack(
    stack: str, days: int, cloudwatch: Any, cloudformation: Any, now: datetime | None = None
) -> StackReading:
    if not 1 <= days <= 63:
        raise ValueError("--days must be 1..63 (hourly CloudWatch data is kept 63 days)")
    end = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    queries = [
        _query("requests", NAMESPACE, "Requests", {"service": SERVICE}, "Sum"),
        _query("latency", NAMESPACE, "Latency", {"service": SERVICE}, "Average"),
    ]
    notes: list[str] = []
    function = _resource(cloudformation, stack, "ApiFunction")
    if function:
        queries.append(
            _query("duration", "AWS/Lambda", "Duration", {"FunctionName": function}, "Average")
        )
    else:
        notes.append("no ApiFunction in the stack: Lambda duration from the service's Latency")
    fargate = _resource(cloudformation, stack, "FargateStack")
    cluster = _resource(cloudformation, fargate, "Cluster") if fargate else None
    service = _resource(cloudformation, fargate, "ApiService") if fargate else None
    if cluster and service:
        queries.append(
            _query(
                "cpu",
                "AWS/ECS",
                "CPUUtilization",
                {"ClusterName": cluster, "ServiceName": service.rsplit("/", 1)[-1]},
                "Average",
            )
        )
    series = _series(cloudwatch, queries, start, end)
    if not series["requests"]:
        raise ValueError(f"no Requests metric for service {SERVICE!r} in the last {days} days")
    hours = [start + timedelta(hours=i) for i in range(days * 24)]
    hourly = tuple(series["requests"].get(hour, 0.0) / HOUR for hour in hours)
    duration = _mean(series.get("duration", {})) or _mean(series["latency"])
    profile = TrafficProfile(hourly_rps=hourly, description=f"{stack}, last {days} days")
    return StackReading(profile, duration, _mean(series.get("cpu", {})), tuple(notes))
