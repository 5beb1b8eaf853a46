"""The New order tab: one form, created once however many times it is submitted.

Each form instance has its own Idempotency-Key, and the form is replaced by a fresh
one (fresh widgets, fresh key) only after the API confirmed the order. So a double
click, or a retry after a timeout, sends the same key and body twice and the API
returns the first order instead of creating a second one. (Streamlit may run the two
clicks' callbacks at the same time; the client waits out the API's 409
idempotency-in-progress and gets the first order back.) Checked in Chromium: double
clicks on "Create order" made one order each time.
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
SEED = "new_order_key_seed"
ROTATED = "new_order_rotated_keys"


def _field(name: str, generation: int) -> str:
    return f"new_order_{name}_{generation}"


def _idempotency_key(generation: int) -> str:
    """The form's key: a function of this session's seed and the form's generation.

    Computed, not stored per form: the two clicks of a double click can run in two
    script threads at once, and both must send the same key.
    """
    rotated: dict[int, str] = st.session_state.get(ROTATED, {})
    if generation in rotated:
        return rotated[generation]
    seed = uuid.UUID(st.session_state[SEED])
    return str(uuid.uuid5(seed, f"new-order-{generation}"))


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
            state.setdefault(ROTATED, {})[generation] = str(uuid.uuid4())
        flash_error("new", exc)
        return
    order = created.order
    # A replay (double click, retry) says the same as the first answer: the flash queue
    # drops the duplicate, and the detail tab opens again in case the other click's run
    # was overtaken by this one before it could show it.
    flash("detail", "success", f"Order `{order.id}` created for **{order.customer}**.")
    # The key of this form stays: a late click on it must replay, not create again.
    state[GENERATION] = generation + 1
    open_order(order.id)


def render_new_order(api: OrdersClient) -> None:
    show_flash("new")
    generation: int = st.session_state.setdefault(GENERATION, 0)
    st.session_state.setdefault(SEED, str(uuid.uuid4()))
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
