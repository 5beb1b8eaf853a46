"""The README's walk-through (section "The API"), against the stack `make dev` starts.

A client that knows nothing of ETags or Idempotency-Keys, with the tokens the README
gets from `make token`: the customer `acme` creates, reads and lists its order, the
`operator` moves it to shipped (via confirmed) with plain `{"status": ...}` bodies, and
an id that does not exist is a 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:
    from tests.e2e.stack import DevStack

pytestmark = pytest.mark.e2e


def test_create_get_ship_read_list_and_404(dev_stack: DevStack) -> None:
    # TOKEN=$(make -s token); OPERATOR=$(make -s token USER=operator)
    customer = dev_stack.auth("acme")
    operator = dev_stack.auth("operator")
    with httpx.Client(base_url=dev_stack.api_url, timeout=15) as api:
        created = api.post(
            "/api/orders",
            json={"customer": "acme", "product": "widget", "quantity": 2},
            headers=customer,
        )
        assert created.status_code == 201, created.text
        order = created.json()
        assert order["status"] == "pending"
        assert order["customer"] == "acme"
        location = created.headers["location"]
        assert location == f"/api/orders/{order['id']}"

        fetched = api.get(location, headers=customer)
        assert fetched.status_code == 200
        assert fetched.json() == order

        for status in ("confirmed", "shipped"):
            moved = api.put(f"{location}/status", json={"status": status}, headers=operator)
            assert moved.status_code == 200, moved.text
            assert moved.json()["status"] == status

        after = api.get(location, headers=customer)
        assert after.status_code == 200
        assert after.json()["status"] == "shipped"
        assert after.json()["version"] == 3
        assert after.headers["etag"] == '"3"'

        listed = api.get("/api/orders", params={"customer": "acme"}, headers=customer)
        assert listed.status_code == 200
        # Newest first: the order just made heads acme's list.
        assert listed.json()["items"][0]["id"] == order["id"]
        assert listed.json()["items"][0]["status"] == "shipped"

        missing = api.get("/api/orders/does-not-exist", headers=customer)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["type"] == "urn:orders:problem:not-found"
