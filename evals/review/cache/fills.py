"""Read-through cache fills: without a TTL, and with one."""

import json

import redis
import redis.asyncio as aioredis
from django.core.cache import cache as django_cache
from flask_caching import Cache

redis_client = redis.Redis(host="cache.internal", socket_timeout=0.5)
store = aioredis.from_url("redis://cache.internal", socket_timeout=0.5)
page_cache = Cache(config={"CACHE_TYPE": "RedisCache", "CACHE_DEFAULT_TIMEOUT": 300})


def load_profile(user_id: str) -> dict:
    key = f"profile:{user_id}"
    cached = redis_client.get(key)
    if cached is not None:
        return json.loads(cached)
    profile = fetch_profile(user_id)
    redis_client.set(key, json.dumps(profile))  # expect: cache
    return profile


async def load_rates(currency: str) -> dict:
    cached = await store.get(f"rates:{currency}")
    if cached:
        return json.loads(cached)
    rates = await fetch_rates(currency)
    await store.set(f"rates:{currency}", json.dumps(rates))  # expect: cache
    return rates


class Catalog:
    def __init__(self) -> None:
        self.redis = redis.Redis(host="cache.internal", socket_timeout=0.5)

    def item(self, sku: str) -> bytes:
        value = self.redis.get(sku)
        if value is None:
            value = fetch_item(sku)
            self.redis.set(sku, value)  # expect: cache
        return value


def get_price(cache: "CacheClient", sku: str) -> dict:
    cached = cache.get(f"price:{sku}")
    if cached is not None:
        return json.loads(cached)
    value = fetch_item(sku)
    cache.set(f"price:{sku}", json.dumps(value))  # expect: cache
    return value


# ---- clean look-alikes


def load_profile_with_ttl(user_id: str) -> dict:
    key = f"profile:{user_id}"
    cached = redis_client.get(key)
    if cached is not None:
        return json.loads(cached)
    profile = fetch_profile(user_id)
    redis_client.set(key, json.dumps(profile), ex=300)
    return profile


def load_settings() -> bytes:
    value = redis_client.get("settings")
    if value is None:
        value = b"{}"
        redis_client.setex("settings", 60, value)
    return value


def load_flags() -> bytes:
    value = redis_client.get("flags")
    if value is None:
        value = b"{}"
        redis_client.set("flags", value)
        redis_client.expire("flags", 120)
    return value


def django_fill(user_id: str) -> dict:
    value = django_cache.get(user_id)
    if value is None:
        value = fetch_profile(user_id)
        django_cache.set(user_id, value)
    return value


def flask_fill(page: str) -> str:
    html = page_cache.get(page)
    if html is None:
        html = page.upper()
        page_cache.set(page, html)
    return html


def memoised_parse(cache: "LRUCache", text: str) -> tuple:
    value = cache.get(text)
    if value is None:
        value = tuple(text.split())
        cache.set(text, value)
    return value


def write_only(user_id: str, profile: dict) -> None:
    redis_client.set(f"profile:{user_id}", json.dumps(profile))


def local_memo(memo: dict[str, str], key: str) -> str:
    value = memo.get(key)
    if value is None:
        value = key.upper()
        memo[key] = value
    return value


class CacheClient: ...


def fetch_profile(user_id: str) -> dict: ...
async def fetch_rates(currency: str) -> dict: ...
def fetch_item(sku: str) -> bytes: ...
