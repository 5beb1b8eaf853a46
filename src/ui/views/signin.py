"""The sign-in gate: with a UI client configured, nothing but this form until signed in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from ui.auth import Authenticator, SignInFailed
from ui.views.common import SESSION, SIGN_IN_MESSAGE

if TYPE_CHECKING:
    from ui.auth import Session
    from ui.config import UiSettings


@st.cache_resource(show_spinner=False)
def get_authenticator(client_id: str, secret_arn: str | None) -> Authenticator:
    """One per process: it holds the Cognito client and the client secret once read."""
    return Authenticator(client_id, secret_arn=secret_arn)


def _sign_in(auth: Authenticator) -> None:
    state = st.session_state
    try:
        state[SESSION] = auth.sign_in(
            str(state.get("signin_username") or ""), str(state.get("signin_password") or "")
        )
    except SignInFailed as exc:
        state[SIGN_IN_MESSAGE] = exc.message
        return
    state.pop(SIGN_IN_MESSAGE, None)
    state.pop("signin_password", None)


def current_session(settings: UiSettings) -> Session | None:
    """The signed-in person (refreshed when their token is about to expire), or the form.

    Returns None when sign-in is not configured; stops the script at the form otherwise.
    """
    if not settings.cognito_client_id:
        return None
    auth = get_authenticator(settings.cognito_client_id, settings.cognito_client_secret_arn)
    session: Session | None = st.session_state.get(SESSION)
    if session is not None and session.needs_refresh():
        try:
            session = auth.refresh(session)
            st.session_state[SESSION] = session
        except SignInFailed as exc:
            st.session_state.pop(SESSION, None)
            st.session_state[SIGN_IN_MESSAGE] = exc.message
            session = None
    if session is not None:
        return session
    _form(auth)
    st.stop()


def _form(auth: Authenticator) -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title(":material/inventory_2: Orders")
        message = st.session_state.get(SIGN_IN_MESSAGE)
        if message:
            st.error(message)
        with st.form("signin", border=True):
            st.text_input("Username", key="signin_username", autocomplete="username")
            st.text_input(
                "Password", key="signin_password", type="password", autocomplete="current-password"
            )
            st.form_submit_button("Sign in", type="primary", on_click=_sign_in, args=(auth,))
