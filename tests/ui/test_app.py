"""Each screen of the Streamlit UI, driven by AppTest against a real API on loopback."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from devstack.netports import free_port
from ui.schema import Schema
from ui.views import orders_list
from ui.views.common import literal

if TYPE_CHECKING:
    from streamlit.testing.v1.element_tree import Button, Widget

    from tests.support import NewOrder
    from tests.ui.conftest import MakeApp, PublishOutbox, Stack


def texts(at: AppTest) -> str:
    """Everything the page says, in one string to search."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for kind in ("error", "warning", "info", "success", "subheader", "title"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def open_tab(at: AppTest, label: str) -> AppTest:
    """Switch tabs as a click does: the label goes into the tabs' session-state key."""
    at.session_state["view"] = label
    return at.run()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- sidebar: health ------------------------------------------------------------------


def test_sidebar_shows_a_healthy_api_and_its_url(ui: MakeApp, api_url: str) -> None:
    at = ui().run()

    assert not at.exception
    sidebar = "\n".join(m.value for m in at.sidebar.markdown) + "\n".join(
        c.value for c in at.sidebar.caption
    )
    assert "API ok" in sidebar
    assert api_url in sidebar
    assert [t.label for t in at.tabs] == ["Orders", "New order", "Order detail", "Advisor"]


def test_api_down_is_said_plainly_not_as_a_traceback(ui: MakeApp) -> None:
    at = ui(f"http://127.0.0.1:{free_port()}").run()

    assert not at.exception
    assert "API down" in "\n".join(m.value for m in at.sidebar.markdown)
    [reconnecting] = at.warning
    assert "Reconnecting" in reconnecting.value
    # Words for a user, not for a developer.
    assert "ORDERS_API_URL" not in texts(at)
    # The views stay, read-only, with what they can show.
    assert [t.label for t in at.tabs] == ["Orders", "New order", "Order detail", "Advisor"]


def test_degraded_api_names_the_failing_dependency(ui: MakeApp, stack: Stack) -> None:
    at = ui(stack.degraded_api).run()

    assert not at.exception
    sidebar = "\n".join(m.value for m in at.sidebar.markdown) + "\n".join(
        c.value for c in at.sidebar.caption
    )
    assert "API degraded" in sidebar
    assert "**s3**" in sidebar
    # Degraded is not down: the orders still show.
    assert [t.label for t in at.tabs] == ["Orders", "New order", "Order detail", "Advisor"]


# -- Orders: filter and pages ---------------------------------------------------------


def test_list_filters_by_customer_and_status(
    ui: MakeApp, api: httpx.Client, new_order: NewOrder
) -> None:
    customer = unique("filter")
    first = new_order(customer=customer, product="bolt")
    second = new_order(customer=customer, product="nut")
    api.put(f"/orders/{second['id']}/status", json={"status": "confirmed", "version": 1})
    new_order(customer=unique("other"))
    at = ui().run()

    at.text_input(key="customer").input(customer).run()
    table = at.dataframe[0].value
    assert set(table["Order"]) == {first["id"], second["id"]}
    assert set(table["Customer"]) == {customer}

    at.selectbox(key="status").select("confirmed").run()
    table = at.dataframe[0].value
    assert list(table["Order"]) == [second["id"]]
    assert [list(s) for s in table["Status"]] == [["confirmed"]]
    # The status choices come from the API's OpenAPI document.
    assert at.selectbox(key="status").options == [
        "any", "pending", "confirmed", "shipped", "delivered", "cancelled",
    ]  # fmt: skip


def test_list_pages_with_the_api_cursor(ui: MakeApp, new_order: NewOrder) -> None:
    customer = unique("pages")
    ids = [new_order(customer=customer)["id"] for _ in range(12)]
    at = ui().run()
    at.text_input(key="customer").input(customer).run()

    first_page = list(at.dataframe[0].value["Order"])
    assert len(first_page) == 10
    assert at.button(key="list_previous").disabled

    at.button(key="list_next").click().run()
    second_page = list(at.dataframe[0].value["Order"])
    assert len(second_page) == 2
    assert set(first_page) | set(second_page) == set(ids)
    assert at.button(key="list_next").disabled
    assert "Page 2" in texts(at)

    at.button(key="list_previous").click().run()
    assert list(at.dataframe[0].value["Order"]) == first_page


