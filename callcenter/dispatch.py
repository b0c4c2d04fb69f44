"""Side effects that leave the process (Celery messages, provider REST calls) can be held
back for a block of work that replays history, such as seed_demo: the same services run,
but nothing is sent to a worker or to Twilio for calls that happened in the past."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_suppressed: ContextVar[bool] = ContextVar("dispatch_suppressed", default=False)


def dispatch_allowed() -> bool:
    return not _suppressed.get()


@contextmanager
def suppress_dispatch() -> Iterator[None]:
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)
