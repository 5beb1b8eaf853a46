"""`make seed`: a few sample orders, one in each status, created through the running API."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import httpx

from devstack import state
from devstack.config import DEFAULT_API_PORT, LOOPBACK, default_state_dir

if TYPE_CHECKING:
    from collections.abc import Sequence

# (customer, product, quantity, the statuses it goes through after pending)
SAMPLES: list[tuple[str, str, int, list[str]]] = [
    ("acme", "widget", 3, []),
    ("acme", "gadget", 1, ["confirmed"]),
    ("globex", "sprocket", 12, ["confirmed", "shipped"]),
    ("initech", "stapler", 2, ["confirmed", "shipped", "delivered"]),
    ("globex", "flux capacitor", 1, ["cancelled"]),
]


class ApiDown(RuntimeError):
    """Nothing answers at the API URL."""


def seed_orders(api_url: str) -> list[dict[str, Any]]:
    """Create the samples over HTTP; the orders as the API last returned them."""
    created = []
    with httpx.Client(base_url=f"{api_url}/api", timeout=10) as client:
        try:
            client.get("/health").raise_for_status()
        except httpx.HTTPError as exc:
            raise ApiDown(f"the API does not answer at {api_url} ({exc})") from None
        for customer, product, quantity, statuses in SAMPLES:
            response = client.post(
                "/orders", json={"customer": customer, "product": product, "quantity": quantity}
            )
            response.raise_for_status()
            order = response.json()
            for status in statuses:
                path = f"/orders/{order['id']}" + (
                    "/cancel" if status == "cancelled" else "/status"
                )
                body = {"version": order["version"]}
                if status != "cancelled":
                    body["status"] = status
                response = client.request(
                    "POST" if status == "cancelled" else "PUT", path, json=body
                )
                response.raise_for_status()
                order = response.json()
            created.append(order)
    return created


def main(argv: Sequence[str] | None = None) -> int:
    running = state.read(default_state_dir())
    default_api = running.api_url if running else f"http://{LOOPBACK}:{DEFAULT_API_PORT}"
    parser = argparse.ArgumentParser(prog="python -m devstack.seed", description=__doc__)
    parser.add_argument("--api", default=default_api, help="API base URL (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        orders = seed_orders(args.api.rstrip("/"))
    except ApiDown as exc:
        print(f"make seed: {exc}: start it with `make dev` in another terminal", file=sys.stderr)
        return 1
    for order in orders:
        print(f"{order['id']}  {order['status']:<10} {order['customer']:<8} {order['product']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
