"""Read-through caching for a video streaming catalog: titles, artwork, rows and entitlements."""

from __future__ import annotations

import functools
import json
import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from typing import Literal

import cachetools
import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Artwork, Entitlement, Episode, Title
from catalog.settings import settings

logger = logging.getLogger("catalog.cache")

NOT_FOUND = b"__none__"
TITLE_TTL_S = 600
NEGATIVE_TTL_S = 45
LOCK_TTL_MS = 3000

rds = redis.Redis(
    host=settings.redis_host, socket_timeout=0.25, socket_connect_timeout=1.0, max_connections=64
)

_ARTWORK: dict[str, bytes] = {}  # expect: cache
_ratings_lock = threading.Lock()
_ratings: cachetools.TTLCache[str, dict] = cachetools.TTLCache(maxsize=5_000, ttl=30)


def jittered(ttl_s: int, spread: float = 0.1) -> int:
    return int(ttl_s * random.uniform(1 - spread, 1 + spread))


def title_key(region: str, title_id: str) -> str:
    return f"v3:title:{region}:{title_id}"


class TitleCache:
    def __init__(self, client: redis.Redis, sessions: Callable[[], Session]) -> None:
        self.redis = client
        self.sessions = sessions

    def get_title(self, region: str, title_id: str) -> dict | None:
        key = title_key(region, title_id)
        cached = self.redis.get(key)
        if cached == NOT_FOUND:
            return None
        if cached is not None:
            return json.loads(cached)
        lock_key = f"lock:{key}"
        token = secrets.token_hex(8)
        if not self.redis.set(lock_key, token, nx=True, px=LOCK_TTL_MS):
            return self._wait_for_fill(key)
        try:
            value = self._load_title(region, title_id)
            if value is None:
                self.redis.set(key, NOT_FOUND, ex=NEGATIVE_TTL_S)
            else:
                self.redis.set(key, json.dumps(value), ex=jittered(TITLE_TTL_S))
            return value
        finally:
            if self.redis.get(lock_key) == token.encode():
                self.redis.delete(lock_key)

    def _wait_for_fill(self, key: str, budget_s: float = 0.15) -> dict | None:
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            time.sleep(0.02)
            cached = self.redis.get(key)
            if cached is not None:
                return None if cached == NOT_FOUND else json.loads(cached)
        return None  # caller renders the page without this block

    def _load_title(self, region: str, title_id: str) -> dict | None:
        with self.sessions() as session:
            title = session.scalar(select(Title).where(Title.id == title_id, Title.region == region))
            return None if title is None else {"id": title.id, "name": title.name, "year": title.year}

    def get_episode_list(self, season_id: str) -> list[dict]:
        key = f"v2:episodes:{season_id}"
        cached = self.redis.get(key)
        if cached is not None:
            return json.loads(cached)
        with self.sessions() as session:
            episodes = session.scalars(
                select(Episode).where(Episode.season_id == season_id).order_by(Episode.number).limit(200)
            ).all()
            value = [{"id": e.id, "number": e.number, "name": e.name} for e in episodes]
        self.redis.set(key, json.dumps(value))  # expect: cache
        return value

    def get_cast(self, title_id: str) -> list[str]:
        key = f"v1:cast:{title_id}"
        cached = self.redis.get(key)
        if cached is not None:
            return json.loads(cached)
        with self.sessions() as session:
            cast = list(session.scalars(select(Title.cast_names).where(Title.id == title_id)).first() or [])
        self.redis.set(key, json.dumps(cast))  # expect: cache
        self.redis.expire(key, jittered(3600))
        return cast

    def get_synopsis(self, title_id: str, locale: str) -> str | None:
        field = f"{title_id}:{locale}"
        cached = self.redis.hget("v1:synopses", field)
        if cached is not None:
            return cached.decode()
        with self.sessions() as session:
            synopsis = session.scalar(select(Title.synopsis).where(Title.id == title_id))
        if synopsis is not None:
            self.redis.hset("v1:synopses", field, synopsis)  # expect: cache
        return synopsis

    def continue_watching(self, profile_id: str, device_type: str) -> list[str]:
        key = f"v1:continue-watching:{device_type}"  # expect: cache
        cached = self.redis.get(key)
        if cached is not None:
            return json.loads(cached)
        with self.sessions() as session:
            rows = session.execute(
                select(Entitlement.title_id)
                .where(Entitlement.profile_id == profile_id)
                .order_by(Entitlement.last_watched_at.desc())
                .limit(20)
            ).scalars().all()
        self.redis.set(key, json.dumps(list(rows)), ex=jittered(60))
        return list(rows)

    def my_list(self, profile_id: str) -> list[str]:
        key = f"v1:my-list:{profile_id}"
        cached = self.redis.get(key)
        if cached is not None:
            return json.loads(cached)
        with self.sessions() as session:
            rows = session.scalars(
                select(Entitlement.title_id).where(Entitlement.profile_id == profile_id, Entitlement.saved.is_(True)).limit(500)
            ).all()
        self.redis.set(key, json.dumps(list(rows)), ex=jittered(120))
        return list(rows)

    def rename_title(self, region: str, title_id: str, name: str) -> None:
        with self.sessions() as session, session.begin():
            session.execute(update(Title).where(Title.id == title_id).values(name=name))
            self.redis.set(title_key(region, title_id), json.dumps({"id": title_id, "name": name}), ex=jittered(TITLE_TTL_S))  # expect: cache
        logger.info("title_renamed", extra={"title_id": title_id})

    def retire_title(self, region: str, title_id: str) -> None:
        with self.sessions() as session, session.begin():
            session.execute(update(Title).where(Title.id == title_id).values(retired=True))
        self.redis.delete(title_key(region, title_id))  # invalidate after commit

    def warm_homepage(self, region: str, titles: Sequence[Title]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for title in titles:
            pipe.set(title_key(region, title.id), json.dumps({"id": title.id, "name": title.name}), ex=3600)  # expect: cache
        pipe.execute()

    def warm_trending(self, region: str, titles: Sequence[Title]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for title in titles:
            payload = json.dumps({"id": title.id, "name": title.name, "year": title.year})
            pipe.set(title_key(region, title.id), payload, ex=jittered(TITLE_TTL_S, spread=0.2))
        pipe.execute()


def artwork_bytes(session: Session, artwork_id: str) -> bytes:
    hit = _ARTWORK.get(artwork_id)
    if hit is not None:
        return hit
    data = session.scalar(select(Artwork.data).where(Artwork.id == artwork_id))
    _ARTWORK[artwork_id] = data
    return data


def community_rating(session: Session, title_id: str) -> dict:
    with _ratings_lock:
        hit = _ratings.get(title_id)
    if hit is not None:
        return hit
    avg = session.scalar(select(Title.avg_rating).where(Title.id == title_id))
    value = {"title_id": title_id, "avg": float(avg or 0)}
    with _ratings_lock:
        _ratings[title_id] = value
    return value


@functools.lru_cache(maxsize=None)  # expect: cache
def entitlements_for(account_id: str) -> frozenset[str]:
    with settings.session_factory() as session:
        return frozenset(
            session.scalars(select(Entitlement.title_id).where(Entitlement.account_id == account_id))
        )


@functools.lru_cache(maxsize=8)
def codec_ladder(codec: Literal["h264", "hevc", "av1"]) -> tuple[int, ...]:
    """Pure function of a closed set of three codecs."""
    base = {"h264": 4_500, "hevc": 3_000, "av1": 2_400}[codec]
    return tuple(int(base * f) for f in (0.15, 0.35, 0.6, 1.0, 1.6))


class SeriesService:
    def __init__(self, sessions: Callable[[], Session]) -> None:
        self.sessions = sessions

    @functools.lru_cache(maxsize=1024)  # expect: cache
    def season_tree(self, series_id: str) -> dict:
        with self.sessions() as session:
            episodes = session.scalars(select(Episode).where(Episode.series_id == series_id).limit(2000)).all()
        tree: dict[int, list[str]] = {}
        for e in episodes:
            tree.setdefault(e.season_number, []).append(e.id)
        return tree
