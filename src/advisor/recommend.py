"""The advice: a target, its reasons, and the command that moves there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.latency import Exposure
    from advisor.model import Estimate
    from advisor.profile import TrafficProfile, Workload

LAMBDA_MAX_DURATION_MS = 15 * 60 * 1000
LAMBDA_MAX_PAYLOAD_KB = 6 * 1024  # synchronous invocation, request or response


@dataclass(frozen=True)
class Advice:
    target: str
    reasons: tuple[str, ...]
    command: str


def recommend(
    lambda_month: Estimate,
    fargate_month: Estimate,
    exposure: Exposure,
    profile: TrafficProfile,
    work: Workload,
    break_even_rps: float | None,
) -> Advice:
    reasons: list[str] = []
    if work.duration_ms > LAMBDA_MAX_DURATION_MS:
        return _advice(
            "fargate", [f"a request takes {work.duration_ms:g} ms: over Lambda's 15-minute limit"]
        )
    if work.payload_kb > LAMBDA_MAX_PAYLOAD_KB:
        return _advice(
            "fargate", [f"payloads of {work.payload_kb:g} KB exceed Lambda's 6 MB limit"]
        )
    cheaper = "lambda" if lambda_month.total <= fargate_month.total else "fargate"
    dearer = fargate_month if cheaper == "lambda" else lambda_month
    chosen = lambda_month if cheaper == "lambda" else fargate_month
    reasons.append(
        f"{cheaper} costs ${chosen.total:,.2f} a month against ${dearer.total:,.2f}"
        f" on {dearer.target}"
        f" at {profile.mean_rps:g} req/s mean"
    )
    if break_even_rps is not None:
        reasons.append(
            f"break-even at {break_even_rps:,.2f} req/s mean "
            f"({break_even_rps / max(profile.mean_rps, 1e-9):,.1f}x this traffic)"
        )
    else:
        reasons.append("no break-even below 100,000 req/s: Lambda stays cheaper")
    if cheaper == "lambda" and exposure.cold_share >= 0.01:
        reasons.append(
            f"{exposure.cold_share:.1%} of requests meet a cold start, so p99 is about "
            f"{exposure.lambda_p99_ms:,.0f} ms (SnapStart or provisioned concurrency lower it)"
        )
    elif cheaper == "lambda":
        reasons.append(f"cold starts reach {exposure.cold_share:.2%} of requests: below p99")
    if cheaper == "fargate" and exposure.scale_out_hours:
        reasons.append(
            f"{exposure.scale_out_hours} hours a day need scale-out, which takes a minute or two"
        )
    reasons.extend(fargate_month.notes if cheaper == "fargate" else ())
    return _advice(cheaper, reasons)


def _advice(target: str, reasons: list[str]) -> Advice:
    return Advice(target, tuple(reasons), f"make deploy TARGET={target}")
