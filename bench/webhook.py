"""Incoming-call webhook p99 latency at a fixed open-loop 200 req/s (the target), and its
req/s under saturation beside a minimal Django view's served the same way (reported only:
the old "≥ 35 % of a minimal view" ratio is retired; what callers feel is the latency).

Server: gunicorn, 2 *sync* workers, for both views in the same server process (bench.urls =
the real urls + /bench/ping/). Sync is what the production image runs (gunicorn's default,
Dockerfile CMD), and it suits these requests: short, CPU-bound Python plus one short write
transaction; on 2 cores two processes use both cores with no GIL contention between threads,
and with SQLite the writes are serialised by the database anyway, so gthread would only add
thread switching. Sync workers close the connection after each answer, so every request
(webhook and baseline alike) pays a TCP connect, as it would through a buffering proxy.

Load: bench/_load.py (asyncio protocols, precomputed request bytes, status line parsed only).
Every webhook request has its own CallSid and its own X-Twilio-Signature, computed before any
clock starts; each one checks the queue's size, matches the caller to a customer, writes a
Call and a CallEvent and asks for a routing run. One caller in three is a customer on file
(CUSTOMERS in all, some with an open ticket), so the caller lookup searches a real table. Route requests are coalesced
(telephony.tasks.acd_route_soon): a run asked for and not yet started absorbs the next
requests. No worker runs here to start one, so the marker lives out its 5 s and the bench
publishes about one routing task per 5 s, where a live worker clears it at every run.
The queue has a month of past calls (HISTORY_CALLS) and, on PostgreSQL, planner statistics,
like a live center's. It is capped like a real one (Queue.max_size's default, 100), and bench/_drain.py,
in a process of its own, plays the agents: it keeps the newest LINE_KEPT callers on the
line and ends the rest, so the full-queue check counts a line of realistic length (without
it the line would grow to 20,000 callers). Afterwards the number of Call rows is checked
against the 2xx answers: a caller turned away by a full queue would fail the run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from twilio.request_validator import RequestValidator

from bench import _load
from bench._org import bench_department

HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_WEBHOOK_PORT", "8104"))
WORKERS = 2
# Two per worker: one being served, one waiting in the accept queue, so a worker never
# idles while the next connection is set up; more only adds queueing.
CONNECTIONS = 2 * WORKERS
# wrk (Debian package) costs the server far less CPU than any Python client; without it the
# closed loop falls back to bench/_load.py and says so.
USE_WRK = _load.wrk_available() and os.environ.get("BENCH_NO_WRK") != "1"
WARMUP_S = 1.5
CLOSED_S = float(os.environ.get("BENCH_CLOSED_SECONDS", "6"))  # per view, over ROUNDS turns
ROUNDS = 3
OPEN_RATE = 200.0
OPEN_S = float(os.environ.get("BENCH_OPEN_SECONDS", "10"))
DEPARTMENT_NUMBER = "+8225559104"
INCOMING = "/telephony/voice/incoming/"
PING = "/bench/ping/"
MAX_SIZE = 100  # Queue.max_size's default
LINE_KEPT = 50  # callers the drain leaves on the line
P99_TARGET_MS = 50.0


def _incoming_requests(count: int) -> list[tuple[str, str, str]]:
    """Unique, correctly signed incoming-call requests as (path, signature, body), computed
    outside every timed loop."""
    base_url = f"http://{HOST}:{PORT}"
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    requests = []
    for i in range(count):
        form = {
            "CallSid": f"CA{uuid.uuid4().hex}",
            "AccountSid": "AC" + "0" * 32,
            "From": f"+8210{50000000 + i:08d}",
            "To": DEPARTMENT_NUMBER,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        sig = validator.compute_signature(base_url + INCOMING, form)
        requests.append((INCOMING, sig, _load.form_body(form)))
    return requests


def _ping_request() -> tuple[str, str, str]:
    form = {  # the same shape and size as an incoming-call body
        "CallSid": "CA" + "0" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": "+821050000000",
        "To": DEPARTMENT_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    return (PING, "x" * 28, _load.form_body(form))


def _raw(request: tuple[str, str, str]) -> bytes:
    path, sig, body = request
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body.encode())}\r\nX-Twilio-Signature: {sig}\r\n\r\n"
    )
    return (head + body).encode()


def _closed(requests: list[tuple[str, str, str]], seconds: float) -> _load.Result:
    if USE_WRK:
        return _load.wrk_closed_loop(
            HOST,
            PORT,
            requests,
            connections=CONNECTIONS,
            seconds=seconds,
            workdir=settings.VAR_DIR,
        )
    return _load.closed_loop(
        HOST, PORT, (_raw(r) for r in requests), connections=CONNECTIONS, seconds=seconds
    )


def _merged(rounds: list[_load.Result]) -> _load.Result:
    """Rounds of one closed loop as one: answers and time add up; wrk's own percentiles
    cannot be merged, so each is the worst round's."""
    merged = _load.Result()
    for r in rounds:
        merged.seconds += r.seconds
        merged.latencies.extend(r.latencies)
        for status, n in r.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + n
        merged.ran_out |= r.ran_out
        merged.client_cpu_seconds += r.client_cpu_seconds
        for p, ms in r.fixed_percentiles_ms.items():
            merged.fixed_percentiles_ms[p] = max(ms, merged.fixed_percentiles_ms.get(p, 0.0))
    return merged


