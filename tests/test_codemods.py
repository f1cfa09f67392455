"""The offline rewrites of `bepro fix`, family by family: each Do case shows the exact rewrite
(formatting, comments and the added import or constant kept as a person would write them), each
Don't case a shape left alone. Every rewrite goes through the real pipeline (compile, ruff,
re-review), and a second run over the fixed file changes nothing."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from bepro.catalogue.model import Catalogue
from bepro.fix import codemods
from bepro.fix.engine import FixReport, FixRequest, run_fix
from bepro.fix.validate import Checks
from bepro.review.registry import REWRITES, code_table


def fixed(
    tmp_path: Path, catalogue: Catalogue, code: str, unsafe: bool = False
) -> tuple[str, FixReport]:
    """The file after `bepro fix --apply` (with --unsafe-fixes when asked), and the report; a
    second run over the result must change nothing."""
    path = tmp_path / "app.py"
    path.write_text(dedent(code), encoding="utf-8")
    checks = Checks(catalogue, cwd=tmp_path)
    request = FixRequest(
        [path], checks, apply=True, undo_base=tmp_path / "undo", unsafe_fixes=unsafe
    )
    report = run_fix(request)
    after = path.read_text(encoding="utf-8")
    again = run_fix(FixRequest([path], checks, undo_base=tmp_path / "undo", unsafe_fixes=unsafe))
    assert again.diffs == {}, "a second run changed the file"
    return after, report


def statuses(report: FixReport) -> dict[str, str]:
    return {outcome.finding.source: outcome.status for outcome in report.outcomes}


def test_every_rewrite_in_the_table_has_a_codemod_and_a_known_code() -> None:
    assert {rewrite.codemod for rewrite in REWRITES.values()} == set(codemods.TRANSFORMS)
    assert set(REWRITES) <= set(code_table())


# ---------------------------------------------------------------- timeouts


def test_subprocess_calls_get_a_timeout_from_one_module_constant(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """With --unsafe-fixes only: a guessed limit can kill a long build or migration."""
    code = '''\
        """Runs git."""

        import subprocess


        def head(repo: str) -> str:
            # the short hash only
            subprocess.run(["git", "fetch"], cwd=repo, check=True)
            return subprocess.check_output(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=repo,
            ).decode()
        '''
    safe_only, _ = fixed(tmp_path, catalogue, code)
    assert safe_only == dedent(code)
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == dedent(
        '''\
        """Runs git."""

        import subprocess

        # Seconds a child process may run (added by `bepro fix`): tune per command.
        SUBPROCESS_TIMEOUT_S = 60.0


        def head(repo: str) -> str:
            # the short hash only
            subprocess.run(["git", "fetch"], cwd=repo, check=True, timeout=SUBPROCESS_TIMEOUT_S)
            return subprocess.check_output(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=repo,
                timeout=SUBPROCESS_TIMEOUT_S,
            ).decode()
        '''
    )
    assert set(statuses(report).values()) == {"applied"}


def test_urlopen_and_redis_clients_get_their_own_timeouts(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        import urllib.request

        import redis
        from redis import from_url


        def fetch(url):
            with urllib.request.urlopen(url) as response:
                return response.read()


        CACHE = redis.Redis(host="cache", socket_connect_timeout=1)
        QUEUE = from_url("redis://queue")
        """,
    )
    assert "urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S)" in after
    assert (
        'redis.Redis(host="cache", socket_connect_timeout=1, socket_timeout=REDIS_TIMEOUT_S)'
        in after
    )
    assert (
        'from_url("redis://queue", socket_timeout=REDIS_TIMEOUT_S, '
        "socket_connect_timeout=REDIS_TIMEOUT_S)"
    ) in after
    assert after.count("REDIS_TIMEOUT_S = 5.0") == 1
    assert after.count("HTTP_TIMEOUT_S = 10.0") == 1


