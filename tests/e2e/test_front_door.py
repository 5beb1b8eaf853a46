"""The local front door, its routing file and `make switch`, in-process (no stack).

The back ends are small ASGI apps that echo what reached them, so each assertion is
about the front door alone: the weight semantics of `DeploymentTarget`, a switch
taking effect on the next request, and requests and responses passing unchanged.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import random
import socket
import subprocess
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from devstack import routing, state, switch
from devstack.front_door import SERVED_BY, FrontDoor, backend_client, create_app
from devstack.routing import Routing, RoutingError, RoutingFile
from tests.e2e.stack import ROOT

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.requests import Request

pytestmark = pytest.mark.e2e


def echo_app(name: str) -> Starlette:
    """Answers with what it received; headers and status chosen by the request."""

    async def echo(request: Request) -> Response:
        body = await request.body()
        payload = {
            "entry": name,
            "method": request.method,
            "target": request.scope["raw_path"].decode()
            + (
                "?" + request.scope["query_string"].decode()
                if request.scope["query_string"]
                else ""
            ),
            "headers": [[k.decode(), v.decode()] for k, v in request.headers.raw],
            "body": body.decode(),
        }
        content = json.dumps(payload).encode()
        response = Response(
            gzip.compress(content, mtime=0) if request.headers.get("x-gzip") else content,
            status_code=int(request.headers.get("x-status", "200")),
            media_type="application/json",
        )
        response.headers.append("set-cookie", "a=1")
        response.headers.append("set-cookie", "b=2")
        response.headers["etag"] = '"7"'
        if request.headers.get("x-gzip"):
            response.headers["content-encoding"] = "gzip"
        return response

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    return Starlette(routes=[Route("/{path:path}", echo, methods=methods)])


def door(tmp_path: Path, initial: Routing, seed: int = 7) -> FrontDoor:
    routing.write(tmp_path, initial)
    return FrontDoor(
        RoutingFile(tmp_path / routing.TARGET_FILE),
        {
            name: backend_client(f"http://{name}.local", httpx.ASGITransport(app=echo_app(name)))
            for name in ("lambda", "fargate")
        },
        rng=random.Random(seed),
    )


def through(front: FrontDoor, *requests: dict[str, Any]) -> list[httpx.Response]:
    async def send() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(front), client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://front.local") as c:
            return [await c.request(**r) for r in requests]

    return asyncio.run(send())


@pytest.mark.parametrize(
    ("target", "weight", "fargate_share"),
    [("lambda", 0, 0.0), ("fargate", 0, 1.0), ("both", 0, 0.0), ("both", 100, 1.0)],
)
def test_a_target_without_a_split_sends_everything_one_way(
    target: str, weight: int, fargate_share: float
) -> None:
    rng = random.Random(1)
    picks = Counter(Routing(target, weight).choose(rng) for _ in range(500))
    assert picks["fargate"] / 500 == fargate_share


@pytest.mark.parametrize("weight", [1, 25, 50, 90])
def test_both_sends_the_weight_in_percent_to_fargate(weight: int) -> None:
    rng = random.Random(weight)
    picks = Counter(Routing("both", weight).choose(rng) for _ in range(20_000))
    assert abs(picks["fargate"] / 20_000 - weight / 100) < 0.02


@pytest.mark.parametrize(
    ("target", "weight", "message"),
    [("canary", 0, "not one of lambda, both, fargate"), ("both", 101, "not between 0 and 100")],
)
def test_a_target_the_template_would_refuse_is_refused(
    target: str, weight: int, message: str
) -> None:
    with pytest.raises(RoutingError, match=message):
        Routing(target, weight)


def test_the_routing_file_is_read_again_only_when_replaced_and_a_bad_one_keeps_the_last(
    tmp_path: Path,
) -> None:
    routing.write(tmp_path, Routing("lambda"))
    seen = RoutingFile(tmp_path / routing.TARGET_FILE)
    assert seen.current() == Routing("lambda")

    routing.write(tmp_path, Routing("both", 30))
    assert seen.current() == Routing("both", 30)

    (tmp_path / routing.TARGET_FILE).write_text('{"target": "both", "weight": 300}')
    assert seen.current() == Routing("both", 30)
    assert seen.error is not None
    assert "not between 0 and 100" in seen.error


def test_a_switch_applies_to_the_next_request(tmp_path: Path) -> None:
    front = door(tmp_path, Routing("lambda"))
    first = through(front, {"method": "GET", "url": "/api/health"})
    routing.write(tmp_path, Routing("fargate"))
    second = through(front, {"method": "GET", "url": "/api/health"})

    assert first[0].headers[SERVED_BY] == "lambda"
    assert first[0].json()["entry"] == "lambda"
    assert second[0].headers[SERVED_BY] == "fargate"
    assert second[0].json()["entry"] == "fargate"


def test_requests_and_responses_pass_unchanged(tmp_path: Path) -> None:
    front = door(tmp_path, Routing("both", 50))
    body = b'{"customer": "acme", "product": "widget", "quantity": 3}'
    sent = {
        "method": "PUT",
        "url": "/api/orders/o%2F1/status?x=1&x=2&y=%20",
        "content": body,
        "headers": [
            ("content-type", "application/json"),
            ("idempotency-key", "key-1"),
            ("if-match", '"3"'),
            ("x-repeated", "one"),
            ("x-repeated", "two"),
            ("x-status", "412"),
        ],
    }

    responses = through(front, *[sent] * 20)

    assert {r.headers[SERVED_BY] for r in responses} == {"lambda", "fargate"}
    for response in responses:
        echoed = response.json()
        # The back end received the method, the raw path and query, the body
        assert echoed["method"] == "PUT"
        assert echoed["target"] == "/api/orders/o%2F1/status?x=1&x=2&y=%20"
        assert echoed["body"].encode() == body

        # and exactly the client's headers (Host included), in order, repeats kept;
        # only `connection` (hop-by-hop) is each hop's own business
        def without_connection(headers: list[list[str]]) -> list[list[str]]:
            return [[k.lower(), v] for k, v in headers if k.lower() != "connection"]

        sent_headers = [[k.decode(), v.decode()] for k, v in response.request.headers.raw]
        assert without_connection(echoed["headers"]) == without_connection(sent_headers)
        # and the client gets the back end's status and headers, repeats kept
        assert response.status_code == 412
        assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
        assert response.headers["etag"] == '"7"'
        assert response.headers["content-type"] == "application/json"


def test_a_compressed_body_comes_back_as_the_back_end_sent_it(tmp_path: Path) -> None:
    front = door(tmp_path, Routing("fargate"))
    (response,) = through(front, {"method": "GET", "url": "/api/x", "headers": {"x-gzip": "1"}})

    # Still compressed on arrival (httpx here decodes it), its length the compressed one
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) == len(gzip.compress(response.content, mtime=0))
    assert response.json()["entry"] == "fargate"


def test_an_entry_that_does_not_answer_is_a_502_problem_naming_it(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    routing.write(tmp_path, Routing("fargate"))
    front = FrontDoor(
        RoutingFile(tmp_path / routing.TARGET_FILE),
        {
            "lambda": backend_client("http://127.0.0.1:1"),
            "fargate": backend_client(f"http://127.0.0.1:{port}"),
        },
    )

    (response,) = through(front, {"method": "GET", "url": "/api/health"})

    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers[SERVED_BY] == "fargate"
    assert "the fargate entry did not answer" in response.json()["detail"]


def fake_running(tmp_path: Path, lambda_url: str, fargate_url: str) -> Path:
    """A state.json as a running `make dev` writes it (this process stands for the runner)."""
    target_file = routing.write(tmp_path, Routing("lambda"))
    state.write(
        tmp_path,
        state.DevState(
            runner_pid=os.getpid(),
            mode="emulator",
            api_url="http://127.0.0.1:1",
            ui_url=None,
            endpoint_url=None,
            stack_name="orders-local",
            outputs={},
            env={},
            children={},
            lambda_url=lambda_url,
            fargate_url=fargate_url,
            target_file=str(target_file),
        ),
    )
    return target_file


def closed_port_url() -> str:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{closed.getsockname()[1]}"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["fargate", "--weight", "50"], 2, "WEIGHT applies to TARGET=both only"),
        (["both", "--weight", "101"], 2, "not between 0 and 100"),
        (["both", "--weight", "50"], 1, "make dev is not running"),
    ],
)
def test_make_switch_refuses_what_it_cannot_do(
    argv: list[str], code: int, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert switch.main([*argv, "--state-dir", str(tmp_path)]) == code
    assert message in capsys.readouterr().err


def test_make_switch_sends_no_traffic_to_an_entry_that_is_not_ready(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a running stack whose fargate entry does not answer
    target_file = fake_running(tmp_path, closed_port_url(), closed_port_url())

    # When traffic would move to it
    code = switch.main(["both", "--weight", "10", "--state-dir", str(tmp_path)])

    # Then the switch is refused and the target stays
    assert code == 1
    assert "entry does not answer" in capsys.readouterr().err
    assert routing.read(target_file) == Routing("lambda")


def test_make_switch_needs_a_target_said_out_loud() -> None:
    # make/infra.mk gives TARGET a default (lambda) for `make deploy`; a switch must not use it
    result = subprocess.run(
        ["make", "-s", "switch"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "usage: make switch TARGET=lambda|both|fargate" in result.stderr
