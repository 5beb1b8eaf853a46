"""The API root, /health and /ready (all under the API prefix that orders.app mounts)."""

from fastapi import APIRouter, Request, Response

from orders import __version__
from orders.api.auth import AUTHENTICATED
from orders.api.deps import ServiceDep
from orders.api.models import Health, Readiness, ServiceInfo
from orders.api.responses import problem_responses

router = APIRouter(tags=["meta"], responses=problem_responses(500))


@router.get(
    "",
    summary="Service name, version and links",
    dependencies=[AUTHENTICATED],
    responses=problem_responses(401),
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


@router.get("/health", summary="Liveness: the process answers; no dependency is called")
async def health() -> Health:
    return Health(status="ok")


@router.get(
    "/ready",
    summary="Readiness: DynamoDB, S3 and EventBridge answer",
    responses={503: {"model": Readiness, "description": "A dependency is unreachable"}},
)
def ready(service: ServiceDep, response: Response) -> Readiness:
    checks = service.readiness()
    body = Readiness(
        status="ok" if all(v == "ok" for v in checks.values()) else "unavailable", checks=checks
    )
    if body.status != "ok":
        response.status_code = 503
    return body
