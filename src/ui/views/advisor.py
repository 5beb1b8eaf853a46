"""The Advisor tab: `orders-advise` in the browser, for a traffic the user types in.

It runs the advisor's model in the UI process (no API call), so it works while the API is
down and on any target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import streamlit as st

from advisor.advise import advise
from advisor.plot import chart, curves
from advisor.prices import load_snapshot
from advisor.profile import Deployment, TrafficProfile, Workload
from advisor.report import as_json

if TYPE_CHECKING:
    from advisor.profile import Arch, Shape


def render_advisor() -> None:
    st.subheader("Which target is cheaper for your traffic?")
    prices = load_snapshot()
    left, middle, right = st.columns(3)
    rps = left.number_input(
        "Mean requests per second",
        min_value=0.0,
        max_value=10_000.0,
        value=1.0,
        step=1.0,
        key="advisor_rps",
    )
    shape = cast(
        "Shape", left.selectbox("Daily shape", ["flat", "business", "diurnal"], key="advisor_shape")
    )
    duration = middle.number_input(
        "Duration per request (ms)", min_value=1.0, value=30.0, key="advisor_duration"
    )
    arch = cast("Arch", middle.selectbox("Architecture", ["x86", "arm"], key="advisor_arch"))
    weight = right.slider("Fargate share in `both` (%)", 0, 100, 50, key="advisor_weight")
    profile = TrafficProfile.from_mean(rps, shape)
    work = Workload(duration_ms=duration)
    deploy = Deployment(arch=arch)
    result = advise(profile, work, deploy, prices, weight)
    report = as_json(result)
    st.markdown(f"**Recommendation: {result.advice.target}**")
    for reason in result.advice.reasons:
        st.text(f"- {reason}")
    st.code(result.advice.command, language="bash")
    st.dataframe(
        [
            {"target": name, "USD per month": round(data["monthly_usd"], 2)}
            for name, data in report["targets"].items()
        ]
        + [
            {
                "target": "shared (every target)",
                "USD per month": round(report["shared_monthly_usd"], 2),
            }
        ],
        hide_index=True,
    )
    st.altair_chart(
        chart(curves(profile, work, deploy, prices, weight, result.break_even_rps)), width="stretch"
    )
    st.caption(f"Prices: {prices.region}, {prices.as_of}. {prices.source}")
