"""What one module sets for the whole process decides findings in the others: a socket timeout
set at start-up, a requests.Session subclass that gives every call a timeout, a project that is
no Django project (Medusa and SickChill, judged by hand)."""

from __future__ import annotations

from pathlib import Path

from bepro.catalogue.model import Catalogue
from bepro.review import engine

MAILER = """\
import smtplib


def send(host: str, message: str) -> None:
    with smtplib.SMTP(host) as smtp:
        smtp.sendmail("app@example.com", ["ops@example.com"], message)
"""

START = """\
import socket

from app.mailer import send


def main() -> None:
    socket.setdefaulttimeout(30)
    send("mail.example.com", "started")


if __name__ == "__main__":
    main()
"""

PROVIDER = """\
import requests

from app.base import BaseProvider


class NzbIndex(BaseProvider):
    def search(self, term: str) -> str:
        return self.session.get("https://nzbindex.example/search", params={"q": term}).text
"""

BASE = """\
from app.session import AppSession


class BaseProvider:
    def __init__(self) -> None:
        self.session = AppSession()
"""

SESSION = """\
import requests


class AppSession(requests.Session):
    def request(self, method, url, timeout={default}, **kwargs):
        return super().request(method, url, timeout=timeout, **kwargs)
"""

ELSEWHERE = """\
import requests


class Feed:
    def __init__(self, session) -> None:
        self.session = session

    def read(self) -> str:
        return self.session.get("https://feeds.example/rss").text
"""

SETTINGS = "EMAIL_HOST = None\nEMAIL_FROM = None\n"


def _codes(folder: Path, catalogue: Catalogue, *codes: str) -> list[tuple[str, int]]:
    options = engine.ReviewOptions(enabled=frozenset(codes), use_ruff=False)
    result = engine.review_files([folder], catalogue, options)
    return [(Path(f.path).name, f.line) for f in result.findings]


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / "app" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_socket_timeout_set_at_start_up_bounds_the_standard_librarys_clients(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    _write(tmp_path, {"__init__.py": "", "mailer.py": MAILER})
    code = "bepro:blocking-call-without-timeout"
    assert _codes(tmp_path, catalogue, code) == [("mailer.py", 5)]
    _write(tmp_path, {"start.py": START})  # a program: counted, not analysed, but read for it
    assert _codes(tmp_path, catalogue, code) == []


def test_a_start_up_stage_counts_as_start_up_and_a_constructor_does_not(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """SickGear's `initialize()` calls `init_stage_1()`, which sets the socket timeout; a class's
    `__init__` (FlexGet's Windows service) says nothing of the other modules' calls."""
    code = "bepro:blocking-call-without-timeout"
    service = "import socket\n\n\nclass Service:\n    def __init__(self):\n"
    service += "        socket.setdefaulttimeout(60)\n"
    _write(tmp_path, {"__init__.py": "", "mailer.py": MAILER, "service.py": service})
    assert _codes(tmp_path, catalogue, code) == [("mailer.py", 5)]
    stage = "import socket\n\n\ndef init_stage_1(config):\n    socket.setdefaulttimeout(30)\n"
    _write(tmp_path, {"core.py": stage})
    assert _codes(tmp_path, catalogue, code) == []


def test_a_session_subclass_that_times_out_covers_the_sessions_of_modules_importing_it(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """Medusa's providers inherit `self.session` from a base provider that makes a session whose
    request() defaults timeout=30; a module that never imports it is not covered."""
    modules = {"__init__.py": "", "base.py": BASE, "providers.py": PROVIDER, "feeds.py": ELSEWHERE}
    _write(tmp_path, {**modules, "session.py": SESSION.format(default="None")})
    code = "bepro:session-call-without-timeout"
    assert sorted(_codes(tmp_path, catalogue, code)) == [("feeds.py", 9), ("providers.py", 8)]
    _write(tmp_path, {"session.py": SESSION.format(default="30")})
    assert _codes(tmp_path, catalogue, code) == [("feeds.py", 9)]


def test_email_settings_count_only_in_a_django_project(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    _write(tmp_path, {"__init__.py": "", "settings.py": SETTINGS})
    code = "bepro:smtp-without-timeout"
    assert _codes(tmp_path, catalogue, code) == []  # SickChill's settings.py: no Django
    _write(tmp_path, {"views.py": "from django.http import HttpResponse\n"})
    assert _codes(tmp_path, catalogue, code) == [("settings.py", 1)]
