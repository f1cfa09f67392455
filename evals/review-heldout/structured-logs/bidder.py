"""Real-time bidding service for an ad exchange: auction handler, DSP fan-out, budget pacing and logging setup."""

from __future__ import annotations

import asyncio
import json
import logging
import logging.config
import logging.handlers
import sys
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import httpx
import redis.asyncio as aioredis
import structlog
from aiohttp import web
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bidder.settings import settings

logger = logging.getLogger("bidder.auction")
log = structlog.get_logger("bidder.pacing")

RESERVED = set(vars(logging.makeLogRecord({})))
DSP_TIMEOUT = httpx.Timeout(0.08, connect=0.05, pool=0.02)
AUCTION_BUDGET_S = 0.12


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        span = trace.get_current_span().get_span_context()
        doc = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            "service": "bidder",
            "version": settings.git_sha,
            "trace_id": f"{span.trace_id:032x}" if span.is_valid else None,
            "span_id": f"{span.span_id:016x}" if span.is_valid else None,
        }
        doc.update({k: v for k, v in vars(record).items() if k not in RESERVED})
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, separators=(",", ":"))


def configure_logging() -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": JsonFormatter}},
            "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}},
            "root": {"level": "INFO", "handlers": ["stdout"]},
        }
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
    )


def configure_audit_log() -> logging.Logger:
    audit = logging.getLogger("bidder.audit")
    handler = logging.handlers.RotatingFileHandler("/var/log/bidder/audit.log", maxBytes=50_000_000, backupCount=5)  # expect: structured-logs
    handler.setFormatter(JsonFormatter())
    audit.addHandler(handler)
    return audit


class Impression(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Annotated[str, Field(max_length=64)]
    bidfloor: Annotated[float, Field(ge=0, le=1000)] = 0.0


class BidRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenRTB: exchanges add fields freely
    id: Annotated[str, Field(max_length=64)]
    imp: Annotated[list[Impression], Field(min_length=1, max_length=20)]
    tmax: Annotated[int, Field(ge=10, le=1000)] = 120


@dataclass(frozen=True)
class Bid:
    dsp: str
    imp_id: str
    price_micros: int
    creative_id: str


class Auction:
    def __init__(self, dsps: dict[str, httpx.AsyncClient], budgets: aioredis.Redis) -> None:
        self.dsps = dsps
        self.budgets = budgets

    async def ask_dsp(self, name: str, req: BidRequest) -> list[Bid]:
        started = time.perf_counter()
        try:
            resp = await self.dsps[name].post("/bid", content=req.model_dump_json())
        except httpx.TimeoutException:
            elapsed_ms = int((time.perf_counter() - started) * 1000)
            logger.error("dsp {} timed out after {} ms".format(name, elapsed_ms))  # expect: structured-logs
            return []
        except httpx.TransportError:
            logger.exception("dsp_transport_error", extra={"dsp": name, "auction_id": req.id})
            return []
        if resp.status_code == 204:
            return []
        try:
            seatbids = resp.json()["seatbid"]
        except (ValueError, KeyError) as exc:
            logger.error(str(exc))  # expect: structured-logs
            return []
        return [Bid(name, b["impid"], int(b["price"] * 1_000_000), b["crid"]) for sb in seatbids for b in sb["bid"]]

    async def run(self, req: BidRequest) -> Bid | None:
        async with asyncio.timeout(min(AUCTION_BUDGET_S, req.tmax / 1000)):
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(self.ask_dsp(name, req)) for name in self.dsps]
        bids = [bid for t in tasks for bid in t.result()]
        logger.debug("bids_collected", extra={"auction_id": req.id, "bids": len(bids), "dsps": len(self.dsps)})
        if not bids:
            return None
        winner = max(bids, key=lambda b: b.price_micros)
        logger.info(f"auction {req.id} won by {winner.dsp} at {winner.price_micros} micros")  # expect: structured-logs
        return winner

    async def charge_budget(self, campaign_id: str, price_micros: int) -> bool:
        remaining = await self.budgets.decrby(f"budget:v1:{campaign_id}", price_micros)
        if remaining < 0:
            logger.warning("budget low for campaign %s" % campaign_id)  # expect: structured-logs
            return False
        if remaining < 10_000_000:
            logger.warning("budget_nearly_spent", extra={"campaign_id": campaign_id, "remaining_micros": remaining})
        return True


