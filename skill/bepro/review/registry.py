"""One table from detector codes to catalogue rule ids: ruff's codes and bepro's own detectors.

Every catalogue rule either has a detector here or is listed in HUMAN_ONLY with the reason no
static check can judge it; tests/test_review_registry.py keeps that true.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bepro.review.context import ModuleContext
from bepro.review.roles import PRODUCTION_ONLY, Role

# ruff code (or code prefix) -> rule id. Longest prefix wins. Checked against ruff 0.17.
RUFF_CODES: dict[str, str] = {
    "S113": "timeouts",
    "ASYNC109": "timeouts",
    "ASYNC116": "timeouts",
    "DTZ001": "time-utc",
    "DTZ002": "time-utc",
    "DTZ003": "time-utc",
    "DTZ004": "time-utc",
    "DTZ005": "time-utc",
    "DTZ006": "time-utc",
    "DTZ007": "time-utc",
    "DTZ011": "time-utc",
    "DTZ012": "time-utc",
    "ASYNC210": "async-io",
    "ASYNC212": "async-io",
    "ASYNC220": "async-io",
    "ASYNC221": "async-io",
    "ASYNC222": "async-io",
    "ASYNC230": "async-io",
    "ASYNC240": "async-io",
    "ASYNC250": "async-io",
    "ASYNC251": "async-io",
    "RUF006": "async-io",
    "S105": "secrets",
    "S106": "secrets",
    "S107": "secrets",
    "S501": "crypto",
    "S502": "crypto",
    "S503": "crypto",
    "S504": "crypto",
    "S505": "crypto",
    "S507": "crypto",
    "S508": "crypto",
    "S509": "crypto",
    "S323": "crypto",
    "S324": "crypto",
    "S303": "crypto",
    "S304": "crypto",
    "S305": "crypto",
    "S608": "input-validation",
    "S602": "input-validation",
    "S604": "input-validation",
    "S605": "input-validation",
    "S307": "input-validation",
    "S301": "input-validation",
    "S506": "input-validation",
    "S310": "input-validation",
    "S701": "input-validation",
    "B019": "cache",
    "T201": "structured-logs",
    "G001": "structured-logs",
    "G002": "structured-logs",
    "G003": "structured-logs",
    "G004": "structured-logs",
    "LOG015": "structured-logs",
    "S104": "config",
    "PLW1508": "config",
    "S201": "config",
    "B006": "stateless",
    "PLW0603": "stateless",
    "ANN401": "typing",
    "PGH003": "lint",
    "PGH004": "lint",
    "E722": "lint",
    "S110": "lint",
    "S112": "lint",
    "BLE001": "lint",
}


@dataclass(frozen=True)
class Rewrite:
    """An offline rewrite `bepro fix` has for a code: the codemod (fix/codemods/) that makes it,
    and whether it is safe. An unsafe rewrite changes behaviour a reviewer must see (a secret
    read from the environment, a queue bounded): it runs only with `--unsafe-fixes`."""

    codemod: str
    safe: bool = True


# The offline rewrites `bepro fix` has, by code: this table drives `fix_available` in review
# output, `bepro rules CODE`, and which codemod `bepro fix` tries for a finding. Importing
# bepro.fix.codemods fails when a name here has no codemod, or a codemod no code. S105 has none:
# on five real applications it flagged token prefixes and placeholders (`TOKEN_PREFIX =
# "polar_pat_"`), which must not move to the environment; credential-literal is the precise one.
REWRITES: dict[str, Rewrite] = {
    "ruff:S113": Rewrite("add-timeout"),
    "bepro:session-call-without-timeout": Rewrite("add-timeout"),
    "bepro:blocking-call-without-timeout": Rewrite("blocking-timeout"),
    # A child process killed after a guessed 60 s changes what a long build or migration does,
    # and callers rarely handle TimeoutExpired (jupyterhub's alembic upgrade, Mailu's fetch loop,
    # judged by hand): a reviewer sizes it, so these run only with --unsafe-fixes.
    "bepro:subprocess-without-timeout": Rewrite("blocking-timeout", safe=False),
    "bepro:timeout-disabled": Rewrite("enable-timeout"),
    "bepro:process-wait-without-timeout": Rewrite("wait-timeout", safe=False),
    # 60 s cuts a long generation or transcription short: sized per model and call by a reviewer
    "bepro:llm-client-default-timeout": Rewrite("blocking-timeout", safe=False),
    "ruff:DTZ001": Rewrite("utc-datetime"),
    "ruff:DTZ002": Rewrite("utc-datetime"),
    "ruff:DTZ003": Rewrite("utc-datetime"),
    "ruff:DTZ004": Rewrite("utc-datetime"),
    "ruff:DTZ005": Rewrite("utc-datetime"),
    "ruff:DTZ006": Rewrite("utc-datetime"),
    "ruff:DTZ007": Rewrite("utc-datetime"),
    "ruff:DTZ011": Rewrite("utc-datetime"),
    "ruff:DTZ012": Rewrite("utc-datetime"),
    "bepro:wall-clock-duration": Rewrite("monotonic"),
    "bepro:wall-clock-elapsed": Rewrite("monotonic"),
    "ruff:ASYNC251": Rewrite("async-sleep"),
    "ruff:RUF006": Rewrite("keep-task"),
    "ruff:ASYNC230": Rewrite("thread-file-io"),
    "bepro:random-id": Rewrite("secure-random"),
    "bepro:random-secret": Rewrite("secure-random"),
    "bepro:uuid1-id": Rewrite("uuid4"),
    "bepro:truncated-uuid": Rewrite("whole-uuid", safe=False),
    "bepro:unbounded-queue": Rewrite("bound-queue", safe=False),
    "ruff:G001": Rewrite("lazy-log-args"),
    "ruff:G002": Rewrite("lazy-log-args"),
    "ruff:G003": Rewrite("lazy-log-args"),
    "ruff:G004": Rewrite("lazy-log-args"),
    "ruff:T201": Rewrite("print-to-log", safe=False),
    "ruff:LOG015": Rewrite("module-logger", safe=False),
    "bepro:credential-literal": Rewrite("secret-from-env", safe=False),
    "bepro:jwt-literal-key": Rewrite("secret-from-env", safe=False),
    "bepro:secret-fallback": Rewrite("required-env", safe=False),
    "bepro:signing-key-fallback": Rewrite("required-env", safe=False),
    "ruff:S501": Rewrite("verify-tls", safe=False),
    "bepro:tls-unverified-by-default": Rewrite("verifying-context", safe=False),
    "bepro:signature-compared-with-equals": Rewrite("compare-digest", safe=False),
    "bepro:exception-not-raised": Rewrite("raise-built-error", safe=False),
    "ruff:S506": Rewrite("safe-yaml"),
    "ruff:S307": Rewrite("literal-eval", safe=False),
    "ruff:E722": Rewrite("except-exception"),
    "bepro:retry-decorator-defaults": Rewrite("bounded-retry"),
    "bepro:cache-fill-without-ttl": Rewrite("cache-ttl"),
    "bepro:smtp-without-timeout": Rewrite("mail-timeout"),
    "bepro:oauth-client-without-timeout": Rewrite("oauth-timeout"),
    "bepro:oidc-login-without-timeout": Rewrite("oidc-timeout"),
}

# Codes outside the default selection, as ruff's preview rules are: `--preview`, or naming the
# code in `--select`, turns one on. Each was judged by hand on real applications (ten by now)
# (bench/audit/, `python bench/audit_precision.py`) and reached less than 0.80 precision in
# production code (below 0.90, the bar to stay on by default): mostly findings accurate but
# not worth a change there (hygiene, naive UTC by
# convention, dummy-looking literals, creates a unique constraint already protects). New
# mappings start here too until an audit has judged them (BLE001, S110, S112).
PREVIEW_CODES: frozenset[str] = frozenset(
    {
        # hygiene with no backend consequence where it was found
        "ruff:ANN401", "ruff:PGH003", "ruff:PGH004", "ruff:T201", "ruff:G001", "ruff:G002",
        "ruff:G003", "ruff:G004", "ruff:LOG015", "ruff:PLW0603", "ruff:PLW1508", "ruff:B006",
        "ruff:BLE001", "ruff:S110", "ruff:S112",
        # naive datetimes: mostly naive UTC kept by convention, or converted right away
        "ruff:DTZ001", "ruff:DTZ002", "ruff:DTZ003", "ruff:DTZ004", "ruff:DTZ005", "ruff:DTZ007",
        "ruff:DTZ011", "ruff:DTZ012", "bepro:naive-datetime-column", "bepro:wall-clock-elapsed",
        # security heuristics firing on names, placeholders and operator-controlled input
        "ruff:S104", "ruff:S105", "ruff:S106", "ruff:S107", "ruff:S301", "ruff:S324",
        "ruff:S602", "ruff:S604", "ruff:S605", "ruff:S608", "ruff:S701", "bepro:secret-fallback",
        "bepro:pii-in-log", "bepro:secret-in-log", "bepro:random-id", "bepro:uuid1-id",
        # 0 of 8 on the corpus (Home Assistant's supervisor calling its own Core over the host's
        # bridge, LiveKit behind an operator's switch, GNS3's own compute servers); 2 of 3 on
        # music-assistant (its shared connector, Deezer's token exchange)
        "bepro:aiohttp-tls-unverified",
        # performance and resilience shapes that are deliberate or rare where they were found
        "ruff:ASYNC109", "ruff:ASYNC240", "bepro:subprocess-without-timeout",
        "bepro:process-wait-without-timeout",
        "bepro:commit-per-item", "bepro:query-in-loop", "bepro:pool-per-call",
        "bepro:request-without-session", "bepro:retry-decorator-defaults",
        "bepro:retry-without-backoff", "bepro:unbounded-gather",
        # 0 of 2 on the 165 audited applications: FlexGet's local SQLite session in a private
        # event loop, awx's metrics relay to the local Redis
        "bepro:sync-client-in-async",
        # 8 of 15 on ten Frappe applications: the others were harmless writes (a view counter,
        # read flags, a user's own view settings, a checkout's own payment)
        "bepro:frappe-write-by-caller",
        # idempotency: a single file rarely shows the unique constraint or lock that dedups
        "bepro:post-without-idempotency-key", "bepro:create-without-idempotency-key",
        # judged on three held-out applications (lnbits, paperless-ngx, saleor): unbounded
        # queues there mostly carried payment events that must not be dropped (4 of 12 worth a
        # bound), and ASYNC230 opened small local files (1 of 3 worth a change on all eight)
        "bepro:unbounded-queue", "ruff:ASYNC230",
        # judged on two more (plane, bookwyrm): DTZ006 fell to 7 of 9 in production code on all
        # ten (a naive local time converted from a timestamp only to subtract another one), and
        # S310's one production finding opened an operator-set https URL
        "ruff:DTZ006", "ruff:S310",
        # new, not yet audited: 7 calls on the ten applications (bookwyrm's export job among them)
        "bepro:task-queued-in-transaction",
        # held out on openlibrary: 1 of 5 worth a change (a poll time compared with database
        # timestamps must stay wall-clock; timings only shown), 6 of 11 on all audited apps
        "bepro:wall-clock-duration",
        # held out on taiga-back: 1 of 8 worth a change (most wrap int() or a token parse with a
        # deliberate fallback)
        "ruff:E722",
        # judged on four new applications (InvenTree, jupyterhub, recipes, ArchiveBox) and the
        # earlier ones: B019 0 of 3 (a bounded lru_cache on per-request handlers), RUF006 4 of 9
        # (the task awaits a future held elsewhere, or ends with the request), ASYNC220 1 of 4
        # (Popen that starts a child and does not wait for it)
        "ruff:B019", "ruff:RUF006", "ruff:ASYNC220",
        # 0 of 2 in production code on 29 applications (a log-correlation request id, dummy-data
        # names); its 9 other findings were test data
        "bepro:truncated-uuid",
        # 0 of 2 in production code on 35 applications: both services already log JSON through
        # a Django LOGGING in another module (treeherder's mozlog formatter), which one file
        # does not show
        "bepro:text-log-format",
        # judged in production code on the 60 audited applications (held-out round 7 drove it):
        # S307 2 of 8 (eval of the project's own text: .po plural rules, page templates), S506
        # 0 of 3 (yaml.load of the project's own schema files, an admin form's boot script),
        # retry-unbounded 0 of 4 (wait-for-the-database loops, a cron thread recording its own
        # status row each minute), blocking-helper-in-async 0 of 3 (one small file on an idle
        # loop), handler-mutates-module-state 0 of 2 (an application single-process by design);
        # blocking-helper-in-async follows helpers into other modules since, 3 of 4 on the 100
        # audited applications (khoj's speech and image helpers, umap's DNS check; openlibrary's
        # updater awaits one call at a time), below the 0.90 bar
        "ruff:S307", "ruff:S506", "bepro:retry-unbounded", "bepro:blocking-helper-in-async",
        "bepro:handler-mutates-module-state",
        # 0 of 3 in production code (held-out round 10, mitxonline): a transaction held around
        # a call was the per-user lock itself, or the call came before any write
        "bepro:network-call-in-transaction",
        # asyncio.wait with no timeout: 0 of 8 (held-out round 11, supervisor; jupyterhub): the
        # tasks were bounded by their own clients' timeouts
        "bepro:task-wait-without-timeout",
        # a signing key with a literal fallback: 6 of 9 worth fixing (5 of 7 where it was written,
        # round 9 and an earlier audit; held out 1 of 2, rounds 11 and 13): the others' production
        # settings or install script supplied or refused the key, in a file the module does not show
        "bepro:signing-key-fallback",
        # 0 of 2 (held-out round 13, notifications-api; one before): the publish came after the
        # commit, and a scheduled task re-sent what was lost
        "bepro:publish-outside-outbox",
        # 0 of 13 (held-out round 15, tracecat: the first application where it fired): the
        # values went to timestamptz columns through asyncpg, or to Temporal, both reading naive
        # as UTC in UTC containers, or a helper made them UTC after validation
        "bepro:naive-datetime-field",
        # unknown SSH host keys and TLS without a pinned version, judged in production code on
        # the 141 audited applications and rounds 28-32 (jumpserver, MobSF, spiderfoot; NAV):
        # S507 0 of 4, S504 0 of 2, ssh-unknown-host-trusted 1 of 3: products that connect to
        # the machines they manage, or to a scan target, by design, with nowhere to keep a key
        "ruff:S507", "ruff:S504", "bepro:ssh-unknown-host-trusted",
        # weak hashes and cipher modes, 0 of 11 in production code (held-out round 39, pyload;
        # oncall, privacyidea): each was the one the remote protocol mandates (Webshare's login
        # digest, MEGA's ECB key format, BitTorrent's SHA-1 infohash, SNS signature v1, Yubikey OTP)
        "ruff:S303", "ruff:S304", "ruff:S305",
    }
)  # fmt: skip

# On by default below 0.90: S113 (a requests call with no timeout) was worth fixing for 40 of its
# 48 findings in production code on ten applications. It guards a CRITICAL rule, `bepro fix`
# adds the timeout offline, and all 8 others were in one application (redash's query runners,
# whose schema calls an outer job timeout bounds), so a default without it found 0 of the 11
# timeout defects an audit listed on plane and bookwyrm.

# session-call-without-timeout (S113's twin for requests sessions, also those injected as
# `self._http` or `request.http`) is on by default: 13 of its 14 findings in production code on
# nineteen applications were worth fixing (warehouse 7, flagsmith 2, netbox, openlibrary, taiga;
# the other one has no caller).

# blocking-call-without-timeout (mail, IMAP, socket, urllib, database and redis clients) is on by
# default since subprocesses left it for subprocess-without-timeout (git and build tools, mostly
# not worth a timeout): 7 of 7 in production code on nineteen applications were worth fixing. A
# redis URL from a variable stays exempt: it may carry socket_timeout, and warehouse's does
# (bench/audit/redis-url-exemption.md: 7 of 22 worth fixing without the exemption).

# Left out on purpose: S311 (random for security) flags jitter too, and bepro's own
# id-generation detector looks at what the random value becomes; S101 (assert) flags every test
# and example assert, which says nothing about whether domain invariants are enforced.

HUMAN_ONLY: dict[str, str] = {
    "alerts": "alert rules and runbooks live outside the code",
    "deploys": "rollout and rollback are pipeline and platform configuration",
    "profiling": "measuring before optimising is a practice, not a code shape",
    "read-models": "whether CQRS is justified is a design judgement",
    "partitioning": "shard keys are chosen in the data model, not visible in one file",
    "supply-chain": "pinning and CVE scanning are checked on lock files by pip-audit-style tools",
    "metrics": "whether RED/USE metrics cover a service needs the whole service in view",
    "tracing": "end-to-end context propagation spans services",
    "schema-evolution": "migration safety depends on table sizes and rollout order",
    "versioning": "API and event versioning is a contract decision across services",
    "circuit-breakers": "whether a dependency needs a breaker depends on its failure modes",
    "bulkheads": "pool isolation is sized from traffic, not visible in one call",
    "load-shedding": "shedding policy depends on capacity and SLOs",
    "api-contracts": "schema versioning is judged across the API surface",
    "tests": "test coverage of behaviour needs the test suite and the change together",
    "determinism": "hermeticity shows up when tests run, not in one file",
}


@dataclass(frozen=True)
class Hit:
    """One place a detector flags, with the message the user reads."""

    node: ast.AST
    message: str
    unless: tuple[str, ...] = ()  # project facts that void it (finding.RawFinding.unless)


# Project facts a hit may hold unless (across.project_facts decides them over every file).
SOCKET_DEFAULT_TIMEOUT = "socket-default-timeout"  # socket.setdefaulttimeout() at start-up
SESSION_DEFAULT_TIMEOUT = "session-default-timeout"  # a requests.Session subclass times out
NO_DJANGO = "no-django"  # nothing imports Django: a module named settings is not Django's


Check = Callable[[ast.AST, ModuleContext], Iterator[Hit]]


@dataclass(frozen=True)
class Detector:
    code: str
    rule_id: str
    nodes: tuple[type[ast.AST], ...]
    check: Check
    # For ast.Call nodes: the names a callee must end with (see `callee_name`); None: any call.
    callees: frozenset[str] | None = None
    roles: frozenset[Role] = PRODUCTION_ONLY

    @property
    def source(self) -> str:
        return f"bepro:{self.code}"


DETECTORS: dict[str, Detector] = {}


def detector(
    code: str,
    rule_id: str,
    nodes: tuple[type[ast.AST], ...],
    callees: Iterable[str] | None = None,
    roles: frozenset[Role] = PRODUCTION_ONLY,
) -> Callable[[Check], Check]:
    """Register a check: called for every node of the given types during the module walk.

    With `callees`, calls reach the check only when their callee's last name is one of them:
    most checks care about a handful of functions, and a module has thousands of calls. `roles`
    are the kinds of file (roles.py) where what it flags is a defect: production code alone,
    unless a check says otherwise."""

    def register(check: Check) -> Check:
        if code in DETECTORS:
            raise ValueError(f"detector code {code!r} registered twice")
        names = None if callees is None else frozenset(name.rpartition(".")[2] for name in callees)
        DETECTORS[code] = Detector(code, rule_id, nodes, check, names, roles)
        return check

    return register


def callee_name(call: ast.Call, aliases: dict[str, str]) -> str | None:
    """The last name of what a call calls, through import aliases: `get` for `client.get()`,
    `Queue` for `Q()` after `from queue import Queue as Q`. None for `f()()` or `fs[0]()`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return aliases.get(func.id, func.id).rpartition(".")[2]
    return None


def ruff_rule(code: str) -> str | None:
    """The rule id a ruff code maps to, by longest matching prefix."""
    for length in range(len(code), 0, -1):
        rule_id = RUFF_CODES.get(code[:length])
        if rule_id is not None:
            return rule_id
    return None


def load_detectors() -> dict[str, Detector]:
    from bepro.review import detectors  # noqa: F401 - importing registers every family

    return DETECTORS


@dataclass(frozen=True)
class CodeInfo:
    """One detector code as users select, ignore and suppress it: `bepro:random-id` or `ruff:S113`."""

    source: str
    rule_id: str
    roles: frozenset[Role]
    default: bool

    @property
    def code(self) -> str:
        return self.source.partition(":")[2]


def code_table() -> dict[str, CodeInfo]:
    """Every code bepro reports, keyed by source (`bepro:random-id`, `ruff:S113`)."""
    table = {
        found.source: CodeInfo(
            found.source, found.rule_id, found.roles, found.source not in PREVIEW_CODES
        )
        for found in load_detectors().values()
    }
    for code, rule_id in RUFF_CODES.items():
        source = f"ruff:{code}"
        table[source] = CodeInfo(source, rule_id, PRODUCTION_ONLY, source not in PREVIEW_CODES)
    return table
