"""Use cases of the orders service. Pure logic over the ports: no boto3, no HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from orders.domain.errors import (
    AttachmentRejected,
    CustomerRequired,
    Forbidden,
    IdempotencyConflict,
    InsufficientScope,
    OrderExists,
    OrderNotFound,
    VersionConflict,
)
from orders.domain.filenames import check_filename
from orders.domain.model import (
    Order,
    OrderEvent,
    OrderStatus,
    order_id_for,
    request_fingerprint,
)
from orders.domain.principal import SCOPE_READ, SCOPE_WRITE
from orders.observability import MetricName, count, logger
from orders.ports import DependencyUnavailable

if TYPE_CHECKING:
    from orders.domain.model import (
        Attachment,
        AttachmentUpload,
        OrderPage,
        OrderQuery,
        StoredEvent,
    )
    from orders.domain.principal import Principal
    from orders.ports import (
        AttachmentStore,
        EventPublisher,
        Idempotency,
        OrderRepository,
        ReplayCodec,
    )


# The caller of the use cases below when none is named (tests of the use cases alone). The
# API always names one: the verified principal's caller_id (CallerOrders).
ANONYMOUS = "anonymous"
# How often a status change without a precondition re-reads after losing a race.
CHANGE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class NewOrder:
    customer: str
    product: str
    quantity: int
    note: str | None = None

    def payload(self) -> dict[str, Any]:
        """The request's fields, as compared between attempts with one Idempotency-Key."""
        return {
            "customer": self.customer,
            "product": self.product,
            "quantity": self.quantity,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Created:
    order: Order
    replayed: bool


@dataclass(frozen=True, slots=True)
class AttachmentPolicy:
    max_bytes: int
    allowed_content_types: frozenset[str]


class OrderService:
    def __init__(
        self,
        *,
        repository: OrderRepository,
        attachments: AttachmentStore,
        publisher: EventPublisher,
        idempotency: Idempotency,
        replay: ReplayCodec,
        attachment_policy: AttachmentPolicy,
    ) -> None:
        self._repo = repository
        self._attachments = attachments
        self._publisher = publisher
        self._idempotency = idempotency
        self._replay = replay
        self._policy = attachment_policy

    def create(
        self,
        new: NewOrder,
        *,
        idempotency_key: str | None = None,
        caller: str = ANONYMOUS,
        actor: str | None = None,
    ) -> Created:
        """Create an order with its OrderCreated event; once per caller and Idempotency-Key.

        The guarantee is in the data: the key (scoped by caller) fixes the order id, and
        the write is conditional on that id being free, so every attempt with one key
        (concurrent, or a retry after a crash or a lost reply) creates at most one order;
        a later attempt with the same body gets that order back, another body a 422.
        `actor` (who is asking, once requests are authenticated) is recorded on the event.
        Powertools idempotency sits in front of it for what the data cannot give: the
        first response replayed byte for byte (even after the order moved on), and a
        quick 409 for a duplicate that arrives while the first is still running.
        """
        if idempotency_key is None:
            return Created(self._create(new, actor=actor), replayed=False)
        payload = new.payload()
        fingerprint = request_fingerprint(payload)
        order_id = order_id_for(caller, idempotency_key)
        found_stored = False

        def create_once() -> dict[str, Any]:
            nonlocal found_stored
            order, found_stored = self._create_or_find(new, order_id, fingerprint, actor)
            return self._replay.dump(order)

        stored, replayed = self._idempotency.run(
            key=order_id, payload=payload, operation=create_once
        )
        if replayed or found_stored:
            count(MetricName.IDEMPOTENT_REPLAYS)
            logger.info("idempotent replay", order_id=stored["id"], from_order=found_stored)
        return Created(self._replay.load(stored), replayed=replayed or found_stored)

    def _create_or_find(
        self, new: NewOrder, order_id: str, fingerprint: str, actor: str | None = None
    ) -> tuple[Order, bool]:
        """(the order, whether it was already stored by an earlier attempt with this key)."""
        try:
            created = self._create(new, order_id=order_id, fingerprint=fingerprint, actor=actor)
            return created, False
        except OrderExists as exists:
            if exists.fingerprint != fingerprint:
                raise IdempotencyConflict from None
            return exists.order, True

    def _create(
        self,
        new: NewOrder,
        *,
        order_id: str | None = None,
        fingerprint: str | None = None,
        actor: str | None = None,
    ) -> Order:
        # The order is made of exactly the request's fields, the ones an Idempotency-Key's
        # attempts are compared on.
        order = Order.create(**new.payload(), order_id=order_id)
        self._repo.add(order, OrderEvent.created(order, actor=actor), fingerprint=fingerprint)
        count(MetricName.ORDERS_CREATED)
        logger.info("order created", order_id=order.id, customer=order.customer)
        return order

    def get(self, order_id: str) -> Order:
        return self._repo.get(order_id)

    def list_orders(self, query: OrderQuery) -> OrderPage:
        return self._repo.list_orders(query)

    def change_status(
        self,
        order_id: str,
        target: OrderStatus,
        *,
        expected_version: int | None = None,
        actor: str | None = None,
    ) -> Order:
        """Move an order along its lifecycle, atomically.

        With expected_version, only from that version (VersionConflict otherwise).
        Without, from the version just read: the write is conditional on it, so a
        concurrent change is never overwritten; a lost race re-reads and applies the
        transition to the new state (which may make it illegal), a few times at most.
        `actor` (who is asking, once requests are authenticated) is recorded on the event.
        """
        for attempt in range(1, CHANGE_ATTEMPTS + 1):
            current = self._repo.get(order_id)
            if expected_version is not None and current.version != expected_version:
                raise VersionConflict(order_id, expected_version, current.version)
            changed = current.transition(target)
            event = OrderEvent.status_changed(changed, previous=current.status, actor=actor)
            try:
                self._repo.save_transition(changed, expected_version=current.version, event=event)
            except VersionConflict:
                if expected_version is not None or attempt == CHANGE_ATTEMPTS:
                    raise
                logger.info("status change lost a race; re-reading", order_id=order_id)
                continue
            count(MetricName.ORDER_STATUS_CHANGED)
            logger.info(
                "order status changed",
                order_id=order_id,
                previous_status=current.status.value,
                status=changed.status.value,
                version=changed.version,
            )
            return changed
        raise AssertionError("unreachable")  # pragma: no cover

    def events(self, order_id: str) -> list[StoredEvent]:
        self._repo.get(order_id)  # a 404 for an unknown order, not an empty list
        return self._repo.events(order_id)

    def create_attachment(
        self, order_id: str, *, filename: str, content_type: str, size: int | None
    ) -> AttachmentUpload:
        """A presigned upload for one file; the name is kept as chosen, never in the key."""
        check_filename(filename)
        if content_type not in self._policy.allowed_content_types:
            allowed = ", ".join(sorted(self._policy.allowed_content_types))
            raise AttachmentRejected(
                f"content_type {content_type!r} is not allowed (allowed: {allowed})"
            )
        if size is not None and size > self._policy.max_bytes:
            raise AttachmentRejected(
                f"size {size} is over the limit of {self._policy.max_bytes} bytes"
            )
        self._repo.get(order_id)
        return self._attachments.presign_upload(
            order_id=order_id,
            filename=filename,
            content_type=content_type,
            max_bytes=self._policy.max_bytes,
        )

    def list_attachments(self, order_id: str) -> list[Attachment]:
        self._repo.get(order_id)
        return self._attachments.list_attachments(order_id)

    def readiness(self) -> dict[str, str]:
        """Each dependency's state, checked at the same time: 'ok' or why it failed."""
        checks = {
            "dynamodb": self._repo.ping,
            "s3": self._attachments.ping,
            "eventbridge": self._publisher.ping,
        }

        def run(check: object) -> str:
            try:
                check()  # type: ignore[operator]
            except DependencyUnavailable as exc:
                return exc.reason
            return "ok"

        with ThreadPoolExecutor(max_workers=len(checks)) as pool:
            results = dict(zip(checks, pool.map(run, checks.values()), strict=True))
        return results


class CallerOrders:
    """The use cases as one verified caller may run them: the service's authorization.

    The API hands routes only this view (api/deps.py), never the bare OrderService, so
    every route goes through these checks. Roles (orders.domain.principal):
    - customer: reads, creates, cancels and attaches to its own orders only. Another
      customer's order is answered exactly like an order that does not exist (404, not
      403): a 403 would confirm that the id exists, and ids must not be probed that way.
      A customer may not change an order's status other than by cancelling (403).
    - operator: reads every order, changes status, cancels, attaches, creates on a
      customer's behalf (naming it).
    - machine (client credentials): per scope: orders/read for reads, orders/write for
      create, cancel, status and attachments; acts on any customer's orders.
    """

    def __init__(self, service: OrderService, principal: Principal) -> None:
        self._service = service
        self.principal = principal

    # -- checks -----------------------------------------------------------------------

    def _need(self, scope: str) -> None:
        # Scopes bind machine clients; a user's token carries Cognito's own scope
        # (aws.cognito.signin.user.admin) and acts by role instead.
        if self.principal.is_machine and not self.principal.has_scope(scope):
            raise InsufficientScope(scope)

    def _readable(self, order_id: str) -> Order:
        order = self._service.get(order_id)
        customer = self.principal.customer
        if customer is not None and order.customer != customer:
            # Indistinguishable from an unknown id (see the class docstring).
            logger.info("order of another customer refused", order_id=order_id)
            raise OrderNotFound(order_id)
        return order

    # -- use cases ----------------------------------------------------------------------

    def create(
        self,
        *,
        customer: str | None,
        product: str,
        quantity: int,
        note: str | None,
        idempotency_key: str | None = None,
    ) -> Created:
        """Create for the token's customer; operators and machines name the customer."""
        self._need(SCOPE_WRITE)
        own = self.principal.customer
        if own is not None:
            if customer is not None and customer != own:
                raise Forbidden(f"a customer's token creates orders only for {own}")
            customer = own
        elif customer is None:
            raise CustomerRequired
        return self._service.create(
            NewOrder(customer=customer, product=product, quantity=quantity, note=note),
            idempotency_key=idempotency_key,
            caller=self.principal.caller_id,
            actor=self.principal.actor,
        )

    def get(self, order_id: str) -> Order:
        self._need(SCOPE_READ)
        return self._readable(order_id)

    def list_orders(self, query: OrderQuery) -> OrderPage:
        """A customer's list is always its own: the filter is set from the token.

        Cursors are bound to the index and key they were issued for (adapters/cursor.py),
        so a cursor minted for the unfiltered list, or for another customer, is refused
        (400) when it comes back with a customer's forced filter.
        """
        self._need(SCOPE_READ)
        own = self.principal.customer
        if own is not None:
            if query.customer is not None and query.customer != own:
                raise Forbidden(f"a customer's token lists only the orders of {own}")
            query = replace(query, customer=own)
        return self._service.list_orders(query)

    def change_status(
        self, order_id: str, target: OrderStatus, *, expected_version: int | None = None
    ) -> Order:
        self._need(SCOPE_WRITE)
        if self.principal.customer is not None:
            if target is not OrderStatus.CANCELLED:
                raise Forbidden("only operators change an order's status; customers may cancel")
            self._readable(order_id)
        return self._service.change_status(
            order_id, target, expected_version=expected_version, actor=self.principal.actor
        )

    def events(self, order_id: str) -> list[StoredEvent]:
        self._need(SCOPE_READ)
        self._readable(order_id)
        return self._service.events(order_id)

    def create_attachment(
        self, order_id: str, *, filename: str, content_type: str, size: int | None
    ) -> AttachmentUpload:
        self._need(SCOPE_WRITE)
        self._readable(order_id)
        return self._service.create_attachment(
            order_id, filename=filename, content_type=content_type, size=size
        )

    def list_attachments(self, order_id: str) -> list[Attachment]:
        self._need(SCOPE_READ)
        self._readable(order_id)
        return self._service.list_attachments(order_id)
