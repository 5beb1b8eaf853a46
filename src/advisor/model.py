"""Monthly cost of each target for a traffic profile: one function per bill, each line traceable.

A `Line` carries its formula with the numbers and prices used, which is what `--explain`
prints. Rows that are the same whatever the target (front door, access logs, KMS, DynamoDB,
the origin secret) are `shared`: shown, never part of the comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from advisor.prices import PriceSheet
    from advisor.profile import Deployment, TrafficProfile, Workload

Target = Literal["lambda", "fargate", "both"]
GIB = 1024**3
# START, END and REPORT lines Lambda writes for every invocation (about 330 bytes together).
LAMBDA_PLATFORM_LOG_BYTES = 330
# Write units of one write request: the order item, its outbox event, the idempotency record.
WRITE_UNITS_PER_WRITE = 3


@dataclass(frozen=True)
class Line:
    name: str
    amount: float
    formula: str
    shared: bool = False


@dataclass(frozen=True)
class Estimate:
    target: Target
    lines: tuple[Line, ...]
    fargate_weight: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> float:
        """What the target itself costs a month: the figure the targets are compared on."""
        return sum(line.amount for line in self.lines if not line.shared)

    @property
    def shared_total(self) -> float:
        return sum(line.amount for line in self.lines if line.shared)


def _money(value: float) -> str:
    return f"${value:,.6g}"


@dataclass(frozen=True)
class Inputs:
    """What one estimate is computed from: traffic, work per request, settings and prices."""

    profile: TrafficProfile
    work: Workload
    deploy: Deployment
    prices: PriceSheet


def lambda_lines(inputs: Inputs, share: float = 1.0) -> list[Line]:
    """Lambda requests and GB-seconds, the HTTP API's requests, the platform's log lines."""
    profile, work, deploy, prices = inputs.profile, inputs.work, inputs.deploy, inputs.prices
    requests = profile.requests_per_month * share
    millions = requests / 1e6
    gb_seconds = requests * work.duration_ms / 1000 * deploy.lambda_memory_mb / 1024
    gb_second_price = prices.lambda_gb_second(deploy.arch)
    platform_gb = requests * LAMBDA_PLATFORM_LOG_BYTES / GIB
    return [
        Line(
            "Lambda requests",
            millions * prices.lambda_request_per_million,
            f"{requests:,.0f} req / 1e6 x {_money(prices.lambda_request_per_million)}",
        ),
        Line(
            f"Lambda compute ({deploy.arch})",
            gb_seconds * gb_second_price,
            f"{requests:,.0f} req x {work.duration_ms:g} ms x {deploy.lambda_memory_mb} MB/1024"
            f" = {gb_seconds:,.1f} GB-s x {_money(gb_second_price)}",
        ),
        Line(
            "HTTP API requests",
            millions * prices.http_api_request_per_million,
            f"{requests:,.0f} req / 1e6 x {_money(prices.http_api_request_per_million)}",
        ),
        Line(
            "Lambda platform log lines",
            platform_gb * prices.logs_ingest_gb,
            f"{requests:,.0f} req x {LAMBDA_PLATFORM_LOG_BYTES} B = {platform_gb:.4f} GiB"
            f" x {_money(prices.logs_ingest_gb)}",
        ),
    ]


def tasks_for(rps: float, work: Workload, deploy: Deployment) -> tuple[int, bool]:
    """Tasks target tracking keeps running at `rps`, and whether even the maximum is too few."""
    demand_vcpu = rps * work.cpu_ms / 1000
    per_task = deploy.fargate_task_vcpu * deploy.fargate_target_cpu
    wanted = math.ceil(demand_vcpu / per_task - 1e-9) if demand_vcpu > 0 else 0
    tasks = min(max(wanted, deploy.fargate_min_tasks), deploy.fargate_max_tasks)
    saturated = demand_vcpu > deploy.fargate_max_tasks * deploy.fargate_task_vcpu
    return tasks, saturated


def _lcu(rps: float, work: Workload, deploy: Deployment) -> float:
    """ALB capacity units for one hour: the largest of the four dimensions."""
    new_per_second = rps * deploy.alb_new_connection_share
    active = new_per_second * deploy.alb_connection_seconds
    gb_per_hour = rps * 3600 * work.payload_kb * 1024 / GIB
    rule_evaluations = max(0, deploy.alb_rules - 10) * rps
    return max(new_per_second / 25, active / 3000, gb_per_hour / 1.0, rule_evaluations / 1000)


def fargate_lines(inputs: Inputs, share: float = 1.0) -> tuple[list[Line], list[str]]:
    """Task vCPU and GB hours, the ALB (hours and LCUs), NAT (hours, IPv4 and GB)."""
    profile, work, deploy, prices = inputs.profile, inputs.work, inputs.deploy, inputs.prices
    task_hours, lcu_hours, saturated_hours = _fargate_hours(profile, work, deploy, share)
    requests = profile.requests_per_month * share
    lines = [
        *_task_lines(task_hours, deploy, prices),
        *_alb_lines(lcu_hours, prices),
        *_nat_lines(requests, work, deploy, prices),
    ]
    notes = []
    if saturated_hours:
        notes.append(
            f"{saturated_hours} of {len(profile.hourly_rps)} hours need more than "
            f"{deploy.fargate_max_tasks} tasks (ApiMaxCount): raise it or expect queueing"
        )
    return lines, notes


def _fargate_hours(
    profile: TrafficProfile, work: Workload, deploy: Deployment, share: float
) -> tuple[float, float, int]:
    """The month's task hours and LCU hours, and how many hours need more than the maximum tasks."""
    scale = profile.month_scale
    task_hours = 0.0
    lcu_hours = 0.0
    saturated_hours = 0
    for rps in profile.hourly_rps:
        tasks, saturated = tasks_for(rps * share, work, deploy)
        task_hours += tasks * scale
        lcu_hours += _lcu(rps * share, work, deploy) * scale
        saturated_hours += saturated
    return task_hours, lcu_hours, saturated_hours


