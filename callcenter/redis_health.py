"""Redis may go away; a webhook must still answer within Twilio's 15 s (we aim for 2 s).

Everything Sangdam keeps in Redis is a copy or a hint: the route-request marker and the
"route now" messages (the periodic sweep routes from the database rows), the live tallies'
short-lived count (counted again from the rows). So when Redis does not answer:

- every client gives up quickly (settings: CACHES, the broker's options): connect and read
  timeouts of REDIS_TIMEOUT seconds, and one immediate retry only for a broken connection
  (a pooled connection from before a Redis restart), never redis-py's retries with back-off;
- after one failure this process stops asking Redis for REDIS_DOWN_SECONDS (`redis_down()`),
  so one webhook pays the timeout, not every one of them, and the callers take their
  fallback at once: no route request (the sweep routes), tallies from the database.

Per process and thread-safe enough: a race only means one more attempt.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What "Redis did not answer" looks like to redis-py (kombu wraps it in its own
# OperationalError, which callers catch separately).
REDIS_ERRORS = (RedisConnectionError, RedisTimeoutError)

_down_until = 0.0


def redis_down() -> bool:
    """True for REDIS_DOWN_SECONDS after a failure: take the fallback without asking."""
    return time.monotonic() < _down_until


def redis_failed(exc: BaseException, what: str) -> None:
    """Record a failure: one warning (no traceback) per outage, not one per request."""
    global _down_until
    already = redis_down()
    _down_until = time.monotonic() + settings.REDIS_DOWN_SECONDS
    if not already:
        logger.warning(
            "Redis unavailable (%s: %s); falling back for %s s",
            what,
            exc,
            settings.REDIS_DOWN_SECONDS,
        )
