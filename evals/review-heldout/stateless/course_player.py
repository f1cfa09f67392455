"""Course player backend for an e-learning platform (Flask): quiz attempts, progress, uploads and certificates."""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import boto3
import cachetools
import redis
from botocore.config import Config
from celery import Celery
from flask import Flask, Response, g, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import text

from coursehub.certificates import issue_certificate
from coursehub.db import engine
from coursehub.settings import settings

logger = logging.getLogger("coursehub.player")

app = Flask(__name__)
kv = redis.Redis(host=settings.redis_host, socket_timeout=0.3, socket_connect_timeout=1.0, max_connections=50)
s3 = boto3.client("s3", config=Config(connect_timeout=2, read_timeout=10))
celery = Celery("coursehub", broker=settings.broker_url)

GRADE_BOUNDARIES = {"distinction": 0.85, "merit": 0.7, "pass": 0.5}
ALLOWED_UPLOAD_TYPES = frozenset({"application/pdf", "application/zip", "text/x-python"})
ATTEMPT_TTL_S = 2 * 3600
MAX_CHUNK_BYTES = 5 * 1024 * 1024
SUBMISSIONS_PER_MINUTE = 10

ACTIVE_ATTEMPTS: dict[str, dict] = {}
SUBMISSION_COUNTS: dict[str, int] = {}
ONLINE_LEARNERS: set[str] = set()
CURRENT_QUIZ_VERSION = 1
GRADING_LOCK = threading.Lock()
_background = ThreadPoolExecutor(max_workers=4)
_catalog_cache: cachetools.TTLCache[str, dict] = cachetools.TTLCache(maxsize=2_000, ttl=60)


class AttemptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quiz_id: Annotated[str, Field(pattern=r"^quiz_[a-z0-9]{8,32}$")]


class AnswersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    answers: Annotated[dict[Annotated[str, Field(max_length=32)], Annotated[str, Field(max_length=2000)]], Field(max_length=200)]


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lesson_id: Annotated[str, Field(max_length=64)]
    position_s: Annotated[int, Field(ge=0, le=36_000)]


class QuizVersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Annotated[int, Field(ge=1, le=10_000)]


def parse(model: type[BaseModel]) -> BaseModel:
    return model.model_validate(request.get_json(silent=True) or {})


@app.errorhandler(ValidationError)
def invalid(exc: ValidationError) -> tuple[Response, int]:
    return jsonify({"code": "invalid_request", "errors": exc.errors(include_input=False)}), 422


@cachetools.cached(_catalog_cache, lock=threading.Lock())
def course_outline(course_id: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT outline FROM courses WHERE id = :id"), {"id": course_id}).one()
    return json.loads(row.outline)


class ProgressTracker:
    _progress: dict[tuple[str, str], int] = {}

    def record(self, learner_id: str, lesson_id: str, position_s: int) -> None:
        ProgressTracker._progress[(learner_id, lesson_id)] = position_s  # expect: stateless

    def position(self, learner_id: str, lesson_id: str) -> int:
        return ProgressTracker._progress.get((learner_id, lesson_id), 0)


tracker = ProgressTracker()


@app.get("/v1/courses/<course_id>/outline")
def get_outline(course_id: str) -> tuple[Response, int]:
    return jsonify(course_outline(course_id)), 200


@app.put("/v1/attempts/<attempt_id>")
def start_attempt(attempt_id: str) -> tuple[Response, int]:
    body = parse(AttemptIn)
    ACTIVE_ATTEMPTS[attempt_id] = {"learner": g.learner_id, "quiz": body.quiz_id, "started": datetime.now(UTC).isoformat()}  # expect: stateless
    return jsonify({"id": attempt_id}), 201


@app.put("/v2/attempts/<attempt_id>")
def start_attempt_v2(attempt_id: str) -> tuple[Response, int]:
    body = parse(AttemptIn)
    state = {"learner": g.learner_id, "quiz": body.quiz_id, "started": datetime.now(UTC).isoformat()}
    created = kv.set(f"attempt:v2:{attempt_id}", json.dumps(state), nx=True, ex=ATTEMPT_TTL_S)
    return jsonify({"id": attempt_id}), 201 if created else 200


@app.put("/v1/attempts/<attempt_id>/answers")
def submit_answers(attempt_id: str) -> tuple[Response, int]:
    SUBMISSION_COUNTS[g.learner_id] = SUBMISSION_COUNTS.get(g.learner_id, 0) + 1  # expect: stateless
    if SUBMISSION_COUNTS[g.learner_id] > SUBMISSIONS_PER_MINUTE:
        return jsonify({"code": "rate_limited"}), 429
    body = parse(AnswersIn)
    kv.set(f"answers:v1:{attempt_id}", json.dumps(body.answers), ex=ATTEMPT_TTL_S)
    return jsonify({"saved": len(body.answers)}), 200


@app.put("/v2/attempts/<attempt_id>/answers")
def submit_answers_v2(attempt_id: str) -> tuple[Response, int]:
    window = int(datetime.now(UTC).timestamp() // 60)
    key = f"ratelimit:answers:{g.learner_id}:{window}"
    pipe = kv.pipeline()
    pipe.incr(key)
    pipe.expire(key, 120)
    count, _ = pipe.execute()
    if count > SUBMISSIONS_PER_MINUTE:
        limited = jsonify({"code": "rate_limited"})
        limited.headers["Retry-After"] = "60"
        return limited, 429
    body = parse(AnswersIn)
    kv.set(f"answers:v2:{attempt_id}", json.dumps(body.answers), ex=ATTEMPT_TTL_S)
    return jsonify({"saved": len(body.answers)}), 200


@app.put("/v1/progress")
def save_progress() -> tuple[Response, int]:
    body = parse(ProgressIn)
    tracker.record(g.learner_id, body.lesson_id, body.position_s)
    return jsonify({"ok": True}), 200


@app.put("/v2/progress")
def save_progress_v2() -> tuple[Response, int]:
    body = parse(ProgressIn)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO lesson_progress (learner_id, lesson_id, position_s, updated_at) VALUES (:l, :s, :p, now()) "
                "ON CONFLICT (learner_id, lesson_id) DO UPDATE SET position_s = excluded.position_s, updated_at = now()"
            ),
            {"l": g.learner_id, "s": body.lesson_id, "p": body.position_s},
        )
    return jsonify({"ok": True}), 200


