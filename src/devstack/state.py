"""`.dev/state.json`: how a running `make dev` can be reached, for `make invoke`, `make seed`
and `make token`.

Written once the stack is ready, removed when it stops. A state file whose runner is
gone (killed with SIGKILL) is treated as absent.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

STATE_FILE = "state.json"


@dataclass(frozen=True, slots=True)
class DevState:
    runner_pid: int
    mode: str  # "emulator" or "cloud"
    api_url: str
    ui_url: str | None
    endpoint_url: str | None
    stack_name: str
    outputs: dict[str, str]
    # The environment the API runs with: what an in-process handler call needs too.
    env: dict[str, str]
    children: dict[str, int]
    # The two entries behind the front door (api_url), and the file `make switch` writes.
    lambda_url: str | None = None
    fargate_url: str | None = None
    target_file: str | None = None
    # devstack.identity.LocalIdentity's fields: the pool, its clients, issuer and JWKS URL.
    identity: dict[str, str] | None = None


def write(state_dir: Path, state: DevState) -> Path:
    path = state_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    # Readers never see half a file.
    tmp.replace(path)
    return path


def read(state_dir: Path) -> DevState | None:
    """The running stack's state, or None when none is running."""
    try:
        data = json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8"))
        state = DevState(**data)
    except (FileNotFoundError, ValueError, TypeError):
        return None
    return state if _alive(state.runner_pid) else None


def remove(state_dir: Path) -> None:
    (state_dir / STATE_FILE).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but someone else's
        return True
    return True
