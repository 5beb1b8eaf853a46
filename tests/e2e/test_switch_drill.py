"""The switch drill (issue 10 item 4): a live walk lambda -> both 0/50/100 -> fargate -> lambda.

A stack of its own (no UI). A few clients keep a bounded create/read/status-change
load going through the front door, with retries of earlier Idempotency-Keys, while
the test moves the target with `python -m devstack.switch` (what `make switch` runs).
Then: no request failed, no key made a second order (retries first tried on the
other entry replayed), every change's event reached the bus exactly once, and each
phase's p50/p99 is printed (no timing is asserted: the machine is shared).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from devstack.front_door import SERVED_BY
from tests.e2e.stack import (
    DevStack,
    bus_events,
    distinct_event_ids,
    run_module,
    start,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e

# (target, weight): the runbook's steps, and back.
WALK: list[tuple[str, int | None]] = [
    ("lambda", None),
    ("both", 0),
    ("both", 50),
    ("both", 100),
    ("fargate", None),
    ("lambda", None),
]
PHASE_SECONDS = 3.0
CLIENTS = 4
PUBLISH_TIMEOUT_SECONDS = 45
SWITCHING = "switching"


def phase_name(step: int) -> str:
    target, weight = WALK[step]
    return f"{step + 1} {target}" + ("" if weight is None else f" {weight}")


# Where each step must send every request that started and ended inside it.
EXPECTED_ENTRIES = {
    phase_name(step): {
        "lambda": {"lambda"},
        "both 0": {"lambda"},
        "both 50": {"lambda", "fargate"},
        "both 100": {"fargate"},
        "fargate": {"fargate"},
    }[phase_name(step).split(" ", 1)[1]]
    for step in range(len(WALK))
}


@dataclass
class Call:
    what: str
    phase: str  # when it started
    ended_in: str
    entry: str | None  # the front door's x-devstack-target
    status: int | None  # None: no response (a transport error)
    seconds: float
    error: str | None = None


@dataclass
class Created:
    key: str
    body: dict[str, Any]
    order_id: str
    entry: str


@dataclass
class Drill:
    phase: str = SWITCHING
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: list[Call] = field(default_factory=list)
    created: list[Created] = field(default_factory=list)
    # (key, first entry, retry entry, replayed, same id)
    retries: list[tuple[str, str, str | None, bool, bool]] = field(default_factory=list)
    changes: Counter[str] = field(default_factory=Counter)  # status changes per order
    next_retry: int = 0

    def call(
        self, client: httpx.Client, what: str, method: str, url: str, **kwargs: Any
    ) -> httpx.Response | None:
        phase, started = self.phase, time.monotonic()
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            self._record(Call(what, phase, self.phase, None, None, 0.0, repr(exc)))
            return None
        self._record(
            Call(
                what,
                phase,
                self.phase,
                response.headers.get(SERVED_BY),
                response.status_code,
                time.monotonic() - started,
                None if response.status_code < 400 else response.text[:300],
            )
        )
        return response

    def _record(self, call: Call) -> None:
        with self.lock:
            self.calls.append(call)

    def earlier_key(self) -> Created | None:
        """The oldest key not retried yet: mostly first tried in an earlier phase."""
        with self.lock:
            if self.next_retry >= len(self.created) - CLIENTS:
                return None
            self.next_retry += 1
            return self.created[self.next_retry - 1]


def client_loop(drill: Drill, base_url: str, customer: str, auth: dict[str, str]) -> None:
    with httpx.Client(base_url=f"{base_url}/api", timeout=30, headers=auth) as client:
        while not drill.stop.is_set():
            key = str(uuid.uuid4())
            body = {"customer": customer, "product": "drill", "quantity": 1}
            created = drill.call(
                client, "create", "POST", "/orders", json=body, headers={"Idempotency-Key": key}
            )
            if created is None or created.status_code != 201:
                continue
            order = created.json()
            with drill.lock:
                drill.created.append(
                    Created(key, body, order["id"], created.headers.get(SERVED_BY, "?"))
                )
            read = drill.call(client, "read", "GET", f"/orders/{order['id']}")
            if read is None or read.status_code != 200:
                continue
            etag = read.headers["etag"]
            moved = drill.call(
                client,
                "status",
                "PUT",
                f"/orders/{order['id']}/status",
                json={"status": "confirmed"},
                headers={"If-Match": etag},
            )
            if moved is not None and moved.status_code == 200:
                with drill.lock:
                    drill.changes[order["id"]] += 1
            earlier = drill.earlier_key()
            if earlier is not None:
                again = drill.call(
                    client,
                    "retry",
                    "POST",
                    "/orders",
                    json=earlier.body,
                    headers={"Idempotency-Key": earlier.key},
                )
                if again is not None:
                    same = again.status_code == 201 and again.json()["id"] == earlier.order_id
                    replayed = again.headers.get("idempotent-replayed") == "true"
                    with drill.lock:
                        drill.retries.append(
                            (
                                earlier.key,
                                earlier.entry,
                                again.headers.get(SERVED_BY),
                                replayed,
                                same,
                            )
                        )


def switch(stack: DevStack, target: str, weight: int | None) -> None:
    args = [target, "--state-dir", str(stack.state_dir)]
    if weight is not None:
        args += ["--weight", str(weight)]
    result = run_module("devstack.switch", *args, timeout=30)
    assert result.returncode == 0, result.stderr
    assert f"-> {target}" in result.stdout


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bus_event_counts(stack: DevStack, order_ids: set[str], expected: int) -> Counter[str]:
    """Messages per event id on the rule's queue, for these orders, once `expected` arrived
    and a little longer, to catch a second copy of any of them."""
    events = bus_events(
        stack, order_ids, distinct_event_ids(expected), timeout=PUBLISH_TIMEOUT_SECONDS, linger=2.0
    )
    return Counter(event["detail"]["event_id"] for event in events)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    # One machine client makes every request here: the per-caller limit would refuse some.
    running = start(tmp_path_factory.mktemp("drill"), "--no-ui", "--rate-limit-per-minute", "0")
    yield running
    assert running.stop() == 0, "".join(running.output)


def test_a_live_walk_between_targets_fails_no_request_and_duplicates_nothing(
    stack: DevStack,
) -> None:
    drill = Drill()
    customer = f"drill-{uuid.uuid4().hex[:8]}"
    clients = [
        threading.Thread(
            target=client_loop, args=(drill, stack.api_url, customer, stack.auth()), daemon=True
        )
        for _ in range(CLIENTS)
    ]

    # When the target walks the runbook and back under load
    switch(stack, *WALK[0])
    drill.phase = phase_name(0)
    for client in clients:
        client.start()
    for step, (target, weight) in enumerate(WALK):
        if step:
            drill.phase = SWITCHING
            switch(stack, target, weight)
            drill.phase = phase_name(step)
        time.sleep(PHASE_SECONDS)
    drill.stop.set()
    for client in clients:
        client.join(60)
    assert not any(client.is_alive() for client in clients)

    # The report: latency per phase (and entry), never asserted
    by_phase: dict[str, list[Call]] = defaultdict(list)
    for call in drill.calls:
        by_phase[call.phase].append(call)
    print()
    for name in [*EXPECTED_ENTRIES, SWITCHING]:
        calls = [c for c in by_phase.get(name, []) if c.status is not None]
        if not calls:
            continue
        seconds = [c.seconds * 1000 for c in calls]
        entries = Counter(c.entry for c in calls)
        print(
            f"drill {name:<11} {len(calls):>4} requests  p50 {percentile(seconds, 0.5):7.1f} ms"
            f"  p99 {percentile(seconds, 0.99):7.1f} ms  served by {dict(entries)}"
        )

    crossed = Counter(f"{first}->{again}" for _, first, again, _, _ in drill.retries)
    print(
        f"drill {len(drill.created)} orders, {len(drill.retries)} retries of earlier keys "
        f"by first and retry entry: {dict(crossed)}"
    )

    # Then no request failed: no 5xx, no connection error, nothing refused
    failed = [c for c in drill.calls if c.status is None or c.status >= 400]
    assert failed == [], failed[:10]
    assert len(drill.created) > 2 * CLIENTS
    # and each phase sent its requests where the target says
    for name, wanted in EXPECTED_ENTRIES.items():
        settled = [c for c in drill.calls if c.phase == c.ended_in == name]
        assert settled, f"no request ran inside phase {name}"
        assert {c.entry for c in settled} == wanted, (name, Counter(c.entry for c in settled))

    # Then every retry replayed the first order, including across entries both ways
    assert drill.retries
    assert [r for r in drill.retries if not (r[3] and r[4])] == []
    crossings = {(first, again) for _, first, again, _, _ in drill.retries if first != again}
    assert {("lambda", "fargate"), ("fargate", "lambda")} <= crossings, crossings

    # and the customer has one order per key, no more
    api = httpx.Client(base_url=f"{stack.api_url}/api", timeout=30, headers=stack.auth())
    listed: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"customer": customer, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        page = api.get("/orders", params=params).json()
        listed += [o["id"] for o in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert sorted(listed) == sorted(c.order_id for c in drill.created)

    # and every change (each creation, each status change) reached the bus exactly once
    order_ids = set(listed)
    expected = len(order_ids) + sum(drill.changes.values())
    counts = bus_event_counts(stack, order_ids, expected)
    assert [event for event, n in counts.items() if n != 1] == []
    assert len(counts) == expected
