"""A lean HTTP/1.1 load generator on asyncio protocols: precomputed request bytes, one
connection per request (gunicorn's sync workers close after each response anyway), only the
status line parsed. Cheap enough per request that on a 2-core machine it leaves the server
most of the CPU; its own CPU time is reported so the reader can judge."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode


def http_request(
    method: str, host: str, port: int, path: str, *, form: dict | None = None, headers=None
) -> bytes:
    body = form_body(form or {}).encode()
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: close",
        "User-Agent: sangdam-bench",
    ]
    if form is not None:
        lines += [
            "Content-Type: application/x-www-form-urlencoded",
            f"Content-Length: {len(body)}",
        ]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def form_body(form: dict) -> str:
    return urlencode(form)


class _Exchange(asyncio.Protocol):
    __slots__ = ("payload", "done", "head")

    def __init__(self, payload: bytes, done: asyncio.Future):
        self.payload = payload
        self.done = done
        self.head = b""

    def connection_made(self, transport):
        transport.write(self.payload)

    def data_received(self, data):
        if len(self.head) < 12:
            self.head += data[:12]

    def connection_lost(self, exc):
        if not self.done.done():
            status = int(self.head[9:12]) if len(self.head) >= 12 else 0
            self.done.set_result(status)


async def _exchange(host: str, port: int, payload: bytes, timeout: float) -> int:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    try:
        transport, _ = await asyncio.wait_for(
            loop.create_connection(lambda: _Exchange(payload, done), host, port), timeout
        )
    except (OSError, TimeoutError):
        return 0
    try:
        return await asyncio.wait_for(done, timeout)
    except TimeoutError:
        transport.abort()
        return 0


@dataclass
class Result:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of 2xx answers, seconds
    statuses: dict[int, int] = field(default_factory=dict)
    ran_out: bool = False  # the precomputed requests ran out before the time was up
    client_cpu_seconds: float = 0.0
    fixed_percentiles_ms: dict[float, float] = field(default_factory=dict)  # from wrk

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        """Over every request sent: a failed or timed-out one counts as infinitely slow, so
        a p99 is never computed from the survivors only."""
        if p in self.fixed_percentiles_ms:
            return self.fixed_percentiles_ms[p]
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies) + [float("inf")] * self.errors
        k = min(len(data) - 1, max(0, round(p / 100 * len(data)) - 1))
        return data[k] * 1000


def closed_loop(
    host: str, port: int, payloads: Iterator[bytes], *, connections: int, seconds: float
) -> Result:
    """`connections` clients each send the next request as soon as the last one answered."""
    result = Result()

    async def client(end: float):
        while True:
            payload = next(payloads, None)
            if payload is None:
                result.ran_out = True
                return
            t0 = time.perf_counter()
            if t0 >= end:
                return
            status = await _exchange(host, port, payload, 10.0)
            t1 = time.perf_counter()
            if t1 <= end:  # only answers inside the window count
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    result.latencies.append(t1 - t0)

    async def main():
        start = time.perf_counter()
        await asyncio.gather(*(client(start + seconds) for _ in range(connections)))
        result.seconds = min(seconds, time.perf_counter() - start)

    cpu0 = time.process_time()
    asyncio.run(main())
    result.client_cpu_seconds = time.process_time() - cpu0
    return result


def open_loop(
    host: str, port: int, payloads: Iterator[bytes], *, rate: float, seconds: float
) -> Result:
    """Requests leave on a fixed schedule whatever the server does; latency is counted from
    the scheduled time, so a slow server cannot hide its queueing (no coordinated omission)."""
    result = Result()

    async def one(payload: bytes, scheduled: float):
        status = await _exchange(host, port, payload, 10.0)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if 200 <= status < 300:
            result.latencies.append(time.perf_counter() - scheduled)

    async def main():
        tasks = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            payload = next(payloads, None)
            if payload is None:
                result.ran_out = True
                break
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(payload, scheduled)))
        await asyncio.gather(*tasks)
        result.seconds = seconds

    cpu0 = time.process_time()
    asyncio.run(main())
    result.client_cpu_seconds = time.process_time() - cpu0
    return result


# --- wrk (Debian's `wrk`), preferred for the closed loop when it is installed -------------

_WRK_SCRIPT = r"""
local reqs = {}
local i = 0
exhausted = 0
function init(args)
  for line in io.lines(args[1]) do
    local path, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    reqs[#reqs + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = sig,
    }, body)
  end
end
function request()
  i = i + 1
  if i > #reqs then exhausted = 1; i = 1 end
  return reqs[i]
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local ex = 0
  for _, t in ipairs(threads) do ex = ex + t:get("exhausted") end
  local e = summary.errors
  io.write(string.format(
    "BENCH %d %d %d %d %d %d %d %d %d %d\n", summary.requests, summary.duration, e.status,
    e.connect, e.read, e.write, e.timeout, latency:percentile(50), latency:percentile(99), ex))
end
"""


def wrk_available() -> bool:
    import shutil

    return shutil.which("wrk") is not None


def wrk_closed_loop(
    host: str,
    port: int,
    requests: list[tuple[str, str, str]],
    *,
    connections: int,
    seconds: float,
    workdir,
) -> Result:
    """Closed loop with wrk (one thread: plenty for a few thousand req/s, and one core's
    worth of C at most, mostly idle). `requests` are (path, signature, urlencoded body),
    formatted once in wrk's init, before its clock starts; they are sent in order and reused
    only if they run out (reported as `ran_out`)."""
    import subprocess
    from pathlib import Path

    workdir = Path(workdir)
    script = workdir / "bench-wrk.lua"
    script.write_text(_WRK_SCRIPT)
    data = workdir / "bench-wrk-requests.txt"
    data.write_text("".join(f"{p}\t{s}\t{b}\n" for p, s, b in requests))
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{host}:{port}/",
        "--",
        str(data),
    ]
    try:
        out = subprocess.run(  # noqa: S603
            cmd, capture_output=True, text=True, check=True, timeout=seconds + 60
        )
    finally:
        script.unlink(missing_ok=True)
        data.unlink(missing_ok=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH "))
    n, dur_us, status_err, conn, read, write, timeout, p50, p99, ex = map(int, line.split()[1:])
    result = Result(seconds=dur_us / 1e6, ran_out=bool(ex))
    result.statuses = {200: n - status_err}
    if status_err:
        result.statuses[500] = status_err  # wrk counts non-2xx/3xx without saying which
    if conn + read + write + timeout:
        result.statuses[0] = conn + read + write + timeout
    result.fixed_percentiles_ms = {50: p50 / 1000, 99: p99 / 1000}
    return result
