"""The seed-style walk-through, unchanged, against the stack `make dev` starts.

A client that knows nothing of ETags or Idempotency-Keys: create, read, move the order
to shipped (via confirmed) with plain `{"status": ...}` bodies, read after the update,
list, and ask for an id that does not exist.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from tests.e2e.stack import DevStack

pytestmark = pytest.mark.e2e


def test_create_get_ship_read_list_and_404(dev_stack: DevStack) -> None:
    with httpx.Client(base_url=dev_stack.api_url, timeout=15) as api:
        created = api.post(
            "/api/orders", json={"customer": "walk-co", "product": "widget", "quantity": 2}
        )
        assert created.status_code == 201, created.text
        order = created.json()
        assert order["status"] == "pending"
        location = created.headers["location"]
        assert location == f"/api/orders/{order['id']}"

        fetched = api.get(location)
        assert fetched.status_code == 200
        assert fetched.json() == order

        for status in ("confirmed", "shipped"):
            moved = api.put(f"{location}/status", json={"status": status})
            assert moved.status_code == 200, moved.text
            assert moved.json()["status"] == status

        after = api.get(location)
        assert after.status_code == 200
        assert after.json()["status"] == "shipped"
        assert after.json()["version"] == 3
        assert after.headers["etag"] == '"3"'

        listed = api.get("/api/orders", params={"customer": "walk-co"})
        assert listed.status_code == 200
        assert [o["id"] for o in listed.json()["items"]] == [order["id"]]
        assert listed.json()["items"][0]["status"] == "shipped"

        missing = api.get("/api/orders/does-not-exist")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["type"] == "urn:orders:problem:not-found"
