"""The page: sidebar with the API's health, then three tabs. Only the open tab runs."""

from __future__ import annotations

import streamlit as st

from ui.client import ApiError, ApiUnavailable
from ui.config import load_settings
from ui.views.common import TAB, TABS, get_client, show_error
from ui.views.new_order import render_new_order
from ui.views.order_detail import render_detail
from ui.views.orders_list import render_orders
from ui.views.sidebar import render_sidebar


# The status vocabulary changes only with a new API version: ask for it rarely.
@st.cache_data(ttl=300, show_spinner=False)
def _statuses(api_url: str, timeout_seconds: float) -> list[str]:
    return get_client(api_url, timeout_seconds).statuses()


def main() -> None:
    """One run of the page: every click and every typed value runs this again."""
    st.set_page_config(page_title="Orders", page_icon=":material/inventory_2:", layout="wide")
    settings = load_settings()
    api = get_client(settings.api_url, settings.timeout_seconds)
    health = render_sidebar(api)
    if health.state == "down":
        st.error(
            f"**The orders API at `{api.base_url}` is {health.message}.** "
            "Start it with `make dev`, or point `ORDERS_API_URL` at a running API, "
            "then press **Refresh**."
        )
        return
    orders_tab, new_tab, detail_tab = st.tabs(list(TABS), key=TAB, on_change="rerun")
    try:
        if orders_tab.open:
            with orders_tab:
                render_orders(api, _statuses(settings.api_url, settings.timeout_seconds))
        if new_tab.open:
            with new_tab:
                render_new_order(api)
        if detail_tab.open:
            with detail_tab:
                render_detail(api, settings.max_upload_mb)
    except (ApiUnavailable, ApiError) as exc:
        # A failure the view did not handle itself (the API went away mid-run): say so.
        show_error(exc)
