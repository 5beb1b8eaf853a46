"""The API root, /health and /ready, as the app's own routes (orders.app passes the prefix).

They are added to the app's router, not included from one of their own: FastAPI dispatches an
included router at request time (matching the router, then its routes, and scope bookkeeping
around both), about 12 µs a request on the bench's core, and /health is what the load
balancer asks every few seconds. Routes and the OpenAPI document are the same either way
(tests/unit/test_health_route.py).
"""

from fastapi import APIRouter, Request, Response

from orders import __version__
from orders.api.auth import AUTHENTICATED
from orders.api.deps import ServiceDep
from orders.api.models import Health, Readiness, ServiceInfo
from orders.api.responses import problem_responses

TAGS = ["meta"]
# The body /health always answers: encoded once, not validated and serialized per request.
HEALTHY = Health(status="ok").model_dump_json().encode()


def add_meta_routes(router: APIRouter, prefix: str) -> None:
    """Add the root, /health and /ready under `prefix` to `router` (the app's)."""
    router.add_api_route(
        prefix,
        root,
        methods=["GET"],
        summary="Service name, version and links",
        dependencies=[AUTHENTICATED],
        tags=list(TAGS),
        responses=problem_responses(500, 401),
    )
    router.add_api_route(
        f"{prefix}/health",
        health,
        methods=["GET"],
        response_model=Health,
        summary="Liveness: the process answers; no dependency is called",
        tags=list(TAGS),
        responses=problem_responses(500),
    )
    router.add_api_route(
        f"{prefix}/ready",
        ready,
        methods=["GET"],
        summary="Readiness: DynamoDB, S3 and EventBridge answer",
        tags=list(TAGS),
        responses={
            **problem_responses(500),
            503: {"model": Readiness, "description": "A dependency is unreachable"},
        },
    )


async def root(request: Request) -> ServiceInfo:
    # Paths from the app's own routes, so the prefix is written in one place (orders.app).
    app, root = request.app, request.scope.get("root_path", "")
    return ServiceInfo(
        name="orders",
        version=__version__,
        links={
            "orders": root + app.url_path_for("list_orders"),
            "health": root + app.url_path_for("health"),
            "ready": root + app.url_path_for("ready"),
            "openapi": root + app.openapi_url,
            "docs": root + app.docs_url,
        },
    )


async def health() -> Response:
    return Response(HEALTHY, media_type="application/json")


def ready(service: ServiceDep, response: Response) -> Readiness:
    checks = service.readiness()
    body = Readiness(
        status="ok" if all(v == "ok" for v in checks.values()) else "unavailable", checks=checks
    )
    if body.status != "ok":
        response.status_code = 503
    return body
