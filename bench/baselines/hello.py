"""Baseline for throughput: the smallest FastAPI app, served by the same uvicorn command.

`uvicorn bench.baselines.hello:create_app --factory` (a factory, like ours).
"""

from __future__ import annotations

from fastapi import FastAPI


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
