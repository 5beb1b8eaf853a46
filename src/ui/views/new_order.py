"""The New order view: validated at each field with the API's own limits, created once.

The limits come from the API's OpenAPI document (ui.schema), not from copies here: the
inputs refuse more characters than the API takes, each field says what is wrong next
to it, and Create stays disabled until the form is valid. It is not an `st.form`, on
purpose: a form sends its values only on submit, so it could neither check a field as
it is left nor disable Create.

The draft is kept for the whole session (switching views, an outage): the fields keep
their values while hidden, and nothing is cleared until the API confirmed the order.

Each draft has its own Idempotency-Key, replaced only after the API confirmed the
order. So a double click, or a retry after a timeout, sends the same key and body
twice and the API returns the first order instead of creating a second one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import streamlit as st

from ui.client import ApiError, ApiUnavailable
from ui.schema import FieldRules
from ui.views.common import FIELD_NAMES, flash, flash_error, is_offline, open_order, show_flash

if TYPE_CHECKING:
    from ui.auth import Session
    from ui.client import OrdersClient
    from ui.schema import Schema

GENERATION = "new_order_generation"
SEED = "new_order_key_seed"
ROTATED = "new_order_rotated_keys"
SERVER_ERRORS = "new_order_server_errors"


def _field(name: str, generation: int) -> str:
    return f"new_order_{name}_{generation}"


def _idempotency_key(generation: int) -> str:
    """The draft's key: a function of this session's seed and the draft's generation.

    Computed, not stored per draft: the two clicks of a double click can run in two
    script threads at once, and both must send the same key.
    """
    rotated: dict[int, str] = st.session_state.get(ROTATED, {})
    if generation in rotated:
        return rotated[generation]
    seed = uuid.UUID(st.session_state[SEED])
    return str(uuid.uuid5(seed, f"new-order-{generation}"))


def _values(generation: int, session: Session | None) -> dict[str, object]:
    state = st.session_state
    customer = session.customer if session and session.customer else None
    return {
        "customer": customer or str(state.get(_field("customer", generation)) or ""),
        "product": str(state.get(_field("product", generation)) or ""),
        "quantity": state.get(_field("quantity", generation)),
        "note": str(state.get(_field("note", generation)) or ""),
    }


def _submit(api: OrdersClient, generation: int, session: Session | None) -> None:
    state = st.session_state
    values = _values(generation, session)
    note = str(values["note"]).strip()
    state.pop(SERVER_ERRORS, None)
    try:
        created = api.create_order(
            customer=str(values["customer"]).strip(),
            product=str(values["product"]).strip(),
            quantity=int(values["quantity"] or 0),  # type: ignore[call-overload]
            note=note or None,
            idempotency_key=_idempotency_key(generation),
        )
    except (ApiError, ApiUnavailable) as exc:
        if isinstance(exc, ApiError) and exc.kind == "idempotency-key-reused":
            # An earlier submission of this draft may have created an order before it was
            # edited; a new key lets this body through, and the message says what happened.
            state.setdefault(ROTATED, {})[generation] = str(uuid.uuid4())
        if isinstance(exc, ApiError) and exc.field_errors:
            # The API's words stay off the page; each field gets its own plain message.
            state[SERVER_ERRORS] = {
                f: f"The service did not accept this {FIELD_NAMES.get(f, f).lower()}."
                for f in exc.field_errors
            }
        flash_error("new", exc)
        return
    order = created.order
    flash("detail", "success", f"Order `{order.id}` created.")
    # The key of this draft stays: a late click on it must replay, not create again.
    state[GENERATION] = generation + 1
    open_order(order.id)


def _problem(name: str, rules: FieldRules, value: object) -> str | None:
    label = FIELD_NAMES[name].lower()
    if name == "quantity":
        number = value if isinstance(value, int | float) else None
        return rules.check_number(number, label)
    return rules.check_text(str(value), label)


def render_new_order(api: OrdersClient, schema: Schema | None, session: Session | None) -> None:
    show_flash("new")
    offline = is_offline()
    generation: int = st.session_state.setdefault(GENERATION, 0)
    st.session_state.setdefault(SEED, str(uuid.uuid4()))
    rules = _rules(schema)
    problems, shown = _check(generation, session, rules)
    field = _Fields(generation, rules, shown, offline)

    with st.container(border=True):
        left, right = st.columns(2)
        with left:
            if session is not None and session.customer is not None:
                st.caption("Customer")
                st.text(session.customer)
            else:
                field.text("customer", placeholder="acme-corp")
        with right:
            field.text("product", placeholder="widget")
        field.quantity()
        field.note()
        invalid = any(problems.values())
        _create_button(api, generation, session, invalid=invalid, offline=offline)


def _rules(schema: Schema | None) -> dict[str, FieldRules]:
    rules = {name: schema.rules(name) if schema else FieldRules() for name in FIELD_NAMES}
    # The API takes a customer's own name from the token, so `customer` is optional in its
    # schema; anyone else (an operator, or no sign-in) must name one (422 customer-required).
    rules["customer"] = replace(rules["customer"], required=True)
    return rules


def _check(
    generation: int, session: Session | None, rules: dict[str, FieldRules]
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """Each field's problem by the API's limits, and the message to show beneath it."""
    values = _values(generation, session)
    server_errors: dict[str, str] = st.session_state.get(SERVER_ERRORS, {})
    problems = {name: _problem(name, rules[name], values[name]) for name in FIELD_NAMES}
    shown: dict[str, str | None] = {}
    for name, problem in problems.items():
        # A field says what is wrong once it has a value (an empty form is not an error).
        touched = st.session_state.get(_field(name, generation)) not in (None, "")
        shown[name] = (problem if touched else None) or server_errors.get(name)
    return problems, shown


@dataclass(frozen=True, slots=True)
class _Fields:
    """The form's inputs, each with the API's limits and its message beneath it."""

    generation: int
    rules: dict[str, FieldRules]
    messages: dict[str, str | None]
    offline: bool

    def text(self, name: str, *, placeholder: str) -> None:
        st.text_input(
            FIELD_NAMES[name],
            key=_field(name, self.generation),
            placeholder=placeholder,
            max_chars=self.rules[name].max_length,
            persist_state="session",
            disabled=self.offline,
        )
        self._say(name)

    def quantity(self) -> None:
        rules = self.rules["quantity"]
        st.number_input(
            FIELD_NAMES["quantity"],
            min_value=rules.minimum,
            max_value=rules.maximum,
            value=rules.minimum or 1,
            step=1,
            key=_field("quantity", self.generation),
            persist_state="session",
            disabled=self.offline,
        )
        self._say("quantity")

    def note(self) -> None:
        st.text_area(
            "Note (optional)",
            key=_field("note", self.generation),
            height=80,
            max_chars=self.rules["note"].max_length,
            persist_state="session",
            disabled=self.offline,
        )
        self._say("note")

    def _say(self, name: str) -> None:
        message = self.messages[name]
        if message:
            st.caption(f":red[{message}]")


def _create_button(
    api: OrdersClient, generation: int, session: Session | None, *, invalid: bool, offline: bool
) -> None:
    st.button(
        "Create order",
        type="primary",
        icon=":material/add:",
        on_click=_submit,
        args=(api, generation, session),
        disabled=invalid or offline,
        key=f"new_order_create_{generation}",
    )
    if offline:
        st.caption("Your draft is kept. Create comes back when the service answers.")
    elif invalid:
        st.caption("Create order is available once every field is valid.")
