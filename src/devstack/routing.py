"""Where the local front door sends the API's traffic: `.dev/target.json` (`make switch`).

The same three values as template.yaml's `DeploymentTarget`, with the same weight
meaning: `lambda` sends everything to the Lambda entry, `fargate` everything to
the Fargate entry, `both` sends `weight` percent to the Fargate entry and the rest to
the Lambda entry, each request drawn on its own, as ALB weighted target groups do.

A file rather than a control endpoint on the front door: it outlives a restart of the
front door (the supervisor starts it again on the same target), it needs no second
listener and no route on the API's own port that any client could call, and
`cat .dev/target.json` shows it. The front door checks the file's identity on every
request (one stat), so a switch applies to every request that starts after
`make switch` returns; requests already in flight finish where they started.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pathlib import Path

TARGET_FILE = "target.json"
TARGETS = ("lambda", "both", "fargate")
# Serverless first, as template.yaml's DeploymentTarget default.
DEFAULT_TARGET = "lambda"
Backend = Literal["lambda", "fargate"]


class RoutingError(ValueError):
    """A target or weight outside what the template accepts; the message says which."""


@dataclass(frozen=True, slots=True)
class Routing:
    target: str = DEFAULT_TARGET
    # The share of requests sent to Fargate (the granian entry) when target is `both`, 0-100.
    weight: int = 0

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise RoutingError(f"target {self.target!r} is not one of {', '.join(TARGETS)}")
        if isinstance(self.weight, bool) or not isinstance(self.weight, int):
            raise RoutingError(f"weight {self.weight!r} is not a whole number")
        if not 0 <= self.weight <= 100:
            raise RoutingError(f"weight {self.weight} is not between 0 and 100")

    @property
    def fargate_percent(self) -> int:
        return {"lambda": 0, "fargate": 100}.get(self.target, self.weight)

    def choose(self, rng: random.Random | None = None) -> Backend:
        """The back end for one request."""
        share = self.fargate_percent
        if share in (0, 100):
            return "fargate" if share == 100 else "lambda"
        # 1-100 inclusive: `weight` of every hundred draws land on Fargate.
        draw = (rng or random).randint(1, 100)
        return "fargate" if draw <= share else "lambda"

    def describe(self) -> str:
        if self.target == "both":
            return f"both ({self.weight}% to fargate, {100 - self.weight}% to lambda)"
        return self.target


def write(state_dir: Path, routing: Routing) -> Path:
    """Replace the file in one step: the front door never reads half of it."""
    path = state_dir / TARGET_FILE
    tmp = path.with_name(f".{TARGET_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(routing)) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read(path: Path) -> Routing:
    """The routing in the file; RoutingError when it is missing or not one we wrote."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RoutingError(f"{path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise RoutingError(f"{path} is unreadable: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"target", "weight"}:
        raise RoutingError(f"{path} is not a routing file")
    return Routing(**data)


class RoutingFile:
    """The file as the front door sees it: re-read only when it was replaced.

    A file that turns unreadable keeps the last good routing (and the caller logs it),
    so a bad hand edit cannot take the API down.
    """

    def __init__(self, path: Path, initial: Routing | None = None) -> None:
        self.path = path
        self._routing = initial or Routing()
        self._seen: tuple[int, int, int] | None = None
        self.error: str | None = None

    def current(self) -> Routing:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return self._routing
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if identity != self._seen:
            self._seen = identity
            try:
                self._routing = read(self.path)
                self.error = None
            except RoutingError as exc:
                self.error = str(exc)
        return self._routing