def test_mail_and_file_transfer_clients_get_a_socket_timeout(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """imaplib, poplib, ftplib and imap_tools' mailboxes wait on the socket default (none)
    without `timeout=`; one given positionally is left as it is."""
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        import ftplib
        import imaplib
        import poplib

        from imap_tools import MailBoxUnencrypted


        def inbox(host):
            with MailBoxUnencrypted(host, 143) as box:
                return list(box.fetch())


        def legacy(host):
            imaplib.IMAP4_SSL(host)
            poplib.POP3(host)
            ftplib.FTP(host, "anonymous", "", "", 30)
            imaplib.IMAP4(host, 143, 5.0)
        """,
    )
    assert "MailBoxUnencrypted(host, 143, timeout=SOCKET_TIMEOUT_S)" in after
    assert "imaplib.IMAP4_SSL(host, timeout=SOCKET_TIMEOUT_S)" in after
    assert "poplib.POP3(host, timeout=SOCKET_TIMEOUT_S)" in after
    assert 'ftplib.FTP(host, "anonymous", "", "", 30)\n' in after
    assert "imaplib.IMAP4(host, 143, 5.0)\n" in after
    assert after.count("SOCKET_TIMEOUT_S = 10.0") == 1


def test_a_constant_the_module_already_has_is_used_as_it_is(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import subprocess

    SUBPROCESS_TIMEOUT_S = 5  # the deploy step is quick


    def deploy():
        proc = subprocess.Popen(["deploy"], stdout=subprocess.PIPE)
        out, _ = proc.communicate()
        return subprocess.call(["notify"])
    """
    after, _ = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == dedent(code).replace(
        "proc.communicate()", "proc.communicate(timeout=SUBPROCESS_TIMEOUT_S)"
    ).replace('call(["notify"])', 'call(["notify"], timeout=SUBPROCESS_TIMEOUT_S)')


def test_calls_on_the_session_a_helper_returns_get_a_timeout(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """liberapay's shape: the module's requests.Session comes from `_init_session()`, which sets
    its auth header first; the helper's own call is not the HTTP call."""
    after, report = fixed(
        tmp_path,
        catalogue,
        """        import requests

        session = requests.Session()


        def _init_session():
            session.headers["Authorization"] = "Basic abc"
            return session


        def create_order(url, data):
            return _init_session().post(url, json=data).json()
        """,
    )
    assert statuses(report) == {"bepro:session-call-without-timeout": "applied"}
    assert "return _init_session().post(url, json=data, timeout=HTTP_TIMEOUT_S).json()" in after


SETTINGS_BOUNDS = [
    (
        "smtp-without-timeout",
        ("EMAIL_HOST", 'os.environ["EMAIL_HOST"]'),
        ("EMAIL_PORT", "587"),
        "# Seconds Django waits on the mail server (added by `bepro fix`): tune per server.\n"
        "    EMAIL_TIMEOUT = 10",
    ),
    (
        "oidc-login-without-timeout",
        ("OIDC_OP_TOKEN_ENDPOINT", 'os.getenv("OIDC_OP_TOKEN_ENDPOINT")'),
        ("OIDC_RP_CLIENT_ID", '"staff"'),
        "# Seconds the OIDC login waits on the provider (added by `bepro fix`): tune per"
        " provider.\n    OIDC_TIMEOUT = 10",
    ),
]


@pytest.mark.parametrize(("code", "anchor", "next_setting", "added"), SETTINGS_BOUNDS)
def test_django_settings_get_their_timeout_right_after_the_setting_that_needs_it(
    tmp_path: Path,
    catalogue: Catalogue,
    code: str,
    anchor: tuple[str, str],
    next_setting: tuple[str, str],
    added: str,
) -> None:
    """EMAIL_TIMEOUT after EMAIL_HOST, OIDC_TIMEOUT after the token endpoint, in the block
    (here an `if`) that sets it."""
    (name, value), (next_name, next_value) = anchor, next_setting
    source = (
        "import os\n\n"
        'INSTALLED_APPS = ["accounts", "mozilla_django_oidc"]\n\n'
        'if os.environ.get("CONFIGURED"):\n'
        f"    {name} = {value}\n"
        f"    {next_name} = {next_value}\n"
    )
    after, report = fixed(tmp_path, catalogue, source)
    assert statuses(report) == {f"bepro:{code}": "applied"}
    assert after.endswith(f"    {name} = {value}\n    {added}\n    {next_name} = {next_value}\n")


def test_authlib_clients_get_a_default_timeout_where_they_are_built(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, report = fixed(
        tmp_path,
        catalogue,
        """\
        from authlib.integrations.django_client import OAuth
        from authlib.integrations.requests_client import OAuth2Session

        oauth = OAuth()
        oauth.register(
            name="feide",
            server_metadata_url="https://auth.example/.well-known/openid-configuration",
            client_kwargs={
                "scope": "openid",
            },
        )
        oauth.register(name="github", client_id="id", api_base_url="https://api.github.com/")


        def admin_session() -> OAuth2Session:
            return OAuth2Session(client_id="admin", token_endpoint="https://auth.example/token")
        """,
    )
    assert set(statuses(report).values()) == {"applied"}
    assert '        "scope": "openid",\n        "default_timeout": HTTP_TIMEOUT_S,\n' in after
    assert 'client_kwargs={"default_timeout": HTTP_TIMEOUT_S})' in after
    assert 'token_endpoint="https://auth.example/token", default_timeout=HTTP_TIMEOUT_S)' in after
    assert "HTTP_TIMEOUT_S = 10.0\n" in after


def test_disabled_timeouts_are_turned_back_on_in_each_library_spelling(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        import aiohttp


        async def fetch(url):
            async with aiohttp.ClientSession(timeout=None) as session:
                async with session.get(url) as response:
                    return await response.text()
        """,
    )
    assert "aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S))" in after
    httpx_after, _ = fixed(
        tmp_path, catalogue, "import httpx\n\nCLIENT = httpx.Client(base_url='x', timeout=None)\n"
    )
    assert "httpx.Client(base_url='x', timeout=HTTP_TIMEOUT_S)" in httpx_after


def test_waits_that_take_a_timeout_another_way_are_left_alone(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import subprocess


    def run(cmd, options):
        subprocess.run(cmd, **options)
        return subprocess.check_output(cmd, timeout=30)
    """
    after, report = fixed(tmp_path, catalogue, code)
    assert after == dedent(code)
    assert report.outcomes == []


# ---------------------------------------------------------------- async-io


def test_blocking_sleep_and_whole_file_io_in_async_def_leave_the_event_loop(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, report = fixed(
        tmp_path,
        catalogue,
        """\
        import json
        from time import sleep


        async def load(path):
            sleep(0.5)  # the NFS mount is slow to settle
            with open(path, encoding="utf-8") as source:
                return json.loads(source.read())


        async def save(path, blob):
            with open(path, "wb") as out:
                out.write(blob)
        """,
    )
    assert after == dedent(
        """\
        import asyncio
        import json
        from pathlib import Path


        async def load(path):
            await asyncio.sleep(0.5)  # the NFS mount is slow to settle
            return json.loads(await asyncio.to_thread(Path(path).read_text, encoding="utf-8"))


        async def save(path, blob):
            await asyncio.to_thread(Path(path).write_bytes, blob)
        """
    )
    assert set(statuses(report).values()) == {"applied"}


def test_file_io_that_is_not_one_whole_read_or_write_is_left_alone(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import time


    async def tail(path):
        with open(path) as source:
            return [line for line in source]


    async def append(path, line):
        with open(path, "a") as out:
            out.write(line)


    def sync_pause():
        time.sleep(1)
    """
    after, report = fixed(tmp_path, catalogue, code)
    assert after == dedent(code)
    assert set(statuses(report).values()) == {"skipped"}


def test_dropped_tasks_are_kept_in_one_module_set_until_they_finish(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        import asyncio


        async def handle(event, task):
            asyncio.create_task(audit(event))
            asyncio.ensure_future(audit(task))


        async def audit(event):
            return event
        """,
    )
    assert after == dedent(
        """\
        import asyncio

        # Tasks started in the background, kept until they finish: the event loop holds tasks only
        # weakly, and a task nothing refers to may vanish mid-flight (added by `bepro fix`).
        _BACKGROUND_TASKS: set[object] = set()


        async def handle(event, task):
            task_2 = asyncio.create_task(audit(event))
            _BACKGROUND_TASKS.add(task_2)
            task_2.add_done_callback(_BACKGROUND_TASKS.discard)
            task_3 = asyncio.ensure_future(audit(task))
            _BACKGROUND_TASKS.add(task_3)
            task_3.add_done_callback(_BACKGROUND_TASKS.discard)


        async def audit(event):
            return event
        """
    )


# ---------------------------------------------------------------- id-generation


def test_ids_from_random_draw_the_same_way_from_the_os_csprng(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        import random
        import string
        import uuid
        from random import choices


        def invite_code():
            return "".join(choices(string.digits, k=6))  # read out over the phone


        def order_id():
            return str(random.randint(0, 10**9))


        def session_token():
            return "%x" % random.getrandbits(48)


        def record_id():
            return str(uuid.uuid1())
        """,
    )
    assert after == dedent(
        """\
        import secrets
        import string
        import uuid


        def invite_code():
            return "".join(secrets.SystemRandom().choices(string.digits, k=6))  # read out over the phone


        def order_id():
            return str(secrets.SystemRandom().randint(0, 10**9))


        def session_token():
            return "%x" % secrets.randbits(48)


        def record_id():
            return str(uuid.uuid4())
        """
    )


def test_a_truncated_uuid_grows_back_only_with_unsafe_fixes(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = "import uuid\n\n\ndef short_id():\n    return str(uuid.uuid4())[:8]\n"
    after, report = fixed(tmp_path, catalogue, code)
    assert after == code
    assert not report.outcomes  # a preview code: only the unsafe fixes select it
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == code.replace("[:8]", "")
    assert report.diffs[str(tmp_path / "app.py")].startswith("# bepro: UNSAFE fixes")


def test_random_values_that_are_not_ids_and_seeded_generators_are_left_alone(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import random


    def backoff(attempt):
        return random.uniform(0, 2**attempt)


    def replay_id(seed):
        rng = random.Random(seed)
        return "".join(rng.choices("abc", k=12))
    """
    after, report = fixed(tmp_path, catalogue, code)
    assert after == dedent(code)
    assert set(statuses(report).values()) <= {"skipped"}


# ---------------------------------------------------------------- backpressure


def test_unbounded_queues_get_a_maxsize_with_unsafe_fixes(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, report = fixed(
        tmp_path,
        catalogue,
        """\
        import asyncio
        import queue

        EVENTS = asyncio.Queue()  # filled by the webhook handler
        JOBS = queue.Queue(maxsize=0)
        """,
        unsafe=True,
    )
    assert after == dedent(
        """\
        import asyncio
        import queue

        # Items a queue holds before its producers wait (added by `bepro fix`): tune per queue.
        QUEUE_MAXSIZE = 1000

        EVENTS = asyncio.Queue(maxsize=QUEUE_MAXSIZE)  # filled by the webhook handler
        JOBS = queue.Queue(maxsize=QUEUE_MAXSIZE)
        """
    )
    assert {outcome.safe for outcome in report.outcomes} == {False}


def test_a_queue_fed_with_put_nowait_is_left_alone(tmp_path: Path, catalogue: Catalogue) -> None:
    code = """\
    import asyncio

    EVENTS = asyncio.Queue()


    def on_event(event):
        EVENTS.put_nowait(event)
    """
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == dedent(code)
    assert statuses(report) == {"bepro:unbounded-queue": "skipped"}


# ---------------------------------------------------------------- structured-logs


def test_log_messages_become_templates_with_the_same_text(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, report = fixed(
        tmp_path,
        catalogue,
        """\
        import logging

        log = logging.getLogger(__name__)


        def pay(user, amount, items):
            log.info(f"{user} paid {amount:.2f} for {len(items)} items, 100% settled")
            log.warning("retrying %s after %ds" % (user, 5))
            log.error("user {} owes {!r}".format(user, amount))
            log.debug(
                "paid: " + user,  # audit trail
            )
        """,
    )
    assert after == dedent(
        """\
        import logging

        log = logging.getLogger(__name__)


        def pay(user, amount, items):
            log.info("%s paid %.2f for %s items, 100%% settled", user, amount, len(items))
            log.warning("retrying %s after %ds", user, 5)
            log.error("user %s owes %r", user, amount)
            log.debug(
                "paid: %s",  # audit trail
                user,
            )
        """
    )
    assert sorted(statuses(report)) == ["ruff:G001", "ruff:G002", "ruff:G003", "ruff:G004"]


def test_a_message_split_over_lines_keeps_its_lines(tmp_path: Path, catalogue: Catalogue) -> None:
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        import logging

        log = logging.getLogger(__name__)


        def failed(email, case):
            log.warning(
                f"Failed to add {email} to case {case}, "
                "100% of the others went through"
            )
        """,
    )
    assert after == dedent(
        """\
        import logging

        log = logging.getLogger(__name__)


        def failed(email, case):
            log.warning(
                "Failed to add %s to case %s, "
                "100%% of the others went through",
                email,
                case
            )
        """
    )


def test_messages_whose_text_would_change_are_left_alone(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import logging

    log = logging.getLogger(__name__)


    def report(user, pair, load):
        log.info(f"{user=}")
        log.info(f"{user:>10}|")
        log.info("%s and %s" % pair)
        log.info("{b} {a}".format(a=load(), b=load()))
    """
    after, report = fixed(tmp_path, catalogue, code)
    assert after == dedent(code)
    assert set(statuses(report).values()) == {"skipped"}


def test_prints_and_root_logger_calls_move_to_the_module_logger_only_when_unsafe(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import logging


    def run(rows):
        print("saved", len(rows), "rows")
        logging.info("done")
    """
    after, _ = fixed(tmp_path, catalogue, code)
    assert after == dedent(code)
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == dedent(
        """\
        import logging

        logger = logging.getLogger(__name__)


        def run(rows):
            logger.info("saved %s rows", len(rows))
            logger.info("done")
        """
    )
    assert {outcome.safe for outcome in report.outcomes} == {False}


# ---------------------------------------------------------------- secrets and hardening


def test_secrets_move_to_the_environment_only_with_unsafe_fixes(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import jwt

    STRIPE_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"  # rotated quarterly


    def issue(claims):
        return jwt.encode(claims, "s3cret-signing-key", algorithm="HS256")
    """
    after, report = fixed(tmp_path, catalogue, code)
    assert after == dedent(code)
    assert {outcome.status for outcome in report.outcomes} == {"skipped"}
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == dedent(
        """\
        import os

        import jwt

        STRIPE_KEY = os.environ["STRIPE_KEY"]  # rotated quarterly


        def issue(claims):
            return jwt.encode(claims, os.environ["JWT_SECRET"], algorithm="HS256")
        """
    )


def test_a_secret_fallback_becomes_a_required_variable(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = 'import os\n\nSECRET_KEY = os.getenv("SECRET_KEY", "dev-secret-key")\n'
    after, _ = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == 'import os\n\nSECRET_KEY = os.environ["SECRET_KEY"]\n'


def test_a_settings_library_read_loses_its_default_key(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """django-environ and decouple raise on a missing variable once no default is given."""
    code = dedent(
        """\
        import environ
        from decouple import config

        env = environ.Env()
        SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="change-me")
        JWT_SECRET = config("JWT_SECRET", default="dev-jwt")
        DEBUG = env.bool("DEBUG", default=False)
        """
    )
    after, _ = fixed(tmp_path, catalogue, code, unsafe=True)
    assert 'SECRET_KEY = env.str("DJANGO_SECRET_KEY")\n' in after
    assert 'JWT_SECRET = config("JWT_SECRET")\n' in after
    assert 'DEBUG = env.bool("DEBUG", default=False)\n' in after


def test_checks_turned_off_are_turned_back_on(tmp_path: Path, catalogue: Catalogue) -> None:
    after, report = fixed(
        tmp_path,
        catalogue,
        """\
        import requests
        import yaml


        def fetch(url):
            response = requests.get(
                url,
                timeout=5,
                verify=False,  # the partner's certificate expired
            )
            try:
                return yaml.load(response.text, Loader=yaml.Loader)
            except:
                return None
        """,
        unsafe=True,
    )
    assert after == dedent(
        """\
        import requests
        import yaml


        def fetch(url):
            response = requests.get(
                url,
                timeout=5,  # the partner's certificate expired
            )
            try:
                return yaml.safe_load(response.text)
            except Exception:
                return None
        """
    )
    safe = {outcome.finding.source: outcome.safe for outcome in report.outcomes}
    assert safe == {"ruff:S501": False, "ruff:S506": True, "ruff:E722": True}


def test_mail_clients_get_a_verifying_context(tmp_path: Path, catalogue: Catalogue) -> None:
    """With --unsafe-fixes only: a server with a self-signed certificate stops answering."""
    code = """\
        import imaplib
        import smtplib


        def send(host: str, user: str, password: str) -> None:
            with smtplib.SMTP(host, 587, timeout=10) as smtp:
                smtp.starttls()
                smtp.login(user, password)


        def inbox(host: str, user: str, password: str) -> imaplib.IMAP4_SSL:
            mailbox = imaplib.IMAP4_SSL(host, 993, timeout=10)
            mailbox.login(user, password)
            return mailbox
        """
    safe_only, _ = fixed(tmp_path, catalogue, code)
    assert safe_only == dedent(code)
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == dedent(
        """\
        import imaplib
        import smtplib
        import ssl


        def send(host: str, user: str, password: str) -> None:
            with smtplib.SMTP(host, 587, timeout=10) as smtp:
                smtp.starttls(context=ssl.create_default_context())
                smtp.login(user, password)


        def inbox(host: str, user: str, password: str) -> imaplib.IMAP4_SSL:
            mailbox = imaplib.IMAP4_SSL(host, 993, timeout=10, ssl_context=ssl.create_default_context())
            mailbox.login(user, password)
            return mailbox
        """
    )
    assert set(statuses(report).values()) == {"applied"}


def test_a_built_and_dropped_error_is_raised(tmp_path: Path, catalogue: Catalogue) -> None:
    """With --unsafe-fixes only: the code after it no longer runs on that path."""
    code = """\
        from app.errors import ApiError


        def create(user: object) -> None:
            try:
                user.save()
            except OSError as error:
                ApiError(str(error), 500)  # the request fails here
        """
    safe_only, _ = fixed(tmp_path, catalogue, code)
    assert safe_only == dedent(code)
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert "        raise ApiError(str(error), 500) from error  # the request fails here\n" in after
    assert statuses(report) == {"bepro:exception-not-raised": "applied"}


# ---------------------------------------------------------------- time-utc


def test_naive_constructors_parsers_and_dates_become_utc(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, report = fixed(
        tmp_path,
        catalogue,
        """\
        from datetime import date, datetime


        def stamps(text, ts):
            start = datetime(2024, 5, 1)  # the launch
            parsed = datetime.strptime(text, "%Y-%m-%d %H:%M")
            return start, parsed, date.today(), date.fromtimestamp(ts)
        """,
    )
    assert after == dedent(
        """\
        from datetime import UTC, datetime


        def stamps(text, ts):
            start = datetime(2024, 5, 1, tzinfo=UTC)  # the launch
            parsed = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            return start, parsed, datetime.now(UTC).date(), datetime.fromtimestamp(ts, UTC).date()
        """
    )
    assert sorted(statuses(report)) == ["ruff:DTZ001", "ruff:DTZ007", "ruff:DTZ011", "ruff:DTZ012"]


def test_a_project_that_supports_python_3_10_gets_timezone_utc(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """`datetime.UTC` is 3.11+: the project's requires-python decides the spelling."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "hub"\nrequires-python = ">=3.10"\n', encoding="utf-8"
    )
    code = """\
    import datetime
    from datetime import datetime as dt


    def stamps():
        return datetime.datetime.utcnow(), dt.now()
    """
    after, _ = fixed(tmp_path, catalogue, code)
    assert after == dedent(
        """\
        import datetime
        from datetime import datetime as dt, timezone


        def stamps():
            return datetime.datetime.now(datetime.timezone.utc), dt.now(timezone.utc)
        """
    )


def test_a_parse_format_with_an_offset_is_left_alone(tmp_path: Path, catalogue: Catalogue) -> None:
    code = """\
    import datetime


    def parse(text, fmt):
        return datetime.datetime.strptime(text, fmt)
    """
    after, report = fixed(tmp_path, catalogue, code)
    assert after == dedent(code)
    assert set(statuses(report).values()) <= {"skipped"}


# ---------------------------------------------------------------- retries and cache


def test_retry_policies_get_a_limit_and_jittered_backoff(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        from tenacity import retry


        @retry(reraise=True)
        def fetch():
            return 1


        @retry
        def ping():
            return 2
        """,
    )
    assert after == dedent(
        """\
        from tenacity import retry, stop_after_attempt, wait_random_exponential

        # When retries give up (added by `bepro fix`): tune per call.
        RETRY_STOP = stop_after_attempt(4)

        # Seconds between retries, growing, with jitter (added by `bepro fix`): tune per call.
        RETRY_WAIT = wait_random_exponential(multiplier=0.5, max=10.0)


        @retry(reraise=True, stop=RETRY_STOP, wait=RETRY_WAIT)
        def fetch():
            return 1


        @retry(stop=RETRY_STOP, wait=RETRY_WAIT)
        def ping():
            return 2
        """
    )


def test_an_exponential_wait_gets_jitter_and_keeps_its_cap(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        from tenacity import retry, stop_after_attempt, wait_exponential


        @retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=1, max=10))
        def upload():
            return 1
        """,
    )
    assert after == dedent(
        """\
        from tenacity import retry, stop_after_attempt, wait_random_exponential


        @retry(stop=stop_after_attempt(3), wait=wait_random_exponential(multiplier=1, max=10))
        def upload():
            return 1
        """
    )


def test_a_redis_cache_fill_gets_a_ttl_and_other_caches_are_left_alone(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    fill = """\
    import json

    import {library}

    cache = {library}.Redis()


    def profile(user_id, load):
        cached = cache.get(user_id)
        if cached is None:
            cache.set(user_id, json.dumps(load(user_id)))
        return cached
    """
    after, _ = fixed(tmp_path, catalogue, fill.format(library="redis"))
    assert "cache.set(user_id, json.dumps(load(user_id)), ex=CACHE_TTL_S)" in after
    assert after.count("CACHE_TTL_S = 300") == 1
    other = fill.format(library="memcachelib")
    after, report = fixed(tmp_path, catalogue, other)
    assert after == dedent(other)
    assert statuses(report) == {"bepro:cache-fill-without-ttl": "skipped"}


# ---------------------------------------------------------------- imports and newer syntax


def test_an_added_import_goes_after_future_imports_in_its_own_block(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    after, _ = fixed(
        tmp_path,
        catalogue,
        """\
        from __future__ import annotations

        import time


        async def pause():
            time.sleep(1)
        """,
    )
    assert after == dedent(
        """\
        from __future__ import annotations

        import asyncio


        async def pause():
            await asyncio.sleep(1)
        """
    )


def test_a_file_in_newer_syntax_than_this_python_is_still_fixed(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import time


    def first[T](items: list[T]) -> T:
        return items[0]


    async def pause():
        time.sleep(1)
    """
    after, report = fixed(tmp_path, catalogue, code)
    assert "await asyncio.sleep(1)" in after
    assert "def first[T](items: list[T]) -> T:" in after
    assert statuses(report) == {"ruff:ASYNC251": "applied"}


def test_a_root_logger_call_where_logger_names_something_else_is_left_alone(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    code = """\
    import logging


    def run(logger):
        logging.info("starting %s", logger)
    """
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == dedent(code)
    assert statuses(report) == {"ruff:LOG015": "skipped"}


def test_a_password_looking_constant_has_no_rewrite(tmp_path: Path, catalogue: Catalogue) -> None:
    code = 'TOKEN_PREFIX = "polar_pat_"\n'  # ruff's S105 flags it; it is no secret
    after, report = fixed(tmp_path, catalogue, code, unsafe=True)
    assert after == code
    assert report.outcomes == []
