"""Read-through caching for the catalog API: prices, product pages, dashboards and reference data."""

from __future__ import annotations

import functools
import json
import logging
import random
import secrets
import time

import httpx
import redis
import redis.asyncio as aioredis
from cachetools import TTLCache
from fastapi import Depends, FastAPI
from flask_caching import Cache
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from .auth import User, current_user
from .db import get_session
from .models import Dashboard, Price, Product

logger = logging.getLogger(__name__)

app = FastAPI()
cache = redis.Redis(host="redis-cache", socket_timeout=0.3, socket_connect_timeout=1)
acache = aioredis.Redis(host="redis-cache", socket_timeout=0.3, socket_connect_timeout=1)
flask_cache = Cache(config={"CACHE_TYPE": "RedisCache", "CACHE_REDIS_HOST": "redis-cache", "CACHE_DEFAULT_TIMEOUT": 300})

CURRENCY_EXPONENTS = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}
SHIPPING_ZONE_PREFIXES = {"uk-mainland": ("E", "N", "SW", "W"), "uk-highlands": ("IV", "KW", "PH"), "ni": ("BT",)}
tags_http = httpx.Client(base_url="https://tags.internal", timeout=httpx.Timeout(1.0, connect=0.5))
_price_cache: dict[str, dict] = {}  # expect: cache
_flag_snapshot: TTLCache[str, bool] = TTLCache(maxsize=5_000, ttl=30)

PRICE_TTL_S = 300
NOT_FOUND = b"__nf__"


def ttl_with_jitter(ttl_s: int) -> int:
    return int(ttl_s * random.uniform(0.9, 1.1))


def get_price(session: Session, sku: str) -> dict:
    cached = cache.get(f"v2:price:{sku}")
    if cached is not None:
        return json.loads(cached)
    row = session.execute(text("SELECT sku, cents, currency FROM price_view WHERE sku = :s"), {"s": sku}).mappings().one_or_none()
    value = dict(row) if row else {}
    cache.set(f"v2:price:{sku}", json.dumps(value))  # expect: cache
    return value


def get_price_ttl(session: Session, sku: str) -> dict:
    key = f"v2:price:{sku}"
    cached = cache.get(key)
    if cached == NOT_FOUND:
        return {}
    if cached is not None:
        return json.loads(cached)
    row = session.execute(text("SELECT sku, cents, currency FROM price_view WHERE sku = :s"), {"s": sku}).mappings().one_or_none()
    if row is None:
        cache.set(key, NOT_FOUND, ex=45)
        return {}
    value = dict(row)
    cache.set(key, json.dumps(value), ex=ttl_with_jitter(PRICE_TTL_S))
    return value


def get_product_card(session: Session, sku: str) -> dict:
    key = f"v1:card:{sku}"
    cached = cache.get(key)
    if cached is not None:
        return json.loads(cached)
    product = session.scalars(select(Product).where(Product.sku == sku)).one()
    card = {"sku": product.sku, "title": product.title, "image": product.image_url}
    cache.set(key, json.dumps(card))  # expect: cache
    cache.expire(key, 600)
    return card


def get_product_card_single_flight(session: Session, sku: str) -> dict:
    key = f"v1:card:{sku}"
    cached = cache.get(key)
    if cached is not None:
        return json.loads(cached)
    lock_token = secrets.token_hex(8)
    if cache.set(f"lock:{key}", lock_token, nx=True, px=5_000):
        try:
            product = session.scalars(select(Product).where(Product.sku == sku)).one()
            card = {"sku": product.sku, "title": product.title, "image": product.image_url}
            cache.set(key, json.dumps(card), ex=ttl_with_jitter(600))
            return card
        finally:
            if cache.get(f"lock:{key}") == lock_token.encode():
                cache.delete(f"lock:{key}")
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        time.sleep(0.02)
        cached = cache.get(key)
        if cached is not None:
            return json.loads(cached)
    product = session.scalars(select(Product).where(Product.sku == sku)).one()
    return {"sku": product.sku, "title": product.title, "image": product.image_url}


def price_from_memory(session: Session, sku: str) -> dict:
    if sku not in _price_cache:
        _price_cache[sku] = get_price_ttl(session, sku)
    return _price_cache[sku]


def feature_enabled(session: Session, flag: str) -> bool:
    if flag in _flag_snapshot:
        return _flag_snapshot[flag]
    enabled = bool(session.execute(text("SELECT enabled FROM feature_flags WHERE name = :n"), {"n": flag}).scalar())
    _flag_snapshot[flag] = enabled
    return enabled