def test_next_from_a_list_the_filters_replaced_stays_on_the_new_first_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Typed, then Next before the page redrew: the click's cursor is the old list's."""
    old = orders_list.Query(status=None, customer=None, sort=None)
    new = orders_list.Query(status=None, customer="acme", sort=None)
    paging = {"query": new, "cursors": [None], "offset": 0}
    monkeypatch.setattr(st, "session_state", {orders_list.PAGING: paging})

    orders_list._next_page("cursor-of-the-old-list", old)
    assert paging["cursors"] == [None]
    orders_list._next_page("cursor-of-this-list", new)
    assert paging["cursors"] == [None, "cursor-of-this-list"]


def test_no_match_says_so(ui: MakeApp) -> None:
    at = ui().run()
    at.text_input(key="customer").input(unique("nobody")).run()

    assert not at.dataframe
    assert at.info[0].value == "No orders match."


def test_a_link_opens_the_order_and_the_url_follows_the_filters(
    ui: MakeApp, new_order: NewOrder
) -> None:
    """Item 9: the view, filters and order id are query parameters, both ways."""
    customer = unique("link")
    order = new_order(customer=customer, product="gear")
    at = ui()
    at.query_params.update({"view": "Order detail", "order": order["id"]})
    at.run()

    assert not at.exception
    assert at.text_input(key="order").value == order["id"]
    assert at.subheader[0].value == literal(f"gear for {customer}")

    at = ui()
    at.query_params.update({"customer": customer, "status": "pending"})
    at.run()
    assert at.text_input(key="customer").value == customer
    assert at.selectbox(key="status").value == "pending"
    assert list(at.dataframe[0].value["Order"]) == [order["id"]]
    # And the other way: what the user picks goes into the URL.
    at.selectbox(key="status").select("any").run()
    assert not at.exception
    assert at.query_params == {"customer": customer}


# -- New order ------------------------------------------------------------------------


def fill_new_order(at: AppTest, **values: object) -> AppTest:
    for name, value in values.items():
        new_order_widget(at, name).set_value(value)
    at.run()  # a field is checked when it is left: Create is enabled once all are valid
    [submit] = [b for b in at.button if b.label == "Create order"]
    submit.click()
    return at.run()


def test_create_an_order_and_land_on_it(ui: MakeApp, api: httpx.Client) -> None:
    customer = unique("create")
    at = open_tab(ui().run(), "New order")

    fill_new_order(at, customer=customer, product="sprocket", quantity=4, note="by Friday")

    assert not at.exception
    assert at.session_state["view"] == "Order detail"
    order_id = at.text_input(key="order").value
    stored = api.get(f"/orders/{order_id}").json()
    assert (stored["customer"], stored["product"], stored["quantity"], stored["note"]) == (
        customer, "sprocket", 4, "by Friday",
    )  # fmt: skip
    assert f"Order `{order_id}` created" in at.success[0].value
    # The form is fresh for the next order.
    at = open_tab(at, "New order")
    assert all(not w.value for w in at.text_input if str(w.key).startswith("new_order_"))


def test_a_second_click_on_the_same_form_creates_no_second_order(
    ui: MakeApp, api: httpx.Client
) -> None:
    customer = unique("twice")
    at = open_tab(ui().run(), "New order")
    new_order_widget(at, "customer").set_value(customer)
    new_order_widget(at, "product").set_value("cog")
    at.run()
    submit = create_button(at)

    fill_new_order(at)
    # The same (stale) button once more, as a double click delivers it.
    submit.click()
    at.run()

    assert not at.exception
    assert len(api.get("/orders", params={"customer": customer}).json()["items"]) == 1


def create_button(at: AppTest) -> Button:
    [submit] = [b for b in at.button if b.label == "Create order"]
    return submit


def new_order_widget(at: AppTest, name: str) -> Widget:
    """The New order form's input for field `name` (its key carries the form's generation)."""
    inputs: list[Widget] = [*at.text_input, *at.text_area, *at.number_input]
    [widget] = [w for w in inputs if str(w.key).startswith(f"new_order_{name}_")]
    return widget


def test_fields_are_checked_with_the_apis_own_limits(ui: MakeApp, api: httpx.Client) -> None:
    """Item 3: the limits come from /api/openapi.json; Create waits for a valid form."""
    limits = api.get("/openapi.json").json()["components"]["schemas"]["OrderCreate"]
    at = open_tab(ui().run(), "New order")
    assert create_button(at).disabled
    # The inputs take no more than the API does.
    assert (
        new_order_widget(at, "product").proto.max_chars
        == (limits["properties"]["product"]["maxLength"])
    )
    assert new_order_widget(at, "note").proto.max_chars == 500

    new_order_widget(at, "customer").set_value("   ")
    new_order_widget(at, "product").set_value("cog")
    at.run()
    assert "Enter a customer." in texts(at)
    assert create_button(at).disabled

    new_order_widget(at, "customer").set_value("acme")
    at.run()
    assert "Enter a customer." not in texts(at)
    assert not create_button(at).disabled
    assert not at.error


# -- Order detail: moves, 409, attachments, events ------------------------------------


def open_detail(ui: MakeApp, order_id: str) -> AppTest:
    at = ui()
    at.query_params.update({"view": "Order detail", "order": order_id})
    return at.run()


def move_labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button if str(b.key).startswith("move_")]


def test_only_allowed_moves_are_offered_through_to_delivered(
    ui: MakeApp, new_order: NewOrder
) -> None:
    order = new_order()
    at = open_detail(ui, order["id"])
    assert move_labels(at) == ["Mark confirmed", "Cancel order…"]

    for label, then in [
        ("Mark confirmed", ["Mark shipped", "Cancel order…"]),
        ("Mark shipped", ["Mark delivered"]),
        ("Mark delivered", []),
    ]:
        [button] = [b for b in at.button if b.label == label]
        button.click().run()
        assert not at.exception
        assert not at.error, at.error[0].value
        assert move_labels(at) == then

    assert "delivered" in at.success[0].value
    assert "is final" in texts(at)
    assert "version 4" in texts(at)


def test_cancel_sends_the_version_read(ui: MakeApp, new_order: NewOrder, api: httpx.Client) -> None:
    order = new_order()
    at = open_detail(ui, order["id"])

    at.button(key="move_cancelled").click().run()
    # Item 6: it asks first, and keeping the order changes nothing.
    assert api.get(f"/orders/{order['id']}").json()["status"] == "pending"
    at.button(key="cancel_keep").click().run()
    assert api.get(f"/orders/{order['id']}").json()["status"] == "pending"

    at.button(key="move_cancelled").click().run()
    at.button(key="cancel_confirm").click().run()

    assert api.get(f"/orders/{order['id']}").json()["status"] == "cancelled"
    assert "cancelled" in at.success[0].value
    assert move_labels(at) == []


def test_a_change_by_someone_else_shows_a_clear_409(
    ui: MakeApp, new_order: NewOrder, api: httpx.Client
) -> None:
    order = new_order()
    at = open_detail(ui, order["id"])
    # Another user confirms the order after this page showed version 1.
    assert (
        api.put(
            f"/orders/{order['id']}/status", json={"status": "confirmed", "version": 1}
        ).status_code
        == 200
    )

    at.button(key="move_confirmed").click().run()

    assert not at.exception
    [error] = at.error
    assert "Someone else changed this order" in error.value
    # The page now shows what is true: confirmed, version 2, and the moves from there.
    assert "version 2" in texts(at)
    assert move_labels(at) == ["Mark shipped", "Cancel order…"]


def test_a_409_for_a_move_no_longer_allowed_is_clear(
    ui: MakeApp, new_order: NewOrder, api: httpx.Client
) -> None:
    order = new_order()
    at = open_detail(ui, order["id"])
    # Someone cancels it; this page still offers "Mark confirmed" from version 1.
    api.post(f"/orders/{order['id']}/cancel", json={"version": 1})

    at.button(key="move_confirmed").click().run()

    [error] = at.error
    assert "not allowed now" in error.value or "Someone else changed" in error.value
    assert move_labels(at) == []


def test_unknown_order_is_not_found(ui: MakeApp) -> None:
    at = open_detail(ui, uuid.uuid4().hex)

    assert not at.exception
    assert "Not found" in at.warning[0].value


def test_malformed_order_id_gets_the_api_message(ui: MakeApp) -> None:
    # No order can have this id: the API answers 404 (issue 12), not a 422.
    at = open_detail(ui, "not-an-id")

    assert not at.exception
    assert "Not found" in at.warning[0].value


def test_upload_then_download_an_attachment(ui: MakeApp, new_order: NewOrder) -> None:
    order = new_order()
    at = open_detail(ui, order["id"])
    assert "No attachments yet." in texts(at)
    # The uploader states the API's limit, not Streamlit's 200 MB default.
    assert at.file_uploader[0].proto.max_upload_size_mb == 10

    at.file_uploader[0].set_value(("packing-list.txt", b"12 boxes\n", "text/plain")).run()

    assert not at.exception
    assert literal("Uploaded packing-list.txt") in at.success[0].value
    files = at.dataframe[0].value
    assert list(files["File"]) == ["packing-list.txt"]
    response = httpx.get(files["Download"][0], timeout=10)
    assert response.status_code == 200
    assert response.content == b"12 boxes\n"
    # The uploader starts empty again.
    assert at.file_uploader[0].value is None


def test_a_refused_attachment_says_why(ui: MakeApp, new_order: NewOrder) -> None:
    order = new_order()
    at = open_detail(ui, order["id"])

    at.file_uploader[0].set_value(("tool.exe", b"MZ", "application/x-msdownload")).run()

    assert not at.exception
    assert "refused this file" in at.error[0].value
    assert "No attachments yet." in texts(at)


def test_events_show_whether_the_bus_has_them(
    ui: MakeApp, new_order: NewOrder, api: httpx.Client, publish_outbox: PublishOutbox
) -> None:
    order = new_order()
    api.put(f"/orders/{order['id']}/status", json={"status": "confirmed", "version": 1})
    at = open_detail(ui, order["id"])

    events = at.dataframe[0].value
    assert list(events["Event"]) == ["OrderCreated", "OrderStatusChanged"]
    # Item 8: what changed, from the event itself.
    assert list(events["Change"]) == ["created as pending", "pending -> confirmed"]
    assert list(events["On the bus"]) == ["pending", "pending"]
    assert "2 pending" in texts(at)

    # The outbox publisher runs; the same page, refreshed, shows the bus's ids.
    publish_outbox(order["id"])
    at.button(key="reload_order").click().run()

    events = at.dataframe[0].value
    assert list(events["On the bus"]) == ["published", "published"]
    assert all(events["Bus event id"])
    assert "pending" not in texts(at)


def test_the_api_going_away_mid_session_is_said_plainly(
    ui: MakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = ui().run()
    assert at.tabs

    monkeypatch.setenv("ORDERS_API_URL", f"http://127.0.0.1:{free_port()}")
    at.button(key="refresh").click().run()

    assert not at.exception
    assert "API down" in "\n".join(m.value for m in at.sidebar.markdown)
    assert "Reconnecting" in at.warning[0].value


# -- issue 16 items 7 and 10 --------------------------------------------------------------


def test_the_list_offers_the_search_and_sort_the_api_declares(
    ui: MakeApp, new_order: NewOrder, api: httpx.Client
) -> None:
    """Item 7: prefix search and sort, shown because the API's OpenAPI document has them."""
    params = {
        p["name"]
        for p in api.get("/openapi.json").json()["paths"]["/api/orders"]["get"]["parameters"]
    }
    assert {"sort", "customer_prefix"} <= params
    customer = unique("search")
    new_order(customer=customer)
    at = ui().run()
    at.text_input(key="customer").input(customer[:-2]).run()

    assert at.text_input(key="customer").label == "Customer starts with"
    assert [c.label for c in at.segmented_control] == ["Sort"]
    assert list(at.dataframe[0].value["Customer"]) == [customer]


