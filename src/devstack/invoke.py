"""`make invoke EVENT=<file>`: the real Lambda handler, in this process, against `make dev`'s data.

For people without Docker (`sam local invoke` needs it). The event goes to
`orders.lambda_handler.handler` (API Gateway v1/v2, ALB), or to
`orders.outbox.handler` when it is a DynamoDB stream batch. stdout carries only the
handler's response as JSON; the handler's own logs and metrics go to stderr.

An event that carries `__ACCESS_TOKEN__` (events/ write `Authorization: Bearer
__ACCESS_TOKEN__`) gets a fresh access token from `make dev`'s user pool in its place:
the machine client's by default, which may act for any customer, or USER=acme|operator.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devstack import identity, state
from devstack.config import default_state_dir

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

NOT_RUNNING = "make dev is not running: start it in another terminal"
# What events/ carry where a real request has its bearer token.
TOKEN_PLACEHOLDER = "__ACCESS_TOKEN__"  # noqa: S105 (a marker, not a secret)
TIMEOUT_SECONDS = 29  # the API function's Timeout in template.yaml (ApiTimeoutSeconds' default)


@dataclass
class InvocationContext:
    """What Lambda passes as `context`, with the attributes Powertools reads (a stand-in for
    Powertools' LambdaContext type, named apart from it)."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline: float = field(default_factory=lambda: time.monotonic() + TIMEOUT_SECONDS)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/{self.aws_request_id}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def function_for(event: dict[str, Any]) -> str | None:
    """The template.yaml function that takes this event, or None if none of ours does."""
    records = event.get("Records") or []
    if records and all(r.get("eventSource") == "aws:dynamodb" for r in records):
        return "OutboxFunction"
    context = event.get("requestContext") or {}
    # Mangum's own tests: API Gateway v2 (http), v1 (httpMethod), ALB (elb).
    if "http" in context or "httpMethod" in event or "elb" in context:
        return "ApiFunction"
    return None


def handler_for(function: str) -> Callable[[dict[str, Any], Any], Any]:
    if function == "OutboxFunction":
        from orders.outbox import handler as outbox

        return outbox
    from orders.lambda_handler import handler as api

    return api


def emulator_answers(running: state.DevState) -> bool:
    """The emulator answers and still holds the stack (not some other moto on that port)."""
    if running.mode != "emulator" or running.endpoint_url is None:
        return True
    from devstack.emulator import cloudformation

    try:
        cloudformation(running.endpoint_url, timeout=2.0).describe_stacks(
            StackName=running.stack_name
        )
    except Exception:  # refused, timed out, or no such stack: not the stack we wrote down
        return False
    return True


def invoke(event: dict[str, Any], running: state.DevState) -> Any:
    """Call the handler with the stack's environment; everything it prints goes to stderr."""
    os.environ.update(running.env)
    real_stdout = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    saved = os.dup(1)
    # At the descriptor level, so Powertools' logger and EMF metrics, whatever stream
    # object they captured at import, land on stderr and stdout stays pure JSON.
    os.dup2(2, 1)
    function = function_for(event) or "ApiFunction"
    try:
        handler = handler_for(function)
        response = handler(
            event, InvocationContext(function_name=f"{running.stack_name}-{function}")
        )
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
    with real_stdout:
        real_stdout.write(json.dumps(response, indent=2, default=str) + "\n")
    return response


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.invoke", description=__doc__)
    parser.add_argument(
        "event", type=Path, help="an event file, e.g. events/apigw-v2/list-orders.json"
    )
    parser.add_argument(
        "--user",
        default=identity.MACHINE,
        help=f"whose token replaces {TOKEN_PLACEHOLDER}: "
        f"{', '.join(identity.token_users())} (default %(default)s)",
    )
    parser.add_argument(
        "--state-dir", type=Path, default=default_state_dir(), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    try:
        text = args.event.read_text(encoding="utf-8")
        event = json.loads(text)
    except (OSError, ValueError) as exc:
        print(f"make invoke: cannot read {args.event}: {exc}", file=sys.stderr)
        return 2
    if function_for(event) is None:
        print(
            f"make invoke: {args.event} is not an API Gateway, ALB or DynamoDB stream event; "
            "no function of this service takes it",
            file=sys.stderr,
        )
        return 2
    running = state.read(args.state_dir)
    if running is None or not emulator_answers(running):
        print(NOT_RUNNING, file=sys.stderr)
        return 1
    if TOKEN_PLACEHOLDER in text:
        from devstack.tokens import TokenError, access_token

        try:
            token = access_token(args.user, args.state_dir)
        except TokenError as exc:
            print(f"make invoke: no token for {args.event}: {exc}", file=sys.stderr)
            return 1
        # In the parsed event, so only string values change, whatever their escaping.
        event = with_token(event, token)
    invoke(event, running)
    return 0


def with_token(node: Any, token: str) -> Any:
    """`node` with every TOKEN_PLACEHOLDER inside its strings replaced by `token`."""
    if isinstance(node, str):
        return node.replace(TOKEN_PLACEHOLDER, token)
    if isinstance(node, list):
        return [with_token(item, token) for item in node]
    if isinstance(node, dict):
        return {key: with_token(value, token) for key, value in node.items()}
    return node


if __name__ == "__main__":
    raise SystemExit(main())
