"""The price sheet: a snapshot shipped in the repo, or the AWS Price List API (credentials).

Every figure the model multiplies by comes from here, so `--explain` can name it and a
refresh changes one file.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from collections.abc import Iterable

    from advisor.profile import Arch

log = logging.getLogger(__name__)

SNAPSHOT = Path(__file__).with_name("price_snapshot.json")


class PriceSheet(BaseModel):
    """On-demand list prices of one region, in USD."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    currency: Literal["USD"] = "USD"
    as_of: str
    source: str
    lambda_request_per_million: float = Field(ge=0)
    lambda_gb_second_x86: float = Field(ge=0)
    lambda_gb_second_arm: float = Field(ge=0)
    http_api_request_per_million: float = Field(ge=0)
    fargate_vcpu_hour_x86: float = Field(ge=0)
    fargate_gb_hour_x86: float = Field(ge=0)
    fargate_vcpu_hour_arm: float = Field(ge=0)
    fargate_gb_hour_arm: float = Field(ge=0)
    alb_hour: float = Field(ge=0)
    alb_lcu_hour: float = Field(ge=0)
    nat_gateway_hour: float = Field(ge=0)
    nat_gateway_gb: float = Field(ge=0)
    public_ipv4_hour: float = Field(ge=0)
    cloudfront_https_per_10k: float = Field(ge=0)
    cloudfront_gb_out: float = Field(ge=0)
    logs_ingest_gb: float = Field(ge=0)
    kms_key_month: float = Field(ge=0)
    kms_request_per_10k: float = Field(ge=0)
    dynamodb_write_per_million: float = Field(ge=0)
    dynamodb_read_per_million: float = Field(ge=0)
    secret_month: float = Field(ge=0)

    def lambda_gb_second(self, arch: Arch) -> float:
        return self.lambda_gb_second_arm if arch == "arm" else self.lambda_gb_second_x86

    def fargate_vcpu_hour(self, arch: Arch) -> float:
        return self.fargate_vcpu_hour_arm if arch == "arm" else self.fargate_vcpu_hour_x86

    def fargate_gb_hour(self, arch: Arch) -> float:
        return self.fargate_gb_hour_arm if arch == "arm" else self.fargate_gb_hour_x86


def load_snapshot(path: Path = SNAPSHOT) -> PriceSheet:
    return PriceSheet.model_validate_json(path.read_text(encoding="utf-8"))


PRICE_LIST = Path(__file__).with_name("price_list.json")


class Usage(BaseModel):
    """Where one PriceSheet field is in the Price List API: its service code, its usage type
    without the region prefix, and the multiplier from the listed unit to the field's unit."""

    service: str
    usage_type: str
    multiplier: float = Field(gt=0)


class PriceListMap(BaseModel):
    """AWS's names for what the sheet holds: data that changes when AWS renames a usage type,
    kept in price_list.json beside the snapshot. Usage types carry a region prefix everywhere
    but us-east-1 ("USW2-Request")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    usage: dict[str, Usage]
    region_prefix: dict[str, str]


def load_price_list(path: Path = PRICE_LIST) -> PriceListMap:
    return PriceListMap.model_validate_json(path.read_text(encoding="utf-8"))


def unit_price(price_list_item: str) -> float:
    """The first non-zero USD unit price of one Price List API product document."""
    product: dict[str, Any] = json.loads(price_list_item)
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            usd = float(dimension.get("pricePerUnit", {}).get("USD", "0"))
            if usd > 0:
                return usd
    raise ValueError(f"no USD price in {product.get('product', {}).get('sku', '?')}")


def fetch_live(region: str, pricing: Any, base: PriceSheet | None = None) -> PriceSheet:
    """Prices from the Price List API (`pricing` is a boto3 client, in us-east-1).

    Fields the API does not list by one usage type keep the snapshot's value; the sheet's
    `source` says which were fetched.
    """
    base = base or load_snapshot()
    price_list = load_price_list()
    prefix = price_list.region_prefix.get(region)
    if prefix is None:
        raise ValueError(
            f"no usage-type prefix known for region {region}; add it to {PRICE_LIST.name}"
        )
    fetched: dict[str, float] = {}
    for field, usage in price_list.usage.items():
        items = _products(pricing, usage.service, prefix + usage.usage_type)
        prices = [unit_price(item) for item in items]
        if prices:
            # Tiered prices list the first tier first; the first tier is what a service of
            # this size pays.
            fetched[field] = max(prices) * usage.multiplier
    missing = sorted(set(price_list.usage) - set(fetched))
    if missing:
        log.warning("price list gave nothing for %s; keeping the snapshot's values", missing)
    source = f"AWS Price List API, {datetime.now(UTC):%Y-%m-%d}: {len(fetched)} fields fetched" + (
        f"; from the snapshot: {', '.join(missing)} and the shared rows" if missing else ""
    )
    return base.model_copy(
        update={
            **fetched,
            "region": region,
            "as_of": f"{datetime.now(UTC):%Y-%m-%d}",
            "source": source,
        }
    )


def _products(pricing: Any, service: str, usage_type: str) -> Iterable[str]:
    paginator = pricing.get_paginator("get_products")
    filters = [{"Type": "TERM_MATCH", "Field": "usagetype", "Value": usage_type}]
    for page in paginator.paginate(ServiceCode=service, Filters=filters):
        yield from page.get("PriceList", [])


def write_snapshot(sheet: PriceSheet, path: Path = SNAPSHOT) -> None:
    path.write_text(json.dumps(sheet.model_dump(), indent=2) + "\n", encoding="utf-8")
