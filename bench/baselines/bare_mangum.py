"""Baseline for cold init: a bare FastAPI app with five routes behind Mangum's defaults.

What "a hand-rolled Mangum app" looks like: no settings, no clients, no observability,
`Mangum(app)` with its default lifespan mode.
"""

from __future__ import annotations

from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel

app = FastAPI()


class Item(BaseModel):
    name: str
    quantity: int


@app.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/items")
async def list_items() -> list[Item]:
    return []


@app.get("/api/items/{item_id}")
async def get_item(item_id: str) -> Item:
    return Item(name=item_id, quantity=1)


@app.post("/api/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


@app.delete("/api/items/{item_id}", status_code=204)
async def delete_item(item_id: str) -> None:
    return None


handler = Mangum(app)