class Pacer:
    def __init__(self, budgets: aioredis.Redis) -> None:
        self.budgets = budgets

    async def tick(self, campaign_id: str, target_rate: float) -> float:
        spent = int(await self.budgets.get(f"spent:v1:{campaign_id}") or 0)
        factor = max(0.1, min(2.0, target_rate / max(spent, 1)))
        log.info("pacing_adjusted", campaign_id=campaign_id, spent_micros=spent, factor=round(factor, 3))
        return factor

    async def reset_day(self, campaign_ids: list[str]) -> None:
        pipe = self.budgets.pipeline()
        for cid in campaign_ids:
            pipe.delete(f"spent:v1:{cid}")
        await pipe.execute()
        log.info(f"reset pacing for {len(campaign_ids)} campaigns")  # expect: structured-logs


@web.middleware
async def request_context(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    structlog.contextvars.clear_contextvars()
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    structlog.contextvars.bind_contextvars(request_id=request_id, path=request.path)
    logger.info("bid_request_received " + request_id)  # expect: structured-logs
    return await handler(request)


async def handle_bid(request: web.Request) -> web.Response:
    auction: Auction = request.app["auction"]
    if request.content_length is None or request.content_length > 64 * 1024:
        return web.Response(status=413)
    try:
        req = BidRequest.model_validate_json(await request.read())
    except ValidationError:
        logger.info("bid_request_invalid", extra={"exchange": request.headers.get("X-Exchange", "unknown")})
        return web.Response(status=400)
    winner = await auction.run(req)
    if winner is None:
        return web.Response(status=204)
    logger.info("auction_won", extra={"auction_id": req.id, "dsp": winner.dsp, "price_micros": winner.price_micros, "imp_id": winner.imp_id})
    return web.json_response({"id": req.id, "seatbid": [{"bid": [{"impid": winner.imp_id, "price": winner.price_micros / 1_000_000, "crid": winner.creative_id}]}]})


async def handle_win_notice(request: web.Request) -> web.Response:
    auction_id = request.match_info["auction_id"]
    price = request.query.get("price", "0")
    print("win notice", auction_id, price)  # expect: structured-logs
    return web.Response(status=204)


async def handle_billing_notice(request: web.Request) -> web.Response:
    auction: Auction = request.app["auction"]
    campaign_id = request.match_info["campaign_id"]
    auction_id = request.match_info["auction_id"]
    try:
        price_micros = int(request.query["price_micros"])
    except (KeyError, ValueError):
        return web.Response(status=400)
    try:
        first_notice = await auction.budgets.set(f"billed:v1:{auction_id}", 1, nx=True, ex=86_400)
        if not first_notice:
            return web.Response(status=204)  # exchanges resend billing notices; charge once
        await auction.charge_budget(campaign_id, price_micros)
    except aioredis.RedisError:
        traceback.print_exc()  # expect: structured-logs
        return web.Response(status=503)
    return web.Response(status=204)


async def handle_loss_notice(request: web.Request) -> web.Response:
    auction_id = request.match_info["auction_id"]
    reason = request.query.get("reason", "unknown")[:32]
    logger.info("auction_lost", extra={"auction_id": auction_id, "loss_reason": reason})
    return web.Response(status=204)


def build_app(auction: Auction) -> web.Application:
    app = web.Application(middlewares=[request_context], client_max_size=64 * 1024)
    app["auction"] = auction
    app.router.add_post("/openrtb2/bid", handle_bid)
    app.router.add_get("/notices/win/{auction_id}", handle_win_notice)
    app.router.add_get("/notices/billing/{campaign_id}/{auction_id}", handle_billing_notice)
    app.router.add_get("/notices/loss/{auction_id}", handle_loss_notice)
    return app


def cache_key_for(dsp: str, imp_id: str) -> str:
    if not dsp.isidentifier():
        raise ValueError(f"invalid dsp name {dsp!r}")
    return f"frequency:v1:{dsp}:{imp_id}"


def main() -> None:
    configure_logging()
    dsps = {
        name: httpx.AsyncClient(base_url=url, timeout=DSP_TIMEOUT, limits=httpx.Limits(max_connections=200, max_keepalive_connections=100))
        for name, url in settings.dsp_endpoints.items()
    }
    budgets = aioredis.Redis(host=settings.redis_host, socket_timeout=0.02, socket_connect_timeout=0.5, max_connections=200)
    web.run_app(build_app(Auction(dsps, budgets)), port=settings.port, access_log=None)


def main_legacy() -> None:
    """Entry point still used by the EU exchange pods until the migration finishes."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")  # expect: structured-logs
    dsps = {name: httpx.AsyncClient(base_url=url, timeout=DSP_TIMEOUT) for name, url in settings.dsp_endpoints.items()}
    budgets = aioredis.Redis(host=settings.redis_host, socket_timeout=0.02, socket_connect_timeout=0.5)
    web.run_app(build_app(Auction(dsps, budgets)), port=settings.port)