def _repeat(payload: bytes):
    while True:
        yield payload


def _start_server() -> subprocess.Popen:
    with socket.socket() as s:
        if s.connect_ex((HOST, PORT)) == 0:
            raise RuntimeError(f"port {PORT} is busy: set BENCH_WEBHOOK_PORT")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PUBLIC_BASE_URL": f"http://{HOST}:{PORT}",
    }
    log = open(Path(settings.VAR_DIR) / "bench-gunicorn.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "callcenter.wsgi:application",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--timeout",
            "15",
            "--log-level",
            "warning",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    probe = _raw(_ping_request())
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log.name}")
        r = _load.closed_loop(HOST, PORT, iter([probe] * 4), connections=1, seconds=1)
        if r.ok >= 4:
            return proc
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"gunicorn did not answer in 20 s; see {log.name}")


def _stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


HISTORY_CALLS = 20_000


def _history(department, queue) -> None:
    """The queue's past month: handled and abandoned calls, so the tables and the planner's
    statistics look like a live center's (bench.routing._analyze: PostgreSQL's autovacuum
    would have analysed them; without statistics it may filter the waiting callers instead
    of seeking them in the index)."""
    from datetime import timedelta

    from django.utils import timezone

    from bench.routing import _analyze
    from telephony.models import Call, CallPhase

    now = timezone.now()
    Call.objects.bulk_create(
        (
            Call(
                sid=f"CA{uuid.uuid4().hex}",
                from_number=f"+8210{70000000 + i:08d}",
                to_number=department.phone_number,
                department=department,
                queue=queue,
                phase=CallPhase.ABANDONED if i % 10 == 0 else CallPhase.COMPLETED,
                twilio_status="completed",
                enqueued_at=now
                - timedelta(seconds=30 * 24 * 3600 * (HISTORY_CALLS - i) / HISTORY_CALLS),
            )
            for i in range(HISTORY_CALLS)
        ),
        batch_size=2000,
    )
    _analyze()


CUSTOMERS = 50_000  # a center's customer base: one bench caller in three is on file
KNOWN_EVERY = 3
OPEN_TICKET_EVERY = 10  # of those on file, one in ten has a ticket still open


