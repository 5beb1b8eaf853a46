"""Cold-start exposure on Lambda and scale-out exposure on Fargate, for a traffic profile.

Lambda's idle reclaim and recycling times are not published; the figures below are the
commonly observed ones and are parameters, so a user with better numbers can pass them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.model import tasks_for

if TYPE_CHECKING:
    from advisor.profile import Deployment, TrafficProfile, Workload

IDLE_RECLAIM_SECONDS = 600.0  # an environment idle this long is usually gone
ENVIRONMENT_LIFETIME_SECONDS = 7200.0  # busy environments are still recycled about this often
# Measured here (median, one process a run): FastAPI + Mangum + Powertools import and
# initialise in about 1 s.
COLD_START_MS = 1000.0


@dataclass(frozen=True)
class Exposure:
    cold_share: float  # share of requests that meet a cold start on Lambda
    lambda_p99_ms: float
    fargate_p99_ms: float
    scale_out_hours: int  # hours in which Fargate runs more than its minimum tasks
    peak_concurrency: float


def exposure(
    profile: TrafficProfile,
    work: Workload,
    deploy: Deployment,
    cold_start_ms: float = COLD_START_MS,
) -> Exposure:
    cold = 0.0
    total = 0.0
    for rps in profile.hourly_rps:
        if rps <= 0:
            continue
        environments = max(1.0, rps * work.duration_ms / 1000)
        per_environment = rps / environments
        requests = rps * 3600
        # Poisson arrivals: a request meets a cold environment when the gap before it is
        # longer than the idle reclaim; each environment is also replaced every lifetime.
        idle_colds = requests * math.exp(-per_environment * IDLE_RECLAIM_SECONDS)
        recycle_colds = environments * 3600 / ENVIRONMENT_LIFETIME_SECONDS
        cold += min(requests, idle_colds + recycle_colds)
        total += requests
    share = cold / total if total else 0.0
    # p99 meets a cold start when more than 1 request in 100 does.
    lambda_p99 = work.duration_ms + (cold_start_ms if share >= 0.01 else 0.0)
    scale_out = sum(
        tasks_for(rps, work, deploy)[0] > deploy.fargate_min_tasks for rps in profile.hourly_rps
    )
    peak = profile.peak_rps * work.duration_ms / 1000
    return Exposure(share, lambda_p99, work.duration_ms, int(scale_out), peak)
