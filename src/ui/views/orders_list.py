"""The Orders view: filter, sort and page through with the API's cursor.

The filters are widgets bound to the URL (`?status=...&customer=...`) and kept for the
whole session, so opening an order and coming back, Back, reload and a shared link all
show the same list. The page is in the URL too (`page`, `cursor`). The cursors seen are
kept with the filters they belong to: a cursor is only ever sent with its own query, so
a changed filter starts again at page 1 instead of drawing a 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

from ui.client import ApiError, ApiUnavailable
from ui.views.common import flash_error, is_offline, open_order, show_flash
from ui.views.styles import STATUS_COLORS, when

if TYPE_CHECKING:
    from ui.auth import Session
    from ui.client import Order, OrderPage, OrdersClient
    from ui.schema import Schema

PAGE_SIZE = 10
ANY = "any"
PAGING = "list_paging"
LAST = "list_last"
TABLE = "orders_table"
PAGE_IDS = "list_page_ids"
STATUS = "status"
CUSTOMER = "customer"
SORT = "sort"
SORTS = {"created": "Newest first", "updated": "Recently updated"}
# Streamlit's grid has no per-cell tooltip (streamlit/streamlit#7564): a long value is cut
# to its column, and the column's own tooltip says where to read it whole. Double-click
# opens the grid's read-only overlay with the full text; the order's detail shows it too.
CUT = (
    "Long values are cut to fit. Double-click a cell to read it whole, "
    "or select the row to open the order."
)


@dataclass(frozen=True, slots=True)
class Query:
    status: str | None
    customer: str | None
    sort: str | None


def _paging(query: Query) -> dict[str, Any]:
    """Cursors of the pages seen for `query`: [None (page 1), cursor of page 2, ...].

    Started from the URL on a reload or a shared link (page N with its cursor: Previous
    then goes back to page 1, whose cursor is the only other one known).
    """
    state: dict[str, Any] | None = st.session_state.get(PAGING)
    if state is None or state["query"] != query:
        fresh = state is None
        state = {"query": query, "cursors": [None], "offset": 0}
        if fresh:
            cursor = st.query_params.get("cursor")
            page = st.query_params.get("page", "1")
            if cursor and page.isdigit() and int(page) > 1:
                state = {"query": query, "cursors": [None, cursor], "offset": int(page) - 2}
        st.session_state[PAGING] = state
    return state


def list_place() -> dict[str, str | None]:
    """The list's part of the URL: its filters, and the page with its cursor."""
    state: dict[str, Any] | None = st.session_state.get(PAGING)
    place: dict[str, str | None] = {
        STATUS: st.session_state.get(STATUS),
        CUSTOMER: st.session_state.get(CUSTOMER),
        # The API's default order (newest created first) needs no word in a link.
        SORT: None if st.session_state.get(SORT) == "created" else st.session_state.get(SORT),
    }
    if state is not None:
        page = len(state["cursors"]) + state["offset"]
        if page > 1 and state["cursors"][-1]:
            place["page"], place["cursor"] = str(page), state["cursors"][-1]
    return place


def _next_page(cursor: str, query: Query) -> None:
    state = st.session_state[PAGING]
    # A click can carry the button of a list the filters have already replaced (typed,
    # then Next before the page redrew): its cursor belongs to the old query, so the new
    # list stays on its first page instead of sending the API a cursor it must refuse.
    if state["query"] == query:
        state["cursors"].append(cursor)


def _previous_page() -> None:
    state = st.session_state[PAGING]
    if len(state["cursors"]) > 1:
        state["cursors"].pop()
    if len(state["cursors"]) == 1:
        state["offset"] = 0


def _first_page() -> None:
    state = st.session_state[PAGING]
    state["cursors"], state["offset"] = [None], 0


def _open_selected_row() -> None:
    rows = st.session_state[TABLE].selection.rows
    ids: list[str] = st.session_state.get(PAGE_IDS, [])
    if rows and rows[0] < len(ids):
        open_order(ids[rows[0]])


def _filters(statuses: list[str], schema: Schema | None, session: Session | None) -> Query:
    """The filter widgets (bound to the URL) and the query they make."""
    offline = is_offline()
    left, right = st.columns([1, 2])
    with left:
        status = _status_filter(statuses, offline)
    customer: str | None = None
    if session is None or session.is_operator:
        # Customers see only their own orders (the API enforces it): no customer filter.
        with right:
            customer = _customer_filter(schema, offline)
    sort = _sort_control(offline) if _offers(schema, "sort") else None
    # The grid's hover toolbar sits above its top edge: keep it off the filters.
    st.space("small")
    return Query(status=status, customer=customer, sort=sort)


def _offers(schema: Schema | None, param: str) -> bool:
    """Whether the API's list takes `param` (read from its OpenAPI document)."""
    return schema is not None and param in schema.list_params


def _status_filter(statuses: list[str], offline: bool) -> str | None:
    status = st.selectbox(
        "Status", [ANY, *statuses], key=STATUS, persist_state="session", disabled=offline
    )
    return None if status == ANY else status


