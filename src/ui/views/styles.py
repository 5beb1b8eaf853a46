"""How statuses and times look, the same in the list and the detail."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

Color = Literal["blue", "violet", "orange", "green", "gray"]
STATUS_COLORS: dict[str, Color] = {
    "pending": "blue",
    "confirmed": "violet",
    "shipped": "orange",
    "delivered": "green",
    "cancelled": "gray",
}


def viewer_zone() -> tzinfo:
    """The browser's time zone (Streamlit reports it), else UTC."""
    name = st.context.timezone
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def when(iso: str | None, zone: tzinfo | None = None) -> str:
    """An ISO-8601 instant in the viewer's zone, with the zone named: '2026-11-30 19:05 CET'."""
    if not iso:
        return ""
    try:
        instant = datetime.fromisoformat(iso)
    except ValueError:
        return iso[:19].replace("T", " ")
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    local = instant.astimezone(zone or viewer_zone())
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")
