"""One call from inputs to advice: what the CLI and the UI's Advisor tab both run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.breakeven import break_even
from advisor.latency import COLD_START_MS, exposure
from advisor.model import estimate
from advisor.profile import SOURCES
from advisor.recommend import recommend
from advisor.report import Result

if TYPE_CHECKING:
    from advisor.prices import PriceSheet
    from advisor.profile import Deployment, TrafficProfile, Workload


def advise(
    profile: TrafficProfile,
    work: Workload,
    deploy: Deployment,
    prices: PriceSheet,
    weight: int = 50,
    cold_start_ms: float = COLD_START_MS,
    sources: dict[str, str] | None = None,
) -> Result:
    if not 0 <= weight <= 100:
        raise ValueError("the Fargate weight of `both` is a percentage, 0..100")
    on_lambda = estimate("lambda", profile, work, deploy, prices)
    on_fargate = estimate("fargate", profile, work, deploy, prices)
    on_both = estimate("both", profile, work, deploy, prices, weight)
    even = break_even(profile, work, deploy, prices)
    exp = exposure(profile, work, deploy, cold_start_ms)
    advice = recommend(on_lambda, on_fargate, exp, profile, work, even)
    return Result(
        profile,
        work,
        prices,
        (on_lambda, on_fargate, on_both),
        even,
        exp,
        advice,
        {**SOURCES, **(sources or {})},
    )
