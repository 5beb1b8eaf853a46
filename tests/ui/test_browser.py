"""One real browser: Debian's Chromium, driven by Playwright, against `streamlit run`.

AppTest runs the script without a front end; this test proves the page really renders
and works over Streamlit's websocket. Screenshots land in tests/output/<test name>/;
with UPDATE_SCREENSHOT=1 the detail view is also copied to src/ui/screenshot.png (the
README's picture), so ordinary runs leave the tree clean.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from devstack.netports import free_port
from tests.ui.conftest import APP, REPO, api_args, background, wait_for

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Iterator
    from contextlib import AbstractContextManager

    from playwright.sync_api import Browser, FloatRect, Locator, Page

    from tests.ui.conftest import LocalPool, PublishOutbox, Stack

    # A background process (conftest.background): entering gives the process and its log.
    Running = AbstractContextManager[tuple[subprocess.Popen[bytes], Path]]

CHROMIUM = Path("/usr/bin/chromium")
# Debian's Chromium as root in a container: no sandbox (it refuses to start as root
# with one), no GPU, /tmp instead of a small /dev/shm, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 20_000


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = (
        f"{CHROMIUM} is missing: install Debian's browser with "
        "`apt-get update && apt-get install -y chromium` (.ci/run does this)"
    )
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(message)
    pytest.skip(message)


def start_streamlit(
    api_url: str, home: Path, extra_env: dict[str, str] | None = None
) -> tuple[Running, str]:
    """`streamlit run` of the UI against `api_url` on a free port; yields its URL."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ORDERS_"))},
        "ORDERS_API_URL": api_url,
        "HOME": str(home),  # keep ~/.streamlit of the person running the tests out of it
        **(extra_env or {}),
    }
    args = [
        sys.executable, "-m", "streamlit", "run", str(APP.relative_to(REPO)),
        "--server.headless", "true", "--server.address", "127.0.0.1",
        "--server.port", str(port), "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    # Nothing to save on the way out: do not wait for Streamlit's graceful shutdown.
    return background(f"streamlit-{port}", args, env, stop_timeout=1), f"http://127.0.0.1:{port}"


@pytest.fixture
def streamlit_url(api_url: str, tmp_path: Path) -> Iterator[str]:
    running, url = start_streamlit(api_url, tmp_path)
    with running as (process, log):
        wait_for(f"{url}/_stcore/health", process, log)
        yield url


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright, one per test."""
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(
    browser: Browser, width: int = 1440, height: int = 900, zone: str = "Europe/Berlin"
) -> Page:
    page: Page = browser.new_page(viewport={"width": width, "height": height}, timezone_id=zone)
    page.set_default_timeout(TIMEOUT_MS)
    return page


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the script run and drawn its tables."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
    for grid in page.locator('[data-testid="stDataFrame"]').all():
        # A grid of the view just left can linger hidden for a moment: only wait for shown ones.
        if grid.is_visible():
            grid.locator("canvas").first.wait_for(state="attached")
    page.wait_for_timeout(300)  # the grids paint their canvas one frame later


def cells(page: Page, text: str | re.Pattern[str]) -> Locator:
    """Table cells with `text`: the grid draws on a canvas and keeps the text in hidden cells."""
    return page.locator('[role="gridcell"]', has_text=text)


def open_row(page: Page, row: int) -> None:
    """Click row `row` (1-based) of the orders grid on its row marker: the grid selects it."""
    grid = page.locator('[data-testid="stDataFrame"]').first
    box = grid.bounding_box()
    assert box is not None
    # The header and each row are about 35 px high; the row marker is the first 30 px.
    grid.click(position={"x": 15, "y": 35 * row + 17})


def create_orders(api_url: str, customer: str, count: int, **body: object) -> list[str]:
    ids = []
    for _ in range(count):
        payload = {"customer": customer, "product": "widget", "quantity": 1, **body}
        response = httpx.post(f"{api_url}/api/orders", json=payload, timeout=10)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def shot(page: Page, request: pytest.FixtureRequest, name: str) -> Path:
    output = REPO / "tests" / "output" / str(request.node.name)
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"{name}.png"
    page.screenshot(path=path)
    return path


@pytest.mark.browser
def test_create_an_order_in_chromium(
    streamlit_url: str,
    api_url: str,
    browser: Browser,
    publish_outbox: PublishOutbox,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    customer = f"browser-{uuid.uuid4().hex[:6]}"
    attachment = tmp_path / "packing-list.txt"
    attachment.write_text("12 boxes\n")
    page = new_page(browser)
    page.goto(streamlit_url)
    expect(page.get_by_text("API ok")).to_be_visible()

    # Create an order in the New order view.
    page.get_by_role("tab", name="New order").click()
    settle(page)
    page.get_by_role("tabpanel", name="New order").get_by_label("Customer").fill(customer)
    page.get_by_label("Product").fill("flange")
    page.get_by_label("Quantity").fill("5")
    page.get_by_label("Note (optional)").fill("Deliver to dock 4")
    page.get_by_label("Note (optional)").press("Tab")  # a field commits when it is left
    # A double click, as impatient people do: still one order.
    page.get_by_role("button", name="Create order").dblclick()

    # The UI lands on the new order: move it on and attach a file.
    expect(page.get_by_text(f"flange for {customer}")).to_be_visible()
    order_id = page.get_by_label("Order id").input_value()
    page.get_by_role("button", name="Mark confirmed").click()
    expect(page.get_by_text("Order is now confirmed")).to_be_visible()
    expect(page.get_by_role("button", name="Mark confirmed")).to_have_count(0)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(attachment)
    expect(page.get_by_text("Uploaded packing-list.txt")).to_be_visible()
    expect(cells(page, re.compile(r"^packing-list\.txt$"))).to_have_count(1)
    # The outbox publisher runs; Reload shows the events on the bus, from -> to.
    publish_outbox(order_id)
    page.get_by_role("button", name="Reload").click()
    expect(cells(page, re.compile(r"^published$"))).to_have_count(2)
    expect(cells(page, "pending -> confirmed")).to_have_count(1)
    # The time in the viewer's zone, named (the browser is in Europe/Berlin).
    expect(cells(page, re.compile(r" CES?T$"))).to_have_count(2)
    settle(page)
    detail = shot(page, request, "detail")

    # And it is listed in the Orders view.
    page.get_by_role("tab", name="Orders").click()
    settle(page)
    page.get_by_label("Customer").fill(customer)
    page.get_by_label("Customer").press("Enter")
    expect(cells(page, order_id)).to_have_count(1)
    settle(page)
    orders = shot(page, request, "orders")

    listed = httpx.get(f"{api_url}/api/orders", params={"customer": customer}, timeout=10)
    assert [o["id"] for o in listed.json()["items"]] == [order_id]

    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(detail, REPO / "src" / "ui" / "screenshot.png")
        shutil.copyfile(orders, REPO / "src" / "ui" / "screenshot-orders.png")


# -- issue 16: one test per defect (each failed on main before the fix) -------------------


@pytest.mark.browser
def test_1_back_to_the_list_keeps_filters_and_page(
    streamlit_url: str, api_url: str, browser: Browser
) -> None:
    from playwright.sync_api import expect

    customer = f"back-{uuid.uuid4().hex[:6]}"
    create_orders(api_url, customer, 12)
    page = new_page(browser)
    page.goto(streamlit_url)
    settle(page)
    page.get_by_label("Customer").fill(customer)
    page.get_by_label("Customer").press("Enter")
    # The unfiltered list says "Page 1 · 10 orders" too: wait for the filtered one.
    settle(page)
    expect(page.get_by_text("Page 1 · 10 orders")).to_be_visible()
    page.get_by_role("button", name="Next page").click()
    expect(page.get_by_text("Page 2 · 2 orders")).to_be_visible()
    settle(page)

    open_row(page, 1)
    expect(page.get_by_text(f"widget for {customer}")).to_be_visible()
    page.get_by_role("tab", name="Orders").click()

    # The same list: the filter, page 2 and its table; no 400.
    expect(page.get_by_text("Page 2 · 2 orders")).to_be_visible()
    expect(page.get_by_label("Customer")).to_have_value(customer)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(1)
    expect(page.get_by_text("Bad Request")).to_have_count(0)
    # A changed filter starts again at page 1 instead of sending page 2's cursor.
    page.get_by_label("Customer").fill(customer[:-1] + "x")
    page.keyboard.press("Enter")
    expect(page.get_by_text("No orders match.")).to_be_visible()
    expect(page.locator('[data-testid="stAlertContentError"]')).to_have_count(0)


@pytest.mark.browser
def test_2_user_text_is_shown_as_typed(streamlit_url: str, api_url: str, browser: Browser) -> None:
    from playwright.sync_api import expect

    customer = f"acme_corp *vip* {uuid.uuid4().hex[:4]}"
    note = "# not a heading\n[click](http://evil.example) https://evil.example **bold**"
    [order_id] = create_orders(api_url, customer, 1, product="widget :red[x]", note=note)
    page = new_page(browser)
    page.goto(f"{streamlit_url}/?view=Order+detail&order={order_id}")

    main = page.locator('[data-testid="stMain"]')
    expect(main.get_by_text(f"widget :red[x] for {customer}")).to_be_visible()
    expect(main.get_by_text("# not a heading", exact=False)).to_be_visible()
    expect(main.get_by_text("**bold**", exact=False)).to_be_visible()
    # Nothing of it became markup: no emphasis, colour, heading or link.
    expect(main.locator("em, strong:text('bold'), h1:text('not a heading')")).to_have_count(0)
    expect(main.locator('[href*="evil.example"]')).to_have_count(0)
    expect(main.locator("span[style*='color']:text-is('x')")).to_have_count(0)


@pytest.mark.browser
def test_3_fields_are_checked_where_they_are_typed(
    streamlit_url: str, api_url: str, browser: Browser
) -> None:
    from playwright.sync_api import expect

    limits = httpx.get(f"{api_url}/api/openapi.json", timeout=10).json()
    product_max = limits["components"]["schemas"]["OrderCreate"]["properties"]["product"][
        "maxLength"
    ]
    page = new_page(browser)
    page.goto(f"{streamlit_url}/?view=New+order")
    create = page.get_by_role("button", name="Create order")
    expect(create).to_be_disabled()

    # The input takes no more than the API will: a 200-character product is cut at its limit.
    page.get_by_label("Product").press_sequentially("p" * (product_max + 5))
    expect(page.get_by_label("Product")).to_have_value("p" * product_max)
    page.get_by_label("Product").press("Tab")
    # A blank customer is said next to the field, in plain words; Create stays disabled.
    page.get_by_label("Customer").fill("   ")
    page.get_by_label("Customer").press("Tab")
    expect(page.get_by_text("Enter a customer.")).to_be_visible()
    expect(create).to_be_disabled()
    # Fixed: the message goes, Create works, no banner in developer words.
    page.get_by_label("Customer").fill("acme")
    page.get_by_label("Customer").press("Tab")
    expect(page.get_by_text("Enter a customer.")).to_have_count(0)
    expect(create).to_be_enabled()
    create.click()
    expect(page.get_by_text("created.")).to_be_visible()
    expect(page.get_by_text("String should have")).to_have_count(0)


@pytest.mark.browser
def test_5_an_outage_loses_nothing_and_recovers_by_itself(
    stack: Stack, browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect

    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    customer = f"outage-{uuid.uuid4().hex[:6]}"

    def api() -> Running:
        return background(f"api-{port}", api_args(port), stack.service_env)

    running_ui, ui_url = start_streamlit(api_url, tmp_path)
    with running_ui as (ui_process, ui_log):
        with api() as (process, log):
            wait_for(f"{api_url}/api/health", process, log)
            wait_for(f"{ui_url}/_stcore/health", ui_process, ui_log)
            create_orders(api_url, customer, 12)
            page = new_page(browser)
            page.goto(f"{ui_url}/?customer={customer}")
            expect(page.get_by_text("Page 1 · 10 orders")).to_be_visible()
            page.get_by_role("tab", name="New order").click()
            form = page.get_by_role("tabpanel", name="New order")
            form.get_by_label("Customer").fill(customer)
            form.get_by_label("Customer").press("Enter")
            form.get_by_label("Product").fill("half-typed")
            page.get_by_label("Product").press("Tab")
            page.get_by_role("tab", name="Orders").click()
            expect(page.get_by_text("Page 1 · 10 orders")).to_be_visible()
        # The API is gone. The next action finds out.
        page.get_by_role("button", name="Refresh").click()
        expect(page.get_by_text("Reconnecting…")).to_be_visible()
        expect(page.get_by_text("ORDERS_API_URL")).to_have_count(0)
        # The last list stays, read-only: the pager does not move.
        expect(page.get_by_text("Page 1 · 10 orders")).to_be_visible()
        expect(page.get_by_role("button", name="Next page")).to_be_disabled()
        page.get_by_role("tab", name="New order").click()
        expect(page.get_by_label("Product")).to_have_value("half-typed")
        expect(page.get_by_role("button", name="Create order")).to_be_disabled()
        shot(page, request, "reconnecting")

        with api() as (process, log):
            wait_for(f"{api_url}/api/health", process, log)
            # No click: the page notices by itself, clears the errors and enables Create.
            expect(page.get_by_text("Reconnecting…")).to_have_count(0)
            expect(page.get_by_text("API ok")).to_be_visible()
            expect(page.get_by_label("Product")).to_have_value("half-typed")
            expect(page.get_by_text("not answering")).to_have_count(0)
            page.get_by_role("button", name="Create order").click()
            expect(page.get_by_text("half-typed for " + customer)).to_be_visible()


@pytest.mark.browser
def test_6_cancel_asks_first(streamlit_url: str, api_url: str, browser: Browser) -> None:
    from playwright.sync_api import expect

    [order_id] = create_orders(api_url, f"cancel-{uuid.uuid4().hex[:6]}", 1)
    page = new_page(browser)
    page.goto(f"{streamlit_url}/?view=Order+detail&order={order_id}")
    page.get_by_role("button", name="Cancel order…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Cancel this order?")).to_be_visible()
    dialog.get_by_role("button", name="Keep the order").click()
    expect(dialog).to_have_count(0)
    status = httpx.get(f"{api_url}/api/orders/{order_id}", timeout=10).json()["status"]
    assert status == "pending"

    page.get_by_role("button", name="Cancel order…").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel the order").click()
    expect(page.get_by_text("Order is now cancelled")).to_be_visible()
    status = httpx.get(f"{api_url}/api/orders/{order_id}", timeout=10).json()["status"]
    assert status == "cancelled"


@pytest.mark.browser
def test_9_the_url_holds_the_place_for_back_reload_and_sharing(
    streamlit_url: str, api_url: str, browser: Browser
) -> None:
    from playwright.sync_api import expect

    customer = f"link-{uuid.uuid4().hex[:6]}"
    [order_id] = create_orders(api_url, customer, 1)
    page = new_page(browser)
    page.goto(streamlit_url)
    settle(page)
    page.get_by_label("Customer").fill(customer)
    page.get_by_label("Customer").press("Enter")
    expect(cells(page, order_id)).to_have_count(1)
    expect(page).to_have_url(re.compile(f"customer={customer}"))
    settle(page)
    open_row(page, 1)
    expect(page.get_by_text(f"widget for {customer}")).to_be_visible()
    expect(page).to_have_url(re.compile(f"order={order_id}"))

    page.reload()
    expect(page.get_by_text(f"widget for {customer}")).to_be_visible()
    shared = page.url
    page.go_back()
    expect(page.get_by_label("Customer")).to_have_value(customer)
    expect(cells(page, order_id)).to_have_count(1)
    # The link opens the same order in another browser.
    other = new_page(browser)
    other.goto(shared)
    expect(other.get_by_text(f"widget for {customer}")).to_be_visible()


@pytest.mark.browser
def test_a_narrow_screen_keeps_status_and_actions_in_view(
    streamlit_url: str, api_url: str, browser: Browser, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect

    customer = f"narrow-{'a-very-long-customer-name-' * 3}{uuid.uuid4().hex[:4]}"
    [order_id] = create_orders(api_url, customer, 1, product="a-very-long-product-name-" * 3)
    page = new_page(browser, width=420, height=860)
    page.goto(f"{streamlit_url}/?customer={customer}")
    settle(page)
    # The status is pinned first: in view although the long names do not fit.
    expect(cells(page, re.compile(r"^pending$"))).to_have_count(1)
    # The grid fits the screen and its first column is the status.
    expect(page.locator('[role="columnheader"][aria-colindex="1"]')).to_have_text("Status")
    box = page.locator('[data-testid="stDataFrame"]').bounding_box()
    assert box is not None
    assert box["x"] + box["width"] <= 420, box
    shot(page, request, "narrow-list")

    page.goto(f"{streamlit_url}/?view=Order+detail&order={order_id}")
    action = page.get_by_role("button", name="Mark confirmed")
    expect(action).to_be_visible()
    box = action.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 860, box  # above the fold
    shot(page, request, "narrow-detail")


@pytest.mark.browser
def test_10_a_value_cut_in_the_grid_can_be_read_whole(
    streamlit_url: str, api_url: str, browser: Browser, request: pytest.FixtureRequest
) -> None:
    """Streamlit's grid has no per-cell tooltip: the column's tooltip says how to read a cut
    value, double-click shows it whole in the grid's read-only overlay, and the detail too."""
    from playwright.sync_api import expect

    customer = f"cut-{uuid.uuid4().hex[:6]}"
    product = "an-uncommonly-long-product-name-" * 3 + "end"
    create_orders(api_url, customer, 1, product=product)
    page = new_page(browser)
    page.goto(f"{streamlit_url}/?customer={customer}")
    settle(page)
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert box is not None
    # Cut: the product, in the grid's font, is far wider than any one column can be.
    text_width = page.evaluate(
        """text => { const c = document.createElement("canvas").getContext("2d");
                     c.font = "400 14px 'Source Sans', sans-serif";
                     return c.measureText(text).width; }""",
        product,
    )
    assert text_width > box["width"] / 2, (text_width, box)

    # The grid draws on a canvas: find the product's column by double-clicking along the
    # first row (past the row marker, which would select the row): the grid's read-only
    # overlay then holds the cell's whole text.
    overlay = page.locator("#portal textarea")
    found = None
    for x in range(int(box["x"]) + 60, int(box["x"] + box["width"]) - 10, 40):
        page.mouse.dblclick(x, box["y"] + 35 + 17)
        page.wait_for_timeout(200)
        if overlay.count() and overlay.first.input_value() == product:
            found = x
            break
        page.keyboard.press("Escape")
    assert found is not None, "no cell of the first row showed the whole product"
    expect(overlay).to_be_disabled()
    shot(page, request, "cut-value-overlay")
    page.keyboard.press("Escape")
    # The column's tooltip, on hovering its header, says how to read the whole value.
    page.mouse.move(found, box["y"] + 17)
    tooltip = page.get_by_test_id("stDataFrameTooltipContent")
    expect(tooltip).to_contain_text("Double-click a cell to read it whole")
    page.mouse.move(0, 0)
    # One way to open an order: no control of ours a screen reader announces as "Open".
    # (Streamlit's selectbox has its own arrow button labelled "Open", out of the tab order.)
    ours = page.locator(
        ':is(button, a, [role="button"], [role="link"])'
        ':not([data-testid="stSelectbox"] [aria-haspopup="listbox"])'
    )
    expect(ours.filter(has_text=re.compile(r"^\s*Open\b"))).to_have_count(0)
    expect(page.locator('[aria-label^="Open"]:not([aria-haspopup="listbox"])')).to_have_count(0)
    # And the order's detail shows it whole.
    open_row(page, 1)
    expect(page.get_by_text(f"{product} for {customer}")).to_be_visible()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1440, 420])
