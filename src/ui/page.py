"""The page: sign-in when configured, the sidebar, then three views. Only the open one runs.

The open view is in the URL (`?view=...`), with its filters and order id, so Back,
reload and a shared link land on the same place. When the API stops answering, the
page says "reconnecting", keeps the last data read-only and the drafts, checks again
by itself every few seconds, and clears the errors once the API is back.
"""

from __future__ import annotations

import streamlit as st

from ui.client import ApiError, ApiUnavailable, OrdersClient
from ui.config import load_settings
from ui.schema import Schema
from ui.url import adopt_url, write_url
from ui.views.advisor import render_advisor
from ui.views.common import (
    NO_SIGN_IN,
    OFFLINE,
    ORDER_ID,
    VIEW,
    VIEWS,
    SignedOut,
    clear_errors,
    get_client,
    show_error,
    sign_out,
)
from ui.views.new_order import render_new_order
from ui.views.order_detail import render_detail
from ui.views.orders_list import PAGING, list_place, render_orders
from ui.views.sidebar import check_health, render_sidebar
from ui.views.signin import current_session

RECONNECT_EVERY_SECONDS = 2
LAST_SCHEMA = "api_schema"


# The API's document changes only with a new API version: fetch it once, keep it 5 min.
@st.cache_data(ttl=300, show_spinner=False)
def _openapi(api_url: str, timeout_seconds: float) -> Schema:
    return Schema.from_openapi(get_client(api_url, timeout_seconds).openapi())


def _schema(api: OrdersClient) -> Schema | None:
    try:
        schema = _openapi(api.base_url, api.timeout_seconds)
    except (ApiUnavailable, ApiError):
        # The last one this session saw (an outage keeps the filters' choices), else none:
        # the views then rely on what the API says on submit.
        last: Schema | None = st.session_state.get(LAST_SCHEMA)
        return last
    st.session_state[LAST_SCHEMA] = schema
    return schema


@st.fragment(run_every=RECONNECT_EVERY_SECONDS)
def _reconnect(api: OrdersClient) -> None:
    """While the API is down: check again, and rerun the whole page once it answers."""
    if check_health(api).state != "down":
        st.session_state[OFFLINE] = False
        clear_errors()
        st.rerun(scope="app")
    st.warning(
        "**Reconnecting…** The orders service is not answering. What you see is the last "
        "data received, read-only; your drafts are kept. This page checks again by itself.",
        icon=":material/sync:",
    )


def _write_place() -> None:
    """The open view's place into the URL: a link to it brings a person back here."""
    view = st.session_state.get(VIEW, VIEWS[0])
    place: dict[str, str | None] = {"view": view}
    if view == VIEWS[0]:
        place.update(list_place())
    elif view == VIEWS[2]:
        place["order"] = (st.session_state.get(ORDER_ID) or "").strip()
    write_url(place)


def _session_ended(*, signed_in: bool) -> None:
    """The API refused the token: back to sign-in, or say sign-in is not configured."""
    if not signed_in:
        st.error(NO_SIGN_IN)
        return
    sign_out("Your session has ended. Sign in again to continue.")
    st.rerun()


def main() -> None:
    """One run of the page: every click and every typed value runs this again."""
    st.set_page_config(page_title="Orders", page_icon=":material/inventory_2:", layout="wide")
    settings = load_settings()
    session = current_session(settings)
    api = get_client(settings.api_url, settings.timeout_seconds).authorized(
        session.access_token if session else None
    )
    health = render_sidebar(api, session)
    was_offline = bool(st.session_state.get(OFFLINE))
    st.session_state[OFFLINE] = health.state == "down"
    if was_offline and health.state != "down":
        clear_errors()
    if health.state == "down":
        _reconnect(api)
    schema = _schema(api)
    statuses = list(schema.statuses) if schema else []
    adopt_url(VIEWS, PAGING)
    orders_view, new_view, detail_view, advisor_view = st.tabs(
        list(VIEWS), key=VIEW, on_change="rerun"
    )
    try:
        if orders_view.open:
            with orders_view:
                render_orders(api, statuses, schema, session)
        if new_view.open:
            with new_view:
                render_new_order(api, schema, session)
        if detail_view.open:
            with detail_view:
                render_detail(api, settings.max_upload_mb, session)
        if advisor_view.open:
            with advisor_view:
                render_advisor()
        _write_place()
    except SignedOut:
        _session_ended(signed_in=session is not None)
    except (ApiUnavailable, ApiError) as exc:
        # A failure the view did not handle itself: say so in plain words.
        try:
            show_error(exc)
        except SignedOut:
            _session_ended(signed_in=session is not None)