@app.put("/v1/heartbeat")
def heartbeat() -> tuple[Response, int]:
    ONLINE_LEARNERS.add(g.learner_id)  # expect: stateless
    return jsonify({"online": len(ONLINE_LEARNERS)}), 200


@app.put("/v2/heartbeat")
def heartbeat_v2() -> tuple[Response, int]:
    now = datetime.now(UTC).timestamp()
    pipe = kv.pipeline()
    pipe.zadd("online:v2", {g.learner_id: now})
    pipe.zremrangebyscore("online:v2", 0, now - 120)
    pipe.zcard("online:v2")
    _, _, online = pipe.execute()
    return jsonify({"online": online}), 200


@app.put("/v1/admin/quiz-version")
def set_quiz_version() -> tuple[Response, int]:
    global CURRENT_QUIZ_VERSION  # expect: stateless
    CURRENT_QUIZ_VERSION = parse(QuizVersionIn).version
    return jsonify({"version": CURRENT_QUIZ_VERSION}), 200


@app.put("/v1/admin/exports/progress")
def export_progress() -> tuple[Response, int]:
    app.config["LAST_PROGRESS_EXPORT_AT"] = datetime.now(UTC).isoformat()  # expect: stateless
    job = celery.send_task("exports.progress", kwargs={"requested_by": g.learner_id})
    return jsonify({"job_id": job.id}), 202


@app.put("/v1/submissions/<submission_id>/chunks/<int:index>")
def upload_chunk(submission_id: str, index: int) -> tuple[Response, int]:
    if request.content_length is None or request.content_length > MAX_CHUNK_BYTES:
        return jsonify({"code": "chunk_too_large"}), 413
    target = Path("/var/lib/coursehub/uploads") / g.learner_id / f"{submission_id}-{index:05d}.part"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as fh:  # expect: stateless
        fh.write(request.get_data(cache=False))
    return jsonify({"received": index}), 200


@app.put("/v2/submissions/<submission_id>/upload-url")
def upload_url(submission_id: str) -> tuple[Response, int]:
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": settings.submissions_bucket, "Key": f"{g.learner_id}/{submission_id}.zip", "ContentType": "application/zip"},
        ExpiresIn=900,
    )
    return jsonify({"url": url}), 200


@app.put("/v2/submissions/<submission_id>/lint")
def lint_submission(submission_id: str) -> tuple[Response, int]:
    if request.content_length is None or request.content_length > MAX_CHUNK_BYTES:
        return jsonify({"code": "too_large"}), 413
    with tempfile.NamedTemporaryFile(suffix=".py") as scratch:
        scratch.write(request.get_data(cache=False))
        scratch.flush()
        s3.upload_file(scratch.name, settings.submissions_bucket, f"{g.learner_id}/{submission_id}/main.py")
    return jsonify({"queued": True}), 202


@app.put("/v1/attempts/<attempt_id>/grade")
def grade_attempt(attempt_id: str) -> tuple[Response, int]:
    if not GRADING_LOCK.acquire(timeout=2):  # expect: stateless
        return jsonify({"code": "grader_busy"}), 503
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE attempts SET status = 'graded' WHERE id = :id AND status = 'submitted'"), {"id": attempt_id})
    finally:
        GRADING_LOCK.release()
    return jsonify({"id": attempt_id}), 200


@app.put("/v2/attempts/<attempt_id>/grade")
def grade_attempt_v2(attempt_id: str) -> tuple[Response, int]:
    with engine.begin() as conn:
        locked = conn.execute(text("SELECT pg_try_advisory_xact_lock(hashtext(:id))"), {"id": attempt_id}).scalar_one()
        if not locked:
            return jsonify({"code": "grading_in_progress"}), 409
        conn.execute(text("UPDATE attempts SET status = 'graded' WHERE id = :id AND status = 'submitted'"), {"id": attempt_id})
    return jsonify({"id": attempt_id}), 200


@app.put("/v1/courses/<course_id>/certificate")
def request_certificate(course_id: str) -> tuple[Response, int]:
    _background.submit(issue_certificate, g.learner_id, course_id)  # expect: stateless
    return jsonify({"status": "processing"}), 202


@app.put("/v2/courses/<course_id>/certificate")
def request_certificate_v2(course_id: str) -> tuple[Response, int]:
    job = celery.send_task("certificates.issue", args=[g.learner_id, course_id], task_id=f"cert-{g.learner_id}-{course_id}")
    return jsonify({"status": "queued", "job_id": job.id}), 202


@app.get("/v1/lessons/<lesson_id>/position")
def lesson_position(lesson_id: str) -> tuple[Response, int]:
    g.lesson_id = lesson_id
    return jsonify({"position_s": tracker.position(g.learner_id, lesson_id)}), 200
