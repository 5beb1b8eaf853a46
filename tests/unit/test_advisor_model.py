"""The advisor's cost model against worked examples done by hand from the shipped prices.

Defaults (src/advisor/profile.py): 30 ms, 1024 MB, 5 ms CPU, 2 KB payload, 700 B access
line, 1200 B events on 20% writes; Fargate 2..6 tasks of 0.5 vCPU/1 GB at 60% CPU; 1 NAT.
A month is 730 h, so r req/s is r x 2,628,000 requests. GiB = 2^30 bytes.

Lambda x86 at r req/s, n = r x 2,628,000:
  n/1e6 x 0.20 + n x 0.030 s x 1 GB x 0.0000166667 + n/1e6 x 1.00 + n x 330 B / 2^30 x 0.50
  1 req/s: 0.5256 + 1.3140 + 2.6280 + 0.4038 = 4.8714
Fargate x86 idle: 1460 task-h x (0.5 x 0.04048 + 1 x 0.004445) + 730 x 0.0225 + 730 x (0.045 + 0.005)
  = 29.5504 + 6.4897 + 16.4250 + 36.5000 = 88.9651
  plus at r req/s: LCU-h = r x 3600 x 2048 / 2^30 x 730 (bytes dominate) x 0.008
                   NAT GB = n x (700 + 0.2 x 1200) / 2^30 x 0.045
  1 req/s: 88.9651 + 0.0401 + 0.1035 = 89.1087
arm: GB-s 0.0000133334; vCPU-h 0.03238, GB-h 0.00356.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.breakeven import break_even, cost_gap
from advisor.latency import exposure
from advisor.model import estimate, tasks_for
from advisor.prices import load_snapshot
from advisor.profile import Deployment, TrafficProfile, Workload
from advisor.recommend import Advice, recommend

PRICES = load_snapshot()
WORK = Workload()

# (arch, req/s, lambda USD, fargate USD), each worked out by hand as in the module docstring.
WORKED = [
    ("x86", 0, 0.00, 88.97),
    ("x86", 1, 4.87, 89.11),
    ("x86", 10, 48.71, 90.40),
    ("x86", 100, 487.14, 103.33),
    ("arm", 0, 0.00, 81.76),
    ("arm", 1, 4.61, 81.90),
    ("arm", 10, 46.09, 83.20),
    ("arm", 100, 460.86, 96.12),
]


@pytest.mark.parametrize(("arch", "rps", "on_lambda", "on_fargate"), WORKED)
def test_worked_examples_within_a_cent(
    arch: str, rps: float, on_lambda: float, on_fargate: float
) -> None:
    profile = TrafficProfile.from_mean(rps)
    deploy = Deployment(arch=arch)
    assert estimate("lambda", profile, WORK, deploy, PRICES).total == pytest.approx(
        on_lambda, abs=0.01
    )
    assert estimate("fargate", profile, WORK, deploy, PRICES).total == pytest.approx(
        on_fargate, abs=0.01
    )


def test_shared_rows_are_the_same_on_every_target_and_not_compared() -> None:
    profile = TrafficProfile.from_mean(10)
    months = [
        estimate(t, profile, WORK, Deployment(), PRICES) for t in ("lambda", "fargate", "both")
    ]
    assert len({round(m.shared_total, 9) for m in months}) == 1
    # 26,280,000 req / 1e4 x 0.01 = 26.28 for CloudFront requests alone
    assert months[0].shared_total > 26.28
    assert all(m.total < m.total + m.shared_total for m in months)


def test_both_is_each_target_at_its_share() -> None:
    profile = TrafficProfile.from_mean(10)
    deploy = Deployment()
    idle_fargate = estimate("fargate", TrafficProfile.from_mean(0), WORK, deploy, PRICES).total
    on_lambda = estimate("lambda", profile, WORK, deploy, PRICES).total
    on_fargate = estimate("fargate", profile, WORK, deploy, PRICES).total
    assert estimate("both", profile, WORK, deploy, PRICES, 0).total == pytest.approx(
        on_lambda + idle_fargate
    )
    assert estimate("both", profile, WORK, deploy, PRICES, 100).total == pytest.approx(on_fargate)


def test_tasks_follow_the_autoscaling_target_between_min_and_max() -> None:
    deploy = Deployment()
    # 200 req/s x 5 ms = 1.0 vCPU; a task gives 0.5 x 60% = 0.3 -> 4 tasks
    assert tasks_for(200, WORK, deploy) == (4, False)
    assert tasks_for(0, WORK, deploy) == (2, False)
    # 1000 req/s = 5 vCPU > 6 tasks x 0.5 vCPU: capped and saturated
    assert tasks_for(1000, WORK, deploy) == (6, True)
    saturated = estimate("fargate", TrafficProfile.from_mean(1000), WORK, deploy, PRICES)
    assert any("ApiMaxCount" in note for note in saturated.notes)


@pytest.mark.parametrize("arch", ["x86", "arm"])
@pytest.mark.parametrize("shape", ["flat", "business"])
def test_break_even_matches_a_brute_force_scan(arch: str, shape: str) -> None:
    profile = TrafficProfile.from_mean(1, shape)  # type: ignore[arg-type]
    deploy = Deployment(arch=arch)
    found = break_even(profile, WORK, deploy, PRICES)
    assert found is not None
    step = 0.01
    scan = next(
        i * step for i in range(1, 10_000) if cost_gap(i * step, profile, WORK, deploy, PRICES) >= 0
    )
    assert found == pytest.approx(scan, abs=step)
    # and it is where the two months meet
    assert abs(cost_gap(found, profile, WORK, deploy, PRICES)) < 0.5


def test_cold_starts_dominate_a_quiet_service_and_vanish_on_a_busy_one() -> None:
    deploy = Deployment()
    quiet = exposure(TrafficProfile.from_mean(0.0005), WORK, deploy)  # ~2 requests an hour
    busy = exposure(TrafficProfile.from_mean(100), WORK, deploy)
    assert quiet.cold_share > 0.5
    assert quiet.lambda_p99_ms > 1000
    assert busy.cold_share < 0.01
    assert busy.lambda_p99_ms == WORK.duration_ms


def _advice(rps: float, work: Workload = WORK) -> Advice:
    profile = TrafficProfile.from_mean(rps)
    deploy = Deployment()
    lam = estimate("lambda", profile, work, deploy, PRICES)
    far = estimate("fargate", profile, work, deploy, PRICES)
    return recommend(
        lam,
        far,
        exposure(profile, work, deploy),
        profile,
        work,
        break_even(profile, work, deploy, PRICES),
    )


def test_recommendation_follows_cost_and_lambda_limits() -> None:
    assert _advice(1).target == "lambda"
    assert _advice(1).command == "make deploy TARGET=lambda"
    assert _advice(100).target == "fargate"
    assert _advice(100).command == "make deploy TARGET=fargate"
    long_job = _advice(0.01, Workload(duration_ms=16 * 60 * 1000))
    assert long_job.target == "fargate"
    assert "15-minute" in long_job.reasons[0]
    assert _advice(0.01, Workload(payload_kb=8 * 1024)).target == "fargate"


def test_profile_shapes_keep_the_mean_and_csv_errors_are_clear(tmp_path: Path) -> None:
    for shape in ("flat", "business", "diurnal"):
        assert TrafficProfile.from_mean(7, shape).mean_rps == pytest.approx(7)
    good = tmp_path / "hours.csv"
    good.write_text("hour,requests\n0,3600\n1,7200\n")
    assert TrafficProfile.from_csv(good).hourly_rps == (1.0, 2.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("hour,count\n0,1\n")
    with pytest.raises(ValueError, match="'requests' column"):
        TrafficProfile.from_csv(bad)
    with pytest.raises(ValueError, match=">= 0"):
        TrafficProfile(hourly_rps=(-1.0,), description="x")
