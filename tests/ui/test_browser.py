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

from devstack.ports import free_port
from tests.ui.conftest import APP, REPO, background, wait_for

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

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


@pytest.fixture
def streamlit_url(api_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ORDERS_"))},
        "ORDERS_API_URL": api_url,
        "HOME": str(tmp_path),  # keep ~/.streamlit of the person running the tests out of it
    }
    args = [
        sys.executable, "-m", "streamlit", "run", str(APP.relative_to(REPO)),
        "--server.headless", "true", "--server.address", "127.0.0.1",
        "--server.port", str(port), "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    # Nothing to save on the way out: do not wait for Streamlit's graceful shutdown.
    with background("streamlit", args, env, stop_timeout=1) as (process, log):
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/_stcore/health", process, log)
        yield url


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the script run and drawn its tables."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()
    for grid in page.locator('[data-testid="stDataFrame"]').all():
        grid.locator("canvas").first.wait_for()
    page.wait_for_timeout(300)  # the grids paint their canvas one frame later


def cells(page: Page, text: str | re.Pattern[str]) -> Locator:
    """Table cells with `text`: the grid draws on a canvas and keeps the text in hidden cells."""
    return page.locator('[role="gridcell"]', has_text=text)


@pytest.mark.browser
def test_create_an_order_in_chromium(
    streamlit_url: str,
    api_url: str,
    publish_outbox,
    request: pytest.FixtureRequest,
    tmp_path: Path,
):
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    output = REPO / "tests" / "output" / request.node.name
    output.mkdir(parents=True, exist_ok=True)
    customer = f"browser-{uuid.uuid4().hex[:6]}"
    attachment = tmp_path / "packing-list.txt"
    attachment.write_text("12 boxes\n")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            page.goto(streamlit_url)
            expect(page.get_by_text("API ok")).to_be_visible()

            # Create an order in the New order tab.
            page.get_by_role("tab", name="New order").click()
            settle(page)
            page.get_by_label("Customer").fill(customer)
            page.get_by_label("Product").fill("flange")
            page.get_by_label("Quantity").fill("5")
            page.get_by_label("Note (optional)").fill("Deliver to dock 4")
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
            expect(page.get_by_role("link", name="Download")).to_be_visible()
            # The outbox publisher runs; Reload shows the events on the bus.
            publish_outbox(order_id)
            page.get_by_role("button", name="Reload").click()
            on_the_bus = cells(page, re.compile(r"^published "))
            expect(on_the_bus).to_have_count(2)
            expect(page.get_by_text("pending:", exact=False)).to_have_count(0)
            settle(page)
            page.screenshot(path=output / "detail.png")

            # And it is listed in the Orders tab.
            page.get_by_role("tab", name="Orders").click()
            settle(page)
            page.get_by_label("Customer").fill(customer)
            page.get_by_label("Customer").press("Enter")
            expect(cells(page, order_id)).to_have_count(1)
            expect(page.get_by_role("combobox", name="Open an order")).to_have_value(
                re.compile(f"{customer} · flange · confirmed")
            )
            settle(page)
            page.screenshot(path=output / "orders.png")
        finally:
            browser.close()

    listed = httpx.get(f"{api_url}/api/orders", params={"customer": customer}, timeout=10)
    assert [o["id"] for o in listed.json()["items"]] == [order_id]

    if os.environ.get("UPDATE_SCREENSHOT"):
        shutil.copyfile(output / "detail.png", REPO / "src" / "ui" / "screenshot.png")
