"""The UI's configuration: the one place in src/ui that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_SECONDS = 5.0
# The API's default attachment limit (ORDERS_MAX_ATTACHMENT_BYTES, 10 MiB): the uploader
# states and enforces it instead of Streamlit's 200 MB.
DEFAULT_MAX_UPLOAD_MB = 10


@dataclass(frozen=True, slots=True)
class UiSettings:
    api_url: str
    timeout_seconds: float
    max_upload_mb: int = DEFAULT_MAX_UPLOAD_MB
    # Sign-in (issue 11): the user pool's UI client, and where its secret is kept.
    cognito_client_id: str | None = None
    cognito_client_secret_arn: str | None = None


def load_settings() -> UiSettings:
    """Settings from ORDERS_API_URL, ORDERS_API_TIMEOUT_SECONDS, ORDERS_UI_MAX_UPLOAD_MB,
    ORDERS_UI_COGNITO_CLIENT_ID and ORDERS_UI_COGNITO_CLIENT_SECRET_ARN (an ARN or name in
    Secrets Manager: the secret itself never comes from the environment).

    Read on every script run (it is cheap), so a changed environment needs no restart
    and tests can point one process at different APIs.
    """
    api_url = os.environ.get("ORDERS_API_URL", "").strip() or DEFAULT_API_URL
    raw_timeout = os.environ.get("ORDERS_API_TIMEOUT_SECONDS", "").strip()
    try:
        timeout = float(raw_timeout) if raw_timeout else DEFAULT_TIMEOUT_SECONDS
    except ValueError:
        timeout = DEFAULT_TIMEOUT_SECONDS
    if timeout <= 0:
        timeout = DEFAULT_TIMEOUT_SECONDS
    raw_upload = os.environ.get("ORDERS_UI_MAX_UPLOAD_MB", "").strip()
    max_upload = int(raw_upload) if raw_upload.isdigit() else DEFAULT_MAX_UPLOAD_MB
    if max_upload <= 0:
        max_upload = DEFAULT_MAX_UPLOAD_MB
    return UiSettings(
        api_url=api_url.rstrip("/"),
        timeout_seconds=timeout,
        max_upload_mb=max_upload,
        cognito_client_id=os.environ.get("ORDERS_UI_COGNITO_CLIENT_ID", "").strip() or None,
        cognito_client_secret_arn=(
            os.environ.get("ORDERS_UI_COGNITO_CLIENT_SECRET_ARN", "").strip() or None
        ),
    )
