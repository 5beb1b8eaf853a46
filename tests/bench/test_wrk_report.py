"""The throughput step reads wrk's report: its rate, and any failed request as an error
(a 429 or a reset counted as throughput would flatter the server)."""

from __future__ import annotations

import pytest

from bench.throughput import parse_wrk

CLEAN = """Running 2s test @ http://127.0.0.1:40111/api/health
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    13.25ms    2.10ms  30.01ms   90.00%
    Req/Sec     4.86k   210.00     5.10k    80.00%
  9712 requests in 2.00s, 1.30MB read
Requests/sec:   4851.37
Transfer/sec:    663.27KB
"""


def test_the_rate_of_a_clean_run() -> None:
    assert parse_wrk(CLEAN) == pytest.approx(4851.37)


def test_non_2xx_answers_fail_the_run() -> None:
    report = CLEAN.replace("Requests/sec:", "  Non-2xx or 3xx responses: 32\nRequests/sec:")
    with pytest.raises(RuntimeError, match="32 failed"):
        parse_wrk(report)


def test_socket_errors_fail_the_run() -> None:
    report = CLEAN.replace(
        "Requests/sec:", "  Socket errors: connect 0, read 3, write 0, timeout 2\nRequests/sec:"
    )
    with pytest.raises(RuntimeError, match="5 failed"):
        parse_wrk(report)


def test_a_report_without_a_rate_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no rate"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
