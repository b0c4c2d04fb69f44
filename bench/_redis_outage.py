"""Worst incoming-call webhook latency while Redis is down (issue 17, item 13).

    .venv/bin/python -m bench._redis_outage [--seconds 30] [--rate 10] [--port 8104]

Starts a private redis-server (`--save "" --appendonly no`, a free port) and gunicorn
(bench.webhook's server: 2 sync workers) with REDIS_URL pointing at it, then posts signed
incoming-call webhooks at a steady rate (each from its own thread, timed from when it was
due) through: a few seconds with Redis up; `--seconds` with Redis hung (SIGSTOP: it takes
connections and answers nothing, like a paused VM or a partition); `--seconds` with Redis
gone (killed: connections refused); a few seconds after it is started again, empty.
Prints, per phase, the worst and median latency, how many took over 2 s and 15 s (Twilio's
limit), and answers that were not 200 or not stored.

The database: DATABASE_URL, else var/bench-outage.sqlite3 (migrated here). Not part of
`make bench` (it needs redis-server and a minute or more).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_server(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(  # noqa: S603
        [shutil.which("redis-server") or "redis-server", "--port", str(port)]
        + ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._redis_outage")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each outage")
    parser.add_argument("--rate", type=float, default=10.0, help="webhooks per second")
    parser.add_argument("--port", type=int, default=8104, help="gunicorn's port")
    args = parser.parse_args(argv)
    if shutil.which("redis-server") is None:
        print("needs redis-server (apt-get install redis-server)")
        return 2
    redis_port = _free_port()
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'bench-outage.sqlite3'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["BENCH_WEBHOOK_PORT"] = str(args.port)
    os.environ["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{args.port}"
    sys.path.insert(0, str(BASE_DIR))
    os.chdir(BASE_DIR)
    (BASE_DIR / "var").mkdir(exist_ok=True)
    redis = _redis_server(redis_port)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import requests
    from django.conf import settings
    from twilio.request_validator import RequestValidator

    from bench import webhook
    from bench._org import bench_department
    from telephony.models import Call

    number = "+822555" + f"{uuid.uuid4().int % 10**5:05d}"
    bench_department(name=f"outage-{uuid.uuid4().hex[:6]}", phone_number=number)
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    url = f"http://127.0.0.1:{args.port}/telephony/voice/incoming/"
    results: list[tuple[str, float, int, str]] = []  # phase, seconds, status, sid
    lock = threading.Lock()

    def post(phase: str, due: float, n: int) -> None:
        sid = f"CA{uuid.uuid4().hex}"
        form = {"CallSid": sid, "From": f"+8210{60000000 + n:08d}", "To": number}
        form["CallStatus"] = "ringing"
        headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
        try:
            status = requests.post(url, data=form, headers=headers, timeout=60).status_code
        except requests.RequestException:
            status = 0
        with lock:
            results.append((phase, time.monotonic() - due, status, sid))

    threads: list[threading.Thread] = []

    def phase(name: str, seconds: float) -> None:
        start = time.monotonic()
        n = 0
        while time.monotonic() < start + seconds:
            due = start + n / args.rate
            time.sleep(max(0.0, due - time.monotonic()))
            thread = threading.Thread(target=post, args=(name, due, len(threads)))
            thread.start()
            threads.append(thread)
            n += 1

    server = webhook._start_server()
    try:
        phase("up", 5)
        redis.send_signal(signal.SIGSTOP)
        phase("hung", args.seconds)
        redis.send_signal(signal.SIGCONT)
        redis.kill()
        redis.wait()
        phase("gone", args.seconds)
        redis = _redis_server(redis_port)
        phase("back", 5)
        for thread in threads:
            thread.join()
    finally:
        webhook._stop_server(server)
        redis.send_signal(signal.SIGCONT)
        redis.kill()
    stored = set(Call.objects.filter(sid__in=[r[3] for r in results]).values_list("sid", flat=True))
    print(f"{args.rate:g} webhooks/s, outages of {args.seconds:g} s, gunicorn 2 sync workers")
    print("phase  requests  worst s  median s  >2 s  >15 s  not 200  not stored")
    for name in ("up", "hung", "gone", "back"):
        rows = [r for r in results if r[0] == name]
        times = sorted(r[1] for r in rows)
        print(
            f"{name:<6} {len(rows):>8}  {times[-1]:>7.3f}  {times[len(times) // 2]:>8.3f}"
            f"  {sum(t > 2 for t in times):>4}  {sum(t > 15 for t in times):>5}"
            f"  {sum(r[2] != 200 for r in rows):>7}  {sum(r[3] not in stored for r in rows):>10}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
