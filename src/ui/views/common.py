"""What the views share: the client, session-state keys, one-shot messages, error display."""

from __future__ import annotations

import re
from typing import Literal

import streamlit as st

from ui.client import ApiError, ApiUnavailable, OrdersClient, UploadRejected

# Session-state keys, in one place so views and tests agree on them. The view, the
# filters and the order id are widgets bound to the URL's query parameters (same names).
VIEW = "view"
ORDER_ID = "order"
FLASH = "flash"
OFFLINE = "offline"
LAST_ORDER = "detail_last_order"
SESSION = "auth_session"
SIGN_IN_MESSAGE = "signin_message"

VIEW_ORDERS = "Orders"
VIEW_NEW = "New order"
VIEW_DETAIL = "Order detail"
VIEW_ADVISOR = "Advisor"
VIEWS = (VIEW_ORDERS, VIEW_NEW, VIEW_DETAIL, VIEW_ADVISOR)

Level = Literal["success", "info", "warning", "error"]
Scope = Literal["list", "new", "detail"]

# CommonMark lets a backslash escape any ASCII punctuation: escaped, no character of user
# text can start emphasis, a heading, a link, an autolink, a `:color[...]` directive,
# an emoji shortcode or math. Newlines become spaces (one line in a message).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


NO_SIGN_IN = (
    "The orders service asks for sign-in, and sign-in is not configured for this UI. "
    "Tell the people who run it."
)


class SignedOut(Exception):
    """The API refused the session's token (401): the page goes back to sign-in."""


def literal(text: object) -> str:
    """`text` escaped for Streamlit Markdown, so it shows exactly as typed."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).splitlines()))


@st.cache_resource(show_spinner=False)
def get_client(api_url: str, timeout_seconds: float) -> OrdersClient:
    """One client (and connection pool) per API URL for the whole Streamlit process."""
    return OrdersClient(api_url, timeout=timeout_seconds)


def is_offline() -> bool:
    return bool(st.session_state.get(OFFLINE))


def open_order(order_id: str) -> None:
    """Show `order_id` in the detail view. Only from callbacks: they run before widgets exist."""
    st.session_state[ORDER_ID] = order_id
    st.session_state[VIEW] = VIEW_DETAIL


def flash(scope: Scope, level: Level, message: str) -> None:
    """Queue a message for the next render of `scope` (actions run in callbacks, before it)."""
    queued: dict[str, list[tuple[Level, str]]] = st.session_state.setdefault(FLASH, {})
    messages = queued.setdefault(scope, [])
    if (level, message) not in messages:
        messages.append((level, message))


def sign_out(message: str) -> None:
    """Drop the tokens and say why on the sign-in form."""
    st.session_state.pop(SESSION, None)
    st.session_state[SIGN_IN_MESSAGE] = message


def flash_error(scope: Scope, exc: Exception) -> None:
    if isinstance(exc, ApiUnavailable):
        # The page's "reconnecting" state says it, once, and goes when the API is back.
        st.session_state[OFFLINE] = True
    try:
        level, message = describe(exc)
    except SignedOut:
        if SESSION in st.session_state:
            sign_out("Your session has ended. Sign in again to continue.")
            return
        level, message = "error", NO_SIGN_IN
    flash(scope, level, message)


def show_flash(scope: Scope) -> None:
    """Show and forget the messages queued for `scope`."""
    queued: dict[str, list[tuple[Level, str]]] = st.session_state.get(FLASH, {})
    for level, message in queued.pop(scope, []):
        _show(level, message)


def clear_errors() -> None:
    """Forget queued errors and warnings (the API is back: they describe the past)."""
    queued: dict[str, list[tuple[Level, str]]] = st.session_state.get(FLASH, {})
    for scope, messages in list(queued.items()):
        queued[scope] = [(lvl, msg) for lvl, msg in messages if lvl in ("success", "info")]


def show_error(exc: Exception) -> None:
    _show(*describe(exc))


# Field names as the form labels them.
FIELD_NAMES = {"customer": "Customer", "product": "Product", "quantity": "Quantity", "note": "Note"}


def describe(exc: Exception) -> tuple[Level, str]:
    """A failure as plain words for a person; never a traceback, a status code or a URN."""
    if isinstance(exc, ApiUnavailable):
        return "warning", (
            "The orders service is not answering right now. Reconnecting by itself; "
            "nothing you typed is lost."
        )
    if isinstance(exc, UploadRejected):
        if exc.code == "EntityTooLarge":
            return "error", "Storage refused the file: it is larger than allowed."
        return "error", "Storage refused the file. Try again, or choose another file."
    if not isinstance(exc, ApiError):
        raise exc
    if exc.status == 401:
        raise SignedOut from exc
    if exc.status == 403:
        return "error", "You may not do that: your account does not have the right."
    if exc.status == 429:
        return "warning", f"Too many requests in a short time. {_wait(exc.retry_after)}"
    if exc.kind == "version-conflict":
        return "error", (
            "**Someone else changed this order** since you loaded it. The order below is "
            "the current version; try again if the change still makes sense."
        )
    if exc.kind == "illegal-transition":
        return "error", (
            "**That change is not allowed now**: the order moved on. The order below shows "
            "what it allows."
        )
    if exc.kind == "idempotency-key-reused":
        return "warning", (
            "This form was sent before with other values, and that may have created an "
            "order: check the Orders list. Create again to make this one."
        )
    if exc.kind == "idempotency-in-progress":
        return "warning", "This order is still being created; check the Orders list shortly."
    if exc.kind == "invalid-cursor":
        return "info", "That page no longer matches the filters: showing the first page."
    if exc.kind == "attachment-rejected" or exc.field_errors.get("filename"):
        return "error", "The service refused this file (its name, type or size)."
    if exc.status == 404:
        return "warning", "Not found: no order has this id. Check it, or pick one from the list."
    if exc.status == 422 and exc.field_errors:
        names = ", ".join(FIELD_NAMES.get(f, f) for f in exc.field_errors)
        return "error", f"Please check: {names}. The service did not accept these values."
    if exc.status >= 500:
        return "error", "The orders service had a problem. Try again in a moment."
    return "error", "The orders service did not accept that. Check the values and try again."


def _wait(seconds: int | None) -> str:
    """How long to wait, in words: the API's Retry-After when it gave one."""
    if seconds is None or seconds <= 0:
        return "Wait a few seconds, then try again."
    if seconds < 90:
        return f"Wait {seconds} second{'' if seconds == 1 else 's'}, then try again."
    return f"Wait about {round(seconds / 60)} minutes, then try again."


def _show(level: Level, message: str) -> None:
    {"success": st.success, "info": st.info, "warning": st.warning, "error": st.error}[level](
        message
    )
