"""Reporting API and webhook receivers: exports, ad-hoc filters, imports and partner callbacks."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import subprocess
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from flask import Blueprint, jsonify
from flask import request as flask_request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from .db import get_session, legacy_db
from .models import ExportJob, SavedReport

router = APIRouter()
legacy = Blueprint("legacy_reports", __name__)

EXPORT_DIR = Path("/srv/exports").resolve()
WEBHOOK_KEY = os.environ["PARTNER_WEBHOOK_KEY"].encode()
REPORT_COLUMNS = "id, name, owner_id, created_at"
SORT_COLUMNS = {"created": "created_at", "name": "name", "owner": "owner_id"}


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    table: Literal["orders", "invoices", "refunds"]
    limit: int = Field(default=1000, ge=1, le=100_000)
    fmt: Literal["csv", "parquet"] = "csv"


class SavedReportIn(BaseModel):  # expect: input-validation
    name: str
    query: str
    owner_id: int


class PartnerEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    type: Literal["report.ready", "report.failed"]
    report_id: int = Field(strict=True, ge=1)


@router.post("/exports/schema")
def table_schema(payload: dict):  # expect: input-validation
    table = payload["table"]
    out = subprocess.run(f"pg_dump -t {table} --schema-only appdb", shell=True, capture_output=True, text=True, timeout=60)  # expect: input-validation
    return {"table": table, "ddl": out.stdout}


@router.post("/exports/schema/v2")
def table_schema_v2(body: ExportRequest) -> dict:
    out = subprocess.run(["pg_dump", "-t", body.table, "--schema-only", "appdb"], shell=False, capture_output=True, text=True, timeout=60, check=True)
    return {"table": body.table, "ddl": out.stdout}


@router.post("/reports/saved")
def save_report(payload: dict[str, Any], idempotency_key: str = Header(alias="Idempotency-Key"), session: Session = Depends(get_session)) -> dict:  # expect: input-validation
    report = SavedReport(**payload)  # expect: input-validation
    report.idempotency_key = idempotency_key
    session.add(report)
    session.commit()
    return {"id": report.id}


@router.post("/reports/saved/v2")
def save_report_v2(body: SavedReportIn, idempotency_key: str = Header(alias="Idempotency-Key"), session: Session = Depends(get_session)) -> dict:
    report = SavedReport(name=body.name, query=body.query, owner_id=body.owner_id, idempotency_key=idempotency_key)
    session.add(report)
    session.commit()
    return {"id": report.id}


@router.get("/reports")
def list_reports(sort: str = "created", session: Session = Depends(get_session)) -> list[dict]:
    rows = session.execute(text(f"SELECT {REPORT_COLUMNS} FROM saved_reports ORDER BY {sort} LIMIT 100")).mappings().all()  # expect: input-validation
    return [dict(r) for r in rows]


@router.get("/reports/v2")
def list_reports_v2(sort: Literal["created", "name", "owner"] = "created", limit: int = Query(default=50, ge=1, le=200), session: Session = Depends(get_session)) -> list[dict]:
    column = SORT_COLUMNS[sort]
    rows = session.execute(text(f"SELECT {REPORT_COLUMNS} FROM saved_reports ORDER BY {column} LIMIT :limit"), {"limit": limit}).mappings().all()
    return [dict(r) for r in rows]


@router.get("/reports/search")
def search_reports(q: str = Query(max_length=100), session: Session = Depends(get_session)) -> list[dict]:
    rows = session.execute(text("SELECT id, name FROM saved_reports WHERE name ILIKE :q LIMIT 50"), {"q": f"%{q}%"}).mappings().all()
    return [dict(r) for r in rows]


@router.get("/exports/{export_id}/download")
def download_export(export_id: int, filename: str, session: Session = Depends(get_session)) -> bytes:
    job = session.get(ExportJob, export_id)
    if job is None:
        raise HTTPException(status_code=404)
    return (EXPORT_DIR / filename).read_bytes()  # expect: input-validation


@router.get("/exports/{export_id}/file")
def download_export_safe(export_id: int, filename: str = Query(max_length=128, pattern=r"^[a-z0-9_.-]+$"), session: Session = Depends(get_session)) -> bytes:
    job = session.get(ExportJob, export_id)
    if job is None:
        raise HTTPException(status_code=404)
    path = (EXPORT_DIR / filename).resolve()
    if not path.is_relative_to(EXPORT_DIR):
        raise HTTPException(status_code=400)
    return path.read_bytes()


@router.post("/webhooks/partner")
async def partner_webhook(request: Request) -> dict:
    event = await request.json()  # expect: input-validation
    await request.app.state.jobs.enqueue("report_status", event_id=event["event_id"], report_id=event["report_id"], status=event["type"])
    return {"ok": True}


@router.post("/webhooks/partner/v2")
async def partner_webhook_v2(request: Request, x_signature: str = Header(max_length=128)) -> dict:
    raw = await request.body()
    expected = hmac.new(WEBHOOK_KEY, raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, x_signature):
        raise HTTPException(status_code=401)
    try:
        event = PartnerEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=exc.errors()) from exc
    await request.app.state.jobs.enqueue("report_status", event_id=event.event_id, report_id=event.report_id, status=event.type)
    return {"ok": True}


@router.post("/reports/compute")
async def compute_metric(request: Request) -> dict:
    body = await request.body()
    spec = pickle.loads(body)  # expect: input-validation
    return {"value": spec.evaluate()}


@router.get("/reports/formula")
def evaluate_formula(expr: str) -> dict:
    return {"value": eval(expr, {"__builtins__": {}})}  # expect: input-validation


@legacy.route("/legacy/reports/<int:report_id>/rename", methods=["POST"])
def legacy_rename(report_id: int):
    data = flask_request.get_json()
    legacy_db.execute(f"UPDATE saved_reports SET name = '{data['name']}' WHERE id = {report_id}")  # expect: input-validation
    return jsonify({"ok": True})


@legacy.route("/legacy/reports/<int:report_id>/owner", methods=["POST"])
def legacy_change_owner(report_id: int):
    try:
        data = SavedReportOwner.model_validate(flask_request.get_json(silent=True) or {})
    except ValidationError as exc:
        return jsonify({"errors": json.loads(exc.json())}), 422
    legacy_db.execute("UPDATE saved_reports SET owner_id = %s WHERE id = %s", (data.owner_id, report_id))
    return jsonify({"ok": True})


@legacy.route("/legacy/reports/<int:report_id>/publish", methods=["POST"])
def legacy_publish(report_id: int):
    bucket = flask_request.args.get("bucket", "reports-public")
    os.system("gsutil -q cp /srv/reports/%d.pdf gs://%s/" % (report_id, bucket))  # expect: input-validation, timeouts
    return jsonify({"ok": True})


class SavedReportOwner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_id: int = Field(strict=True, ge=1)
