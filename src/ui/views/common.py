"""What the views share: the client, session-state keys, one-shot messages, error display."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from ui.client import ApiError, ApiUnavailable, OrdersClient, UploadRejected

# Session-state keys, in one place so views and tests agree on them.
TAB = "tab"
ORDER_ID = "order_id"
FLASH = "flash"

TAB_ORDERS = "Orders"
TAB_NEW = "New order"
TAB_DETAIL = "Order detail"
TABS = (TAB_ORDERS, TAB_NEW, TAB_DETAIL)

Level = Literal["success", "info", "warning", "error"]
Scope = Literal["list", "new", "detail"]


@st.cache_resource(show_spinner=False)
def get_client(api_url: str, timeout_seconds: float) -> OrdersClient:
    """One client (and connection pool) per API URL for the whole Streamlit process."""
    return OrdersClient(api_url, timeout=timeout_seconds)


def open_order(order_id: str) -> None:
    """Show `order_id` in the detail tab. Only from callbacks: they run before widgets exist."""
    st.session_state[ORDER_ID] = order_id
    st.session_state[TAB] = TAB_DETAIL


def flash(scope: Scope, level: Level, message: str) -> None:
    """Queue a message for the next render of `scope` (actions run in callbacks, before it)."""
    queued: dict[str, list[tuple[Level, str]]] = st.session_state.setdefault(FLASH, {})
    messages = queued.setdefault(scope, [])
    if (level, message) not in messages:
        messages.append((level, message))


def flash_error(scope: Scope, exc: Exception) -> None:
    level, message = describe(exc)
    flash(scope, level, message)


def show_flash(scope: Scope) -> None:
    """Show and forget the messages queued for `scope`."""
    queued: dict[str, list[tuple[Level, str]]] = st.session_state.get(FLASH, {})
    for level, message in queued.pop(scope, []):
        _show(level, message)


def show_error(exc: Exception) -> None:
    _show(*describe(exc))


def describe(exc: Exception) -> tuple[Level, str]:
    """A failure as one clear sentence for a person; never a traceback."""
    if isinstance(exc, ApiUnavailable):
        return "error", f"The orders API is not answering ({exc.reason}). Try again in a moment."
    if isinstance(exc, UploadRejected):
        return "error", f"Storage refused the upload ({exc.status} {exc.code}): {exc.message}"
    if isinstance(exc, ApiError):
        if exc.kind == "version-conflict":
            return "error", (
                "**Conflict: someone else changed this order** since you loaded it. "
                f"{exc.detail}. The order below is the current version; try again if the move "
                "still makes sense."
            )
        if exc.kind == "illegal-transition":
            return "error", (
                f"**Conflict: that move is not allowed now.** {exc.detail}. "
                "The order below shows the moves it allows."
            )
        if exc.kind == "idempotency-key-reused":
            return "warning", (
                "This form was sent before with other values, and that may have created an "
                "order: check the Orders tab. Submit again to create this one."
            )
        if exc.kind == "idempotency-in-progress":
            return "warning", "This form is still being processed; check the Orders tab shortly."
        if exc.status == 409:
            return "error", f"**Conflict ({exc.title}).** {exc.detail}"
        if exc.status == 404:
            return "warning", f"Not found: {exc.detail}"
        title = exc.title or f"HTTP {exc.status}"
        return "error", f"**{title}** ({exc.status}): {exc.detail}"
    raise exc


def _show(level: Level, message: str) -> None:
    {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[level](
        message
    )
