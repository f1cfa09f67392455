"""One entry point for every surface: retrieve, answer offline, and upgrade to the LLM when one
is configured, falling back to the offline answer (with a notice) on any LLM failure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from bepro.agent.ask import AskRequest, AskResult, Retrieval, offline_result, retrieve
from bepro.catalogue.model import Catalogue
from bepro.config import LLMSettings, Paths
from bepro.errors import MissingExtraError, UsageError
from bepro.retrieval.search import Reporter, Retriever

Mode = Literal["auto", "llm", "offline"]
NOT_CONFIGURED = "no LLM configured (set BEPRO_LLM_MODEL and OPENAI_BASE_URL or OPENAI_API_KEY); answering offline"


@dataclass(frozen=True)
class Outcome:
    result: AskResult
    notice: str | None = None
    llm_failed: bool = False


def answer(
    request: AskRequest,
    catalogue: Catalogue,
    paths: Paths,
    llm_settings: LLMSettings,
    mode: Mode = "auto",
    retriever: Retriever | None = None,
    reporter: Reporter | None = None,
    emit: Callable[[str], None] | None = None,
) -> Outcome:
    """The best answer available, marked degraded when the local index stood in for the vector
    store. With `emit`, LLM text is streamed through it as it arrives."""
    retrieval = retrieve(request, catalogue, paths, reporter, retriever)
    outcome = _best(retrieval, catalogue, paths, llm_settings, mode, emit)
    degraded = retrieval.ranking.degraded
    if degraded is None:
        return outcome
    return replace(outcome, result=outcome.result.model_copy(update={"degraded": degraded}))


def _best(
    retrieval: Retrieval,
    catalogue: Catalogue,
    paths: Paths,
    llm_settings: LLMSettings,
    mode: Mode,
    emit: Callable[[str], None] | None,
) -> Outcome:
    offline = offline_result(retrieval, catalogue, paths)
    if mode == "offline":
        return Outcome(offline)
    from bepro.llm.client import LLMClient, LLMError, breaker_for, resolve_llm_config

    config = resolve_llm_config(llm_settings)
    if config is None:
        if mode == "llm":
            raise UsageError(
                "--llm: no LLM is configured",
                "set BEPRO_LLM_MODEL and OPENAI_BASE_URL or OPENAI_API_KEY",
            )
        return Outcome(offline, notice=NOT_CONFIGURED)
    if retrieval.ranking.abstained:
        return Outcome(offline)
    from bepro.agent.llm_answer import GroundedAnswerer

    try:
        client = LLMClient(config, breaker_for(config))
    except MissingExtraError as error:
        if mode == "llm":
            raise
        return Outcome(offline, notice=f"{error.message}: answering offline ({error.hint})")
    answerer = GroundedAnswerer(client, catalogue, paths.root)
    try:
        if emit is not None:
            return Outcome(answerer.streamed(retrieval, offline, emit))
        return Outcome(answerer.structured(retrieval, offline))
    except LLMError as error:
        return Outcome(
            offline,
            notice=f"LLM unavailable ({error}); showing the offline answer",
            llm_failed=True,
        )
