"""Storefront session API: login, carts, rate limiting, uploads, webhooks registry and background notifications."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import tempfile
from collections import defaultdict
from collections.abc import Awaitable, Callable

import aiofiles
import httpx
import redis.asyncio as aioredis
from arq.connections import ArqRedis
from cachetools import TTLCache
from fastapi import APIRouter, Cookie, Depends, FastAPI, HTTPException, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from .auth import authenticate, verify_jwt
from .storage import presign_upload, s3_upload_fileobj

logger = logging.getLogger(__name__)
app = FastAPI()
router = APIRouter()

SESSIONS: dict[str, str] = {}
LOGIN_ATTEMPTS: dict[str, int] = {}
CARTS: dict[str, list[dict]] = {}
RECENT_ORDERS: list[str] = []
_rate_windows: defaultdict[str, list[float]] = defaultdict(list)
REQUEST_COUNT = 0

ALLOWED_PLANS = frozenset({"free", "pro", "team"})
PLAN_LIMITS = {"free": 3, "pro": 50, "team": 500}
EVENT_HANDLERS: dict[str, Callable[[dict], Awaitable[None]]] = {}
_jwks_cache: TTLCache[str, dict] = TTLCache(maxsize=16, ttl=300)

jwks_http = httpx.AsyncClient(timeout=httpx.Timeout(2.0, connect=0.5))
store = aioredis.Redis(host="redis-sessions", socket_timeout=0.3, socket_connect_timeout=1)


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=128)
    password: str = Field(min_length=8, max_length=256)


class CartItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(max_length=64)
    qty: int = Field(ge=1, le=99)


class CartItemList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[CartItem] = Field(max_length=200)


def on_event(name: str):
    def register(fn: Callable[[dict], Awaitable[None]]) -> Callable[[dict], Awaitable[None]]:
        EVENT_HANDLERS[name] = fn
        return fn

    return register


@on_event("order.placed")
async def _order_placed(event: dict) -> None:
    logger.info("order_placed_seen", extra={"order_id": event["order_id"]})


@router.post("/login")
async def login(body: Login) -> dict:
    LOGIN_ATTEMPTS[body.username] = LOGIN_ATTEMPTS.get(body.username, 0) + 1  # expect: stateless
    if LOGIN_ATTEMPTS[body.username] > 5:
        raise HTTPException(status_code=429)
    user_id = await authenticate(body.username, body.password)
    session_id = secrets.token_urlsafe(32)
    SESSIONS[session_id] = user_id  # expect: stateless
    return {"session_id": session_id}


@router.post("/v2/login")
async def login_v2(body: Login) -> dict:
    key = f"v1:login-attempts:{body.username}"
    async with store.pipeline(transaction=True) as pipe:
        attempts, _ = await pipe.incr(key).expire(key, 900).execute()
    if attempts > 5:
        raise HTTPException(status_code=429, headers={"Retry-After": "900"})
    user_id = await authenticate(body.username, body.password)
    session_id = secrets.token_urlsafe(32)
    await store.set(f"v1:session:{session_id}", user_id, ex=1800)
    return {"session_id": session_id}


@router.get("/me")
async def me(session_id: str = Cookie(max_length=64)) -> dict:
    user_id = SESSIONS.get(session_id)
    if user_id is None:
        raise HTTPException(status_code=401)
    return {"user_id": user_id}


def _remember_cart(user_id: str, items: list[dict]) -> None:
    CARTS[user_id] = items  # expect: stateless


@router.put("/cart")
async def put_cart(body: CartItemList, user_id: str = Depends(verify_jwt)) -> dict:
    _remember_cart(user_id, [i.model_dump() for i in body.items])
    return {"items": len(body.items)}


@router.put("/v2/cart")
async def put_cart_v2(body: CartItemList, user_id: str = Depends(verify_jwt)) -> dict:
    await store.set(f"v1:cart:{user_id}", body.model_dump_json(), ex=7 * 24 * 3600)
    return {"items": len(body.items)}


@router.post("/orders/{order_id}/seen")
async def mark_order_seen(order_id: str, user_id: str = Depends(verify_jwt)) -> dict:
    RECENT_ORDERS.append(order_id)  # expect: stateless
    return {"ok": True}


@router.get("/plans/{plan}/limit")
async def plan_limit(plan: str) -> dict:
    if plan not in ALLOWED_PLANS:
        raise HTTPException(status_code=404)
    return {"plan": plan, "limit": PLAN_LIMITS[plan]}


@router.get("/search")
async def search(q: str, request: Request) -> dict:
    client = request.client.host
    now = asyncio.get_running_loop().time()
    window = _rate_windows[client]
    window.append(now)  # expect: stateless
    if len([t for t in window if now - t < 60]) > 100:
        raise HTTPException(status_code=429)
    return {"q": q, "results": []}


@app.middleware("http")
async def count_requests(request: Request, call_next):
    global REQUEST_COUNT  # expect: stateless
    REQUEST_COUNT += 1
    return await call_next(request)


async def signing_keys(issuer: str) -> dict:
    if issuer in _jwks_cache:
        return _jwks_cache[issuer]
    resp = await jwks_http.get(f"{issuer}/.well-known/jwks.json")
    resp.raise_for_status()
    _jwks_cache[issuer] = resp.json()
    return _jwks_cache[issuer]


@router.post("/avatar")
async def upload_avatar(file: UploadFile, user_id: str = Depends(verify_jwt)) -> dict:
    data = await file.read(2_000_001)
    if len(data) > 2_000_000:
        raise HTTPException(status_code=413)
    path = f"/var/app/avatars/{user_id}.png"
    async with aiofiles.open(path, "wb") as fh:  # expect: stateless
        await fh.write(data)
    return {"avatar": path}


@router.post("/v2/avatar")
async def upload_avatar_v2(file: UploadFile, user_id: str = Depends(verify_jwt)) -> dict:
    with tempfile.SpooledTemporaryFile(max_size=2_000_000) as scratch:
        data = await file.read(2_000_001)
        if len(data) > 2_000_000:
            raise HTTPException(status_code=413)
        scratch.write(data)
        scratch.seek(0)
        key = f"avatars/{user_id}.png"
        await asyncio.to_thread(s3_upload_fileobj, scratch, key)
    return {"avatar": key}


@router.post("/v3/avatar")
async def upload_avatar_v3(user_id: str = Depends(verify_jwt)) -> dict:
    return {"upload_url": await presign_upload(f"avatars/{user_id}.png", expires_s=300)}


async def send_welcome_email(user_id: str) -> None:
    logger.info("welcome_email_sent", extra={"user_id": user_id})


@router.post("/signup/complete")
async def complete_signup(user_id: str = Depends(verify_jwt)) -> dict:
    asyncio.create_task(send_welcome_email(user_id))  # expect: stateless, async-io, idempotency
    return {"ok": True}


@router.post("/v2/signup/complete")
async def complete_signup_v2(request: Request, user_id: str = Depends(verify_jwt)) -> dict:
    jobs: ArqRedis = request.app.state.jobs
    await jobs.enqueue_job("send_welcome_email", user_id, _job_id=f"welcome:{user_id}")
    return {"ok": True}


@router.post("/exports/{export_id}/finish")
async def finish_export(export_id: str, user_id: str = Depends(verify_jwt)) -> dict:
    with open(os.path.join("/srv/exports", f"{export_id}.done"), "w") as fh:  # expect: stateless, async-io
        fh.write(user_id)
    return {"ok": True}


def build_summary(lines: list[dict]) -> dict:
    per_sku: dict[str, int] = {}
    for line in lines:
        per_sku[line["sku"]] = per_sku.get(line["sku"], 0) + line["qty"]
    return per_sku
