"""callcenter.cache.FileBasedMarkerCache: Django's file cache, has_key() from one stat()."""

from __future__ import annotations

import time

import pytest

from callcenter.cache import FileBasedMarkerCache


@pytest.fixture
def cache(tmp_path):
    return FileBasedMarkerCache(str(tmp_path), {})


def test_add_is_refused_while_the_marker_lives_and_allowed_after(cache):
    assert cache.add("m", 1, timeout=0.3)
    assert not cache.add("m", 2, timeout=0.3)
    assert cache.has_key("m") and cache.get("m") == 1
    time.sleep(0.35)
    assert not cache.has_key("m")
    assert cache.add("m", 3, timeout=5)
    assert cache.get("m") == 3


def test_delete_and_no_expiry(cache):
    cache.set("m", 1, timeout=None)
    assert cache.has_key("m")
    cache.delete("m")
    assert not cache.has_key("m") and cache.add("m", 1, timeout=5)


def test_touch_moves_the_expiry(cache):
    cache.set("m", 1, timeout=0.2)
    assert cache.touch("m", timeout=5)
    time.sleep(0.25)
    assert cache.has_key("m")
    assert not cache.touch("gone", timeout=5)


@pytest.mark.redis
def test_redis_cache_keeps_one_client_per_pool(settings):
    from callcenter.cache import RedisCache

    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-kept-clients"})
    first = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=True) is first  # not a new redis.Redis per call
    assert cache.add("marker", 1, timeout=5) is True
    assert cache.add("marker", 1, timeout=5) is False
    assert cache.get("marker") == 1
    cache.delete("marker")
    assert cache.add("marker", 1, timeout=5) is True
    cache.delete("marker")
