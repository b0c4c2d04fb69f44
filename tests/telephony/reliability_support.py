"""Real processes for the reliability tests: a private redis-server that a test may kill and
restart, and a `celery -A callcenter worker` subprocess pointed at the pytest test database.

Never the machine's shared Redis on 6379: every broker here is a redis-server this module
started on a spare port (6391-6399), and it is killed when the test ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import IN_CI

BASE_DIR = Path(settings.BASE_DIR)
VENV_BIN = Path(sys.executable).parent
PRIVATE_REDIS_PORTS = range(6391, 6400)


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, interval: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def needs_redis_server() -> None:
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("CI must run this test: needs the redis-server binary", pytrace=False)
        pytest.skip("needs the redis-server binary")


def test_database_url() -> str:
    """The pytest test database as a DATABASE_URL another process can open."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        name = str(db["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            pytest.skip("a worker process cannot share an in-memory SQLite database")
        return "sqlite:///" + str(Path(name).resolve())
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # not a test, despite the name


class PrivateRedis:
    """A throwaway redis-server without persistence: a restart loses every message."""

    def __init__(self) -> None:
        self.port = self._free_port()
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def _free_port() -> int:
        for port in PRIVATE_REDIS_PORTS:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
        pytest.fail("no free port in 6391-6399 for a private redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        if not wait_for(self._pings(client), timeout=10):
            pytest.fail(f"redis-server on {self.port} did not start")

    @staticmethod
    def _pings(client: redis.Redis) -> Callable[[], bool]:
        def ping() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        return ping

    def kill(self) -> None:
        """SIGKILL: no shutdown save, every queued message is gone."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)


class WorkerProcess:
    """`celery -A callcenter worker` in its own process group, on the test database."""

    def __init__(self, *, broker_url: str, log_dir: Path, concurrency: int = 2) -> None:
        self.broker_url = broker_url
        self.concurrency = concurrency
        self.log_path = log_dir / f"worker-{uuid.uuid4().hex[:8]}.log"
        self.proc: subprocess.Popen | None = None

    def launch(self) -> WorkerProcess:
        """Start the process; `wait_ready()` before relying on it (startup takes seconds)."""
        env = {
            **os.environ,
            # The same settings module as pytest (PUBLIC_BASE_URL, TWILIO_AUTH_TOKEN,
            # TELEPHONY_MODE), on the test database and the private broker.
            "DJANGO_SETTINGS_MODULE": "callcenter.settings.test",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": self.broker_url,
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(BASE_DIR),
        }
        env.pop("CELERY_BROKER_URL", None)
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603
            [
                str(VENV_BIN / "celery"),
                "-A",
                "callcenter",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(self.concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                f"reliability-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill -9 takes the pool children too
        )
        return self

    def wait_ready(self, timeout: float = 30.0) -> WorkerProcess:
        def ready() -> bool:
            return b" ready." in self.log_path.read_bytes() or not self.alive()

        if not wait_for(ready, timeout=timeout, interval=0.1) or not self.alive():
            self.kill9()
            pytest.fail(f"the worker did not start:\n{self.log()}")
        return self

    def logged(self, text: str) -> int:
        """How many times the worker has logged `text`."""
        return self.log_path.read_bytes().count(text.encode())

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """kill -9 of the worker and its pool processes, as an OOM killer would."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group: main process and children
        self.proc.wait(timeout=10)
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@contextlib.contextmanager
def app_on_broker(url: str) -> Iterator[None]:
    """This process (the "web" side) publishes to `url` and caches in it, like the worker."""
    from callcenter.celery import app

    def reset_pools() -> None:
        # kombu caches connection and producer pools per broker URL, process-wide.
        app._pool = None
        app.amqp._producer_pool = None
        kombu.pools.reset()

    old = app.conf.broker_url
    reset_pools()
    app.conf.broker_url = url
    redis_cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    caches = {"default": redis_cache, "acd": redis_cache}
    try:
        with override_settings(REDIS_URL=url, CELERY_BROKER_URL=url, CACHES=caches):
            yield
    finally:
        reset_pools()
        app.conf.broker_url = old


def send_task(name: str, *args) -> None:
    """Publish a task as beat or a web process would, retrying while the broker restarts."""
    from callcenter.celery import app

    app.send_task(name, args=args, retry=True, retry_policy={"max_retries": 20})


def route_of(pattern) -> str:
    """A URL pattern as a concrete path piece: converters filled with a sample value."""
    text = str(pattern.pattern)
    if text.startswith("^"):  # re_path
        text = text.lstrip("^").rstrip("$").replace("\\", "")
    return re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: "x" if m.group(1) in ("str", "slug") else "1", text
    )


def webhook_urls(patterns=None, prefix: str = "/") -> dict[str, str]:
    """path → URL name of every view wrapped by `telephony.security.twilio_webhook` (it
    marks its wrapper `twilio_webhook = True`), so later webhooks are found too."""
    found: dict[str, str] = {}
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            found |= webhook_urls(entry.url_patterns, prefix + route_of(entry))
        elif isinstance(entry, URLPattern) and getattr(entry.callback, "twilio_webhook", False):
            found[prefix + route_of(entry)] = entry.name or ""
    return found
