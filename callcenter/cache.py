"""Cache backends for markers every process asks about on every call.

Without Redis: Django's file cache, with `has_key()` answered by one stat() (below).
With Redis: Django's Redis cache, keeping its client objects, with short timeouts
(RedisCache below).

telephony.tasks.acd_route_soon asks `add()` on every incoming call whether a routing run
is already requested. Django's FileBasedCache answers by opening the entry and unpickling
its expiry; here the expiry is also written as the file's modification time, so `has_key()`
(and so `add()`) is one stat(). Values, `get()` and culling are Django's own.
"""

from __future__ import annotations

import os
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

NEVER = 4_102_444_800.0  # 2100-01-01: "no expiry" as a modification time


class FileBasedMarkerCache(FileBasedCache):
    def _stamp(self, key, timeout, version) -> None:
        expiry = self.get_backend_timeout(timeout)
        try:
            os.utime(self._key_to_file(key, version), (time.time(), expiry or NEVER))
        except FileNotFoundError:
            pass  # deleted meanwhile: nothing to stamp

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        super().set(key, value, timeout, version)
        self._stamp(key, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        touched = super().touch(key, timeout, version)
        if touched:
            self._stamp(key, timeout, version)
        return touched

    def has_key(self, key, version=None) -> bool:
        # Until the stamp lands, a file just written reads as expired: at worst a second
        # caller also asks for a routing run.
        try:
            return os.stat(self._key_to_file(key, version)).st_mtime > time.time()
        except FileNotFoundError:
            return False


class _KeptClients(RedisCacheClient):
    """Django builds a new redis.Redis object around the same connection pool for every
    cache call; building one costs more than the call's round trip (the incoming-call
    webhook asks once per call). One client per pool is kept instead: a client holds no
    connection of its own, and the pool (which notices a fork) is Django's."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, tuple[object, object]] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        kept = self._clients.get(id(pool))
        if kept is None or kept[0] is not pool:
            kept = self._clients[id(pool)] = (pool, self._client(connection_pool=pool))
        return kept[1]


class RedisCache(DjangoRedisCache):
    """Also with short timeouts and no back-off retries (callcenter.redis_health): a marker
    Redis cannot give within REDIS_TIMEOUT is not worth a webhook's wait. OPTIONS win."""

    def __init__(self, server, params) -> None:
        from callcenter.redis_health import client_options

        options = {**client_options(), **params.get("OPTIONS", {})}
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _KeptClients