def _customer_filter(schema: Schema | None, offline: bool) -> str | None:
    can_search = _offers(schema, "customer_prefix")
    typed = st.text_input(
        "Customer starts with" if can_search else "Customer",
        key=CUSTOMER,
        placeholder="any customer",
        persist_state="session",
        # Search as you type (after a pause) where the API can search by prefix.
        live="400ms" if can_search else False,
        max_chars=schema.rules("customer").max_length if schema else None,
        disabled=offline,
    )
    return (typed or "").strip() or None


def _sort_control(offline: bool) -> str | None:
    return st.segmented_control(
        "Sort",
        list(SORTS),
        format_func=SORTS.__getitem__,
        key=SORT,
        default="created",
        required=True,
        persist_state="session",
        disabled=offline,
    )


def _fetch(api: OrdersClient, query: Query, cursor: str | None, prefix: bool) -> OrderPage:
    return api.list_orders(
        status=query.status,
        customer=None if prefix else query.customer,
        customer_prefix=query.customer if prefix else None,
        sort=query.sort,
        limit=PAGE_SIZE,
        cursor=cursor,
    )


def render_orders(
    api: OrdersClient, statuses: list[str], schema: Schema | None, session: Session | None
) -> None:
    show_flash("list")
    query = _filters(statuses, schema, session)
    state = _paging(query)
    page, stale = _load(api, query, state["cursors"][-1], _offers(schema, "customer_prefix"))
    if page is None:
        st.info("The list will show here when the orders service answers again.")
        return
    _table(page)
    _pager(page, state, stale)


def _load(
    api: OrdersClient, query: Query, cursor: str | None, prefix: bool
) -> tuple[OrderPage | None, bool]:
    """The page for `query` at `cursor`, and whether it is stale.

    During an outage the last page received for the same query and cursor stands in,
    read-only (stale); with none, there is nothing to show (None).
    """
    try:
        page = _fetch(api, query, cursor, prefix)
    except ApiError as exc:
        if exc.status != 400 or cursor is None:
            raise
        # A cursor from another query (an old link): page 1 of this one, and say so.
        flash_error("list", exc)
        _first_page()
        st.rerun()
    except ApiUnavailable as exc:
        flash_error("list", exc)
        last = st.session_state.get(LAST)
        if last is not None and last[0] == (query, cursor):
            return last[1], True
        return None, False
    st.session_state[LAST] = ((query, cursor), page)
    return page, False


def _table(page: OrderPage) -> None:
    if not page.items:
        st.info("No orders match.")
        return
    st.session_state[PAGE_IDS] = [o.id for o in page.items]
    st.dataframe(
        [_row(o) for o in page.items],
        hide_index=True,
        width="stretch",
        key=TABLE,
        on_select=_open_selected_row,
        selection_mode="single-row",
        column_config=_columns(),
        alt="Orders: select a row to open the order",
    )


def _row(order: Order) -> dict[str, Any]:
    return {
        "Status": [order.status],
        "Customer": order.customer,
        "Product": order.product,
        "Qty": order.quantity,
        "Updated": when(order.updated_at),
        "Order": order.id,
    }


def _columns() -> dict[str, Any]:
    # Status first and pinned: on a narrow screen it stays in view while the rest scrolls.
    return {
        "Status": st.column_config.MultiselectColumn(
            "Status",
            options=list(STATUS_COLORS),
            color=list(STATUS_COLORS.values()),
            pinned=True,
            width=110,  # "confirmed" whole, and still narrow at 420 px
        ),
        "Customer": st.column_config.TextColumn("Customer", width="medium", help=CUT),
        "Product": st.column_config.TextColumn("Product", width="medium", help=CUT),
        "Qty": st.column_config.NumberColumn("Qty", width="small"),
        "Order": st.column_config.TextColumn("Order id", width="small", help=CUT),
    }


def _pager(page: OrderPage, state: dict[str, Any], stale: bool) -> None:
    number = len(state["cursors"]) + state["offset"]
    more = page.has_more  # an older API's page has it from its cursor (ui.client.OrderPage)
    with st.container(
        horizontal=True, horizontal_alignment="distribute", vertical_alignment="center"
    ):
        st.button(
            "Previous page",
            icon=":material/arrow_back:",
            disabled=stale or len(state["cursors"]) == 1,
            on_click=_previous_page,
            key="list_previous",
        )
        count = f"{len(page.items)} order" + ("" if len(page.items) == 1 else "s")
        tail = "more follow" if more else "last page"
        st.caption(f"Page {number} · {count} · {tail} · select a row to open it")
        st.button(
            "Next page",
            icon=":material/arrow_forward:",
            icon_position="right",
            disabled=stale or not more or page.next_cursor is None,
            on_click=_next_page,
            args=(page.next_cursor, state["query"]),
            key="list_next",
        )
    if stale:
        st.caption("Showing the last list received, read-only, until the service answers.")