def _customer_base(department) -> None:
    """Customers on file, so every webhook's caller lookup searches a real customer table:
    one caller in KNOWN_EVERY (by the bench's From numbers) is a customer, one customer in
    OPEN_TICKET_EVERY has an open ticket (priority), the rest of the base other numbers.
    With an empty table the lookup costs nothing, whatever its plan."""
    from django.utils import timezone

    from tickets.models import Customer, Ticket, TicketStatus

    now = timezone.now()
    Customer.objects.bulk_create(
        (
            Customer(phone=f"+8210{50000000 + KNOWN_EVERY * i:08d}", name=f"bench {i}")
            for i in range(CUSTOMERS)
        ),
        batch_size=2000,
    )
    Ticket.objects.bulk_create(
        (
            Ticket(
                customer_id=pk,
                department=department,
                subject="bench",
                status=TicketStatus.OPEN,
                created_at=now,
                updated_at=now,
            )
            for pk in Customer.objects.order_by("id").values_list("id", flat=True)[
                ::OPEN_TICKET_EVERY
            ]
        ),
        batch_size=2000,
    )


def _start_drain(queue_id: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "bench._drain", str(queue_id), str(LINE_KEPT)],
        cwd=settings.BASE_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _stop_drain(proc: subprocess.Popen) -> int:
    """How many waiting calls the drain ended."""
    out, _ = proc.communicate("", timeout=30)
    return int(out.strip() or 0)


def _purge_broker() -> None:
    """The routing messages the webhook enqueued: no worker runs in the bench."""
    broker_file = getattr(settings, "BENCH_BROKER_FILE", None)
    if broker_file is not None:  # the embedded broker: a SQLite file of the bench's own
        for suffix in ("", "-wal", "-shm"):
            Path(f"{broker_file}{suffix}").unlink(missing_ok=True)
        return
    from callcenter.celery import app

    try:
        app.control.purge()
    except Exception:  # noqa: S110 - best effort: a bench broker left over is harmless
        pass


