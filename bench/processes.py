"""Starting and stopping the processes a bench step measures, the same way in every step."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
import urllib.request
from typing import TYPE_CHECKING

from bench.common import emit

if TYPE_CHECKING:
    from collections.abc import Callable

    from bench.common import Result


def wait_http(url: str, timeout: float = 60.0) -> None:
    """Until `url` answers below 500; OSError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM (as ECS stops a task), then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def interrupt_group(proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Ctrl-C, as a person stops `make dev`; then the whole process group if it lingers.

    The process must have been started with start_new_session=True.
    """
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def step_main(measure: Callable[[bool], list[Result]], description: str | None) -> None:
    """A bench step run as a script: `--quick`, then its results as JSON on the last line."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    emit(measure(args.quick))