def _task_lines(task_hours: float, deploy: Deployment, prices: PriceSheet) -> list[Line]:
    vcpu_hours = task_hours * deploy.fargate_task_vcpu
    gb_hours = task_hours * deploy.fargate_task_gb
    vcpu_price = prices.fargate_vcpu_hour(deploy.arch)
    gb_price = prices.fargate_gb_hour(deploy.arch)
    return [
        Line(
            f"Fargate vCPU ({deploy.arch})",
            vcpu_hours * vcpu_price,
            f"{task_hours:,.1f} task-h x {deploy.fargate_task_vcpu:g} vCPU x {_money(vcpu_price)}",
        ),
        Line(
            f"Fargate memory ({deploy.arch})",
            gb_hours * gb_price,
            f"{task_hours:,.1f} task-h x {deploy.fargate_task_gb:g} GB x {_money(gb_price)}",
        ),
    ]


def _alb_lines(lcu_hours: float, prices: PriceSheet) -> list[Line]:
    return [
        Line("ALB hours", 730.0 * prices.alb_hour, f"730 h x {_money(prices.alb_hour)}"),
        Line(
            "ALB LCUs",
            lcu_hours * prices.alb_lcu_hour,
            f"{lcu_hours:,.2f} LCU-h (max of new/active connections, GB, rules per hour)"
            f" x {_money(prices.alb_lcu_hour)}",
        ),
    ]


def _nat_lines(
    requests: float, work: Workload, deploy: Deployment, prices: PriceSheet
) -> list[Line]:
    # DynamoDB and S3 go through gateway endpoints (free); logs, events, KMS through NAT.
    nat_gb = requests * (work.log_bytes + work.write_share * work.event_bytes) / GIB
    nat_hours = deploy.nat_gateways * 730.0
    return [
        Line(
            "NAT gateway hours + IPv4",
            nat_hours * (prices.nat_gateway_hour + prices.public_ipv4_hour),
            f"{deploy.nat_gateways} x 730 h x ({_money(prices.nat_gateway_hour)}"
            f" + {_money(prices.public_ipv4_hour)})",
        ),
        Line(
            "NAT gateway data",
            nat_gb * prices.nat_gateway_gb,
            f"{requests:,.0f} req x ({work.log_bytes} B logs + {work.write_share:g} x"
            f" {work.event_bytes} B events) = {nat_gb:.4f} GiB x {_money(prices.nat_gateway_gb)}",
        ),
    ]


def shared_lines(profile: TrafficProfile, work: Workload, prices: PriceSheet) -> list[Line]:
    """The same on every target: front door, access logs, the key, the table, the secret."""
    requests = profile.requests_per_month
    out_gb = requests * work.payload_kb * 1024 / GIB
    log_gb = requests * work.log_bytes / GIB
    writes = requests * work.write_share * WRITE_UNITS_PER_WRITE
    reads = requests * (1 - work.write_share)
    return [
        Line(
            "CloudFront requests",
            requests / 10_000 * prices.cloudfront_https_per_10k,
            f"{requests:,.0f} req / 1e4 x {_money(prices.cloudfront_https_per_10k)}",
            shared=True,
        ),
        Line(
            "CloudFront data out",
            out_gb * prices.cloudfront_gb_out,
            f"{out_gb:.4f} GiB x {_money(prices.cloudfront_gb_out)}",
            shared=True,
        ),
        Line(
            "Access log ingestion",
            log_gb * prices.logs_ingest_gb,
            f"{requests:,.0f} req x {work.log_bytes} B = {log_gb:.4f} GiB"
            f" x {_money(prices.logs_ingest_gb)}",
            shared=True,
        ),
        Line(
            "KMS key", prices.kms_key_month, f"1 key x {_money(prices.kms_key_month)}", shared=True
        ),
        Line(
            "DynamoDB on-demand",
            writes / 1e6 * prices.dynamodb_write_per_million
            + reads / 1e6 * prices.dynamodb_read_per_million,
            f"{writes:,.0f} WRU x {_money(prices.dynamodb_write_per_million)}/1e6 + {reads:,.0f}"
            f" RRU x {_money(prices.dynamodb_read_per_million)}/1e6",
            shared=True,
        ),
        Line(
            "Origin secret",
            prices.secret_month,
            f"1 secret x {_money(prices.secret_month)}",
            shared=True,
        ),
    ]


def estimate(
    target: Target,
    profile: TrafficProfile,
    work: Workload,
    deploy: Deployment,
    prices: PriceSheet,
    fargate_weight: int = 50,
) -> Estimate:
    """One target's month. `both` runs everything of each target; Fargate serves its weight."""
    inputs = Inputs(profile, work, deploy, prices)
    lines: list[Line] = []
    notes: list[str] = []
    if target == "lambda":
        lines += lambda_lines(inputs)
    elif target == "fargate":
        fargate, notes = fargate_lines(inputs)
        lines += fargate
    else:
        share = fargate_weight / 100
        lines += lambda_lines(inputs, share=1 - share)
        fargate, notes = fargate_lines(inputs, share=share)
        lines += fargate
    lines += shared_lines(profile, work, prices)
    weight = fargate_weight if target == "both" else (100 if target == "fargate" else 0)
    return Estimate(target, tuple(lines), weight, tuple(notes))
