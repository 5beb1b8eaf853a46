"""Write the sample events in events/ from one table of routes.

Usage (from the repository root):

    .venv/bin/python events/generate.py                      # rewrite the JSON files
    .venv/bin/python events/generate.py --refresh-templates  # re-capture sam's shapes first

The shapes are `sam local generate-event` output, kept in events/templates/ so this
script and the test that compares its output with the committed files
(tests/contract/test_samples.py) need neither the SAM CLI nor the network. Each
route becomes one API Gateway HTTP API (payload v2), one REST API (payload v1,
stage "prod") and one ALB event, so the three shapes cannot disagree.

The DynamoDB stream and EventBridge samples are written out here as literal data,
not computed from src/orders: they are the contract the service's code is tested
against, so a change of the outbox item or of the event shape fails a test
instead of silently changing the samples.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

EVENTS_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = EVENTS_DIR / "templates"

# The order the path events address; tests seed an order with this id.
ORDER_ID = "0123456789abcdef0123456789abcdef"
# A well-formed id that no order has (the 404 sample).
MISSING_ORDER_ID = "fedcba9876543210fedcba9876543210"
# The outbox event of ORDER_ID's creation (DynamoDB and EventBridge samples).
EVENT_ID = "89abcdef0123456789abcdef01234567"
CREATED_AT = "2026-01-02T03:04:05.123456+00:00"

ACCOUNT = "123456789012"
REGION = "us-east-1"
HTTP_API_ID = "a1b2c3d4e5"
REST_API_ID = "f6g7h8i9j0"
REST_STAGE = "prod"
TABLE = "orders-prod"
EVENT_SOURCE = "orders.service"
# Request times: fixed, so the files do not change when regenerated.
REQUEST_TIME = "02/Jan/2026:03:04:05 +0000"
REQUEST_EPOCH_MS = 1767323045000
USER_AGENT = "curl/8.5.0"
SOURCE_IP = "198.51.100.7"

# (sam generate-event arguments, template file name)
TEMPLATES: dict[str, list[str]] = {
    "apigateway-http-api-proxy.json": ["apigateway", "http-api-proxy"],
    "apigateway-aws-proxy.json": ["apigateway", "aws-proxy"],
    "alb-request.json": ["alb", "request"],
    "dynamodb-update.json": ["dynamodb", "update"],
}


@dataclass(frozen=True, slots=True)
class Route:
    """One request, written once per event shape as <shape>/<name>.json."""

    name: str
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())
    accept: str = "application/json"
    # Public routes (health, ready, the docs) take no token; every other one carries one.
    public: bool = False


def _json(value: object) -> str:
    """A body as a client sends it: compact JSON."""
    return json.dumps(value, separators=(",", ":"))


_ORDER = f"/api/orders/{ORDER_ID}"
_NEW_ORDER = {"customer": "acme-corp", "product": "widget", "quantity": 3}
_IF_MATCH_V1 = (("If-Match", '"1"'),)

ROUTES: tuple[Route, ...] = (
    Route("root", "GET", "/api"),
    Route("health", "GET", "/api/health", public=True),
    Route("ready", "GET", "/api/ready", public=True),
    Route("openapi", "GET", "/api/openapi.json", public=True),
    Route("docs", "GET", "/api/docs", accept="text/html", public=True),
    Route("create-order", "POST", "/api/orders", body=_json(_NEW_ORDER)),
    Route(
        "create-order-idempotent",
        "POST",
        "/api/orders",
        body=_json({**_NEW_ORDER, "note": "deliver to dock 4"}),
        headers=(("Idempotency-Key", "4b3f0c9e-6a51-4d7e-9d2c-acme-0001"),),
    ),
    Route("get-order", "GET", _ORDER),
    Route("get-order-missing", "GET", f"/api/orders/{MISSING_ORDER_ID}"),
    Route("list-orders", "GET", "/api/orders", query=(("status", "pending"), ("limit", "10"))),
    Route(
        "update-status",
        "PUT",
        f"{_ORDER}/status",
        body=_json({"status": "confirmed"}),
        headers=_IF_MATCH_V1,
    ),
    Route("cancel-order", "POST", f"{_ORDER}/cancel", headers=_IF_MATCH_V1),
    Route("order-events", "GET", f"{_ORDER}/events"),
    Route(
        "create-attachment",
        "POST",
        f"{_ORDER}/attachments",
        body=_json({"filename": "invoice.pdf", "content_type": "application/pdf"}),
    ),
    Route("list-attachments", "GET", f"{_ORDER}/attachments"),
    # Bad input: a truncated JSON document (400) and a quantity of 0 (422).
    Route("bad-json", "POST", "/api/orders", body='{"customer":"acme-corp","product":'),
    Route("bad-quantity", "POST", "/api/orders", body=_json({**_NEW_ORDER, "quantity": 0})),
)


# The Authorization header's value in every sample of a protected route. A placeholder,
# never a real token: the contract tests put a freshly minted test token in its place
# (tests/contract/replay.py), `make invoke` a token from the local issuer.
ACCESS_TOKEN_PLACEHOLDER = "__ACCESS_TOKEN__"  # noqa: S105 (a placeholder, see above)
# Who the samples act as: an operator (reads all orders, changes status), so every route
# answers as it did before authentication. The claims API Gateway's authorizer would have
# put in the event; the app verifies the token itself and never reads them.
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_EXAMPLE"
UI_CLIENT_ID = "1example23456789ui0client"
OPERATOR_SUB = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
TOKEN_SCOPES = ["aws.cognito.signin.user.admin"]


def _authorizer_claims() -> dict[str, str]:
    """An operator's access-token claims as API Gateway passes them on (every value a string)."""
    issued = REQUEST_EPOCH_MS // 1000 - 60
    return {
        "sub": OPERATOR_SUB,
        "cognito:groups": "[operators]",
        "iss": ISSUER,
        "client_id": UI_CLIENT_ID,
        "origin_jti": "7b2d0c1e-3f4a-4b5c-8d6e-0f1a2b3c4d5e",
        "event_id": "5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f",
        "token_use": "access",
        "scope": " ".join(TOKEN_SCOPES),
        "auth_time": str(issued),
        "exp": str(issued + 3600),
        "iat": str(issued),
        "jti": "1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b",
        "username": "operator",
    }


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _client_headers(route: Route) -> list[tuple[str, str]]:
    """What the client sent, in the client's own casing."""
    headers = [("Accept", route.accept), ("User-Agent", USER_AGENT)]
    if route.body is not None:
        headers += [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(route.body.encode()))),
        ]
    if not route.public:
        headers.append(("Authorization", f"Bearer {ACCESS_TOKEN_PLACEHOLDER}"))
    return headers + list(route.headers)


