"""The table printed at the end of `make bench`, and bench/results.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.common import Result

RESULTS = Path(__file__).resolve().parent / "results.json"


def _num(x: float | None, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if unit == "s/request":
        return f"{x * 1e6:.0f} us"
    if unit == "s":
        return f"{x:.3f} s"
    if unit == "req/s":
        return f"{x:.0f} rps"
    if unit == "MiB":
        return f"{x:.1f} MiB"
    return f"{x:.3g}"


def row(r: Result) -> list[str]:
    target = f"{r.op} {r.target:g}" if r.target is not None and r.op else "-"
    verdict = {True: "PASS", False: "MISS", None: "info"}[r.passed]
    ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
    if r.baseline is None and r.target is None:
        ratio = "(absolute)"
    return [r.name, _num(r.value, r.unit), _num(r.baseline, r.unit), ratio, target, verdict]


def table(results: list[Result]) -> str:
    head = ["name", "value", "baseline", "ratio", "target", "PASS/MISS"]
    rows = [head, *(row(r) for r in results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def write(results: list[Result], path: Path = RESULTS) -> None:
    """results.json: one object per figure; `target`/`pass` are null for informational ones."""
    data = [r.as_json() for r in results]
    for item in data:  # JSON has no NaN
        for key in ("value", "baseline", "ratio"):
            value = item[key]
            if isinstance(value, float) and math.isnan(value):
                item[key] = None
    path.write_text(json.dumps(data, indent=2) + "\n")
