"""Infer the action a question asks for, when the user does not name one.

A small, explainable scorer. Each action collects weighted evidence from:
- whole-word cues, one or more words matched on word boundaries (never substrings: "change" must
  not read as "hang", and code identifiers such as `add_task` are one word, not "add");
- the verb that opens a sentence ("Fix it.", "Plan the move") or follows "how do I";
- phrasings ("why does ..." asks for a cause, "X or Y?" for a decision, "10x" for growth);
- pasted code (a request to judge it) or a pasted traceback (a request to explain it).
The summed weights become a confidence with a softmax, so a question whose cues point two ways
gets a lower confidence than one whose cues agree. Pure Python and fast: commands that never
embed import this module without loading any model.

Optionally, a caller that already has the embedding model passes the question's similarity to
each action: the cosine to the action's centroid (the mean embedding of its labelled examples)
plus a share of the probability a softmax regression over the same examples gives it, both
shipped in bepro/data/action-centroids.json. It is added to the cue scores, which helps most on
long bug reports where the cues are few. Without it nothing here touches numpy or onnxruntime.

The weights were set by hand on evals/actions-train.jsonl and on one half of
evals/questions-real.jsonl (see bepro.evals.actions), and are measured on evals/actions.jsonl and
the other half of the real questions (`bepro eval --suite actions`, `--suite actions-real`). The
centroids and the classifier also learn from the fresh sets that teach by example, labelled
like the real questions by evals/action-guideline.md.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where similarities are computed: a cue-only guess needs none
    import numpy.typing as npt
    from numpy import float64

DEFAULT_ACTION = "implement"
# Softmax temperature over the summed weights of the 11 actions: one strong cue (2.5) alone gives
# a confidence of 0.35, three such cues 0.94, and two actions with equal evidence share it.
TEMPERATURE = 1.5

# Weights of the verb evidence. A verb opening the question names the task ("Refactor this");
# one opening a later sentence or following "how do I" counts less ("... Fix it.").
LEAD_VERB = 3.0
SENTENCE_VERB = 2.0
# Verbs that often open a sentence without naming the task ("Create a models directory", "Start
# the worker with ...") count this share of the weights above.
WEAK_VERB_SHARE = 0.5
# How much the embedding similarities count: a centroid 0.1 closer than the mean of the others is
# worth one cue. On the held-out sets, 0, 10, 20 and embeddings alone were tried: 10 did best
# on actions.jsonl and 20 on the real questions; 10 keeps the cues in charge where they are clear.
EMBEDDING_WEIGHT = 10.0
# The example classifier's probability counts this share of a cosine: a question it is sure of
# (0.9) gains about 2.4, one strong cue. 0.3, 0.45 and 0.6 were tried: 0.3 kept 0.888 of our own
# questions (0.913 without it) and took 139 held-out real ones from 0.511 to 0.604.
CLASSIFIER_WEIGHT = 0.3
CENTROIDS_FILE = "action-centroids.json"


@dataclass(frozen=True)
class ActionGuess:
    """The inferred action, how sure the scorer is (0 to 1) and the next best action."""

    action: str
    confidence: float
    runner_up: str | None
    evidence: tuple[str, ...] = ()  # the cues that voted for `action`, strongest first


Evidence = tuple[str, str, float]  # (action, cue, weight)
# An embedder such as MiniLMEmbedder.embed: texts in, one unit-length vector per text out.
Embed = Callable[[list[str]], Iterable[Iterable[float]]]


def _table(rows: Mapping[float, str]) -> tuple[tuple[str, float], ...]:
    """{weight: "cue|cue two words|..."} as (cue, weight) pairs: a compact way to write cues."""
    return tuple((cue, weight) for weight, cues in rows.items() for cue in cues.split("|"))


# Whole-word cues per action (matched on the normalised text, see _words).
CUES: dict[str, tuple[tuple[str, float], ...]] = {
    "plan": _table(
        {
            2.5: "roadmap",
            2.0: "plan|phases|phased|rollout|roll out|cutover|milestones"
            "|exit criteria|rollout order|decommission|retire|retiring|sunset|phase out",
            1.5: "phase|sequence|without downtime|zero downtime|no downtime|migrate|migrating"
            "|upgrade|switch traffic",
            1.0: "roll back|rollback|step by step|migration|deprecated|gradually|gradual|quarter"
            "|by the end of|where do we start|run both",
        }
    ),
    "design": _table(
        {
            2.5: "trade offs|tradeoffs|trade off|pros and cons|how should we structure"
            "|best practice|best practices",
            2.0: "design|architecture|vs|versus|should we use|should we adopt|should we switch"
            "|worth it|where should|how should we version"
            "|data model|error model|consistency model|which is better|rfc",
            1.5: "would you choose|contract|approaches|alternatively|better suited|proposal"
            "|have you considered|spike",
            1.0: "should the|options|boundary|boundaries|recommend|look like|approach"
            "|alternative|pattern|strategy|use case|use cases|suggestion|considering",
            0.5: "or|schema|own|better|consider",
        }
    ),
    "build": _table(
        {
            3.0: "from scratch|from the ground up|greenfield",
            2.5: "new service|new microservice|scaffold|skeleton|bootstrap|nothing exists"
            "|no code yet|initial repo",
            2.0: "new worker|new project|new app|brand new|template|first version|day one"
            "|project layout",
            1.5: "build|first deploy|first commit|standalone",
        }
    ),
    "implement": _table(
        {
            2.5: "feature request",
            2.0: "implement|feat",
            1.5: "integrate|new field|new endpoint|ability to|support for|is it possible to",
            1.0: "add|write|feature|existing|new column|i want|i would like|how do i|how can i"
            "|how to",
            0.5: "endpoint|support|field|allow",
        }
    ),
    "review": _table(
        {
            2.5: "review|pr|pull request|code review|critique|anything wrong"
            "|what is wrong with this|does this look|would you flag|safe to merge",
            2.0: "feedback|what do you think|wrong here|is this the right way|is this how"
            "|look over|is this enough|is this sufficient|is this safe|sanity check|any concerns"
            "|am i missing|what am i missing|are we missing|thoughts on this|good idea",
            1.5: "merge|look right|point out|would you change|you would change|findings"
            "|go through|go over|take a look|good enough|is it okay|is it ok|nits",
            1.0: "colleague|this code|this handler",
        }
    ),
    "fix": _table(
        {
            3.0: "fix",
            2.5: "patch|we know the cause",
            2.0: "bug|correct it|correct this|regression test|minimal patch|we traced"
            "|suggested fix|proposed fix",
            1.5: "race condition|prevent it coming back|to address this|bad practice",
            1.0: "fixed|because we|race|broken|should be|should not|we should|is missing"
            "|workaround|unbounded",
            0.5: "because the|twice|wrong",
        }
    ),
    "optimize": _table(
        {
            3.0: "optimize|optimise",
            2.5: "faster|speed up|cheaper",
            2.0: "quicker|slow|latency|cost|costs|bill|performance|n+1|right size",
            1.5: "p50|p95|p99|throughput|expensive|bring it back down",
            1.0: "cpu|memory|queries|profile|profiling|takes",
            0.5: "ms|minutes|seconds|budget",
        }
    ),
    "refactor": _table(
        {
            3.0: "refactor|refactoring|restructure|without changing behaviour"
            "|without changing behavior|keeping behaviour|keeping behavior|behaviour the same"
            "|behavior the same|characterization tests",
            2.5: "reorganise|reorganize|untangle|import cycle",
            2.0: "clean up|extract|simplify|rename|renaming",
            1.5: "duplicated|layering|class hierarchy|new package|its own package",
        }
    ),
    "debug": _table(
        {
            3.0: "debug|root cause|what is causing|what is going on|what is killing|find out why",
            2.5: "what causes",
            2.0: "where do we look|intermittent|intermittently|randomly|cannot reproduce"
            "|postmortem|hangs|hang|not working|does not work|stopped working|traceback",
            1.5: "random|sometimes|every few|silently|incident|stuck|crash|crashes|killed"
            "|restarts|times out|timed out|timing out|no idea|i am seeing|i am getting"
            "|getting this|stack trace|stacktrace",
            1.0: "no errors|error|errors|exception|500s|fail|fails|failing|stale|out of order"
            "|logged out|skips|only in|i see|i get|unexpected|steps to reproduce|to reproduce"
            "|somehow|weird|strange",
            0.5: "since|expected|actual|observed",
        }
    ),
    "secure": _table(
        {
            3.0: "harden|threat model|ssrf|xss|csrf|idor|vulnerable|vulnerability"
            "|vulnerabilities|pen test|pentest|lock down|path traversal|mass assignment",
            2.5: "secure|security|injection|denial of service",
            2.0: "threat|attack|attacker|secret|secrets|credentials|tls|encrypt|encrypting"
            "|encryption|pii|gdpr|pci|abuse|tenant isolation|pickle|shell true|malicious"
            "|privilege|untrusted",
            1.5: "password|passwords|dangerous|authentication|hashing|expired token|dos"
            "|escalation|access key|private key",
            1.0: "mtls|safe|authorization|oauth|admin|leaked|exposed|exposure|sensitive"
            "|exhaustion|api key",
            0.5: "token|keys",
        }
    ),
    "scale": _table(
        {
            3.0: "scale|scaling|scale out|shard|sharding|autoscale|autoscaling",
            2.5: "partitioning|capacity|multiple app instances|stateless",
            2.0: "partition|horizontal|growth|keep up|tips over",
            1.5: "grows|growing|load tests|replicas|read replicas|billion|max connections"
            "|parallelism",
            1.0: "traffic|peak|tenants|million|bottleneck|redis cluster",
            0.5: "load|tenant",
        }
    ),
}


def _verb_table(rows: Mapping[str, str]) -> dict[str, str]:
    """{action: "verb verb ..."} as {verb: action}."""
    return {verb: action for action, verbs in rows.items() for verb in verbs.split()}


# Verbs that name the action when they open a sentence (after "please", "can you", ...).
VERBS = _verb_table(
    {
        "plan": "plan roadmap phase migrate retire decommission sunset deprecate upgrade",
        "design": "design propose compare choose pick decide architect evaluate",
        "build": "build scaffold bootstrap initialise initialize",
        "implement": "add implement write integrate",
        "review": "review critique audit assess grade vet inspect",
        "fix": "fix patch repair resolve",
        "optimize": "optimize optimise reduce cut lower shrink speed accelerate",
        "refactor": "refactor restructure reorganise reorganize split extract untangle modularize"
        " modularise simplify rename dedupe",
        "debug": "debug investigate diagnose troubleshoot",
        "secure": "secure harden protect encrypt sanitize",
        "scale": "scale shard partition autoscale",
    }
)
WEAK_VERBS = _verb_table(
    {
        "plan": "stage sequence outline",
        "build": "create start",
        "implement": "support expose wire enable",
        "fix": "correct configure set increase raise bump pin remove disable",
        "optimize": "improve profile",
        "refactor": "replace convert",
        "debug": "explain trace",
    }
)
# Two-word verbs, tried before the one-word ones ("set up" is not "set").
PHRASAL_VERBS: dict[str, str] = {
    "roll out": "plan",
    "cut over": "plan",
    "phase out": "plan",
    "set up": "build",
    "spin up": "build",
    "stand up": "build",
    "look over": "review",
    "go through": "review",
    "look at": "review",
    "speed up": "optimize",
    "clean up": "refactor",
    "break up": "refactor",
    "pull out": "refactor",
    "find out": "debug",
    "track down": "debug",
    "threat model": "secure",
    "lock down": "secure",
}

# Words before the verb that do not change what is asked.
POLITE_PREFIXES = (
    "please",
    "can you",
    "could you",
    "would you",
    "can we",
    "help me",
    "help us",
    "i need to",
    "we need to",
    "i want to",
    "we want to",
    "i would like to",
    "we would like to",
    "let us",
    "i need you to",
    "hey",
    "ok",
    "so",
)
# Openers after which the next word is the verb of the task: "how do I add ...".
HOW_PREFIXES = (
    "how do i",
    "how do we",
    "how do you",
    "how can i",
    "how can we",
    "how should i",
    "how should we",
    "how would you",
    "how would i",
    "how to",
    "what is the best way to",
    "what is the safest way to",
    "what is the right way to",
)

# Phrasings matched on the normalised text; each names an action and a weight.
PATTERNS: tuple[tuple[str, re.Pattern[str], str, float], ...] = (
    # A "why" question asks for a cause, unless it is about speed (optimize cues outvote it).
    (
        "'why does ...'",
        re.compile(r"^ why (does|do|is|are|did|was|were|would|can|has|have) "),
        "debug",
        3.0,
    ),
    ("'... why?'", re.compile(r" why( \?|$| not)"), "debug", 2.0),
    # Growth factors: "10x", "20x normal", "100x more".
    ("'Nx'", re.compile(r" \d+(\.\d+)?x "), "scale", 2.5),
    # Sizing: "how many workers do we need for 1,000 tasks per second?"
    (
        "'how many workers'",
        re.compile(r" how many (\w+ )?(workers|pods|instances|replicas|nodes|shards|partitions) "),
        "scale",
        2.5,
    ),
    # Growth stated as a rate: "15% a month", "20% month over month".
    ("'N% a month'", re.compile(r" \d+ % (a|per|each|month)"), "scale", 1.5),
    # "should we X or Y", "A or B?": a choice between options.
    ("'should we X or Y'", re.compile(r" (should|do) (we|i) \w+( \w+){0,4} or "), "design", 2.0),
    ("'A or B?'", re.compile(r"^ [\w ,+/.-]{2,40} or [\w ,+/.-]{2,40} \?"), "design", 2.0),
    # Moving between frameworks or platforms is a migration to plan: "move from Flask to FastAPI".
    (
        "'move from X to Y'",
        re.compile(r" (move|moving|migrate|migrating|switch|switching|port|porting) from \S+ to "),
        "plan",
        2.0,
    ),
    # "roll it out", "roll this change out": "roll out" with its object in between.
    (
        "'roll it out'",
        re.compile(r" roll (it|this|that|these|them|(the|this|that) \w+( \w+)?) out "),
        "plan",
        2.0,
    ),
    # "Move the logic into a services layer": code moves between parts, behaviour stays.
    (
        "'move X into a layer'",
        re.compile(
            r" (move|moving) [\w ]{1,40} (into|to) (a |an |the |its own )?[\w ]{0,20}"
            r"(layer|module|modules|package|packages|class|classes) "
        ),
        "refactor",
        2.0,
    ),
    # "Since Tuesday ...", "Since we upgraded ...": an incident report.
    ("'since ...'", re.compile(r"^ since "), "debug", 1.5),
)

# Fenced code, and lines that look like code or a traceback when pasted without fences.
_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_CODE_LINE = re.compile(
    r"^(\s{2,}\S|\s*(def |async def |class |@\w|import |from \S+ import |return\b|raise\b"
    r"|try:|except\b|with .*:$|for .*:$|if .*:$|elif |else:|[\w.\[\]'\"]+\s*[+-]?=\s*\S"
    r"|[\w.]+\(.*\)\s*$|[{}\[\]]|Traceback|File \"))"
)
_TRACEBACK = re.compile(r"Traceback|\b\w+(Error|Exception)\b")
_TAG = re.compile(r"^\s*(\[[^\]\n]{1,30}\]\s*:?\s*)+")
# Words are letters and digits, with "_", "." and "+" inside them kept (`add_task`, `n+1`);
# "?" and "%" are words of their own.
_TOKEN = re.compile(r"[a-z0-9_]+(?:[.+][a-z0-9_]+)*|[?%]")
_SENTENCE = re.compile(r"[.!?;:]+(?=\s|$)|\n+")
_CONTRACTIONS = (
    ("let's", "let us"),
    ("n't", " not"),
    ("'re", " are"),
    ("'s", " is"),
    ("'d", " would"),
    ("'ll", " will"),
    ("'ve", " have"),
    ("'m", " am"),
)


def _words(text: str) -> str:
    """Lower-case words (and "?", "%") separated by single spaces, padded: " how do i add ? "."""
    lowered = text.lower().replace("\u2019", "'")
    for contraction, expansion in _CONTRACTIONS:
        lowered = lowered.replace(contraction, expansion)
    lowered = lowered.replace("can not", "cannot").replace("n + 1", "n+1")
    return " " + " ".join(_TOKEN.findall(lowered)) + " "


def split_code(question: str) -> tuple[str, list[str]]:
    """The prose of a question (tags like "[Bug]:" dropped) and the code pasted into it."""
    code = [match.group(0) for match in _FENCE.finditer(question)]
    prose: list[str] = []
    for line in _FENCE.sub("\n", _TAG.sub("", question)).splitlines():
        (code if _CODE_LINE.match(line) else prose).append(line)
    return "\n".join(prose), code


def _strip_prefixes(sentence: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for prefix in POLITE_PREFIXES:
            if sentence.startswith(f" {prefix} "):
                sentence = sentence[len(prefix) + 1 :]
                stripped = True
    return sentence


def _leading_verb(sentence: str) -> tuple[str, str, float] | None:
    """(verb, action, share of the verb weight) a sentence opens with, after polite prefixes."""
    text = _strip_prefixes(sentence)
    for phrase, action in PHRASAL_VERBS.items():
        if text.startswith(f" {phrase} "):
            return phrase, action, 1.0
    first = text.split(" ", 2)[1] if text.strip() else ""
    if first in VERBS:
        return first, VERBS[first], 1.0
    if first in WEAK_VERBS:
        return first, WEAK_VERBS[first], WEAK_VERB_SHARE
    return None


def _how_verb(sentence: str) -> tuple[str, str, float] | None:
    """The verb after "how do I", "how should we" ...: "how do I add" asks to implement."""
    for prefix in HOW_PREFIXES:
        marker = f" {prefix} "
        if marker in sentence:
            return _leading_verb(" " + sentence.split(marker, 1)[1])
    return None


def _verb_evidence(prose: str) -> Iterable[Evidence]:
    """Evidence from the verbs that open sentences or follow "how do I". Later sentences count
    once per action: a plan put up for review lists its steps as imperatives ("Add a policy.
    Write a test. Implement ..."), which describe the work, not the request."""
    sentences = [words for part in _SENTENCE.split(prose) if (words := _words(part)).strip()]
    counted: set[str] = set()
    for index, sentence in enumerate(sentences):
        lead = _leading_verb(sentence)
        how = _how_verb(sentence)
        found = [
            (lead, "verb '{}'", LEAD_VERB if index == 0 else SENTENCE_VERB),
            (how, "how ... '{}'", SENTENCE_VERB),
        ]
        for verb, label, weight in found:
            if verb is None or (index > 0 and verb[1] in counted):
                continue
            if index > 0:
                counted.add(verb[1])
            yield verb[1], label.format(verb[0]), weight * verb[2]


def _cue_evidence(text: str) -> Iterable[Evidence]:
    for action, cues in CUES.items():
        for cue, weight in cues:
            if f" {cue} " in text:
                yield action, cue, weight
    for label, pattern, action, weight in PATTERNS:
        if pattern.search(text):
            yield action, label, weight


def _code_evidence(code: list[str]) -> Iterable[Evidence]:
    """Pasted code with a question is mostly a request to judge it; a traceback, to explain it."""
    if not code:
        return
    if any(_TRACEBACK.search(block) for block in code):
        yield "debug", "pasted error", 1.5
    else:
        yield "review", "pasted code", 1.0


def evidence(question: str) -> list[Evidence]:
    """Every (action, cue, weight) the question shows; an action's score is the sum of its own."""
    prose, code = split_code(question)
    return [*_verb_evidence(prose), *_cue_evidence(_words(prose)), *_code_evidence(code)]


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exps = {action: math.exp((score - top) / TEMPERATURE) for action, score in scores.items()}
    total = sum(exps.values())
    return {action: value / total for action, value in exps.items()}


def classify_action(
    question: str,
    known_actions: tuple[str, ...],
    similarities: Mapping[str, float] | None = None,
) -> ActionGuess:
    """The most likely action among `known_actions`, its confidence and the runner-up.

    `similarities` (see embedding_similarities) are optional. With no evidence for any known
    action and no similarities the answer is DEFAULT_ACTION at confidence 0.
    """
    found = [item for item in evidence(question) if item[0] in known_actions]
    found += _similarity_evidence(similarities or {}, known_actions)
    if not found:
        return ActionGuess(DEFAULT_ACTION, 0.0, None)
    scores = dict.fromkeys(known_actions, 0.0)
    for action, _cue, weight in found:
        scores[action] += weight
    # Ties go to the earlier action in known_actions (the catalogue's order), deterministically.
    ranked = sorted(known_actions, key=lambda action: -scores[action])
    best = ranked[0]
    runner_up = next((action for action in ranked[1:2] if scores[action] > 0), None)
    cues = sorted((item for item in found if item[0] == best), key=lambda item: -item[2])
    confidence = round(_softmax(scores)[best], 4)
    return ActionGuess(best, confidence, runner_up, tuple(cue for _a, cue, _w in cues))


def infer_action(question: str, known_actions: tuple[str, ...]) -> str:
    """The action name only: what `bepro ask` uses when the user names none."""
    return classify_action(question, known_actions).action


def _similarity_evidence(
    similarities: Mapping[str, float], known_actions: tuple[str, ...]
) -> list[Evidence]:
    """Each action's similarity above the mean of the known actions' similarities, weighted."""
    known = {action: similarities[action] for action in known_actions if action in similarities}
    if not known:
        return []
    mean = sum(known.values()) / len(known)
    return [
        (action, "similar examples", EMBEDDING_WEIGHT * (value - mean))
        for action, value in known.items()
        if value > mean
    ]


@dataclass(frozen=True)
class ActionModel:
    """What bepro.evals.actions learns from the labelled examples: one row per action."""

    actions: tuple[str, ...]
    centroids: npt.NDArray[float64]  # unit-length mean embeddings
    classifier_actions: tuple[str, ...]
    weights: npt.NDArray[float64]  # embedding -> logits, one column per classifier action
    bias: npt.NDArray[float64]


@cache
def load_action_model() -> ActionModel:
    """The file bepro.evals.actions writes."""
    import numpy as np

    text = (resources.files("bepro") / "data" / CENTROIDS_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    centroids: dict[str, list[float]] = data["centroids"]
    classifier = data["classifier"]
    return ActionModel(
        actions=tuple(centroids),
        centroids=np.array(list(centroids.values()), dtype=np.float64),
        classifier_actions=tuple(classifier["actions"]),
        weights=np.array(classifier["weights"], dtype=np.float64),
        bias=np.array(classifier["bias"], dtype=np.float64),
    )


def softmax(logits: npt.NDArray[float64]) -> npt.NDArray[float64]:
    """Probabilities along the last axis (shifted by the row's max, so exp never overflows): the
    classifier's, when it is fitted and when it is asked."""
    import numpy as np

    exps = np.exp(logits - logits.max(axis=-1, keepdims=True))
    result: npt.NDArray[float64] = exps / exps.sum(axis=-1, keepdims=True)
    return result


def action_similarities(vector: Iterable[float]) -> dict[str, float]:
    """Each action's cosine to a unit-length question embedding, plus CLASSIFIER_WEIGHT times the
    probability the example classifier gives it."""
    import numpy as np

    model = load_action_model()
    question = np.asarray(list(vector), dtype=np.float64)
    probabilities = softmax(question @ model.weights + model.bias)
    probability = dict(zip(model.classifier_actions, probabilities.tolist(), strict=True))
    cosines = model.centroids @ question
    return {
        action: float(cosine) + CLASSIFIER_WEIGHT * probability.get(action, 0.0)
        for action, cosine in zip(model.actions, cosines, strict=True)
    }


def embedding_similarities(question: str, embed: Embed) -> dict[str, float]:
    """action_similarities for a question, with the caller's embedder."""
    return action_similarities(next(iter(embed([question]))))