def _trace_id(shape: str, route: Route) -> str:
    digest = _digest(shape, route.name)
    return f"Root=1-{REQUEST_EPOCH_MS // 1000:08x}-{digest[:24]}"


def _load_template(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEMPLATES_DIR / name).read_text())
    return data


def _http_api_context(context: dict[str, Any], route: Route, host: str, route_key: str) -> None:
    """The HTTP API's requestContext for one route: ids, route key, stage, time, caller."""
    context.pop("authentication", None)  # mutual TLS: not configured
    # The HTTP API's JWT authorizer (protected routes) passes the verified claims and scopes.
    context.pop("authorizer", None)
    if not route.public:
        context["authorizer"] = {
            "jwt": {"claims": _authorizer_claims(), "scopes": list(TOKEN_SCOPES)}
        }
    request_id = base64.b64encode(bytes.fromhex(_digest("apigw-v2", route.name)[:20])).decode()
    context.update(
        {
            "apiId": HTTP_API_ID,
            "accountId": ACCOUNT,
            "domainName": host,
            "domainPrefix": HTTP_API_ID,
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": REQUEST_TIME,
            "timeEpoch": REQUEST_EPOCH_MS,
        }
    )
    context["http"].update(
        {
            "method": route.method,
            "path": route.path,
            "protocol": "HTTP/1.1",
            "sourceIp": SOURCE_IP,
            "userAgent": USER_AGENT,
        }
    )


def http_api_event(route: Route, template: dict[str, Any]) -> dict[str, Any]:
    """API Gateway HTTP API, payload 2.0, stage $default (as template.yaml deploys it).

    HTTP API lowercases header names, sends no body key on a GET, and base64-encodes
    the body here as `sam local generate-event` does (isBase64Encoded: true).
    """
    event = copy.deepcopy(template)
    host = f"{HTTP_API_ID}.execute-api.{REGION}.amazonaws.com"
    headers = {k.lower(): v for k, v in _client_headers(route)}
    headers.update(
        {
            "host": host,
            "x-amzn-trace-id": _trace_id("apigw-v2", route),
            "x-forwarded-for": SOURCE_IP,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        }
    )
    # template.yaml routes ANY /api/{proxy+}; /api alone needs its own route.
    proxy = route.path.removeprefix("/api").lstrip("/")
    route_key = "ANY /api/{proxy+}" if proxy else "ANY /api"
    event.pop("cookies", None)
    event.pop("stageVariables", None)
    event.update(
        routeKey=route_key,
        rawPath=route.path,
        rawQueryString=urlencode(route.query),
        headers=headers,
    )
    if route.query:
        event["queryStringParameters"] = dict(route.query)
    else:
        event.pop("queryStringParameters", None)
    if proxy:
        event["pathParameters"] = {"proxy": proxy}
    else:
        event.pop("pathParameters", None)
    _http_api_context(event["requestContext"], route, host, route_key)
    if route.body is None:
        event.pop("body", None)
        event["isBase64Encoded"] = False
    else:
        event["body"] = base64.b64encode(route.body.encode()).decode()
        event["isBase64Encoded"] = True
    return event


