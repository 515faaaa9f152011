"""The services-mode cache backend reuses one Redis client per pool and still works."""

from __future__ import annotations

import os

import pytest
from django.core.cache.backends.redis import RedisCacheClient

from core.cachebackends import RedisCache, ReusingRedisCacheClient

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (REDIS_URL)")


def _cache() -> RedisCache:
    return RedisCache(REDIS_URL or "redis://127.0.0.1:6379/0", {"KEY_PREFIX": "cc-test-backend"})


def test_one_client_per_pool_where_django_builds_one_per_call() -> None:
    cache = _cache()
    client = cache._cache
    assert isinstance(client, ReusingRedisCacheClient)
    assert client.get_client("a") is client.get_client("b", write=True)
    stock = RedisCacheClient([REDIS_URL or "redis://127.0.0.1:6379/0"])
    assert stock.get_client("a") is not stock.get_client("a")  # what this backend avoids


@needs_redis
def test_get_set_delete_and_many_against_real_redis() -> None:
    cache = _cache()
    cache.set("k", {"v": 1}, 30)
    assert cache.get("k") == {"v": 1}
    cache.set_many({"a": 1, "b": 2}, 30)
    assert cache.get_many(["a", "b", "missing"]) == {"a": 1, "b": 2}
    assert cache.incr("a") == 2
    cache.delete_many(["k", "a", "b"])
    assert cache.get("k") is None and cache.get("a", "gone") == "gone"
