"""The bench's import-by-import report: what `-X importtime` says ours pays and the bare app not."""

from __future__ import annotations

from bench.cold_start import extra_imports, import_group, parse_importtime

OUTPUT = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:      3000 |       3500 |     pydantic_settings.sources
import time:       500 |       4000 |   pydantic_settings
import time:     20000 |      24000 | orders.settings
BENCH {"init_s": 0.5, "status": 200}
"""


def test_importtime_lines_become_self_times_per_module() -> None:
    assert parse_importtime(OUTPUT) == {
        "_io": 120,
        "pydantic_settings.sources": 3000,
        "pydantic_settings": 500,
        "orders.settings": 20000,
    }


def test_our_modules_are_listed_one_by_one_and_libraries_as_packages() -> None:
    assert import_group("orders.api.models") == "orders.api.models"
    assert import_group("pydantic_settings.sources.providers") == "pydantic_settings"


def test_only_what_the_bare_app_does_not_import_counts_as_a_median_costliest_first() -> None:
    ours = [
        {"_io": 100, "orders.settings": 20_000, "pydantic_settings": 1_000},
        {"_io": 100, "orders.settings": 30_000, "pydantic_settings": 3_000},
        {"_io": 100, "orders.settings": 40_000, "pydantic_settings": 2_000},
    ]
    bare = [{"_io": 90}, {"_io": 95}, {"_io": 99}]
    extra = extra_imports(ours, bare)
    assert list(extra) == ["", "orders.settings", "pydantic_settings"]
    assert extra["orders.settings"] == 0.030
    assert extra["pydantic_settings"] == 0.002
    assert extra[""] == 0.033  # the median of the runs' totals (21, 33, 42 ms)


def test_a_timed_figure_with_a_target_passes_only_within_it() -> None:
    from bench.cold_start import timed

    within = timed("within", 0.9, 1.0, "note", 10, at_most=1.0)
    over = timed("over", 1.2, 1.0, "note", 10, at_most=1.0)
    informational = timed("info", 1.2, 1.0, "note", 10)
    assert (within.passed, within.op, within.unit) == (True, "<=", "s")
    assert over.passed is False
    assert (informational.passed, informational.op, informational.target) == (None, None, None)
