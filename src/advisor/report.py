"""The advice as a terminal table, as JSON, and with every formula (`--explain`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from advisor.latency import Exposure
    from advisor.model import Estimate
    from advisor.prices import PriceSheet
    from advisor.profile import TrafficProfile, Workload
    from advisor.recommend import Advice


@dataclass(frozen=True)
class Result:
    profile: TrafficProfile
    work: Workload
    prices: PriceSheet
    estimates: tuple[Estimate, ...]
    break_even_rps: float | None
    exposure: Exposure
    advice: Advice
    sources: dict[str, str]


def _label(estimate: Estimate) -> str:
    return f"both@{estimate.fargate_weight}" if estimate.target == "both" else estimate.target


def table(result: Result) -> str:
    out = [
        f"Traffic: {result.profile.description}: {result.profile.requests_per_month:,.0f} requests"
        f" a month, peak {result.profile.peak_rps:,.2f} req/s",
        f"Prices: {result.prices.region}, {result.prices.as_of}"
        f" ({result.prices.source.split('.')[0]})",
        "",
        f"{'target':<12}{'USD/month':>12}",
    ]
    out += [f"{_label(e):<12}{e.total:>12,.2f}" for e in result.estimates]
    shared = result.estimates[0].shared_total
    out.append(
        f"{'shared':<12}{shared:>12,.2f}  (front door, logs, key, table, secret: every target)"
    )
    out.append("")
    if result.break_even_rps is None:
        out.append("Break-even: none below 100,000 req/s (Lambda stays cheaper)")
    else:
        month = result.profile.scaled_to(result.break_even_rps).requests_per_month
        out.append(
            f"Break-even: {result.break_even_rps:,.2f} req/s mean"
            f" ({month / 1e6:,.1f}M requests a month)"
        )
    exp = result.exposure
    out.append(
        f"Latency: Lambda cold starts {exp.cold_share:.2%} of requests,"
        f" p99 ~{exp.lambda_p99_ms:,.0f} ms;"
        f" Fargate p99 ~{exp.fargate_p99_ms:,.0f} ms, scale-out {exp.scale_out_hours} h of"
        f" {len(result.profile.hourly_rps)}"
    )
    out += ["", f"Recommendation: {result.advice.target}"]
    out += [f"  - {reason}" for reason in result.advice.reasons]
    out.append(f"Move there: {result.advice.command}")
    return "\n".join(out)


def explain(result: Result) -> str:
    out = [f"Prices: {result.prices.source}", "Inputs:"]
    out += [
        f"  {name} = {getattr(result.work, name)!r}: {source}"
        for name, source in result.sources.items()
        if hasattr(result.work, name)
    ]
    for estimate in result.estimates:
        out.append(f"\n{_label(estimate)}: ${estimate.total:,.2f}")
        out += [
            f"  {line.name:<32}{line.amount:>12,.4f}  = {line.formula}"
            for line in estimate.lines
            if not line.shared
        ]
        out += [f"  note: {note}" for note in estimate.notes]
    out.append("\nshared (the same on every target, not compared):")
    out += [
        f"  {line.name:<32}{line.amount:>12,.4f}  = {line.formula}"
        for line in result.estimates[0].lines
        if line.shared
    ]
    return "\n".join(out)


def as_json(result: Result) -> dict[str, Any]:
    return {
        "profile": {
            "description": result.profile.description,
            "mean_rps": result.profile.mean_rps,
            "requests_per_month": result.profile.requests_per_month,
        },
        "workload": result.work.model_dump(),
        "prices": {
            "region": result.prices.region,
            "as_of": result.prices.as_of,
            "source": result.prices.source,
        },
        "targets": {
            _label(e): {
                "monthly_usd": round(e.total, 4),
                "lines": [
                    {"name": line.name, "usd": round(line.amount, 6), "formula": line.formula}
                    for line in e.lines
                    if not line.shared
                ],
                "notes": list(e.notes),
            }
            for e in result.estimates
        },
        "shared_monthly_usd": round(result.estimates[0].shared_total, 4),
        "break_even_rps": result.break_even_rps,
        "latency": {
            "lambda_cold_share": result.exposure.cold_share,
            "lambda_p99_ms": result.exposure.lambda_p99_ms,
            "fargate_p99_ms": result.exposure.fargate_p99_ms,
            "fargate_scale_out_hours": result.exposure.scale_out_hours,
        },
        "recommendation": {
            "target": result.advice.target,
            "reasons": list(result.advice.reasons),
            "command": result.advice.command,
        },
    }
