"""The local stack keeps DynamoDB's guarantees under concurrent clients (issue 12).

A stack of its own (no UI), so the counts on its bus queue and its emulator's memory
are this module's alone. Real processes on loopback; every loop is bounded.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from bench.soak import Load, rss_bytes, run_mix
from tests.e2e.stack import DevStack, bus_events, distinct_event_ids, environ, start

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e

ROUNDS = 50
RACERS = 20
PUBLISH_TIMEOUT_SECONDS = 60
# The short version of `make soak`: seconds per phase, and the runner's (moto's) RSS
# allowance. Before the fix a few seconds of this load grew moto by hundreds of MiB.
# Three interleaved rounds of 4 s: two rounds of 3 s once read 188 against 191 on a
# machine busy with other builds, noise larger than the margin being measured.
LOAD_SECONDS = 4.0
ROUNDS_OF_LOAD = 3
# Not counted: 64 users all begin with a create at once (see bench.soak.Load).
WARMUP_SECONDS = 2.0
RSS_LIMIT_BYTES = 400 * 2**20
RSS_GROWTH_LIMIT_BYTES = 100 * 2**20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    # One machine client makes every request here: the per-caller limit would measure
    # itself, not the emulator's concurrency.
    running = start(
        tmp_path_factory.mktemp("concurrency"), "--no-ui", "--rate-limit-per-minute", "0"
    )
    for entry in ("api", "lambda"):
        assert environ(running.children[entry])["ORDERS_RATE_LIMIT_PER_MINUTE"] == "0"
    yield running
    assert running.stop() == 0, "".join(running.output)


def event_ids_per_order(stack: DevStack, order_ids: set[str], expected: int) -> dict[str, set[str]]:
    """The event ids on the bus per order, once `expected` distinct ones arrived. It listens
    a while longer: anything still arriving would be an event for a write that did not happen."""
    events = bus_events(
        stack, order_ids, distinct_event_ids(expected), timeout=PUBLISH_TIMEOUT_SECONDS, linger=2.5
    )
    seen: dict[str, set[str]] = defaultdict(set)
    for event in events:
        seen[event["detail"]["order"]["id"]].add(event["detail"]["event_id"])
    return seen


def test_an_if_match_race_has_one_winner_and_only_its_event(stack: DevStack) -> None:
    api = httpx.Client(
        base_url=f"{stack.api_url}/api",
        timeout=30,
        headers=stack.auth(),
        limits=httpx.Limits(max_connections=RACERS, max_keepalive_connections=RACERS),
    )
    winners: dict[str, int] = {}
    losers: Counter[int] = Counter()

    def change(order_id: str, gate: threading.Barrier) -> int:
        gate.wait()
        return api.put(
            f"/orders/{order_id}/status", json={"status": "confirmed"}, headers={"If-Match": '"1"'}
        ).status_code

    with ThreadPoolExecutor(RACERS) as pool:
        for _ in range(ROUNDS):
            created = api.post("/orders", json={"customer": "race", "product": "p", "quantity": 1})
            assert created.status_code == 201, created.text
            order_id = created.json()["id"]
            gate = threading.Barrier(RACERS)
            racers = [pool.submit(change, order_id, gate) for _ in range(RACERS)]
            codes = [racer.result() for racer in racers]
            winners[order_id] = sum(200 <= c < 300 for c in codes)
            losers.update(c for c in codes if not 200 <= c < 300)

    # Exactly one client was told its change happened, every other one that it lost
    assert [n for n in winners.values() if n != 1] == []
    assert set(losers) <= {409, 412}, losers
    # Each order has its creation and the one change, and all of them reached the bus:
    # no event for a write that failed, and the outbox never stalled.
    deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
    pending = set(winners)
    stored: dict[str, list[dict[str, Any]]] = {}
    while pending and time.monotonic() < deadline:
        for order_id in list(pending):
            stored[order_id] = api.get(f"/orders/{order_id}/events").json()["items"]
            if all(e["published_at"] for e in stored[order_id]):
                pending.discard(order_id)
        time.sleep(0.5)
    assert not pending, f"{len(pending)} orders with events never published"
    assert {len(events) for events in stored.values()} == {2}
    on_bus = event_ids_per_order(stack, set(winners), expected=2 * ROUNDS)
    assert {o: len(ids) for o, ids in on_bus.items()} == dict.fromkeys(winners, 2)
    assert all(on_bus[o] == {e["id"] for e in stored[o]} for o in winners)


def test_64_users_get_more_done_than_one_with_no_5xx_and_bounded_memory(stack: DevStack) -> None:
    runner = stack.process.pid  # moto runs in the runner's process
    before = rss_bytes(runner)

    # Interleaved, so a burst of other work on the machine does not land on one side only
    loads: dict[int, list[Load]] = {1: [], 64: []}
    for _ in range(ROUNDS_OF_LOAD):
        for users in (1, 64):
            loads[users].append(
                run_mix(stack.api_url, users, LOAD_SECONDS, WARMUP_SECONDS, stack.auth())
            )

    for load in loads[1] + loads[64]:
        assert load.server_errors == 0, load.summary()
        assert not load.transport_errors, load.summary()
        assert load.orders, load.summary()
    one = sum(load.in_window for load in loads[1])
    many = sum(load.in_window for load in loads[64])
    assert many / one >= 1, [load.summary() for load in loads[1] + loads[64]]
    after = rss_bytes(runner)
    assert after < RSS_LIMIT_BYTES, after
    assert after - before < RSS_GROWTH_LIMIT_BYTES, (before, after)
