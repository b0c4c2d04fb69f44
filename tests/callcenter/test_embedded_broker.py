"""The embedded broker (no REDIS_URL): kombu's SQLAlchemy transport on a SQLite file
(callcenter.broker). kombu's filesystem transport, used before, let the worker read a
message file another process was still writing; the same test against it lost 3 of 400
messages to "JSONDecodeError: Expecting value" (and the make-run worker died of it)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from kombu import Connection

TRANSPORT = "callcenter.broker:Transport"
OPTIONS = {"polling_interval": 0.01, "connect_args": {"timeout": 30}}

# One publisher process: `count` messages of random sizes (up to ~100 kB), each carrying
# the SHA-256 of its body, so a torn or mixed-up message cannot pass for a whole one.
PUBLISHER = r"""
import hashlib, json, os, random, sys
from kombu import Connection
url, transport, options, count, who = sys.argv[1:6]
rng = random.Random(who)
with Connection(url, transport=transport, transport_options=json.loads(options)) as conn:
    queue = conn.SimpleQueue("torn-test")
    for i in range(int(count)):
        body = os.urandom(rng.randint(1, 50_000)).hex()
        digest = hashlib.sha256(body.encode()).hexdigest()
        queue.put({"who": who, "i": i, "body": body, "sha": digest})
    queue.close()
"""


def test_the_embedded_default_is_the_sqlite_transport_in_var():
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env["PYTHONPATH"] = str(settings.BASE_DIR)
    code = (
        "import json; from callcenter.settings import base as b; "
        "print(json.dumps([b.CELERY_BROKER_URL, getattr(b, 'CELERY_BROKER_TRANSPORT', None)]))"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    url, transport = json.loads(out.strip().splitlines()[-1])
    assert transport == TRANSPORT
    assert url == "sqlite:///" + str(Path(settings.BASE_DIR) / "var" / "celery-broker.sqlite3")


def test_concurrent_publishers_and_a_consumer_never_see_a_torn_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'broker.sqlite3'}"
    publishers, count = 3, 60
    procs = [
        subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", PUBLISHER, url, TRANSPORT, json.dumps(OPTIONS), str(count)]
            + [f"p{n}"],
            env={**os.environ, "PYTHONPATH": str(settings.BASE_DIR)},
        )
        for n in range(publishers)
    ]
    seen: list[tuple[str, int]] = []
    torn = 0
    try:
        with Connection(url, transport=TRANSPORT, transport_options=OPTIONS) as conn:
            queue = conn.SimpleQueue("torn-test")
            deadline = time.monotonic() + 90
            # Consumed while the publishers write: any error here fails the test.
            while len(seen) < publishers * count and time.monotonic() < deadline:
                try:
                    message = queue.get(timeout=0.5)
                except queue.Empty:
                    continue
                body = message.payload
                torn += hashlib.sha256(body["body"].encode()).hexdigest() != body["sha"]
                seen.append((body["who"], body["i"]))
                message.ack()
            queue.close()
    finally:
        for proc in procs:
            proc.wait(timeout=60)
    assert [proc.returncode for proc in procs] == [0] * publishers
    assert torn == 0
    assert sorted(seen) == sorted((f"p{n}", i) for n in range(publishers) for i in range(count))
    # A delivered message is deleted, not kept as an invisible row the poll must skip.
    with sqlite3.connect(tmp_path / "broker.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM kombu_message").fetchone() == (0,)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_process_that_loses_the_race_to_create_the_tables_goes_on(tmp_path, monkeypatch):
    """Two processes starting together both find no tables; the slower CREATE TABLE fails
    with "already exists". It must not kill the process (it did, now and then, in CI)."""
    from kombu.transport.sqlalchemy import models
    from sqlalchemy.exc import OperationalError

    real = models.metadata.create_all
    calls = []

    def create_all_after_a_rival(engine, *args, **kwargs):
        calls.append(engine)
        if len(calls) == 1:
            real(engine, *args, **kwargs)  # the rival process got there first
            raise OperationalError(
                "CREATE TABLE kombu_queue", {}, Exception("table kombu_queue already exists")
            )
        return real(engine, *args, **kwargs)

    monkeypatch.setattr(models.metadata, "create_all", create_all_after_a_rival)
    url = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    with Connection(url, transport=TRANSPORT, transport_options=OPTIONS) as conn:
        queue = conn.SimpleQueue("race-test")
        queue.put({"n": 1})
        assert queue.get(timeout=5).payload == {"n": 1}
        queue.close()
    assert len(calls) == 2
