"""The API's own limits, read from its OpenAPI document, so the form never disagrees with it.

`FieldRules` reads one property of a component schema (pydantic writes `minLength`,
`maxLength`, `exclusiveMinimum`, `maximum`, and wraps optional fields in `anyOf` with
null). `check` says, in plain words, what is wrong with a value, or None when it is fine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class FieldRules:
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    strip: bool = True

    @classmethod
    def from_schema(cls, prop: Mapping[str, Any], *, required: bool) -> FieldRules:
        # Optional fields are `anyOf: [{...constraints}, {type: null}]`: merge the non-null.
        merged: dict[str, Any] = dict(prop)
        for option in prop.get("anyOf", ()):
            if isinstance(option, dict) and option.get("type") != "null":
                merged.update(option)
        minimum = merged.get("minimum")
        if minimum is None and isinstance(merged.get("exclusiveMinimum"), int):
            minimum = merged["exclusiveMinimum"] + 1
        maximum = merged.get("maximum")
        if maximum is None and isinstance(merged.get("exclusiveMaximum"), int):
            maximum = merged["exclusiveMaximum"] - 1
        return cls(
            required=required,
            min_length=_int(merged.get("minLength")),
            max_length=_int(merged.get("maxLength")),
            minimum=_int(minimum),
            maximum=_int(maximum),
        )

    def check_text(self, value: str, name: str) -> str | None:
        """What is wrong with `value` for the field `name` (plain words), or None."""
        text = value.strip() if self.strip else value
        if not text:
            return f"Enter a {name}." if self.required else None
        if self.min_length is not None and len(text) < self.min_length:
            return f"The {name} needs at least {self.min_length} characters."
        if self.max_length is not None and len(text) > self.max_length:
            return f"The {name} can have at most {self.max_length} characters ({len(text)} now)."
        return None

    def check_number(self, value: int | float | None, name: str) -> str | None:
        if value is None:
            return f"Enter a {name}." if self.required else None
        if self.minimum is not None and value < self.minimum:
            return f"The {name} must be at least {self.minimum}."
        if self.maximum is not None and value > self.maximum:
            return f"The {name} can be at most {self.maximum:,}."
        if value != int(value):
            return f"The {name} must be a whole number."
        return None


@dataclass(frozen=True, slots=True)
class Schema:
    """What the UI needs from /api/openapi.json."""

    statuses: tuple[str, ...]
    order_create: dict[str, FieldRules]
    # Query parameters of GET /api/orders, e.g. {"customer_prefix", "sort", ...}.
    list_params: frozenset[str]

    def rules(self, field: str) -> FieldRules:
        return self.order_create.get(field, FieldRules())

    @classmethod
    def from_openapi(cls, document: Mapping[str, Any]) -> Schema:
        schemas = document.get("components", {}).get("schemas", {})
        enum = schemas.get("OrderStatus", {}).get("enum")
        create = schemas.get("OrderCreate", {})
        required = set(create.get("required", ()))
        fields = {
            name: FieldRules.from_schema(prop, required=name in required)
            for name, prop in create.get("properties", {}).items()
            if isinstance(prop, dict)
        }
        list_op = document.get("paths", {}).get("/api/orders", {}).get("get", {})
        params = frozenset(
            str(p.get("name")) for p in list_op.get("parameters", ()) if isinstance(p, dict)
        )
        return cls(
            statuses=tuple(str(s) for s in enum) if isinstance(enum, list) else (),
            order_create=fields,
            list_params=params,
        )


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
