"""The sidebar: which API this UI talks to, and whether it is healthy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from ui.client import ApiError, ApiUnavailable, OrdersClient, Readiness
from ui.views.common import SESSION, get_client, literal

if TYPE_CHECKING:
    from ui.auth import Session


@dataclass(frozen=True, slots=True)
class Health:
    """What the badge shows: 'ok', 'degraded' (with the failing dependencies) or 'down'."""

    state: str
    message: str
    failing: dict[str, str]


# Readiness calls DynamoDB, S3 and EventBridge: once per 10 s is plenty for a badge.
READINESS_TTL_SECONDS = 10


@st.cache_data(ttl=READINESS_TTL_SECONDS, show_spinner=False)
def _readiness(api_url: str, timeout_seconds: float) -> Readiness:
    return get_client(api_url, timeout_seconds).ready()


def _refresh() -> None:
    _readiness.clear()


def _sign_out() -> None:
    """Forget the tokens: nothing of them stays in this session."""
    st.session_state.pop(SESSION, None)


def check_health(api: OrdersClient) -> Health:
    """Liveness (/api/health) first: if the process does not answer, readiness is moot."""
    try:
        api.health()
    except ApiUnavailable as exc:
        return Health("down", f"not answering ({exc.reason})", {})
    except ApiError as exc:
        return Health("down", f"unhealthy: {exc.status} {exc.detail or exc.title}", {})
    try:
        readiness = _readiness(api.base_url, api.timeout_seconds)
    except (ApiUnavailable, ApiError) as exc:
        return Health("degraded", f"readiness unknown: {exc}", {})
    if readiness.ok:
        return Health("ok", "all dependencies answer", {})
    names = ", ".join(sorted(readiness.failing))
    return Health("degraded", f"{names} unavailable", readiness.failing)


def render_sidebar(api: OrdersClient, session: Session | None) -> Health:
    """Draw the sidebar and return the health it found."""
    health = check_health(api)
    with st.sidebar:
        st.title(":material/inventory_2: Orders")
        if session is not None:
            role = "operator" if session.is_operator else "customer"
            st.markdown(f"Signed in as **{literal(session.username)}** ({role})")
            st.button("Sign out", icon=":material/logout:", key="sign_out", on_click=_sign_out)
        if health.state == "ok":
            st.badge("API ok", icon=":material/check_circle:", color="green")
        elif health.state == "degraded":
            st.badge("API degraded", icon=":material/warning:", color="orange")
            for name, reason in sorted(health.failing.items()):
                st.caption(f"**{name}**: {reason}")
            if not health.failing:
                st.caption(health.message)
        else:
            st.badge("API down: reconnecting", icon=":material/sync:", color="red")
            st.caption(health.message)
        st.caption(f"API: `{api.base_url}`")
        st.button(
            "Refresh", icon=":material/refresh:", key="refresh", width="stretch", on_click=_refresh
        )
    return health