def rest_api_event(route: Route, template: dict[str, Any]) -> dict[str, Any]:
    """API Gateway REST API, payload 1.0, resource /{proxy+}, stage "prod".

    `path` has no stage; `requestContext.path` (the public URL) has it. Bodies are
    plain text (no binary media types) and null on a GET.
    """
    event = copy.deepcopy(template)
    host = f"{REST_API_ID}.execute-api.{REGION}.amazonaws.com"
    headers = dict(_client_headers(route))
    headers.update(
        {
            "Host": host,
            "X-Amzn-Trace-Id": _trace_id("apigw-v1", route),
            "X-Forwarded-For": SOURCE_IP,
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
        }
    )
    query = dict(route.query) or None
    public_path = f"/{REST_STAGE}{route.path}"
    event.update(
        resource="/{proxy+}",
        path=route.path,
        httpMethod=route.method,
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        pathParameters={"proxy": route.path.lstrip("/")},
        stageVariables=None,
        body=route.body,
        isBase64Encoded=False,
    )
    context = event["requestContext"]
    context.update(
        accountId=ACCOUNT,
        apiId=REST_API_ID,
        domainName=host,
        domainPrefix=REST_API_ID,
        httpMethod=route.method,
        path=public_path,
        requestId=str(uuid.UUID(_digest("apigw-v1", route.name)[:32])),
        requestTime=REQUEST_TIME,
        requestTimeEpoch=REQUEST_EPOCH_MS,
        resourcePath="/{proxy+}",
        stage=REST_STAGE,
    )
    context["identity"].update(sourceIp=SOURCE_IP, userAgent=USER_AGENT)
    # A Cognito user pool authorizer (protected routes) passes the token's claims.
    context.pop("authorizer", None)
    if not route.public:
        context["authorizer"] = {"claims": _authorizer_claims()}
    return event


def alb_event(route: Route, template: dict[str, Any]) -> dict[str, Any]:
    """ALB to a Lambda target (multi-value headers off): lowercase headers, body "" on a GET."""
    event = copy.deepcopy(template)
    headers = {k.lower(): v for k, v in _client_headers(route)}
    headers.update(
        {
            "host": f"orders-alb-1234567890.{REGION}.elb.amazonaws.com",
            "x-amzn-trace-id": _trace_id("alb", route),
            "x-forwarded-for": SOURCE_IP,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        }
    )
    event["requestContext"]["elb"]["targetGroupArn"] = (
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/orders-api/49e9d65c45c6791a"
    )
    event.update(
        httpMethod=route.method,
        path=route.path,
        queryStringParameters=dict(route.query),
        headers=headers,
        body=route.body or "",
        isBase64Encoded=False,
    )
    return event


def _ddb(value: object) -> dict[str, str]:
    """DynamoDB's attribute-value form for the strings and numbers of the samples."""
    if isinstance(value, int):
        return {"N": str(value)}
    return {"S": str(value)}


def _order_public() -> dict[str, Any]:
    return {
        "id": ORDER_ID,
        "customer": "acme-corp",
        "product": "widget",
        "quantity": 3,
        "note": None,
        "status": "pending",
        "version": 1,
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "allowed_transitions": ["confirmed", "cancelled"],
    }


def order_created_detail() -> dict[str, Any]:
    """The detail of the OrderCreated event for ORDER_ID (schema 1.0)."""
    return {
        "schema_version": "1.0",
        "event_id": EVENT_ID,
        "occurred_at": CREATED_AT,
        "order": _order_public(),
        # Who created it: the signed-in customer (events/README.md, OrderEventDetailV1).
        "actor": _order_public()["customer"],
    }


def outbox_batch(template: dict[str, Any]) -> dict[str, Any]:
    """A stream batch from creating ORDER_ID, as the table's NEW_AND_OLD_IMAGES stream has it.

    1. INSERT of the order item (not outbox: ignored),
    2. INSERT of its outbox item (published as OrderCreated),
    3. MODIFY of that outbox item when the publisher recorded the bus's receipt (ignored).
    """
    event_image = _outbox_item()
    published_image = {
        **event_image,
        "published_at": "2026-01-02T03:04:05.987654+00:00",
        "bus_event_id": "3f0a9d1c-5b7e-4e2a-9c41-7d8e2b6f0a13",
    }
    changes: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
        ("INSERT", _order_item(), None),
        ("INSERT", event_image, None),
        ("MODIFY", published_image, event_image),
    ]
    base = template["Records"][0]
    return {
        "Records": [
            _stream_record(base, number, name, new, old)
            for number, (name, new, old) in enumerate(changes, start=1)
        ]
    }


