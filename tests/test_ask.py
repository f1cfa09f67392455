"""`bepro ask` answers offline, cites the right rules in priority order, and abstains off-topic."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from textwrap import dedent

import pytest

from bepro.agent.ask import (
    MAX_FINDINGS_SHOWN,
    MAX_REWRITE_FINDINGS,
    UNSURE_BELOW,
    AskRequest,
    AskResult,
    Focus,
    ask,
    question_topic,
    review_code,
    without_own_names,
)
from bepro.agent.intent import infer_action
from bepro.catalogue.model import Catalogue
from bepro.config import Paths
from bepro.retrieval.search import Retriever

from .conftest import ROOT, bepro_command, invoke_bepro, run_bepro

# A client with no timeout (a default code), an f-string in a log call and a random client id
# (preview codes, mostly noise on real code).
HANGING_CLIENT = dedent(
    """\
    import logging
    import random

    import requests

    log = logging.getLogger(__name__)


    def order_status(order_id: str) -> int:
        client_id = random.randint(1, 9999)
        response = requests.get(f"https://ca.example.com/orders/{order_id}?c={client_id}")
        log.info(f"order {order_id}: {response.status_code}")
        return response.status_code
    """
)


def _debug(
    question: str, code: str, pack: tuple[Paths, Catalogue, Retriever]
) -> tuple[AskResult, str]:
    """A debug answer about the code, and its part before the header (the findings table)."""
    paths, catalogue, retriever = pack
    asked = ask(
        AskRequest(question, action="debug", context=code), catalogue, paths, retriever=retriever
    )
    return asked, asked.answer.split("**Action:**")[0]


def test_payment_retry_question_cites_idempotency_and_retries(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    result = ask(
        AskRequest("how do I make a payment call safe to retry?"),
        catalogue,
        paths,
        retriever=retriever,
    )
    assert result.mode == "offline"
    assert {"idempotency", "retries"} <= set(result.rules)
    assert result.rules == catalogue.in_priority_order(result.rules)
    cited = {citation.rule_id for citation in result.citations}
    assert {"idempotency", "retries"} <= cited
    assert all(c.source.startswith(("references/", "SKILL.md")) for c in result.citations)
    assert "```python" in result.answer
    assert "## Checklist" in result.answer


def test_off_topic_question_abstains(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    result = ask(
        AskRequest("what is a good sourdough recipe?"), catalogue, paths, retriever=retriever
    )
    assert result.abstained
    assert result.rules == []


def test_explicit_action_weighs_its_categories(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    question = "what should I check in this endpoint that stores user emails?"
    secure = ask(AskRequest(question, action="secure"), catalogue, paths, retriever=retriever)
    assert secure.action == "secure"
    assert not secure.action_inferred
    assert "data-min" in secure.rules


def test_the_question_is_echoed_on_one_line_and_the_guess_note_follows_it(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    question = "Our orders thing.\n\n    def handler(order):\n        return order\n\nThoughts?"
    result = ask(AskRequest(question), catalogue, paths, retriever=retriever)
    assert result.action_confidence is not None
    assert result.action_confidence < UNSURE_BELOW  # a guess: the answer says so...
    echo, _, rest = result.answer.partition("\n\n")
    assert echo.endswith("**Question:** Our orders thing…")  # ...never its pasted code
    assert rest.startswith(f"*Answered as `{result.action}` (a guess)")


def test_action_is_inferred_from_the_question(catalogue: Catalogue) -> None:
    actions = catalogue.action_names
    assert infer_action("please review this handler", actions) == "review"
    assert infer_action("p99 latency doubled after the deploy", actions) == "optimize"
    assert infer_action("how do we shard the orders table as traffic grows?", actions) == "scale"
    assert infer_action("how do I add a field to the order API?", actions) == "implement"


def test_cli_ask_json_contract(index_dir: Path) -> None:
    result = run_bepro(
        "ask",
        "how do I make a payment call safe to retry?",
        "--format",
        "json",
        env={"BEPRO_INDEX_DIR": str(index_dir)},
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    # no code was given, so no findings; the action was inferred, so how sure that was
    assert set(payload) == {
        "action",
        "action_inferred",
        "action_confidence",
        "mode",
        "answer",
        "rules",
        "citations",
        "abstained",
    }
    assert payload["action_inferred"] is True
    assert 0.0 < payload["action_confidence"] <= 1.0
    assert payload["mode"] == "offline"
    assert {"idempotency", "retries"} <= set(payload["rules"])
    assert set(payload["citations"][0]) == {"rule_id", "source", "heading"}


def test_the_same_question_gets_the_same_answer_in_every_process(index_dir: Path) -> None:
    """String hashing is seeded per process; no ranking or trimming may depend on set order.
    (Seed 7 once reordered this answer's closest items and dropped a table.)"""
    question = "Our Celery task sometimes runs twice after a worker restart. Why?"
    answers = {
        seed: run_bepro(
            "ask", question, env={"BEPRO_INDEX_DIR": str(index_dir), "PYTHONHASHSEED": seed}
        )
        for seed in ("0", "7")
    }
    assert all(result.returncode == 0 for result in answers.values())
    assert answers["0"].stdout == answers["7"].stdout


def test_cli_ask_with_a_file(index_dir: Path, tmp_path: Path) -> None:
    code = tmp_path / "client.py"
    code.write_text(
        "import requests\n\ndef fetch(url):\n    return requests.get(url)\n", encoding="utf-8"
    )
    result = invoke_bepro(
        "ask",
        "is this HTTP call safe?",
        "--file",
        str(code),
        "--format",
        "json",
        env={"BEPRO_INDEX_DIR": str(index_dir)},
    )
    assert result.returncode == 0, result.stderr
    assert "timeouts" in json.loads(result.stdout)["rules"]


def test_asking_about_a_binary_or_broken_file_says_so(index_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "image.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    binary = invoke_bepro(
        "ask", "what is wrong?", "--file", "image.py", cwd=tmp_path,
        env={"BEPRO_INDEX_DIR": str(index_dir)},
    )  # fmt: skip
    assert binary.returncode == 2
    assert "image.py is a binary file (pass a source file to --file)" in binary.stderr
    (tmp_path / "broken.py").write_text("def charge(:\n    pass\n", encoding="utf-8")
    broken = invoke_bepro(
        "ask", "what is wrong?", "--file", "broken.py", cwd=tmp_path,
        env={"BEPRO_INDEX_DIR": str(index_dir)},
    )  # fmt: skip
    assert broken.returncode == 0, broken.stderr
    assert "`bepro review` could not parse it (cannot parse: " in broken.stdout
    assert "flags nothing" not in broken.stdout


def test_code_piped_to_file_dash_is_reviewed_and_answered(index_dir: Path) -> None:
    piped = subprocess.run(
        bepro_command("ask", "is this call safe?", "--file", "-", "--format", "json"),
        input="import requests\n\nrequests.get('https://partner.example/orders')\n",
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
        env={**os.environ, "BEPRO_INDEX_DIR": str(index_dir)},
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    findings = json.loads(piped.stdout)["findings"]
    assert [(f["path"], f["line"], f["source"]) for f in findings] == [("stdin.py", 3, "ruff:S113")]


PAYMENTS_CLIENT = """\
import requests

API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


def charge(customer_id: str, amount: int) -> dict:
    response = requests.post(
        "https://api.payments.example/charges",
        json={"customer": customer_id, "amount": amount},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    return response.json()
"""


def test_asking_about_code_opens_with_what_the_reviewer_finds(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """A vague question about code still covers every rule its review finds broken."""
    result = ask(
        AskRequest("what is wrong with this code?", context=PAYMENTS_CLIENT),
        catalogue,
        paths,
        retriever=retriever,
    )
    assert result.findings is not None
    assert [(f.line, f.source) for f in result.findings] == [
        (7, "ruff:S113"),
        (3, "bepro:credential-literal"),
    ]
    assert {"timeouts", "secrets"} <= set(result.rules)
    assert result.answer.startswith("## Findings in your code")
    assert "| snippet.py:7 | `ruff:S113` | [timeouts] | 2 |" in result.answer
    clean = ask(
        AskRequest("is this fine?", context="def add(a: int, b: int) -> int:\n    return a + b\n"),
        catalogue,
        paths,
        retriever=retriever,
    )
    assert clean.findings == []
    assert "flags nothing" in clean.answer


def test_a_huge_review_opens_the_answer_with_its_first_findings_and_counts_the_rest(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    calls = "    requests.get(url)\n" * (MAX_FINDINGS_SHOWN + 30)
    code = f"import requests\n\n\ndef fetch(url):\n{calls}"
    result = ask(AskRequest("review this", context=code), catalogue, paths, retriever=retriever)
    assert result.findings is not None
    table = result.answer.split("## Findings in your code", 1)[1].split("\n## ", 1)[0]
    assert table.count("| snippet.py:") == MAX_FINDINGS_SHOWN
    omitted = len(result.findings) - MAX_FINDINGS_SHOWN
    assert f"{omitted} more at lower priority" in table
    assert "`bepro review` on the file lists them all" in table


def test_cli_off_topic_exits_0_with_a_message(index_dir: Path) -> None:
    result = invoke_bepro(
        "ask", "best hiking boots for the alps?", env={"BEPRO_INDEX_DIR": str(index_dir)}
    )
    assert result.returncode == 0
    assert "No rule in this pack covers that question" in result.stdout


@pytest.mark.integration  # a sweep over every review eval file, as the evals run
def test_asking_about_a_file_reports_what_bepro_review_reports(catalogue: Catalogue) -> None:
    """On every snippet of the review evals, the findings an answer about the file opens with
    include every finding of `bepro review --preview` on it (so of the default selection too)."""
    from bepro import Pack

    pack = Pack.open()
    missed: list[str] = []
    reviewed = 0
    for suite in ("review", "review-blind", "review-heldout"):
        for path in sorted((ROOT / "evals" / suite).rglob("*.py")):
            expected = {(f.line, f.source) for f in pack.review([path], preview=True).findings}
            text = path.read_text(encoding="utf-8")
            asked = {(f.line, f.source) for f in review_code(text, str(path), catalogue).findings}
            missed += [f"{path.name}:{line}:{source}" for line, source in expected - asked]
            reviewed += len(expected)
    assert reviewed > 300
    assert missed == []


def test_code_with_many_findings_points_to_bepro_fix_instead_of_rewriting_it(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """Rewrites are validated one by one: an answer rewrites a few findings, not forty."""
    code = "import requests\n\n\ndef fetch(url):\n" + "    requests.get(url)\n" * 40
    result = ask(
        AskRequest("fix this", action="fix", context=code), catalogue, paths, retriever=retriever
    )
    assert result.findings is not None
    assert len(result.findings) > MAX_REWRITE_FINDINGS
    assert result.fixes is None
    assert "`bepro fix` on the file rewrites them all" in result.answer


def test_past_the_limit_an_answer_still_rewrites_the_findings_at_priority_1_to_4(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """A real file's many hygiene findings (f-strings in log calls, priority 5) must not keep
    its one missing timeout from being fixed."""
    logs = "".join(
        f'    logger.info(f"step {n} {{url}}")\n' for n in range(MAX_REWRITE_FINDINGS + 2)
    )
    code = (
        "import logging\n\nimport requests\n\nlogger = logging.getLogger(__name__)\n\n\n"
        f"def fetch(url):\n{logs}    return requests.get(url)\n"
    )
    result = ask(
        AskRequest("fix this", action="fix", context=code), catalogue, paths, retriever=retriever
    )
    assert result.findings is not None
    assert len(result.findings) > MAX_REWRITE_FINDINGS
    assert result.fixes is not None
    assert {(fix.rule_id, fix.status) for fix in result.fixes} == {("timeouts", "proposed")}
    assert "timeout=HTTP_TIMEOUT_S" in result.answer
    assert f"The {MAX_REWRITE_FINDINGS + 2} findings at priority 5-8 are left" in result.answer


def test_an_answer_about_code_also_covers_what_the_question_is_about(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """The code's findings lead, but a question about one topic ("add retries") gets that topic
    too, even when the code's text outweighs it in the ranking of both together."""
    code = dedent(
        """\
        import json
        import logging

        import requests

        logger = logging.getLogger(__name__)


        class EventsClient:
            def __init__(self, api_key, session=None):
                self.api_key = api_key
                self.session = session or requests.Session()

            def send(self, event):
                response = self.session.post(
                    "https://events.example.com/api/v1/events",
                    data=json.dumps(event),
                    headers={"Content-Type": "application/json", "API-KEY": self.api_key},
                )
                logger.debug("Sent an event; the response code was %s" % response.status_code)
        """
    )
    asked = ask(
        AskRequest("add retries to this client", action="implement", context=code),
        catalogue,
        paths,
        retriever=retriever,
    )
    assert {"timeouts", "retries"} <= set(asked.rules)
    assert question_topic("add retries to this client", "implement", retriever) == ["retries"]
    assert question_topic("review this", "review", retriever) == []  # flat: about nothing


def test_preview_findings_are_listed_but_do_not_take_the_answers_rules(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """A client that hangs: the missing timeout leads; an f-string in a log call and a random
    client id (preview codes, mostly noise on real code) are counted under the table and carried
    in the result, not rows or hypotheses of their own."""
    asked = ask(
        AskRequest("why does this hang our workers?", action="debug", context=HANGING_CLIENT),
        catalogue,
        paths,
        retriever=retriever,
    )
    listed = {finding.rule_id for finding in asked.findings}
    assert {"timeouts", "structured-logs", "id-generation"} <= listed
    assert asked.rules[0] == "timeouts"
    assert not {"structured-logs", "id-generation"} & set(asked.rules)
    table = asked.answer.split("**Action:**")[0]
    assert "| `ruff:S113` |" in table
    assert "| `ruff:G004` |" not in table
    assert "also flag 2: `bepro:random-id` line 10; `ruff:G004` line 12." in table
    # a debug answer has no diff, but says the timeout's rewrite is one question away
    assert "1 of these findings has an offline rewrite: ask again with the action `fix`" in table


def test_an_answer_rewrites_what_it_is_about_and_leaves_the_rest_to_bepro_fix(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """A pointed fix, or a refactor, adds the timeout, not a rewrite of the preview code's log
    call (off its topic), and says `bepro fix` on the file rewrites that one too; a terse "fix
    this" rewrites what `bepro fix` would."""

    def rewrites(question: str, action: str) -> str:
        request = AskRequest(question, action=action, context=HANGING_CLIENT)
        answer = ask(request, catalogue, paths, retriever=retriever).answer
        return answer.split("## Validated rewrites")[1]

    for pointed in (
        rewrites("the order status call hangs our workers, fix it", "fix"),
        rewrites("clean up this client", "refactor"),
    ):
        assert "timeout=HTTP_TIMEOUT_S)" in pointed
        assert "+    log.info" not in pointed
        assert "`bepro fix` on the file also rewrites 2 findings of preview codes" in pointed
    terse = rewrites("fix this", "fix")
    assert '+    log.info("order %s: %s", order_id, response.status_code)' in terse
    assert "also rewrites" not in terse


def test_items_that_name_the_codes_own_libraries_come_first(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """An IMAP login that hangs meets the item on the standard library's clients, which the
    question does not name but the code imports, rather than httpx's."""
    code = dedent(
        """\
        import imaplib


        def check_password(host: str, user: str, password: str) -> bool:
            conn = imaplib.IMAP4_SSL(host)
            try:
                conn.login(user, password)
            except imaplib.IMAP4.error:
                return False
            return True
        """
    )
    asked = ask(
        AskRequest("why do logins hang our web workers?", action="debug", context=code),
        catalogue,
        paths,
        retriever=retriever,
    )
    closest = asked.answer.split("## Closest to your question")[1].split("\n## ")[0]
    assert "imaplib.IMAP4_SSL(host, timeout=15)" in closest


def test_an_answer_about_code_shows_the_lines_the_question_names(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """A quoted error names a variable no detector looks at: the answer points at its lines."""
    code = dedent(
        """\
        def revoke(client, cert_id: str, reason: dict) -> None:
            if "comments" not in reason:
                comments = "revoked via API"
            client.revoke(cert_id, comment=comments)
        """
    )
    question = (
        "revoking with a comment fails with UnboundLocalError: local variable 'comments' "
        "referenced before assignment"
    )
    asked = ask(
        AskRequest(question, action="debug", context=code), catalogue, paths, retriever=retriever
    )
    section = _named_lines_section(asked.answer)
    assert "3          comments = " in section  # indented as in the file
    assert "4      client.revoke(cert_id, comment=comments)" in section
    constants = ask(
        AskRequest(
            "can I raise MAX_TRIES, and is _backoff right? HTTP 500s come back",
            action="implement",
            context="MAX_TRIES = 3\nDELAYS = [1, 5]\n\n\ndef _backoff(n):\n    return DELAYS[n]\n",
        ),
        catalogue,
        paths,
        retriever=retriever,
    )
    named = _named_lines_section(constants.answer)
    assert "`MAX_TRIES`, `_backoff`:" in named  # HTTP names nothing: the code does not define it
    assert "...\n5  def _backoff(n):\n6      return DELAYS[n]" in named  # a short one, whole
    plain = ask(
        AskRequest("why don't we retry here? it's slow", action="debug", context=code),
        catalogue,
        paths,
        retriever=retriever,
    )
    assert "## Lines your question names" not in plain.answer


def test_a_method_named_with_its_class_points_at_that_class_method(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """`VerifyView.post`: the `post` of that class, not another view's `post` above it."""
    code = dedent(
        """        class RegenerateView:
            def post(self, request):
                return send_code(request.data["email"])


        class VerifyView:
            @ratelimit(key="post:email", rate="12/m")
            def post(self, request):
                return check_code(request.data["email"], request.data["code"])
        """
    )
    question = "fix the ratelimit on VerifyView.post: users get 403"
    asked = ask(AskRequest(question, context=code), catalogue, paths, retriever=retriever)
    section = _named_lines_section(asked.answer)
    assert "8      def post(self, request):" in section
    assert "2      def post(self, request):" not in section


def _named_lines_section(answer: str) -> str:
    """The answer's "Lines your question names" section (what comes before the action line)."""
    return answer.split("## Lines your question names")[1].split("**Action:**")[0]


def test_a_preview_finding_inside_the_function_the_question_names_leads(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """A naive fromtimestamp (a preview code: mostly harmless on real code) is the likely cause
    when the question names the function it sits in and makes time handling plausible; the
    naive now() in another function stays under the table."""
    code = dedent(
        """\
        import datetime
        import os


        def _modified_after(path: str, since: datetime.datetime) -> bool:
            mtime = os.path.getmtime(path)
            changed = datetime.datetime.fromtimestamp(mtime)
            return changed.replace(tzinfo=datetime.timezone.utc) > since


        def started() -> datetime.datetime:
            return datetime.datetime.now()
        """
    )
    asked, table = _debug(
        "files edited since the last scan are missed when TZ=America/New_York; "
        "_modified_after compares them with the scan's end, what is wrong?",
        code,
        (paths, catalogue, retriever),
    )
    assert "| `ruff:DTZ006` | [time-utc] |" in table  # on a line the question points at
    assert asked.rules[0] == "time-utc"


def test_a_quoted_sentence_points_at_where_it_is_printed_not_at_its_words(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """The words of a quoted message ("been", "out") name no code; the line that prints it is
    shown, and its f-string log call (a preview code) does not take the answer's rules."""
    code = dedent(
        """\
        import logging

        log = logging.getLogger(__name__)
        been_seen: set[str] = set()


        def poll(jobs: list[str]) -> None:
            for job in jobs:
                been_seen.add(job)
                log.error(f"Worker stopped polling after {job}")
                out = len(been_seen)
        """
    )
    asked_question = (
        'The log says "Worker stopped polling after 42" and then nothing. Why does it stop?'
    )
    asked = ask(
        AskRequest(asked_question, action="debug", context=code),
        catalogue,
        paths,
        retriever=retriever,
    )
    lines = asked.answer.split("## Lines your question names")[1].split("\n## ")[0]
    assert '10          log.error(f"Worker stopped polling after {job}")' in lines
    assert "been_seen" not in lines
    assert "out = " not in lines
    plain_call = code.replace(
        'f"Worker stopped polling after {job}"', '"Worker stopped polling after %s", job'
    )
    without_finding = ask(
        AskRequest(asked_question, action="debug", context=plain_call),
        catalogue,
        paths,
        retriever=retriever,
    )
    assert [f.source for f in asked.findings or []] == ["ruff:G004"]
    assert not without_finding.findings
    assert asked.rules == without_finding.rules  # the preview finding took no rule of its own


def test_a_function_named_points_at_its_findings_of_the_rules_the_question_makes_plausible(
    catalogue: Catalogue,
) -> None:
    """Inside a function the question names, a preview finding leads only if its rule is among
    those the question ranks best; a line it names, or a rule it is about, lead whatever."""
    code = dedent(
        """\
        import datetime
        import logging


        def modified(mtime: float) -> datetime.datetime:
            logging.getLogger(__name__).info(f"mtime {mtime}")
            return datetime.datetime.fromtimestamp(mtime)
        """
    )
    found = {f.source: f for f in review_code(code, "a.py", catalogue).findings}
    naive, log_call = found["ruff:DTZ006"], found["ruff:G004"]
    body = Focus(bodies=frozenset(range(5, 8)), plausible=frozenset({"time-utc"}))
    assert body.covers(naive)
    assert not body.covers(log_call)
    assert Focus(lines=frozenset({log_call.line})).covers(log_call)
    assert Focus(rules=frozenset({"structured-logs"})).covers(log_call)


def test_the_codes_own_names_and_text_do_not_choose_the_rules_of_a_pointed_question(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """Functions named after roles, in a module about roles, asked about a COMMIT per user: the
    answer is not about authorization (jupyterhub's roles.py made it the first rule)."""
    code = dedent(
        '''\
        """Roles and scopes: assign default roles to users, grant and strip roles."""

        from sqlalchemy.orm import Session

        from .orm import Role, User


        def grant_role(db: Session, user: User, role_name: str, commit: bool = True) -> None:
            """Grant a role to a user, so that the user gets the role's scopes and permissions."""
            role = db.query(Role).filter_by(name=role_name).one()
            if role not in user.roles:
                user.roles.append(role)
            if commit:
                db.commit()


        def check_for_default_roles(db: Session) -> None:
            for user in db.query(User):
                grant_role(db, user, "user")
        '''
    )
    question = (
        "Startup got really slow after we imported 20k users. py-spy shows most of the time in "
        "check_for_default_roles -> grant_role and the postgres log has a COMMIT per user. "
        "How do I make this faster?"
    )
    assert "grant_role" not in without_own_names(question, code)
    assert "py-spy shows most of the time in" in without_own_names(question, code)
    asked = ask(AskRequest(question, context=code), catalogue, paths, retriever=retriever)
    assert asked.action == "optimize"
    assert asked.rules[0] == "profiling"
    assert "authz" not in asked.rules


def test_a_preview_finding_of_the_rule_the_question_is_about_leads(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """An unbounded queue (a preview code) answers a question about memory growth; the f-string
    log call beside it (another preview code) stays under the table."""
    code = dedent(
        """\
        import logging
        import threading
        from queue import Queue

        import requests

        log = logging.getLogger(__name__)


        class Tracking:
            def __init__(self) -> None:
                self.queue = Queue()
                threading.Thread(target=self.send, daemon=True).start()

            def __call__(self, path: str) -> None:
                self.queue.put(path)

            def send(self) -> None:
                while True:
                    path = self.queue.get()
                    requests.get("https://stats.example.com/track", params={"p": path}, timeout=5)
                    log.info(f"tracked {path}")
        """
    )
    asked, table = _debug(
        "Memory on our web workers keeps growing until they get OOM killed, it started "
        "when we turned tracking on. Is this middleware the culprit?",
        code,
        (paths, catalogue, retriever),
    )
    assert "| snippet.py:12 | `bepro:unbounded-queue` | [backpressure] |" in table
    assert "`ruff:G004` line 22" in table
    assert "backpressure" in asked.rules


def test_the_rule_the_code_breaks_leads_a_priority_ordered_shape(
    paths: Paths, catalogue: Catalogue, retriever: Retriever
) -> None:
    """A secure answer lists its rules by priority, but the one the user's code breaks (an
    access check made with assert, authz at P3) comes before the P1 rules the question also
    retrieves: the answer opens with the findings, then their rules."""
    code = dedent(
        """\
        from forms.models import Form
        from forms.permissions import has_permission_for_form


        def get_form(token, user):
            form = Form.objects.get(token=token)
            assert has_permission_for_form(user, form), "insufficient permission"
            return form
        """
    )
    result = ask(
        AskRequest(
            "is the permission handling in get_form safe for anonymous users?",
            action="secure",
            context=code,
        ),
        catalogue,
        paths,
        retriever=retriever,
    )
    assert result.rules[0] == "authz"
    assert catalogue.rule("authz").priority > catalogue.rule(result.rules[1]).priority
    assert "\nRules that apply, those your code breaks first: [authz]" in result.answer
    assert result.answer.index("## 1. `authz`") < result.answer.index("## 2.")
