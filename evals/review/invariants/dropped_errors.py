"""Failures built and dropped: the handler goes on as if the check had passed. Raised ones, ones
returned or passed on to a caller, and functions that merely end in "Error" are fine."""

import logging

from flask import jsonify
from sqlalchemy.exc import SQLAlchemyError

from app import db
from app.exceptions import ApiError, NotFoundError
from app.models import User


def create_user(payload: dict[str, str]) -> tuple[object, int]:
    user = User(login=payload["login"])
    try:
        db.session.add(user)
        db.session.commit()
    except SQLAlchemyError as error:
        ApiError(str(error), 500)  # expect: invariants
    return jsonify(token=user.token()), 201


def load(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        NotFoundError(f"no user {user_id}")  # expect: invariants
    if user is not None and user.disabled:
        ValueError("disabled")  # expect: invariants
    return user


def load_or_fail(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id}")
    return user


def as_error(message: str) -> ApiError:
    return ApiError(message, 400)


def ReportError(message: str) -> None:  # noqa: N802 - a function named like an exception
    logging.getLogger(__name__).warning("report failed: %s", message)


def warn(message: str) -> None:
    ReportError(message)
