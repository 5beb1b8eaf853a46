"""The Order detail tab: the order, the moves it allows, its attachments and its events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import streamlit as st

from ui.client import ApiError, ApiUnavailable, UploadRejected
from ui.views.common import ORDER_ID, flash, flash_error, show_error, show_flash

if TYPE_CHECKING:
    from ui.client import Order, OrdersClient

UPLOAD_GENERATION = "upload_generation"
Color = Literal["blue", "violet", "orange", "green", "gray"]
STATUS_COLORS: dict[str, Color] = {
    "pending": "blue",
    "confirmed": "violet",
    "shipped": "orange",
    "delivered": "green",
    "cancelled": "gray",
}
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
    flash("detail", "success", f"Uploaded `{file.name}`.")


def _button_label(target: str) -> str:
    return "Cancel order" if target == CANCELLED else f"Mark {target}"


def render_detail(api: OrdersClient, max_upload_mb: int) -> None:
    order_id = st.text_input(
        "Order id", key=ORDER_ID, placeholder="32 hex characters: pick one in the Orders tab"
    ).strip()
    show_flash("detail")
    if not order_id:
        st.info("Open an order from the **Orders** tab, create one, or paste its id above.")
        return
    try:
        order = api.get_order(order_id)
    except ApiError as exc:
        show_error(exc)
        return
    _summary(api, order)
    st.divider()
    attachments, events = st.columns([2, 3], gap="large")
    with attachments:
        _attachments(api, order, max_upload_mb)
    with events:
        _events(api, order)


def _summary(api: OrdersClient, order: Order) -> None:
    with st.container(border=True):
        head, badge = st.columns([4, 1], vertical_alignment="center")
        head.subheader(f"{order.product} for {order.customer}")
        badge.badge(order.status, color=STATUS_COLORS.get(order.status, "blue"))
        st.caption(
            f"quantity **{order.quantity}** · `{order.id}` · version {order.version}"
            f" · created {_when(order.created_at)} · updated {_when(order.updated_at)}"
        )
        if order.note:
            st.markdown(f"> {order.note}")
        if order.allowed_transitions:
            with st.container(horizontal=True):
                for target in order.allowed_transitions:
                    st.button(
                        _button_label(target),
                        key=f"move_{target}",
                        type="secondary" if target == CANCELLED else "primary",
                        on_click=_move,
                        args=(api, order.id, target, order.version),
                    )
                st.button("Reload", key="reload_order", icon=":material/refresh:")
        else:
            st.caption(f"No further moves: **{order.status}** is final.")


def _attachments(api: OrdersClient, order: Order, max_upload_mb: int) -> None:
    st.markdown("#### Attachments")
    try:
        items = api.attachments(order.id)
    except ApiError as exc:
        show_error(exc)
        items = []
    if not items:
        st.caption("No attachments yet.")
    for item in items:
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(f"`{item.filename}` · {_size(item.size)}")
            st.link_button("Download", item.download_url, icon=":material/download:")
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


def _events(api: OrdersClient, order: Order) -> None:
    st.markdown("#### Events")
    try:
        events = api.events(order.id)
    except ApiError as exc:
        show_error(exc)
        return
    if not events:
        st.caption("No events recorded.")
        return
    st.dataframe(
        [
            {
                "Event": e.detail_type,
                "Occurred": _when(e.occurred_at),
                "On the bus": f"published {_when(e.published_at)[11:]}"
                if e.published_at
                else "pending",
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


def _when(iso: str) -> str:
    return iso[:19].replace("T", " ")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
