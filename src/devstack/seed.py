"""`make seed`: a few sample orders, one in each status, created through the running API.

As the machine client (devstack.tokens): it creates orders for several customers and
moves them through every status, which no single person's token may do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
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


class Refused(RuntimeError):
    """The API refused the token (401) or its rights (403)."""


def _check(response: httpx.Response) -> None:
    if response.status_code in (401, 403):
        raise Refused(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:200]}"
        )
    response.raise_for_status()


def seed_orders(api_url: str, token: str | None = None) -> list[dict[str, Any]]:
    """Create the samples over HTTP with `token`; the orders as the API last returned them."""
    created = []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=f"{api_url}/api", timeout=10, headers=headers) as client:
        try:
            client.get("/health").raise_for_status()
        except httpx.HTTPError as exc:
            raise ApiDown(f"the API does not answer at {api_url} ({exc})") from None
        for customer, product, quantity, statuses in SAMPLES:
            response = client.post(
                "/orders", json={"customer": customer, "product": product, "quantity": quantity}
            )
            _check(response)
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
                _check(response)
                order = response.json()
            created.append(order)
    return created


def machine_token(state_dir: Path) -> str | None:
    """The machine client's token from the running `make dev`, or None without one."""
    from devstack.identity import MACHINE
    from devstack.tokens import TokenError, access_token

    try:
        return access_token(MACHINE, state_dir)
    except TokenError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.seed", description=__doc__)
    parser.add_argument("--api", default=None, help="API base URL (default: make dev's)")
    parser.add_argument(
        "--state-dir", type=Path, default=default_state_dir(), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    running = state.read(args.state_dir)
    api = args.api or (running.api_url if running else f"http://{LOOPBACK}:{DEFAULT_API_PORT}")
    try:
        orders = seed_orders(api.rstrip("/"), machine_token(args.state_dir))
    except ApiDown as exc:
        print(f"make seed: {exc}: start it with `make dev` in another terminal", file=sys.stderr)
        return 1
    except Refused as exc:
        print(f"make seed: {exc}; is `make dev` running for this API?", file=sys.stderr)
        return 1
    for order in orders:
        print(f"{order['id']}  {order['status']:<10} {order['customer']:<8} {order['product']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
