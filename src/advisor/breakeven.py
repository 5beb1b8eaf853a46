"""Where Lambda stops being the cheaper target, for a profile's shape."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.model import estimate

if TYPE_CHECKING:
    from advisor.prices import PriceSheet
    from advisor.profile import Deployment, TrafficProfile, Workload


def cost_gap(
    mean_rps: float, profile: TrafficProfile, work: Workload, deploy: Deployment, prices: PriceSheet
) -> float:
    """Lambda's month minus Fargate's at `mean_rps` with the profile's shape."""
    scaled = profile.scaled_to(mean_rps)
    return (
        estimate("lambda", scaled, work, deploy, prices).total
        - estimate("fargate", scaled, work, deploy, prices).total
    )


def break_even(
    profile: TrafficProfile,
    work: Workload,
    deploy: Deployment,
    prices: PriceSheet,
    high: float = 100_000.0,
) -> float | None:
    """The lowest mean req/s at which Lambda costs at least as much as Fargate, or None.

    Lambda's month grows linearly with traffic and Fargate's in steps from a floor, so the
    gap starts negative: a geometric scan brackets its first sign change and bisection
    narrows it to a hundredth of a request per second.
    """
    low = 0.0
    rps = 0.001
    while rps <= high:
        if cost_gap(rps, profile, work, deploy, prices) >= 0:
            break
        low = rps
        rps *= 1.25
    else:
        return None
    top = rps
    while top - low > 0.001:
        mid = (low + top) / 2
        if cost_gap(mid, profile, work, deploy, prices) >= 0:
            top = mid
        else:
            low = mid
    return top
