"""Metrics gathered in memory, written as CloudWatch EMF by Powertools' serializer.

Powertools Metrics is made for one flush per Lambda invocation: every `add_metric`
validates its arguments and formats a debug message with the whole value list (8 µs
and growing), and every value is its own datapoint. A Fargate task answering hundreds
of requests a second flushes every few seconds instead, so adds must be cheap: counts
are summed (the alarms and the dashboard read Sum, which this keeps exact) and
durations are kept one by one (percentiles need every value), up to EMF's limit of
100 values per metric in one document.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics.functions import is_metrics_disabled

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools import Metrics

# EMF accepts at most 100 values per metric in one document.
MAX_VALUES = 100


class MetricBuffer:
    def __init__(self, provider: Metrics, write: Callable[[str], None] | None = None) -> None:
        # The provider holds the namespace and the service dimension, and validates the
        # document; `write` defaults to stdout, where Lambda and awslogs pick EMF up.
        self._provider = provider
        self._write = write or (lambda line: print(line, flush=True))
        self._counts: dict[str, float] = {}
        self._durations: dict[str, list[float]] = {}
        # Sync routes add from threadpool workers while the event loop flushes.
        self._lock = threading.Lock()
        # Which target serves (observability.set_target); None (e.g. the outbox) adds nothing.
        self.target: str | None = None

    def count(self, name: str, value: float = 1) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0.0) + value

    def milliseconds(self, name: str, value: float) -> None:
        with self._lock:
            values = self._durations.setdefault(name, [])
            values.append(value)
            full = len(values) >= MAX_VALUES
        if full:
            self.flush()

    def flush(self) -> None:
        """Write what was gathered as one EMF document; nothing when nothing was gathered."""
        with self._lock:
            counts, durations = self._counts, self._durations
            self._counts, self._durations = {}, {}
        if not (counts or durations) or is_metrics_disabled():
            return
        metric_set: dict[str, dict[str, object]] = {
            name: {"Unit": "Count", "StorageResolution": 60, "Value": [total]}
            for name, total in counts.items()
        }
        for name, values in durations.items():
            metric_set[name] = {"Unit": "Milliseconds", "StorageResolution": 60, "Value": values}
        document: dict[str, Any] = dict(self._provider.serialize_metric_set(metrics=metric_set))
        if self.target is not None:
            # A second dimension set: each metric is then also stored per target, while the
            # {service} series the alarms read stays as it was.
            for directive in document["_aws"]["CloudWatchMetrics"]:
                directive["Dimensions"].append([*directive["Dimensions"][0], "target"])
            document["target"] = self.target
        self._write(json.dumps(document, separators=(",", ":")))
