"""The advisor's price sources, command line and plots."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from advisor import cli
from advisor.plot import HEIGHT_PX, WIDTH_PX, curves, write_html, write_png
from advisor.prices import PriceSheet, fetch_live, load_price_list, load_snapshot, unit_price
from advisor.profile import Deployment, TrafficProfile, Workload


def _product(usd: str, sku: str = "SKU1") -> str:
    return json.dumps(
        {
            "product": {"sku": sku},
            "terms": {
                "OnDemand": {
                    "T1": {
                        "priceDimensions": {
                            "D0": {"pricePerUnit": {"USD": "0.0000000000"}},
                            "D1": {"pricePerUnit": {"USD": usd}},
                        }
                    }
                }
            },
        }
    )


class _FakePricing:
    """The two calls fetch_live makes of boto3's pricing client."""

    def __init__(self, by_usage: dict[str, str]) -> None:
        self.by_usage = by_usage
        self.asked: list[tuple[str, str]] = []

    def get_paginator(self, name: str) -> _FakePricing:
        assert name == "get_products"
        return self

    def paginate(self, ServiceCode: str, Filters: list[dict[str, str]]) -> list[dict[str, Any]]:
        usage = Filters[0]["Value"]
        self.asked.append((ServiceCode, usage))
        return [{"PriceList": [_product(self.by_usage[usage])] if usage in self.by_usage else []}]


def test_unit_price_reads_the_first_nonzero_usd_price() -> None:
    assert unit_price(_product("0.0225")) == 0.0225
    with pytest.raises(ValueError, match="no USD price"):
        unit_price(json.dumps({"product": {"sku": "X"}, "terms": {}}))


def test_live_prices_replace_what_the_api_lists_and_say_what_was_kept() -> None:
    pricing = _FakePricing({"USW2-Request": "0.0000002", "USW2-Fargate-GB-Hours": "0.005"})
    sheet = fetch_live("us-west-2", pricing)
    assert sheet.region == "us-west-2"
    assert sheet.lambda_request_per_million == pytest.approx(0.20)
    assert sheet.fargate_gb_hour_x86 == 0.005
    assert sheet.alb_hour == load_snapshot().alb_hour  # not listed: the snapshot's
    assert "2 fields fetched" in sheet.source
    assert "alb_hour" in sheet.source
    assert ("AWSLambda", "USW2-Request") in pricing.asked
    with pytest.raises(ValueError, match="prefix"):
        fetch_live("xx-nowhere-1", pricing)


def test_the_price_list_map_names_only_price_sheet_fields() -> None:
    # A misspelt field in price_list.json would be fetched and then dropped by the sheet's
    # model_copy without a word; the map is data, so this is its type check.
    price_list = load_price_list()
    prices = {name for name, f in PriceSheet.model_fields.items() if f.annotation is float}
    assert set(price_list.usage) <= prices
    assert len(price_list.usage) >= 12
    assert price_list.region_prefix["us-east-1"] == ""


def test_cli_prints_a_table_json_and_explanations(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--rps", "1"]) == 0
    table = capsys.readouterr().out
    assert "Recommendation: lambda" in table
    assert "make deploy TARGET=lambda" in table
    assert cli.main(["--rps", "100", "--arch", "arm", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["recommendation"]["target"] == "fargate"
    assert data["targets"]["fargate"]["monthly_usd"] == pytest.approx(96.12, abs=0.01)
    assert set(data["targets"]) == {"lambda", "fargate", "both@50"}
    assert cli.main(["--rps", "10", "--explain"]) == 0
    explained = capsys.readouterr().out
    assert "GB-s x $1.66667e-05" in explained
    assert "assumed:" in explained


def test_cli_refuses_bad_input_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["--region", "eu-west-1"]) == 2
    assert "shipped prices are for us-east-1" in capsys.readouterr().err
    assert cli.main(["--rps", "-3"]) == 2
    assert ">= 0" in capsys.readouterr().err
    assert cli.main(["--csv", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv" in capsys.readouterr().err
    assert cli.main(["--weight", "150"]) == 2
    assert "0..100" in capsys.readouterr().err


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_plot_is_a_real_png_of_the_expected_size_and_an_html_page(tmp_path: Path) -> None:
    profile = TrafficProfile.from_mean(10)
    data = curves(profile, Workload(), Deployment(), load_snapshot(), 50, 18.8)
    assert set(data.costs) == {"lambda", "fargate", "both (50% fargate)"}
    assert data.rps[-1] >= 2 * 18.8
    png = write_png(data, tmp_path / "advice.png").read_bytes()
    assert _png_size(png) == (WIDTH_PX, HEIGHT_PX)
    assert len(png) > 20_000  # lines, labels and a legend, not an empty canvas
    html = write_html(data, tmp_path / "advice.html").read_text()
    assert "vega" in html
    assert "break-even" in html