def test_10_the_grids_toolbar_stays_off_the_filters(
    streamlit_url: str, api_url: str, browser: Browser, width: int, request: pytest.FixtureRequest
) -> None:
    """The toolbar shows above the grid's top edge on hover: it must clear every filter.

    Where the API sorts, the Sort control sits between the customer filter and the grid;
    without it the customer filter is right above. So the toolbar must sit wholly below
    the lowest filter control, whichever that is (the spacing above the grid does it)."""
    from playwright.sync_api import expect

    customer = f"toolbar-{uuid.uuid4().hex[:6]}"
    create_orders(api_url, customer, 1)
    page = new_page(browser, width=width)
    page.goto(f"{streamlit_url}/?customer={customer}")
    settle(page)
    page.locator('[data-testid="stDataFrame"]').first.hover()
    toolbar = page.get_by_test_id("stElementToolbar")
    expect(toolbar).to_be_visible()
    shot(page, request, f"toolbar-{width}")
    bar = toolbar.bounding_box()
    field = page.get_by_label(re.compile("^Customer")).bounding_box()
    assert bar is not None
    assert field is not None
    filters = [field] + [
        b
        for b in (
            page.get_by_test_id("stSelectbox").bounding_box(),
            page.get_by_test_id("stButtonGroup").bounding_box(),
        )
        if b is not None
    ]

    def overlap(a: FloatRect, b: FloatRect) -> bool:
        return (
            a["x"] < b["x"] + b["width"]
            and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"]
            and b["y"] < a["y"] + a["height"]
        )

    assert not overlap(bar, field), (bar, field)
    lowest = max(b["y"] + b["height"] for b in filters)
    assert bar["y"] >= lowest, (bar, filters)


