"""Who is calling: the verified identity behind a request, as the service layer sees it.

Built only from a verified access token (orders.api.auth), never from what a client
asserts in a body or header.
"""

from __future__ import annotations

from dataclasses import dataclass

# The resource server's scopes (cform/identity.yaml: identifier `orders`).
SCOPE_READ = "orders/read"
SCOPE_WRITE = "orders/write"
OPERATORS_GROUP = "operators"


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller: a customer, an operator (user tokens) or a machine client.

    A user token carries `username`; a client-credentials token has none. The customer a
    user acts for is their username (a pre-token-generation trigger could map users to
    customers later without changing this class's callers).
    """

    subject: str
    client_id: str
    username: str | None
    groups: frozenset[str]
    scopes: frozenset[str]
    operator_group: str = OPERATORS_GROUP

    @property
    def is_machine(self) -> bool:
        return self.username is None

    @property
    def is_operator(self) -> bool:
        return not self.is_machine and self.operator_group in self.groups

    @property
    def customer(self) -> str | None:
        """The customer a customer's token acts for; None for operators and machines."""
        if self.is_machine or self.is_operator:
            return None
        return self.username

    @property
    def caller_id(self) -> str:
        """A stable id per caller, for scoping what belongs to it (Idempotency-Keys)."""
        return f"client:{self.client_id}" if self.is_machine else f"user:{self.subject}"

    @property
    def actor(self) -> str:
        """Who an event says acted: the user's name, or the machine client's id."""
        return self.username if self.username is not None else f"client:{self.client_id}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


# Who acts when authentication is switched off (ORDERS_AUTH_DISABLED=true): an operator,
# so the tests and baselines that are not about auth see what the service did before.
AUTH_DISABLED = Principal(
    subject="auth-disabled",
    client_id="auth-disabled",
    username="auth-disabled",
    groups=frozenset({OPERATORS_GROUP}),
    scopes=frozenset({SCOPE_READ, SCOPE_WRITE}),
)
