"""How the local stand-ins for AWS's HTTP front ends (the HTTP API, the front door) serve."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import uvicorn

from devstack.config import LOOPBACK

if TYPE_CHECKING:
    from starlette.types import ASGIApp

LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def log_to_stderr() -> None:
    """One timestamped line a record; make dev's log files are read beside each other."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)


def serve(app: ASGIApp, port: int, *, date_header: bool) -> None:
    """Serve `app` on loopback until stopped, with no Server header and no access log.

    AWS's front ends send no Server header, and each stand-in logs one line a request of its
    own. `date_header` is False where the back ends' own Date header passes through.
    """
    uvicorn.run(
        app,
        host=LOOPBACK,
        port=port,
        server_header=False,
        date_header=date_header,
        access_log=False,
        log_level="warning",
    )
