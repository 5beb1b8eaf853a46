"""`orders-advise` / `make advise`: which target is cheaper and faster for this traffic."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from advisor.advise import advise
from advisor.latency import COLD_START_MS
from advisor.plot import curves, write_html, write_png
from advisor.prices import SNAPSHOT, PriceSheet, fetch_live, load_snapshot, write_snapshot
from advisor.profile import Deployment, TrafficProfile, Workload
from advisor.report import as_json, explain, table

log = logging.getLogger("advisor")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="orders-advise", description=__doc__)
    traffic = p.add_argument_group("traffic (one of)")
    traffic.add_argument("--rps", type=float, default=1.0, help="mean requests/s (default 1)")
    traffic.add_argument(
        "--shape",
        choices=["flat", "business", "diurnal"],
        default="flat",
        help="how the mean spreads over a day (default flat)",
    )
    traffic.add_argument("--csv", type=Path, help="hourly series: a CSV with a 'requests' column")
    traffic.add_argument("--stack", help="read traffic and timings from this deployed stack")
    traffic.add_argument("--days", type=int, default=14, help="with --stack: days to read (1..63)")
    work = p.add_argument_group("per request (defaults are stated assumptions: see --explain)")
    work.add_argument("--duration-ms", type=float)
    work.add_argument("--cpu-ms", type=float)
    work.add_argument("--payload-kb", type=float)
    deploy = p.add_argument_group("deployment (defaults are the templates' parameter defaults)")
    deploy.add_argument("--arch", choices=["x86", "arm"], default="x86")
    deploy.add_argument("--memory-mb", type=int, help="Lambda memory (ApiMemorySize, 1024)")
    deploy.add_argument("--min-tasks", type=int, help="Fargate minimum (ApiDesiredCount, 2)")
    deploy.add_argument("--max-tasks", type=int, help="Fargate maximum (ApiMaxCount, 6)")
    deploy.add_argument("--weight", type=int, default=50, help="Fargate share of `both` (percent)")
    deploy.add_argument("--cold-start-ms", type=float, default=COLD_START_MS)
    prices = p.add_argument_group("prices")
    prices.add_argument("--region", default="us-east-1")
    prices.add_argument(
        "--live-prices", action="store_true", help="ask the AWS Price List API (needs credentials)"
    )
    prices.add_argument(
        "--refresh-prices",
        action="store_true",
        help=f"write the Price List API's prices to {SNAPSHOT.name} and stop",
    )
    out = p.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="JSON instead of the table")
    out.add_argument("--explain", action="store_true", help="every formula and price used")
    out.add_argument(
        "--plot",
        type=Path,
        action="append",
        default=[],
        help="write the cost plot: .png (matplotlib) or .html (interactive)",
    )
    return p


def _prices(args: argparse.Namespace) -> PriceSheet:
    if args.live_prices or args.refresh_prices:
        import boto3

        # The Price List API answers in us-east-1 whatever region is priced.
        return fetch_live(args.region, boto3.client("pricing", region_name="us-east-1"))
    sheet = load_snapshot()
    if sheet.region != args.region:
        raise ValueError(
            f"the shipped prices are for {sheet.region}; for {args.region} run with "
            "--live-prices (AWS credentials) or `make advise-prices REGION=...`"
        )
    return sheet


def _inputs(args: argparse.Namespace) -> tuple[TrafficProfile, Workload, dict[str, str]]:
    given = {"duration_ms": args.duration_ms, "cpu_ms": args.cpu_ms, "payload_kb": args.payload_kb}
    sources = {
        name: "given on the command line" for name, value in given.items() if value is not None
    }
    if args.stack:
        import boto3

        from advisor.stack_metrics import read_stack

        reading = read_stack(
            args.stack, args.days, boto3.client("cloudwatch"), boto3.client("cloudformation")
        )
        for note in reading.notes:
            log.warning(note)
        if reading.duration_ms is not None and args.duration_ms is None:
            given["duration_ms"] = reading.duration_ms
            sources["duration_ms"] = f"measured: {args.stack}'s average over {args.days} days"
        profile = reading.profile
        if reading.cpu_utilisation is not None and args.cpu_ms is None and profile.mean_rps > 0:
            # ECS reports the service's average CPU; at rest it runs its minimum task count.
            deploy = _deployment(args)
            busy_vcpu = reading.cpu_utilisation / 100 * deploy.fargate_task_vcpu
            given["cpu_ms"] = busy_vcpu * deploy.fargate_min_tasks * 1000 / profile.mean_rps
            sources["cpu_ms"] = (
                f"measured: {args.stack}'s ECS CPU over {args.days} days, at the minimum task count"
            )
    elif args.csv:
        profile = TrafficProfile.from_csv(args.csv)
    else:
        profile = TrafficProfile.from_mean(args.rps, args.shape)
    work = Workload(**{name: value for name, value in given.items() if value is not None})
    return profile, work, sources


def _deployment(args: argparse.Namespace) -> Deployment:
    overrides = {
        "lambda_memory_mb": args.memory_mb,
        "fargate_min_tasks": args.min_tasks,
        "fargate_max_tasks": args.max_tasks,
    }
    return Deployment(arch=args.arch, **{k: v for k, v in overrides.items() if v is not None})


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="orders-advise: %(message)s")
    args = _parser().parse_args(argv)
    try:
        prices = _prices(args)
        if args.refresh_prices:
            write_snapshot(prices)
            print(f"wrote {SNAPSHOT} ({prices.source})")
            return 0
        profile, work, sources = _inputs(args)
        deploy = _deployment(args)
        result = advise(profile, work, deploy, prices, args.weight, args.cold_start_ms, sources)
    except (ValueError, ValidationError, OSError) as exc:
        print(f"orders-advise: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(as_json(result), indent=2) if args.json else table(result))
    if args.explain and not args.json:
        print("\n" + explain(result))
    if args.plot:
        data = curves(profile, work, deploy, prices, args.weight, result.break_even_rps)
        for path in args.plot:
            writer = write_html if path.suffix == ".html" else write_png
            print(f"plot: {writer(data, path)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
