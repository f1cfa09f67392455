"""A module that calls an HTTP API and writes through Flask-SQLAlchemy's `db.session`, imported
from the app's models: the database session's `delete` and `get` are not HTTP calls. The
requests session beside it still needs its timeout."""

import requests

from app.models import Event, db

http_session = requests.Session()


def import_event(url: str, event: Event) -> None:
    response = http_session.get(url)  # expect: timeouts
    if response.status_code != 200:
        db.session.delete(event)
        db.session.commit()
        return
    event.payload = response.json()
    db.session.add(event)
    db.session.commit()


def drop_event(event_id: int) -> None:
    event = db.session.get(Event, event_id)
    db.session.delete(event)
    db.session.commit()
