"""The Order detail view: the order, the moves it allows, its attachments and its events.

Every user-supplied string (customer, product, note, file names) is shown as typed:
through `literal` in Markdown, or in elements that parse no Markdown (st.text, grids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui.client import ApiError, ApiUnavailable, UploadRejected
from ui.views.common import (
    LAST_ORDER,
    ORDER_ID,
    flash,
    flash_error,
    is_offline,
    literal,
    show_error,
    show_flash,
)
from ui.views.styles import STATUS_COLORS, when

if TYPE_CHECKING:
    from ui.auth import Session
    from ui.client import Attachment, Event, Order, OrdersClient

UPLOAD_GENERATION = "upload_generation"
CANCELLED = "cancelled"


def _move(api: OrdersClient, order_id: str, target: str, version: int) -> None:
    """Send the version this page showed: if the order changed since, the API answers 409."""
    try:
        if target == CANCELLED:
            order = api.cancel(order_id, version=version)
        else:
            order = api.change_status(order_id, status=target, version=version)
    except (ApiError, ApiUnavailable) as exc:
        flash_error("detail", exc)
        return
    flash("detail", "success", f"Order is now **{order.status}** (version {order.version}).")


CANCEL_DONE = "cancel_dialog_done"


def _cancel_and_close(api: OrdersClient, order_id: str, version: int) -> None:
    _move(api, order_id, CANCELLED, version)
    st.session_state[CANCEL_DONE] = True


def _close() -> None:
    st.session_state[CANCEL_DONE] = True


@st.dialog("Cancel this order?")
def _confirm_cancel(api: OrdersClient, order: Order) -> None:
    # The buttons act in callbacks (they run whether or not the dialog is drawn again);
    # the flag closes the dialog with a full rerun, which shows the result.
    if st.session_state.pop(CANCEL_DONE, False):
        st.rerun()
    st.text(f"{order.quantity} x {order.product} for {order.customer}")
    st.caption("A cancelled order cannot be reopened.")
    with st.container(horizontal=True, horizontal_alignment="right"):
        st.button("Keep the order", key="cancel_keep", on_click=_close)
        st.button(
            "Cancel the order",
            key="cancel_confirm",
            type="primary",
            on_click=_cancel_and_close,
            args=(api, order.id, order.version),
        )


def _upload(api: OrdersClient, order_id: str, uploader_key: str) -> None:
    file = st.session_state.get(uploader_key)
    if file is None:  # the file was removed from the uploader: nothing to send
        return
    # Either way the uploader is replaced by an empty one (Streamlit lets no code clear
    # it): the message says what became of the file.
    st.session_state[UPLOAD_GENERATION] = st.session_state.get(UPLOAD_GENERATION, 0) + 1
    try:
        api.upload_attachment(
            order_id,
            filename=file.name,
            content_type=file.type or "application/octet-stream",
            content=file.getvalue(),
        )
    except (ApiError, ApiUnavailable, UploadRejected) as exc:
        flash_error("detail", exc)
        return
    flash("detail", "success", f"Uploaded {literal(file.name)}.")


def render_detail(api: OrdersClient, max_upload_mb: int, session: Session | None) -> None:
    offline = is_offline()
    order_id = (
        st.text_input(
            "Order id",
            key=ORDER_ID,
            placeholder="pick one in the Orders list, or paste its id",
            persist_state="session",
            max_chars=64,
        )
        or ""
    ).strip()
    show_flash("detail")
    if not order_id:
        st.info("Open an order from the **Orders** list, create one, or paste its id above.")
        return
    stale = False
    try:
        order = api.get_order(order_id)
    except ApiUnavailable as exc:
        flash_error("detail", exc)
        last: Order | None = st.session_state.get(LAST_ORDER)
        if last is None or last.id != order_id:
            st.info("The order will show here when the orders service answers again.")
            return
        order, stale = last, True
    except ApiError as exc:
        show_error(exc)
        return
    st.session_state[LAST_ORDER] = order
    _summary(api, order, session, read_only=offline or stale)
    if stale:
        st.caption("Showing the order as last received, read-only, until the service answers.")
        return
    st.divider()
    attachments, events = st.columns([2, 3], gap="large")
    with attachments:
        _attachments(api, order, max_upload_mb)
    with events:
        _events(api, order)


def _summary(api: OrdersClient, order: Order, session: Session | None, *, read_only: bool) -> None:
    with st.container(border=True):
        head, badge = st.columns([4, 1], vertical_alignment="center")
        head.subheader(literal(f"{order.product} for {order.customer}"))
        badge.badge(order.status, color=STATUS_COLORS.get(order.status, "blue"))
        st.caption(
            f"quantity **{order.quantity}** · `{order.id}` · version {order.version}"
            f" · created {when(order.created_at)} · updated {when(order.updated_at)}"
        )
        if order.note:
            # st.text parses nothing: a "# line", a link or "*stars*" show as typed.
            st.text(order.note)
        moves = [t for t in order.allowed_transitions if t != CANCELLED]
        if session is not None and not session.is_operator:
            moves = []  # status changes are for operators; the API refuses them anyway
        can_cancel = CANCELLED in order.allowed_transitions
        if not order.allowed_transitions:
            st.caption(f"No further moves: **{order.status}** is final.")
        with st.container(horizontal=True, horizontal_alignment="distribute"):
            with st.container(horizontal=True):
                for target in moves:
                    st.button(
                        f"Mark {target}",
                        key=f"move_{target}",
                        type="primary",
                        on_click=_move,
                        args=(api, order.id, target, order.version),
                        disabled=read_only,
                    )
                st.button("Reload", key="reload_order", icon=":material/refresh:")
            # Cancel is set apart from the main action, and asks first.
            if can_cancel and st.button(
                "Cancel order…",
                key="move_cancelled",
                icon=":material/cancel:",
                disabled=read_only,
            ):
                _confirm_cancel(api, order)
            else:
                # A full run closes the dialog anyway: forget the dialog's close flag.
                st.session_state.pop(CANCEL_DONE, None)


def _attachments(api: OrdersClient, order: Order, max_upload_mb: int) -> None:
    st.markdown("#### Attachments")
    items: list[Attachment] = []
    try:
        items = api.attachments(order.id)
    except ApiError as exc:
        show_error(exc)
    except ApiUnavailable as exc:
        flash_error("detail", exc)
    if not items:
        st.caption("No attachments yet.")
    else:
        # A grid: names shown as typed, aligned rows, and the API's download URL (it sets
        # Content-Disposition, so the file arrives under its own name).
        st.dataframe(
            [
                {"File": a.filename, "Size": _size(a.size), "Download": a.download_url}
                for a in items
            ],
            hide_index=True,
            width="stretch",
            key="attachments_table",
            column_config={
                "File": st.column_config.TextColumn("File", width="medium"),
                "Size": st.column_config.TextColumn("Size", width="small"),
                "Download": st.column_config.LinkColumn(
                    "Download", display_text="Download", width="small"
                ),
            },
        )
    generation = st.session_state.get(UPLOAD_GENERATION, 0)
    uploader_key = f"upload_{order.id}_{generation}"
    # The file goes up as soon as it is chosen: no second button to forget.
    st.file_uploader(
        "Add an attachment",
        key=uploader_key,
        on_change=_upload,
        args=(api, order.id, uploader_key),
        max_upload_size=max_upload_mb,
        help="Uploaded straight to storage through a presigned POST the API hands out.",
    )


def _change(event: Event) -> str:
    """'pending -> confirmed': the API's from/to when it sends them, else the event detail's
    previous status and order snapshot (schema 1.0)."""
    snapshot = event.detail.get("order")
    to_status = event.to_status or (
        str(snapshot["status"]) if isinstance(snapshot, dict) and "status" in snapshot else None
    )
    from_status = event.from_status or event.detail.get("previous_status")
    if from_status and to_status:
        return f"{from_status} -> {to_status}"
    if to_status:
        return f"created as {to_status}"
    return event.detail_type


def _events(api: OrdersClient, order: Order) -> None:
    st.markdown("#### Events")
    try:
        events = api.events(order.id)
    except ApiError as exc:
        show_error(exc)
        return
    except ApiUnavailable as exc:
        flash_error("detail", exc)
        return
    if not events:
        st.caption("No events recorded.")
        return
    st.dataframe(
        [
            {
                "Change": _change(e),
                "When": when(e.at),
                "By": e.actor or "",
                "On the bus": "published" if e.published_at else "pending",
                "Event": e.detail_type,
                "Bus event id": e.bus_event_id or "",
            }
            for e in events
        ],
        hide_index=True,
        width="stretch",
        key="events_table",
    )
    pending = sum(not e.published for e in events)
    if pending:
        st.caption(f"{pending} pending: the outbox publisher has not put them on the bus yet.")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
