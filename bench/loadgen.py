"""A small closed-loop HTTP/1.1 load generator: N keep-alive connections, fixed duration.

`python -m bench.loadgen --port P --path /api/health --connections 64 --seconds 5`
prints {"requests", "errors", "seconds", "rps"}. Each connection sends one request,
reads the whole response (Content-Length framing, as uvicorn answers) and sends the
next. uvloop when present, so one core drives more than one uvicorn core can serve.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time


async def _connection(
    host: str, port: int, request: bytes, deadline: float, counts: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                    break
            if length:
                await reader.readexactly(length)
            counts[0 if status == 200 else 1] += 1
    finally:
        writer.close()


async def run(
    host: str, port: int, path: str, connections: int, seconds: float
) -> dict[str, float]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    counts = [0, 0]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(_connection(host, port, request, deadline, counts) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    return {
        "requests": counts[0],
        "errors": counts[1],
        "seconds": elapsed,
        "rps": counts[0] / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/api/health")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    main_coro = run(args.host, args.port, args.path, args.connections, args.seconds)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(main_coro)
    else:
        result = uvloop.run(main_coro)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
