"""What the service does: its traffic over a day and what one request costs in time and bytes."""

from __future__ import annotations

import csv
import math
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from pathlib import Path

Arch = Literal["x86", "arm"]
HOURS_PER_MONTH = 730.0  # AWS's billing month
Shape = Literal["flat", "business", "diurnal"]


def _shape_weights(shape: Shape) -> list[float]:
    """24 hourly multipliers averaging 1.0."""
    if shape == "flat":
        raw = [1.0] * 24
    elif shape == "business":
        # Office hours 08-18 carry most of the day; nights a tenth of that.
        raw = [1.0 if 8 <= hour < 18 else 0.1 for hour in range(24)]
    else:
        # A smooth day: peak at 14:00, trough at 02:00, peak about 3x the trough.
        raw = [2.0 + math.cos((hour - 14) / 24 * 2 * math.pi) for hour in range(24)]
    mean = sum(raw) / len(raw)
    return [value / mean for value in raw]


class TrafficProfile(BaseModel):
    """Requests per second for each hour of a representative period (a day, or a real series)."""

    model_config = ConfigDict(frozen=True)

    hourly_rps: tuple[float, ...] = Field(min_length=1)
    description: str

    @field_validator("hourly_rps")
    @classmethod
    def _not_negative(cls, values: tuple[float, ...]) -> tuple[float, ...]:
        if any(value < 0 or math.isnan(value) for value in values):
            raise ValueError("requests per second must be >= 0")
        return values

    @classmethod
    def from_mean(cls, mean_rps: float, shape: Shape = "flat") -> TrafficProfile:
        if mean_rps < 0:
            raise ValueError("mean requests per second must be >= 0")
        return cls(
            hourly_rps=tuple(mean_rps * weight for weight in _shape_weights(shape)),
            description=f"{mean_rps:g} req/s mean, {shape} day",
        )

    @classmethod
    def from_csv(cls, path: Path) -> TrafficProfile:
        """A CSV with a `requests` column (requests in each hour), one row an hour."""
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or "requests" not in reader.fieldnames:
                raise ValueError(f"{path}: needs a header with a 'requests' column (per hour)")
            rows = [row["requests"] for row in reader]
        if not rows:
            raise ValueError(f"{path}: no rows")
        try:
            hourly = tuple(float(value) / 3600 for value in rows)
        except ValueError as exc:
            raise ValueError(f"{path}: 'requests' must be numbers ({exc})") from None
        return cls(hourly_rps=hourly, description=f"{len(rows)} hours from {path.name}")

    @property
    def mean_rps(self) -> float:
        return sum(self.hourly_rps) / len(self.hourly_rps)

    @property
    def peak_rps(self) -> float:
        return max(self.hourly_rps)

    @property
    def month_scale(self) -> float:
        """How many times the series repeats in a billing month."""
        return HOURS_PER_MONTH / len(self.hourly_rps)

    @property
    def requests_per_month(self) -> float:
        return sum(rps * 3600 for rps in self.hourly_rps) * self.month_scale

    def scaled_to(self, mean_rps: float) -> TrafficProfile:
        """The same shape at another mean (for break-even scans and plots)."""
        if self.mean_rps == 0:
            return TrafficProfile.from_mean(mean_rps)
        factor = mean_rps / self.mean_rps
        return TrafficProfile(
            hourly_rps=tuple(rps * factor for rps in self.hourly_rps),
            description=f"{mean_rps:g} req/s mean, shape of {self.description}",
        )


class Workload(BaseModel):
    """What one request takes. Defaults are assumptions, each stated in `SOURCES`."""

    model_config = ConfigDict(frozen=True)

    duration_ms: float = Field(default=30.0, gt=0, le=86_400_000)
    cpu_ms: float = Field(default=5.0, gt=0)
    payload_kb: float = Field(default=2.0, ge=0)
    write_share: float = Field(default=0.2, ge=0, le=1)
    log_bytes: int = Field(default=700, ge=0)
    event_bytes: int = Field(default=1200, ge=0)


SOURCES: dict[str, str] = {
    "duration_ms": "assumed: warm Lambda duration of one API call with 1-2 DynamoDB round trips "
    "(bench/ measures ~9 ms in-process against moto; AWS adds network time)",
    "cpu_ms": "assumed: CPU time per request on a task (bench/ throughput: a 2-core machine "
    "serves several hundred orders/s); use --stack for a measured figure",
    "payload_kb": "assumed: request + response bytes of an order call",
    "write_share": "assumed: share of requests that write (create/cancel/status)",
    "log_bytes": "the service's JSON access line (orders.observability), measured ~600-800 B",
    "event_bytes": "an OrderCreated/StatusChanged event (events/eventbridge/order-created.json)",
}


class Deployment(BaseModel):
    """The deployment's own settings; defaults are the templates' parameter defaults."""

    model_config = ConfigDict(frozen=True)

    arch: Arch = "x86"
    # template.yaml ApiMemorySize
    lambda_memory_mb: int = Field(default=1024, ge=128, le=10240)
    # cform/fargate.yaml ApiDesiredCount / ApiMaxCount / ApiCpu / ApiMemory and the
    # ApiCpuScaling TargetValue; template.yaml NatGatewayPerAz.
    fargate_min_tasks: int = Field(default=2, ge=1)
    fargate_max_tasks: int = Field(default=6, ge=1)
    fargate_task_vcpu: float = Field(default=0.5, gt=0)
    fargate_task_gb: float = Field(default=1.0, gt=0)
    fargate_target_cpu: float = Field(default=0.60, gt=0, le=1)
    nat_gateways: int = Field(default=1, ge=0)
    # Connections CloudFront opens to the ALB per request (it reuses them) and how long
    # one stays open: the ALB's "new connections" and "active connections" LCU dimensions.
    alb_new_connection_share: float = Field(default=0.05, ge=0, le=1)
    alb_connection_seconds: float = Field(default=60.0, gt=0)
    # Listener rules past the first 10 are billed per evaluation; this service has 2.
    alb_rules: int = Field(default=2, ge=0)