def test_without_prefix_search_or_sort_in_the_api_the_list_degrades_quietly(
    ui: MakeApp, new_order: NewOrder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 7 against an API whose document lacks them (an older one): no dead controls."""
    real = Schema.from_openapi.__func__  # type: ignore[attr-defined]

    def older_api(cls: type[Schema], document: dict[str, Any]) -> Schema:
        schema: Schema = real(cls, document)
        return replace(schema, list_params=schema.list_params - {"sort", "customer_prefix"})

    monkeypatch.setattr(Schema, "from_openapi", classmethod(older_api))
    st.cache_data.clear()  # the app caches the schema it read (ui.page)
    try:
        customer = unique("degrade")
        new_order(customer=customer)
        at = ui().run()
        at.text_input(key="customer").input(customer).run()

        assert not at.segmented_control
        assert at.text_input(key="customer").label == "Customer"
        assert list(at.dataframe[0].value["Customer"]) == [customer]
        assert "last page" in texts(at)
    finally:
        st.cache_data.clear()


def test_the_list_shows_status_badges_and_one_way_to_open(ui: MakeApp, new_order: NewOrder) -> None:
    """Item 10: the status is a coloured badge column, pinned first; no 'Open' buttons."""
    customer = unique("badge")
    new_order(customer=customer)
    at = ui().run()
    at.text_input(key="customer").input(customer).run()

    table = at.dataframe[0]
    assert [list(s) for s in table.value["Status"]] == [["pending"]]
    assert next(iter(table.value.columns)) == "Status"
    assert not [b for b in at.button if b.label == "Open"]


# -- issue 16 items 4 and 8: ordinary file names, and who changed what ----


def test_an_ordinary_filename_is_kept_as_typed(ui: MakeApp, new_order: NewOrder) -> None:
    name = "invoice 2026 #17.pdf"
    order = new_order()
    at = open_detail(ui, order["id"])

    at.file_uploader[0].set_value((name, b"%PDF-1.4\n", "application/pdf")).run()

    assert not at.exception
    files = at.dataframe[0].value
    assert list(files["File"]) == [name]
    response = httpx.get(files["Download"][0], timeout=10)
    assert response.status_code == 200
    assert "invoice 2026" in response.headers.get("content-disposition", "")


def test_events_say_who_changed_what(ui: MakeApp, new_order: NewOrder, api: httpx.Client) -> None:
    order = new_order()
    api.put(f"/orders/{order['id']}/status", json={"status": "confirmed", "version": 1})
    items = api.get(f"/orders/{order['id']}/events").json()["items"]
    assert "actor" in items[-1]

    at = open_detail(ui, order["id"])

    events = at.dataframe[0].value
    assert list(events["Change"])[-1] == "pending -> confirmed"
    assert list(events["By"])[-1] == (items[-1]["actor"] or "")


def test_downloads_line_up_in_one_column_of_one_grid(ui: MakeApp, new_order: NewOrder) -> None:
    """Item 10: no loose download buttons that wrap at different heights; one link per
    file, in the same column of the attachments grid, whatever the names' lengths."""
    import json

    order = new_order()
    at = open_detail(ui, order["id"])
    for name in ("a.txt", "a-much-longer-name-for-a-packing-list.txt"):
        at.file_uploader[0].set_value((name, b"12 boxes\n", "text/plain")).run()

    assert not at.exception
    assert not at.get("download_button")
    grid = at.dataframe[0]  # the attachments; the events' grid follows
    assert list(grid.value.columns) == ["File", "Size", "Download"]
    assert sorted(grid.value["File"]) == ["a-much-longer-name-for-a-packing-list.txt", "a.txt"]
    download = json.loads(grid.proto.columns)["Download"]
    assert download["type_config"]["type"] == "link"
    assert download["type_config"]["display_text"] == "Download"
    assert all(str(url).startswith("http") for url in grid.value["Download"])
