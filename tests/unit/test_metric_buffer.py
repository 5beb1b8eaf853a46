"""The metric buffer: counts summed, durations kept, EMF's limits respected, nothing lost."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from orders.metric_buffer import MAX_VALUES, MetricBuffer


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def buffer(lines: list[str]) -> MetricBuffer:
    return MetricBuffer(Metrics(namespace="Test", service="orders"), write=lines.append)


def documents(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def test_nothing_gathered_writes_nothing(buffer: MetricBuffer, lines: list[str]) -> None:
    buffer.flush()
    assert lines == []


def test_counts_are_summed_and_durations_kept(buffer: MetricBuffer, lines: list[str]) -> None:
    buffer.count("Requests")
    buffer.count("Requests", 2)
    buffer.milliseconds("Latency", 1.5)
    buffer.milliseconds("Latency", 3.0)
    assert lines == []  # gathered, not written until the flush
    buffer.flush()
    [doc] = documents(lines)
    assert doc["Requests"] == [3.0]
    assert doc["Latency"] == [1.5, 3.0]
    emf = doc["_aws"]["CloudWatchMetrics"][0]
    assert emf["Namespace"] == "Test"
    assert emf["Dimensions"] == [["service"]]
    assert doc["service"] == "orders"
    # A second flush starts from nothing.
    buffer.flush()
    assert len(lines) == 1


def test_a_full_duration_list_is_flushed_at_emf_limit(
    buffer: MetricBuffer, lines: list[str]
) -> None:
    for i in range(MAX_VALUES + 1):
        buffer.milliseconds("Latency", float(i))
    [doc] = documents(lines)
    assert doc["Latency"] == [float(i) for i in range(MAX_VALUES)]
    buffer.flush()
    assert documents(lines)[1]["Latency"] == [float(MAX_VALUES)]


def test_disabled_metrics_write_nothing(
    buffer: MetricBuffer, lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    buffer.count("Requests")
    buffer.flush()
    assert lines == []


def test_no_count_is_lost_to_a_concurrent_flush(buffer: MetricBuffer, lines: list[str]) -> None:
    """Sync routes count from threadpool workers while the event loop flushes."""
    workers, per_worker = 8, 2_000
    done = threading.Event()

    def add() -> None:
        for _ in range(per_worker):
            buffer.count("Requests")

    def flush_until_done() -> None:
        while not done.is_set():
            buffer.flush()

    flusher = threading.Thread(target=flush_until_done)
    flusher.start()
    threads = [threading.Thread(target=add) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    flusher.join()
    buffer.flush()
    total = sum(doc["Requests"][0] for doc in documents(lines))
    assert total == workers * per_worker
    assert len(lines) > 1  # the flusher really ran while counts arrived


def test_a_target_adds_a_second_dimension_set_and_keeps_the_first(
    buffer: MetricBuffer, lines: list[str]
) -> None:
    """The alarms read {service}; the dashboard compares {service, target}: both must exist."""
    buffer.target = "lambda"
    buffer.count("Requests")
    buffer.flush()
    [doc] = documents(lines)
    [directive] = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["service"], ["service", "target"]]
    assert (doc["service"], doc["target"]) == ("orders", "lambda")


def test_without_a_target_the_metric_identity_is_unchanged(
    buffer: MetricBuffer, lines: list[str]
) -> None:
    buffer.count("OutboxEventsPublished")
    buffer.flush()
    [doc] = documents(lines)
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert "target" not in doc
