"""SnapStart hooks (orders.snapstart), with a snapshot emulated by fork: the children start
from the parent's memory exactly as restored environments start from the snapshot's.

Given the handler prepared as before a snapshot, when two "environments" are restored from it,
then each has its own randomness, environment id, session and clients (built from the models
loaded before the snapshot), and none flushes metrics gathered before the snapshot.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devstack.moto_plane import service_env
from orders import lambda_handler, observability, snapstart
from tests.env import set_env


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The handler as before_snapshot leaves it (no AWS call is made: clients only)."""
    set_env(monkeypatch, service_env("alias/orders-test"))
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    lambda_handler.reset()
    snapstart.before_snapshot()
    yield
    lambda_handler.reset()


MODEL_FILE_READS: list[str] = []


def count_model_file_reads() -> None:
    """Record every botocore data file read from now on (in MODEL_FILE_READS)."""
    from botocore.loaders import JSONFileLoader

    original = JSONFileLoader.load_file

    def counted(self: JSONFileLoader, file_path: str) -> Any:
        MODEL_FILE_READS.append(file_path)
        return original(self, file_path)

    JSONFileLoader.load_file = counted  # type: ignore[method-assign]


def in_restored_environment(restore: bool, probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Fork (the snapshot's memory, as is), run after_restore when asked, return probe()."""
    # random reseeds itself in a forked child (os.register_at_fork); a restored snapshot does
    # not, so the child puts the snapshot's state back first.
    snapshot_random = random.getstate()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            random.setstate(snapshot_random)
            count_model_file_reads()
            if restore:
                snapstart.after_restore()
            os.write(write, json.dumps(probe()).encode())
        except BaseException as exc:
            os.write(write, json.dumps({"error": repr(exc)}).encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer: dict[str, Any] = json.loads(pipe.read() or b"{}")
    os.waitpid(pid, 0)
    assert "error" not in answer, answer
    return answer


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_restored_environments_get_their_own_ids_randomness_and_clients(prepared: None) -> None:
    container = lambda_handler._container
    assert container is not None
    # Built before the snapshot: a restored environment's first request builds nothing.
    snapshot_clients = container.clients
    observability.count(observability.MetricName.REQUESTS)  # gathered before the snapshot

    def probe() -> dict[str, Any]:
        clients = container.clients
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            observability.flush_metrics()
        return {
            "random": random.random(),
            "environment": observability.logger.get_current_keys().get("environment"),
            "new_clients": [
                getattr(clients, n) is not getattr(snapshot_clients, n)
                for n in ("dynamodb", "s3", "events")
            ],
            # Each client's own credentials object: resolved in this environment.
            "new_credentials": clients.dynamodb._request_signer._credentials  # type: ignore[attr-defined]
            is not snapshot_clients.dynamodb._request_signer._credentials,  # type: ignore[attr-defined]
            "metrics_printed": printed.getvalue(),
            # The service models loaded before the snapshot serve the new clients.
            "model_file_reads": MODEL_FILE_READS,
        }

    first, second = (in_restored_environment(True, probe) for _ in range(2))
    assert first["random"] != second["random"]
    assert first["environment"]
    assert second["environment"]
    assert first["environment"] != second["environment"]
    for restored in (first, second):
        assert restored["new_clients"] == [True, True, True]
        assert restored["new_credentials"] is True
        assert restored["model_file_reads"] == []
        assert restored["metrics_printed"] == ""

    # Without the hook, both would share the snapshot's state: the same "random" numbers,
    # the snapshot's clients, and its metrics flushed twice.
    plain = [in_restored_environment(False, probe) for _ in range(2)]
    assert plain[0]["random"] == plain[1]["random"]
    assert plain[0]["new_clients"] == [False, False, False]
    assert "Requests" in plain[0]["metrics_printed"]


def test_before_snapshot_builds_what_the_first_request_needs(prepared: None) -> None:
    """The clients and the adapters' modules are there before the first request."""
    container = lambda_handler._container
    assert container is not None
    assert container._wired is not None
    assert container._wired.clients is not None
    for module in ("boto3", "orders.adapters.dynamodb", "orders.adapters.s3", "orders.service"):
        assert module in sys.modules, module


def test_register_is_a_no_op_outside_the_managed_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import fails
    assert snapstart.register() is False


def test_register_hands_both_hooks_to_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: dict[str, object] = {}
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_before_snapshot = lambda hook: registered.setdefault("before", hook)  # type: ignore[attr-defined]
    runtime.register_after_restore = lambda hook: registered.setdefault("after", hook)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    assert snapstart.register() is True
    assert registered == {"before": snapstart.before_snapshot, "after": snapstart.after_restore}
