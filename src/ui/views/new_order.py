"""The New order tab: one form, created once however many times it is submitted.

Each form instance has its own Idempotency-Key, and the form is replaced by a fresh
one (fresh widgets, fresh key) only after the API confirmed the order. So a double
click, or a retry after a timeout, sends the same key and body twice and the API
returns the first order instead of creating a second one.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import streamlit as st

from ui.client import ApiError, ApiUnavailable
from ui.views.common import flash, flash_error, open_order, show_flash

if TYPE_CHECKING:
    from ui.client import OrdersClient

GENERATION = "new_order_generation"
KEYS = "new_order_idempotency_keys"


def _field(name: str, generation: int) -> str:
    return f"new_order_{name}_{generation}"


def _idempotency_key(generation: int) -> str:
    keys: dict[int, str] = st.session_state.setdefault(KEYS, {})
    return keys.setdefault(generation, str(uuid.uuid4()))


def _submit(api: OrdersClient, generation: int) -> None:
    state = st.session_state
    note = str(state.get(_field("note", generation)) or "").strip()
    try:
        created = api.create_order(
            customer=str(state.get(_field("customer", generation)) or ""),
            product=str(state.get(_field("product", generation)) or ""),
            quantity=int(state.get(_field("quantity", generation)) or 0),
            note=note or None,
            idempotency_key=_idempotency_key(generation),
        )
    except (ApiError, ApiUnavailable) as exc:
        if isinstance(exc, ApiError) and exc.kind == "idempotency-key-reused":
            # An earlier submission of this form may have created an order before the body
            # was edited; a new key lets this body through, and the message says what happened.
            state[KEYS].pop(generation, None)
        flash_error("new", exc)
        return
    order = created.order
    again = (
        " (this form was already submitted: the same order came back)" if created.replayed else ""
    )
    flash("detail", "success", f"Order `{order.id}` created for **{order.customer}**{again}.")
    state[KEYS].pop(generation, None)
    state[GENERATION] = generation + 1
    open_order(order.id)


def render_new_order(api: OrdersClient) -> None:
    show_flash("new")
    generation: int = st.session_state.setdefault(GENERATION, 0)
    _idempotency_key(generation)
    with st.form(f"new_order_{generation}", border=True):
        left, right = st.columns(2)
        left.text_input("Customer", key=_field("customer", generation), placeholder="acme-corp")
        right.text_input("Product", key=_field("product", generation), placeholder="widget")
        st.number_input(
            "Quantity", min_value=1, value=1, step=1, key=_field("quantity", generation)
        )
        st.text_area("Note (optional)", key=_field("note", generation), height=80)
        st.form_submit_button(
            "Create order",
            type="primary",
            icon=":material/add:",
            on_click=_submit,
            args=(api, generation),
        )
