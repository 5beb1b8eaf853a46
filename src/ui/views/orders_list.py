"""The Orders tab: filter by status and customer, page through with the API's cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui.views.common import open_order, show_flash

if TYPE_CHECKING:
    from ui.client import OrdersClient

PAGE_SIZE = 10
ANY = "any"
# Cursors of the pages seen so far: [None (first page), cursor of page 2, ...].
PAGES = "list_pages"
PAGE_IDS = "list_page_ids"
TABLE = "orders_table"


def _restart_paging() -> None:
    st.session_state[PAGES] = [None]


def _next_page(cursor: str) -> None:
    st.session_state[PAGES].append(cursor)


def _previous_page() -> None:
    if len(st.session_state[PAGES]) > 1:
        st.session_state[PAGES].pop()


def _open_selected_row() -> None:
    rows = st.session_state[TABLE].selection.rows
    ids: list[str] = st.session_state.get(PAGE_IDS, [])
    if rows and rows[0] < len(ids):
        open_order(ids[rows[0]])


def _open_chosen() -> None:
    chosen = st.session_state.get("list_open_choice")
    if chosen:
        open_order(chosen)


def render_orders(api: OrdersClient, statuses: list[str]) -> None:
    show_flash("list")
    st.session_state.setdefault(PAGES, [None])
    left, right = st.columns([1, 2])
    status = left.selectbox(
        "Status", [ANY, *statuses], key="filter_status", on_change=_restart_paging
    )
    customer = right.text_input(
        "Customer", key="filter_customer", placeholder="any customer", on_change=_restart_paging
    )
    pages: list[str | None] = st.session_state[PAGES]
    page = api.list_orders(
        status=None if status == ANY else status,
        customer=customer.strip() or None,
        limit=PAGE_SIZE,
        cursor=pages[-1],
    )
    st.session_state[PAGE_IDS] = [o.id for o in page.items]
    if not page.items:
        st.info("No orders match." if len(pages) == 1 else "No more orders.")
    else:
        st.dataframe(
            [
                {
                    "Order": o.id,
                    "Customer": o.customer,
                    "Product": o.product,
                    "Qty": o.quantity,
                    "Status": o.status,
                    "Version": o.version,
                    "Updated": o.updated_at[:19].replace("T", " "),
                }
                for o in page.items
            ],
            hide_index=True,
            width="stretch",
            key=TABLE,
            on_select=_open_selected_row,
            selection_mode="single-row",
        )
    with st.container(
        horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"
    ):
        st.button(
            "Previous page",
            icon=":material/arrow_back:",
            disabled=len(pages) == 1,
            on_click=_previous_page,
            key="list_previous",
        )
        count = f"{len(page.items)} order" + ("" if len(page.items) == 1 else "s")
        st.caption(f"Page {len(pages)} · {count} · select a row to open it")
        st.button(
            "Next page",
            icon=":material/arrow_forward:",
            icon_position="right",
            disabled=page.next_cursor is None,
            on_click=_next_page,
            args=(page.next_cursor,),
            key="list_next",
        )
    if page.items:
        labels = {o.id: f"{o.id[:8]} · {o.customer} · {o.product} · {o.status}" for o in page.items}
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.selectbox(
                "Open an order",
                list(labels),
                format_func=labels.__getitem__,
                key="list_open_choice",
                width=420,
            )
            st.button("Open", key="list_open", on_click=_open_chosen)
