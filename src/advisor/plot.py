"""Monthly cost against traffic for each target: a PNG (matplotlib) and an HTML page (altair)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from advisor.model import estimate

if TYPE_CHECKING:
    from pathlib import Path

    from advisor.model import Target
    from advisor.prices import PriceSheet
    from advisor.profile import Deployment, TrafficProfile, Workload

WIDTH_PX, HEIGHT_PX, DPI = 1000, 600, 100


@dataclass(frozen=True)
class Curves:
    rps: tuple[float, ...]
    costs: dict[str, tuple[float, ...]]  # label -> monthly cost at each rps
    break_even: float | None
    profile_rps: float
    weight: int


def curves(
    profile: TrafficProfile,
    work: Workload,
    deploy: Deployment,
    prices: PriceSheet,
    weight: int,
    break_even: float | None,
    points: int = 120,
) -> Curves:
    top = max(profile.mean_rps * 2, (break_even or 0) * 2, 1.0)
    grid = tuple(top * i / (points - 1) for i in range(points))
    labels: tuple[tuple[Target, str], ...] = (
        ("lambda", "lambda"),
        ("fargate", "fargate"),
        ("both", f"both ({weight}% fargate)"),
    )
    costs: dict[str, tuple[float, ...]] = {}
    for target, label in labels:
        costs[label] = tuple(
            estimate(target, profile.scaled_to(rps), work, deploy, prices, weight).total
            for rps in grid
        )
    return Curves(grid, costs, break_even, profile.mean_rps, weight)


def write_png(data: Curves, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    for label, values in data.costs.items():
        axes.plot(data.rps, values, label=label)
    marks = [(data.profile_rps, f"your traffic {data.profile_rps:g} req/s", ":", 30)]
    if data.break_even is not None:
        marks.append((data.break_even, f"break-even {data.break_even:,.1f} req/s", "--", 10))
    for x, text, style, lift in marks:
        axes.axvline(x, linestyle=style, color="dimgrey")
        axes.annotate(text, (x, 0), xytext=(5, lift), textcoords="offset points")
    axes.set_xlabel("mean requests per second (your profile's shape)")
    axes.set_ylabel("USD per month (target only; shared rows excluded)")
    axes.set_title("Monthly cost by target")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.savefig(path, dpi=DPI)
    pyplot.close(figure)
    return path


def chart(data: Curves) -> Any:
    """An altair chart: the HTML page and the UI's Advisor tab draw the same one."""
    import altair

    rows = [
        {"requests/s": rps, "target": label, "USD per month": values[i]}
        for label, values in data.costs.items()
        for i, rps in enumerate(data.rps)
    ]
    lines = (
        altair.Chart(altair.InlineData(values=rows))
        .mark_line()
        .encode(
            x="requests/s:Q",
            y="USD per month:Q",
            color="target:N",
            tooltip=["target:N", "requests/s:Q", "USD per month:Q"],
        )
    )
    marks = [{"requests/s": data.profile_rps, "what": "your traffic"}]
    if data.break_even is not None:
        marks.append({"requests/s": data.break_even, "what": "break-even"})
    rules = (
        altair.Chart(altair.InlineData(values=marks))
        .mark_rule(strokeDash=[4, 4])
        .encode(x="requests/s:Q", tooltip=["what:N", "requests/s:Q"])
    )
    return (
        (lines + rules)
        .properties(title="Monthly cost by target", width=800, height=400)
        .interactive()
    )


def write_html(data: Curves, path: Path) -> Path:
    chart(data).save(str(path))
    return path
