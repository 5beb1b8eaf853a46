"""Lambda SnapStart (python3.12+): what runs before the snapshot, and after each restore.

With SnapStart on, Lambda runs the init phase once per published version, snapshots the
memory, and starts every new execution environment from that snapshot. So:

- before the snapshot, do everything a first request would otherwise do once: import the
  app, the adapters and boto3, build the clients (and load their service models). A
  restored environment then serves its first request with no import and no client build.
- after each restore, nothing that must be unique or private to one environment may stay
  shared with its siblings restored from the same snapshot: `random`'s state (botocore's
  retry jitter, sampling), the environment's id, HTTP connections and credentials held by
  the AWS clients, and metrics gathered before the snapshot.

The hooks come from `snapshot_restore_py`, which only the managed runtime bundles; outside it
(tests, `sam local`, Fargate, python3.11) `register` does nothing and the handler stays lazy.
"""

from __future__ import annotations

import random
import uuid

from orders.observability import logger, new_environment


def register() -> bool:
    """Register the hooks with the runtime; False where there is no SnapStart runtime."""
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found, unused-ignore]
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


def before_snapshot() -> None:
    """Build the handler with everything wired (imports, app, clients) into the snapshot."""
    from orders import lambda_handler

    lambda_handler.prime()
    logger.info("snapshot prepared")


def after_restore() -> None:
    """Make this environment its own: randomness, id, clients, metrics."""
    from orders import lambda_handler

    # os.urandom seeds it: the snapshot's state would give every sibling the same numbers.
    random.seed()
    environment = uuid.uuid4().hex
    new_environment(environment)
    # New clients from a new session: new connection pools and credentials resolved in this
    # environment; the service models loaded before the snapshot are reused (no file reads).
    lambda_handler.rewire()
    logger.info("restored from snapshot", environment=environment)
