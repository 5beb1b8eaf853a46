"""The one place that reads the environment.

Everything the service needs is named here, so a missing or malformed setting
fails at start with the variable's name instead of deep inside a request.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError


class SettingsError(RuntimeError):
    """Raised at start when the environment does not describe a usable service."""


class Settings(BaseSettings):
    """Service configuration. Variables are ORDERS_<FIELD> unless an alias says otherwise."""

    model_config = SettingsConfigDict(env_prefix="ORDERS_", extra="ignore", frozen=True)

    table_name: str = Field(min_length=3, max_length=255)
    bucket_name: str = Field(min_length=3, max_length=63)
    event_bus_name: str = Field(min_length=1, max_length=256)
    kms_key_id: str = Field(min_length=1, description="Key id, ARN or alias of the shared KMS key")
    region: str = Field(
        min_length=1, validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    # Read by the SDK itself too; kept here only so logs and readiness can say where AWS is.
    endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")

    event_source: str = "orders.service"
    # Completed idempotency records: how long a replayed Idempotency-Key returns the same answer.
    idempotency_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Outside Lambda there is no remaining-time clock: an in-progress idempotency record
    # expires after this many seconds, so a crashed request does not block its key for long.
    request_timeout_seconds: int = Field(default=30, ge=1, le=900)
    presign_expiry_seconds: int = Field(default=900, ge=60, le=900)
    max_attachment_bytes: int = Field(default=10 * 1024 * 1024, ge=1, le=5 * 1024**3)
    allowed_content_types: frozenset[str] = frozenset(
        {"application/pdf", "image/png", "image/jpeg", "text/plain", "text/csv"}
    )
    # One place for bounded retries of every AWS call (botocore standard mode).
    aws_max_attempts: int = Field(default=3, ge=1, le=10)
    aws_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    aws_read_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    # Request bodies: over this many bytes a 413 before they are read (Lambda's own
    # limit is 6 MB; an order is well under 1 KiB), and a body must arrive whole within
    # this many seconds or it is a 408 (in the container; on Lambda it is already in memory).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=6_000_000)
    body_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # All request headers together: over this a 431. uvicorn's default parser (httptools)
    # has no bound of its own; the front doors' are 10 KB (HTTP API) and 64 KB (ALB). A
    # bearer token and the usual headers take 2-4 KiB.
    max_header_bytes: int = Field(default=32 * 1024, ge=4096, le=1024 * 1024)
    # X-Ray: imported only when on (Lambda sets it; Fargate with the collector sidecar).
    tracing_enabled: bool = False
    # In the container, EMF metrics are flushed every this many seconds (and at shutdown)
    # instead of once per request: one log event per request is most of a busy task's
    # CloudWatch Logs bill and CPU. 0 flushes after every request. Lambda always flushes
    # per invocation.
    metrics_flush_seconds: float = Field(default=10.0, ge=0, le=60)
    # The front door's origin header (orders.api.origin_check). Either names a secret, and then
    # API requests that came through API Gateway or a load balancer without it are refused:
    # the value (ECS injects it from Secrets Manager) or the secret's ARN (the function reads it).
    origin_secret: SecretStr | None = None
    origin_secret_arn: str | None = Field(
        default=None, pattern=r"^(arn:[\w-]+:secretsmanager:.+)?$"
    )
    # Set by Lambda in every function's environment: which target serves (logs, metrics).
    lambda_function_name: str | None = Field(
        default=None, validation_alias="AWS_LAMBDA_FUNCTION_NAME"
    )

    # Access tokens (orders.api.auth). Secure by default: without an issuer the API refuses
    # to start (check_token_settings), unless auth_disabled says so explicitly (tests and
    # baselines that are not about auth; no template sets it).
    auth_issuer: str | None = None
    # Default: <issuer>/.well-known/jwks.json (Cognito's); locally, moto's URL for the pool.
    auth_jwks_url: str | None = Field(default=None, pattern=r"^(https?://.+)?$")
    # App client ids whose tokens are accepted (comma-separated in the environment).
    auth_client_ids: Annotated[frozenset[str], NoDecode] = frozenset()
    auth_operator_group: str = Field(default="operators", min_length=1)
    auth_disabled: bool = False
    # Clock skew allowed on exp/iat; small, so a stolen token does not outlive itself by much.
    auth_leeway_seconds: int = Field(default=30, ge=0, le=300)
    auth_jwks_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    # At most one JWKS fetch per this many seconds for unknown `kid`s (and after a failed
    # fetch), so a stream of tokens with made-up kids cannot turn into a stream of fetches.
    auth_jwks_min_refresh_seconds: float = Field(default=60.0, ge=0, le=3600)

    # --- per-caller throttling (orders.throttle): requests one caller (user or machine
    # client) may make per window before a 429. 0 switches it off (bench baselines only).
    rate_limit_per_minute: int = Field(default=600, ge=0, le=1_000_000)

    @field_validator(
        "origin_secret", "origin_secret_arn", "auth_issuer", "auth_jwks_url", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `sam local --env-vars` can only blank a variable the template declares.
        return None if value == "" else value

    @field_validator("auth_client_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    def check_token_settings(self) -> None:
        """What the API needs to start: the issuer and clients whose tokens it accepts.

        Secure by default: the API refuses to start without them, unless auth_disabled says
        so explicitly. Checked where the API is built (orders.app), not for every process:
        the outbox publisher checks no tokens and gets none of these (template.yaml), so a
        broken token setting cannot stop the events.
        """
        if self.auth_disabled:
            return
        if not self.auth_issuer:
            raise SettingsError(
                "invalid configuration: ORDERS_AUTH_ISSUER is not set: the API verifies access "
                "tokens from this issuer (set ORDERS_AUTH_DISABLED=true only to run without "
                "authentication)"
            )
        if not self.auth_client_ids:
            raise SettingsError(
                "invalid configuration: ORDERS_AUTH_CLIENT_IDS is empty: name the app client "
                "ids whose tokens are accepted"
            )

    @property
    def jwks_url(self) -> str:
        """Where the issuer's signing keys are published."""
        if self.auth_jwks_url:
            return self.auth_jwks_url
        return f"{(self.auth_issuer or '').rstrip('/')}/.well-known/jwks.json"

    @property
    def served_by(self) -> str:
        """`lambda` under Mangum on Lambda, `fargate` in the container (granian, or uvicorn)."""
        return "lambda" if self.lambda_function_name else "fargate"


def load_settings() -> Settings:
    """Build settings from the environment, naming every missing or invalid variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if not error["loc"]:  # a check across fields: its message names the variables
                problems.append(str(error["msg"]).removeprefix("Value error, "))
                continue
            problems.append(f"{_variable_for(str(error['loc'][0]))}: {error['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
    except PydanticSettingsError as exc:
        # A collection variable that is not JSON fails before validation, in the source; its
        # message names the field, not the variable the user set.
        named = re.search(r'field "([^"]+)"', str(exc))
        variable = _variable_for(named.group(1)) if named else str(exc)
        raise SettingsError(
            f'invalid configuration: {variable}: not JSON (a list is written ["a", "b"])'
        ) from None


def _variable_for(field: str) -> str:
    if field in {"AWS_REGION", "AWS_DEFAULT_REGION", "region"}:
        return "AWS_REGION"
    if field in {"AWS_ENDPOINT_URL", "endpoint_url"}:
        return "AWS_ENDPOINT_URL"
    if field in {"AWS_LAMBDA_FUNCTION_NAME", "lambda_function_name"}:
        return "AWS_LAMBDA_FUNCTION_NAME"
    return f"ORDERS_{field.upper()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings for this process, read once."""
    return load_settings()