def _order_item() -> dict[str, Any]:
    """ORDER_ID's order item, as the table holds it."""
    order = _order_public()
    return {
        "pk": f"ORDER#{ORDER_ID}",
        "sk": "ORDER",
        "entity": "ORDER",
        "id": ORDER_ID,
        "customer": order["customer"],
        "product": order["product"],
        "quantity": order["quantity"],
        "status": order["status"],
        "version": order["version"],
        "created_at": CREATED_AT,
        "updated_at": CREATED_AT,
        "created_key": f"{CREATED_AT}#{ORDER_ID}",
        # by_customer_name's key: the casefolded name, a unit separator, then 10**17
        # minus the creation time in microseconds since the epoch (newest first).
        "customer_key": f"acme-corp\x1f98232676954876544#{ORDER_ID}",
        "updated_key": f"{CREATED_AT}#{ORDER_ID}",
    }


def _outbox_item() -> dict[str, Any]:
    """The outbox item written with the order, before it is published."""
    return {
        "pk": f"ORDER#{ORDER_ID}",
        "sk": f"EVENT#{CREATED_AT}#{EVENT_ID}",
        "entity": "EVENT",
        "event_id": EVENT_ID,
        "order_id": ORDER_ID,
        "detail_type": "OrderCreated",
        "detail": _json(order_created_detail()),
        "occurred_at": CREATED_AT,
    }


def _stream_record(
    base: dict[str, Any],
    number: int,
    name: str,
    new: dict[str, Any],
    old: dict[str, Any] | None,
) -> dict[str, Any]:
    """The batch's record `number`: sam's record shape with this change's images."""
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}/stream/2026-01-01T00:00:00.000"
    record = copy.deepcopy(base)
    image = {k: _ddb(v) for k, v in new.items()}
    stream: dict[str, Any] = {
        "ApproximateCreationDateTime": REQUEST_EPOCH_MS // 1000,
        "Keys": {"pk": image["pk"], "sk": image["sk"]},
        "NewImage": image,
        "SequenceNumber": f"11110000000000000{number:011d}",
        "SizeBytes": len(_json(image)),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old is not None:
        stream["OldImage"] = {k: _ddb(v) for k, v in old.items()}
    record.update(
        eventID=_digest("dynamodb", str(number))[:32],
        eventName=name,
        awsRegion=REGION,
        dynamodb=stream,
        eventSourceARN=arn,
    )
    return record


def order_created_event() -> dict[str, Any]:
    """What a consumer of the bus receives for ORDER_ID's creation."""
    return {
        "version": "0",
        "id": "3f0a9d1c-5b7e-4e2a-9c41-7d8e2b6f0a13",
        "detail-type": "OrderCreated",
        "source": EVENT_SOURCE,
        "account": ACCOUNT,
        "time": "2026-01-02T03:04:05Z",
        "region": REGION,
        "resources": [],
        "detail": order_created_detail(),
    }


API_SHAPES = {
    "apigw-v2": (http_api_event, "apigateway-http-api-proxy.json"),
    "apigw-v1": (rest_api_event, "apigateway-aws-proxy.json"),
    "alb": (alb_event, "alb-request.json"),
}


def build() -> dict[str, dict[str, Any]]:
    """Every generated file: path relative to events/ -> its JSON document."""
    files: dict[str, dict[str, Any]] = {}
    for shape, (make, template_name) in API_SHAPES.items():
        template = _load_template(template_name)
        for route in ROUTES:
            files[f"{shape}/{route.name}.json"] = make(route, template)
    files["dynamodb/outbox-batch.json"] = outbox_batch(_load_template("dynamodb-update.json"))
    files["eventbridge/order-created.json"] = order_created_event()
    return files


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def refresh_templates() -> None:
    """Capture the event shapes again from the SAM CLI (offline)."""
    sam = os.environ.get("SAM", "sam")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    for name, args in TEMPLATES.items():
        out = subprocess.run(
            [sam, "local", "generate-event", *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        (TEMPLATES_DIR / name).write_text(render(json.loads(out)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--refresh-templates",
        action="store_true",
        help="re-capture events/templates/ with `sam local generate-event` ($SAM or sam)",
    )
    args = parser.parse_args(argv)
    if args.refresh_templates:
        refresh_templates()
    for relative, document in build().items():
        target = EVENTS_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
