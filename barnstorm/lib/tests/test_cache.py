"""The Redis cache backend keeps one client per connection pool, and still behaves as a cache."""

import uuid

import pytest
from django.conf import settings

from barnstorm.lib.cache import RedisCache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (CI sets it)")


@pytest.fixture
def cache():
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})
    yield cache
    cache.delete_many(["counter", "mark", "absent"])


def test_every_operation_borrows_the_same_client(cache):
    first = cache._cache.get_client("counter", write=True)
    assert cache._cache.get_client("mark") is first
    assert cache._cache.get_client(None, write=True) is first


def test_it_adds_counts_reads_and_forgets(cache):
    assert cache.add("mark", 1, timeout=60)
    assert not cache.add("mark", 2, timeout=60)  # add never overwrites: the recorder's mark relies on it
    cache.add("counter", 0, timeout=60)
    assert cache.incr("counter") == 1
    assert cache.get_many(["mark", "counter", "absent"]) == {"mark": 1, "counter": 1}
    cache.delete("mark")
    assert cache.get("mark") is None
