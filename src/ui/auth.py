"""Sign-in against the Cognito user pool's UI client (issue 11).

The UI signs a person in with USER_PASSWORD_AUTH and keeps the tokens in that person's
session only (never on disk, never in the URL); it refreshes the access token with
REFRESH_TOKEN_AUTH shortly before it expires. When the client has a secret, the secret
is read from Secrets Manager by ARN (never from the environment) and used for
SECRET_HASH. The endpoint comes from AWS_ENDPOINT_URL locally (the SDK reads it itself).

boto3 is imported only when sign-in is configured: the UI image installs the `ui`
extra of pyproject.toml, which needs boto3 only for sign-in.

The token's claims (`username`, `cognito:groups`) are read without verifying the
signature: only to decide what to show. The API verifies every token it is sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

OPERATOR_GROUP = "operators"
# Refresh this long before the access token expires, so no call carries a dying token.
REFRESH_MARGIN_SECONDS = 120


class SignInFailed(Exception):
    """The user pool refused the credentials, or could not be asked; `message` is plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Session:
    """One signed-in person: the tokens and what the UI may read from the access token."""

    access_token: str
    refresh_token: str | None
    expires_at: float
    username: str
    groups: frozenset[str]

    @property
    def is_operator(self) -> bool:
        return OPERATOR_GROUP in self.groups

    @property
    def customer(self) -> str | None:
        """A customer acts for the customer named by their username (the API's rule too)."""
        return None if self.is_operator else self.username

    def needs_refresh(self, now: float | None = None) -> bool:
        return (now or time.time()) >= self.expires_at - REFRESH_MARGIN_SECONDS


def claims(token: str) -> dict[str, Any]:
    """The JWT's payload, unverified (display only; the API verifies)."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return data if isinstance(data, dict) else {}


def secret_hash(username: str, client_id: str, client_secret: str) -> str:
    """Cognito's SECRET_HASH: base64(HMAC-SHA256(secret, username + client id))."""
    digest = hmac.new(
        client_secret.encode(), (username + client_id).encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode()


class Authenticator:
    """Signs in and refreshes against one app client. One per process (it holds clients)."""

    def __init__(
        self,
        client_id: str,
        *,
        secret_arn: str | None = None,
        cognito: Any = None,
        secrets: SecretsManagerClient | None = None,
    ) -> None:
        import boto3  # only with sign-in configured (see the module docstring)

        self.client_id = client_id
        self._secret_arn = secret_arn
        # No mypy-boto3-cognito-idp stubs in the project's dependencies: typed as Any.
        self._cognito: Any = cognito or boto3.client("cognito-idp")
        self._secrets = secrets
        self._client_secret: str | None = None

    def _secret(self) -> str | None:
        if not self._secret_arn:
            return None
        if self._client_secret is None:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError

            secrets: SecretsManagerClient = self._secrets or boto3.client("secretsmanager")
            try:
                value = secrets.get_secret_value(SecretId=self._secret_arn)["SecretString"]
            except (ClientError, BotoCoreError) as exc:
                raise SignInFailed(
                    "Sign-in is not available right now: the UI could not read its client "
                    "secret. Tell the people who run this service."
                ) from exc
            self._client_secret = _secret_value(str(value))
        return self._client_secret

    def _parameters(self, username: str, **more: str) -> dict[str, str]:
        secret = self._secret()
        if secret:
            more["SECRET_HASH"] = secret_hash(username, self.client_id, secret)
        return more

    def sign_in(self, username: str, password: str) -> Session:
        from botocore.exceptions import BotoCoreError, ClientError

        username = username.strip()
        if not username or not password:
            raise SignInFailed("Enter your username and password.")
        try:
            answer = self._cognito.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters=self._parameters(username, USERNAME=username, PASSWORD=password),
            )
        except ClientError as exc:
            raise SignInFailed(_refusal(exc)) from exc
        except BotoCoreError as exc:
            raise SignInFailed("The sign-in service is not answering. Try again shortly.") from exc
        if "AuthenticationResult" not in answer:
            # A challenge (new password, MFA): not offered by this UI yet.
            raise SignInFailed(
                f"This account needs a step this UI does not offer ({answer.get('ChallengeName')})."
                " Ask an administrator."
            )
        return _session(answer["AuthenticationResult"], refresh_token=None)

    def refresh(self, session: Session) -> Session:
        from botocore.exceptions import BotoCoreError, ClientError

        if not session.refresh_token:
            raise SignInFailed("Your session has expired. Sign in again.")
        try:
            answer = self._cognito.initiate_auth(
                ClientId=self.client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters=self._parameters(
                    session.username, REFRESH_TOKEN=session.refresh_token
                ),
            )
        except (ClientError, BotoCoreError) as exc:
            raise SignInFailed("Your session has expired. Sign in again.") from exc
        return _session(answer["AuthenticationResult"], refresh_token=session.refresh_token)


def _session(result: Any, *, refresh_token: str | None) -> Session:
    access = str(result["AccessToken"])
    payload = claims(access)
    groups = payload.get("cognito:groups") or []
    expires_at = float(payload.get("exp") or time.time() + int(result.get("ExpiresIn", 3600)))
    return Session(
        access_token=access,
        refresh_token=result.get("RefreshToken") or refresh_token,
        expires_at=expires_at,
        username=str(payload.get("username") or ""),
        groups=frozenset(str(g) for g in groups) if isinstance(groups, list) else frozenset(),
    )


def _secret_value(value: str) -> str:
    """The secret may be stored as the bare string or as JSON with a `client_secret` field."""
    try:
        data = json.loads(value)
    except ValueError:
        return value
    if isinstance(data, dict):
        for key in ("client_secret", "ClientSecret", "clientSecret"):
            if key in data:
                return str(data[key])
    return value


def _refusal(exc: ClientError) -> str:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in {"NotAuthorizedException", "UserNotFoundException"}:
        # The same words for both: do not tell a stranger which usernames exist.
        return "Wrong username or password."
    if code == "PasswordResetRequiredException":
        return "Your password must be reset before you can sign in. Ask an administrator."
    if code == "UserNotConfirmedException":
        return "This account is not confirmed yet. Ask an administrator."
    if code in {"TooManyRequestsException", "LimitExceededException"}:
        return "Too many sign-in attempts. Wait a minute and try again."
    return "Sign-in failed. Try again, or ask an administrator."
