"""What a cold start without SnapStart imports, and what SnapStart's before_snapshot does.

Each case is a fresh interpreter (sys.modules of this test process is long since full). Given
the Lambda environment with tracing off, importing the handler and serving the first
GET /api/health imports none of the deferred modules (AWS SDK, token check, X-Ray SDK, the
AWS adapters); before_snapshot imports all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from devstack.moto_plane import service_env
from tests import tokens

ROOT = Path(__file__).resolve().parents[2]
HEALTH_EVENT = ROOT / "events" / "apigw-v2" / "health.json"
# Needed only once the first request that calls AWS, checks a token or is traced arrives.
DEFERRED = (
    "boto3",
    "botocore.session",
    "botocore.client",
    "joserfc",
    "cryptography",
    "aws_xray_sdk",
    "orders.adapters.aws",
    "orders.adapters.dynamodb",
    "orders.adapters.s3",
    "orders.adapters.eventbridge",
    "orders.adapters.idempotency",
    "orders.adapters.ratelimit",
    "orders.adapters.jwks",
)

PROBE = """\
import json, sys
def loaded():
    return sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules)
from orders import lambda_handler
seen = {"after import": loaded()}
if sys.argv[2] == "health":
    with open(sys.argv[3], "rb") as f:
        event = json.load(f)
    class Context:
        function_name = "orders-api"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-api"
        aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    response = lambda_handler.handler(event, Context())
    seen["status"] = response["statusCode"]
    seen["after the first request"] = loaded()
else:
    from orders import snapstart
    snapstart.before_snapshot()
    seen["after before_snapshot"] = loaded()
print("PROBE " + json.dumps(seen))
"""


def probe(mode: str, **env: str) -> dict[str, object]:
    environment = {
        **{k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}},
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        **service_env("alias/orders-test"),
        "ORDERS_AUTH_DISABLED": "false",
        "ORDERS_AUTH_ISSUER": tokens.ISSUER,
        "ORDERS_AUTH_CLIENT_IDS": tokens.CLIENT_IDS,
        "AWS_LAMBDA_FUNCTION_NAME": "orders-api",
        **env,
    }
    modules = json.dumps(list(DEFERRED))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, modules, mode, str(HEALTH_EVENT)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE ")][-1]
    result: dict[str, object] = json.loads(line.removeprefix("PROBE "))
    return result


def test_a_cold_start_serving_health_imports_nothing_it_does_not_need() -> None:
    seen = probe("health", ORDERS_TRACING_ENABLED="false")
    assert seen["status"] == 200
    assert seen["after import"] == []
    assert seen["after the first request"] == []


def test_before_snapshot_imports_everything_deferred() -> None:
    # As deployed with SnapStart: tracing on (the X-Ray SDK is set up before the clients).
    seen = probe("snapshot", ORDERS_TRACING_ENABLED="true", POWERTOOLS_TRACE_DISABLED="false")
    assert seen["after import"] == []
    assert seen["after before_snapshot"] == sorted(DEFERRED)
