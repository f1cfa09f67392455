"""Prices, cached in redis by the async API."""

import json

import redis.asyncio as aioredis

client = aioredis.Redis(host="cache.internal", socket_timeout=1.0)


async def price(sku: str, fetch) -> float:
    cached = await client.get(f"price:{sku}")
    if cached is not None:
        return float(json.loads(cached))
    value = await fetch(sku)
    await client.set(f"price:{sku}", json.dumps(value))
    return value