@functools.lru_cache(maxsize=None)  # expect: cache
def product_tags(sku: str) -> tuple[str, ...]:
    resp = tags_http.get(f"/tags/{sku}")
    resp.raise_for_status()
    return tuple(resp.json()["tags"])


@functools.lru_cache(maxsize=32)
def currency_exponent(code: str) -> int:
    return CURRENCY_EXPONENTS[code]


@functools.cache  # expect: cache
def shipping_zones_for_postcode(postcode: str) -> list[str]:
    prefix = postcode.replace(" ", "").upper()
    return [zone for zone, prefixes in SHIPPING_ZONE_PREFIXES.items() if any(prefix.startswith(p) for p in prefixes)]


class CatalogService:
    def __init__(self, session: Session) -> None:
        self.session = session

    @functools.lru_cache(maxsize=1024)  # expect: cache
    def category_path(self, category_id: int) -> list[str]:
        rows = self.session.execute(text("SELECT name FROM category_path(:c)"), {"c": category_id}).scalars().all()
        return list(rows)

    def update_price(self, sku: str, cents: int) -> None:
        with self.session.begin():
            self.session.execute(update(Price).where(Price.sku == sku).values(cents=cents))
            cache.set(f"v2:price:{sku}", json.dumps({"sku": sku, "cents": cents}), ex=PRICE_TTL_S)  # expect: cache

    def update_price_then_invalidate(self, sku: str, cents: int) -> None:
        with self.session.begin():
            self.session.execute(update(Price).where(Price.sku == sku).values(cents=cents))
        cache.delete(f"v2:price:{sku}")


@app.get("/dashboards/{dashboard_id}")
async def get_dashboard(dashboard_id: int, user: User = Depends(current_user), session=Depends(get_session)) -> dict:
    key = f"v1:dashboard:{dashboard_id}"  # expect: cache
    cached = await acache.get(key)
    if cached is not None:
        return json.loads(cached)
    dashboard = await session.get(Dashboard, dashboard_id)
    body = {"id": dashboard.id, "tiles": dashboard.tiles, "owner_id": dashboard.owner_id}
    await acache.set(key, json.dumps(body), ex=ttl_with_jitter(60))
    return body


@app.get("/me/recommendations")
async def my_recommendations(user: User = Depends(current_user), session=Depends(get_session)) -> dict:
    key = f"v1:recs:{user.tenant_id}:{user.id}"
    cached = await acache.get(key)
    if cached is not None:
        return json.loads(cached)
    rows = (await session.execute(text("SELECT sku FROM recommendations WHERE user_id = :u LIMIT 20"), {"u": user.id})).scalars().all()
    body = {"skus": list(rows)}
    await acache.set(key, json.dumps(body), ex=ttl_with_jitter(120))
    return body


@app.get("/me/saved-searches")
async def saved_searches(user: User = Depends(current_user), session=Depends(get_session)) -> dict:
    key = f"v1:saved:{user.tenant_id}:{user.id}"
    cached = await acache.get(key)
    if cached is not None:
        return json.loads(cached)
    rows = (await session.execute(text("SELECT query FROM saved_searches WHERE user_id = :u LIMIT 50"), {"u": user.id})).scalars().all()
    body = {"queries": list(rows)}
    await acache.set(key, json.dumps(body))  # expect: cache
    return body


def brand_page(brand_id: int, session: Session) -> dict:
    key = f"v1:brand:{brand_id}"
    cached = flask_cache.get(key)
    if cached is not None:
        return cached
    row = session.execute(text("SELECT id, name, description FROM brands WHERE id = :b"), {"b": brand_id}).mappings().one()
    page = dict(row)
    flask_cache.set(key, page, timeout=0)  # expect: cache
    return page


def country_list(session: Session) -> list[dict]:
    cached = flask_cache.get("v1:countries")
    if cached is not None:
        return cached
    rows = session.execute(text("SELECT code, name FROM countries ORDER BY name")).mappings().all()
    countries = [dict(r) for r in rows]
    flask_cache.set("v1:countries", countries, timeout=6 * 3600)
    return countries


def warm_prices(session: Session, skus: list[str]) -> None:
    rows = session.execute(text("SELECT sku, cents, currency FROM price_view WHERE sku = ANY(:s)"), {"s": skus}).mappings().all()
    with cache.pipeline(transaction=False) as pipe:
        for row in rows:
            pipe.set(f"v2:price:{row['sku']}", json.dumps(dict(row)), ex=ttl_with_jitter(PRICE_TTL_S))
        pipe.execute()
