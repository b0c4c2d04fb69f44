"""Django's file cache for markers every process asks about on every call (no Redis).

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
