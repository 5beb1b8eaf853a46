"""Child processes: each in its own process group, its output in a log file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

STOP_TIMEOUT_SECONDS = 5.0


@dataclass
class Child:
    """One long-running process of the stack (the API, the outbox loop, the UI)."""

    name: str
    argv: list[str]
    env: Mapping[str, str]
    log_path: Path
    cwd: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, note: str | None = None) -> None:
        """Start the process; with a `note` (a restart) the log is kept and the note added."""
        with self.log_path.open("ab" if note else "wb") as log:
            if note:
                log.write(f"--- make dev: {note} ---\n".encode())
                log.flush()
            self.process = subprocess.Popen(
                self.argv,
                env=dict(self.env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # A group of its own: Ctrl-C in the terminal reaches only the runner, which
                # then stops every child in order, and a child's own children go with it.
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was not started"
        return self.process.pid

    def exit_code(self) -> int | None:
        """None while running."""
        return None if self.process is None else self.process.poll()

    def signal_group(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # Gone between the poll and the signal: nothing left to stop.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill_leftovers(self) -> None:
        """SIGKILL what the exited process left in its group (the Lambda entry's workers,
        orphaned when the entry itself is killed), so a restart starts clean."""
        if self.process is None or self.process.poll() is None:
            return
        # Its group id is its pid (start_new_session); nothing left: nothing to do.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def tail(self, lines: int = 20) -> str:
        """The last lines of the log, to show why a child stopped."""
        try:
            with self.log_path.open(encoding="utf-8", errors="replace") as log:
                return "".join(deque(log, maxlen=lines))
        except FileNotFoundError:
            return ""


def stop_all(children: Iterable[Child], timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM every group at once, wait up to `timeout`, then SIGKILL what is left."""
    children = list(children)
    for child in children:
        child.kill_leftovers()
    running = [c for c in children if c.exit_code() is None]
    for child in running:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in running:
        assert child.process is not None
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.signal_group(signal.SIGKILL)
            child.process.wait()