# -- issue 11: sign-in ----------------------------------------------------------------


@pytest.fixture
def signin_url(
    api_url: str, stack: Stack, ui_test_user_pool: LocalPool, tmp_path: Path
) -> Iterator[str]:
    running, url = start_streamlit(api_url, tmp_path, ui_test_user_pool.ui_env(stack.moto))
    with running as (process, log):
        wait_for(f"{url}/_stcore/health", process, log)
        yield url


def sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_sign_in_and_sign_out(
    signin_url: str, browser: Browser, ui_test_user_pool: LocalPool, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect

    page = new_page(browser)
    page.goto(signin_url)
    # Nothing but the form until signed in.
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(0)
    shot(page, request, "sign-in")
    sign_in(page, "operator", ui_test_user_pool.passwords["operator"])
    expect(page.get_by_text("Signed in as operator (operator)")).to_be_visible()
    expect(page.get_by_role("tab", name="Orders")).to_be_visible()
    expect(page.get_by_label("Customer")).to_be_visible()  # operators filter by customer

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(0)
    # The tokens are gone from the session: a reload does not sign back in.
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    # A customer: no customer filter, no customer field; their own name shown instead.
    sign_in(page, "acme", ui_test_user_pool.passwords["acme"])
    expect(page.get_by_text("Signed in as acme (customer)")).to_be_visible()
    expect(page.get_by_label("Customer")).to_have_count(0)


@pytest.mark.browser
def test_a_wrong_password_is_refused_plainly(signin_url: str, browser: Browser) -> None:
    from playwright.sync_api import expect

    page = new_page(browser)
    page.goto(signin_url)
    sign_in(page, "operator", "not-the-password")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    expect(page.get_by_role("tab")).to_have_count(0)


@pytest.mark.browser
def test_the_advisor_tab_renders_its_advice_and_plot(
    streamlit_url: str, browser: Browser, request: pytest.FixtureRequest
) -> None:
    from playwright.sync_api import expect

    page = new_page(browser)
    page.goto(f"{streamlit_url}/?view=Advisor")
    settle(page)
    page.get_by_role("tab", name="Advisor").click()
    expect(page.get_by_text("Recommendation: lambda")).to_be_visible()
    expect(page.get_by_text("make deploy TARGET=lambda")).to_be_visible()
    # vega-embed draws the plot (canvas or svg) in Streamlit's chart element: a real size.
    chart = page.locator("[data-testid*='VegaLite'] canvas, [data-testid*='VegaLite'] svg").first
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 150
    field = page.get_by_label("Mean requests per second")
    field.fill("100")
    field.press("Enter")
    expect(page.get_by_text("Recommendation: fargate")).to_be_visible()
    shot(page, request, "advisor")