def run() -> dict:
    from telephony.models import Call

    department, queue = bench_department(
        name="bench-webhook", phone_number=DEPARTMENT_NUMBER, max_size=MAX_SIZE
    )
    _customer_base(department)
    _history(department, queue)
    t0 = time.perf_counter()
    # Enough for the closed loop at up to ~3,000 req/s, then the open loop; never reused.
    warm = _incoming_requests(int(300 * WARMUP_S))
    closed = _incoming_requests(int(3000 * CLOSED_S))
    opened = [_raw(r) for r in _incoming_requests(int(OPEN_RATE * OPEN_S))]
    sign_s = time.perf_counter() - t0
    ping = _ping_request()
    pings = [ping] * int(5000 * CLOSED_S)  # the same request again and again is fine here
    proc = _start_server()
    drain = _start_drain(queue.pk)
    try:
        _load.closed_loop(
            HOST, PORT, _repeat(_raw(ping)), connections=CONNECTIONS, seconds=WARMUP_S
        )
        ping_open = _load.open_loop(
            HOST, PORT, _repeat(_raw(ping)), rate=OPEN_RATE, seconds=OPEN_S / 2
        )
        _load.closed_loop(
            HOST, PORT, (_raw(r) for r in warm), connections=CONNECTIONS, seconds=WARMUP_S
        )
        calls_before = Call.objects.filter(queue=queue).count()
        # The two closed loops take turns (ROUNDS each), so a slower or faster stretch of
        # this shared machine weighs on both sides of the ratio alike.
        ping_rounds, hook_rounds, sent = [], [], 0
        for _ in range(ROUNDS):
            ping_rounds.append(_closed(pings, CLOSED_S / ROUNDS))
            hook_rounds.append(_closed(closed[sent:], CLOSED_S / ROUNDS))
            # Past those answered and those in flight at the stop: every call stays new.
            sent += hook_rounds[-1].ok + hook_rounds[-1].errors + CONNECTIONS
        ping_closed, hook_closed = _merged(ping_rounds), _merged(hook_rounds)
        calls_mid = Call.objects.filter(queue=queue).count()
        hook_open = _load.open_loop(HOST, PORT, iter(opened), rate=OPEN_RATE, seconds=OPEN_S)
        calls_after = Call.objects.filter(queue=queue).count()
    finally:
        drained = _stop_drain(drain)
        _stop_server(proc)
        _purge_broker()

    ratio = hook_closed.rate / ping_closed.rate if ping_closed.rate else 0.0
    p99 = hook_open.percentile_ms(99)
    generator = "wrk -t1 (Debian)" if USE_WRK else "bench/_load.py (asyncio; wrk not installed)"
    notes = [
        f"closed loop by {generator}; open loop by bench/_load.py",
        f"gunicorn {WORKERS} sync workers; {CONNECTIONS} closed-loop connections for "
        f"{CLOSED_S:.0f} s each, in {ROUNDS} alternating turns; open loop {OPEN_RATE:.0f} req/s for {OPEN_S:.0f} s "
        f"(ping: {OPEN_S / 2:.0f} s); {len(warm) + len(closed) + len(opened):,} signatures "
        f"precomputed in {sign_s:.1f} s",
        f"ping closed loop: {ping_closed.ok:,} ok, {ping_closed.errors} errors; p50 "
        f"{ping_closed.percentile_ms(50):.1f} ms, p99 {ping_closed.percentile_ms(99):.1f} ms",
        f"webhook closed loop: {hook_closed.ok:,} ok, {hook_closed.errors} errors "
        f"{ {s: n for s, n in hook_closed.statuses.items() if not 200 <= s < 300} or '' }; "
        f"Call rows written {calls_mid - calls_before:,}; p50 "
        f"{hook_closed.percentile_ms(50):.1f} ms, p99 {hook_closed.percentile_ms(99):.1f} ms "
        f"under saturation",
        f"webhook open loop: {hook_open.ok:,} ok, {hook_open.errors} errors; Call rows "
        f"written {calls_after - calls_mid:,}; p50 {hook_open.percentile_ms(50):.1f} ms",
    ]
    if not USE_WRK:
        notes.append(
            f"load generator CPU: {hook_closed.client_cpu_seconds / CLOSED_S:.0%} of one core "
            f"(webhook loop), {ping_closed.client_cpu_seconds / CLOSED_S:.0%} (ping loop): "
            "the server had that much less; `apt-get install wrk` for a lighter closed loop"
        )
    if hook_closed.ran_out:
        notes.append("WARNING: precomputed webhook requests ran out; raise the count")
    notes.append(
        f"{CUSTOMERS:,} customers on file, one caller in {KNOWN_EVERY} among them; "
        f"queue max_size {MAX_SIZE}; the drain kept the newest {LINE_KEPT} callers on the line "
        f"and ended {drained:,} others"
    )
    rows_ok = (
        hook_closed.errors == 0
        and hook_open.errors == 0
        # (rows may exceed answers by the requests still in flight when a loop stopped)
        and calls_mid - calls_before >= hook_closed.ok
        and calls_after - calls_mid >= hook_open.ok
    )
    if not rows_ok:
        notes.append("FAIL: errors, or answers without a Call row (a caller turned away)")
    return {
        "metrics": [
            {
                "metric": "incoming webhook throughput (closed loop)",
                "measured": hook_closed.rate,
                "baseline": ping_closed.rate,
                "unit": "req/s",
                "ratio": ratio,
                "target": "reported (no target)",
                "passed": None if rows_ok else False,
            },
            {
                "metric": f"incoming webhook p99 at {OPEN_RATE:.0f} req/s (open loop)",
                "measured": p99,
                "baseline": ping_open.percentile_ms(99),
                "unit": "ms",
                "ratio": p99 / ping_open.percentile_ms(99) if ping_open.ok else None,
                "target": f"< {P99_TARGET_MS:.0f} ms",
                "passed": p99 < P99_TARGET_MS and rows_ok,
            },
        ],
        "notes": notes,
    }
