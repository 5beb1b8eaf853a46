"""The page's place in the URL: view, filters, page and order id (issue 16, item 9).

Each run ends by writing the place into `st.query_params` (Streamlit pushes a history
entry when it changed, so Back works). Each run starts by comparing the URL the browser
sent with what this session wrote: when it is neither the last address the browser
confirmed nor the one just written (a first visit with a link, Back or Forward, an
edited address), the URL wins and its values go into the widgets' state before the
widgets are drawn. A run cut short by the next click loses its messages, so an address
counts as confirmed only once the browser sends it back; until then the old confirmed
one is no reason to adopt anything (the session's state is newer).

Why not the widgets' own `bind="query-params"`: measured on Streamlit 1.67, a value
set from code (a click on a row opening the order) did not reach the URL when the bound
widget had not been drawn yet, and the list's filters vanished from the URL once the
page number was also written there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from collections.abc import Mapping

WRITTEN = "url_written"  # last address the browser sent back (confirmed)
PENDING = "url_pending"  # last address written, maybe not yet in the browser
# URL parameter -> its value when absent. Each is also the widget's session-state key.
DEFAULTS: dict[str, str] = {"view": "Orders", "status": "any", "customer": "", "order": ""}
OPTIONAL = ("sort",)
# Changed with the list's filters: its paging restarts from the URL's page and cursor.
PAGING_KEYS = ("page", "cursor")


def adopt_url(views: tuple[str, ...], paging_key: str) -> None:
    """Before any widget: take the URL's values when it is not what this session wrote."""
    current = st.query_params.to_dict()
    if current == st.session_state.get(PENDING):
        st.session_state[WRITTEN] = current
        return
    if current == st.session_state.get(WRITTEN):
        return
    for key, default in DEFAULTS.items():
        value = current.get(key, default)
        if key == "view" and value not in views:
            value = default
        st.session_state[key] = value
    for key in OPTIONAL:
        if key in current:
            st.session_state[key] = current[key]
        else:
            st.session_state.pop(key, None)
    # The list rebuilds its paging from the URL's page and cursor.
    st.session_state.pop(paging_key, None)
    st.session_state[WRITTEN] = st.session_state[PENDING] = current


def write_url(place: Mapping[str, str | None]) -> None:
    """Put `place` in the URL (values equal to their default are left out)."""
    desired = {
        key: str(value)
        for key, value in place.items()
        if value not in (None, "") and value != DEFAULTS.get(key)
    }
    # Sent on every run, changed or not: a run that is interrupted (a newer click or a
    # pause in typing starts another) loses its messages, and the browser would keep
    # an old address. The browser adds a history entry only when the address changes.
    st.query_params.from_dict(desired)
    st.session_state[PENDING] = desired
