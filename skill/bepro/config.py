"""Where the pack lives and what the user configured ([tool.bepro] in pyproject.toml, environment).

The pack root holds SKILL.md and references/. In a checkout it is the repository itself; in a wheel
install it is the copy packaged under `bepro/_pack`. The index lives in `index/` of a checkout, or in
the user's cache directory otherwise; `BEPRO_INDEX_DIR` overrides both.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bepro.errors import ConfigError

_PACKAGE_DIR = Path(__file__).resolve().parent


class ReviewSettings(BaseModel):
    """`[tool.bepro.review]`: which rules and codes `bepro review` reports, where, and when it
    fails."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    min_priority: int = Field(default=8, ge=1, le=8, alias="min-priority")
    fail_on: int = Field(default=8, ge=1, le=8, alias="fail-on")
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict, alias="per-file-ignores")
    preview: bool = False
    exclude: list[str] = Field(default_factory=list)
    extend_exclude: list[str] = Field(default_factory=list, alias="extend-exclude")
    # glob -> file role (production, test, migration, script, example, vendored), over paths.
    roles: dict[str, str] = Field(default_factory=dict)


MinimumScore = Annotated[float, Field(ge=-1, le=1)]


class EvalSettings(BaseModel):
    """`[tool.bepro.eval]`: minimum scores per suite and the `--baseline` tolerance.

    Each suite table maps a metric to its minimum (`recall@3 = 0.9`); a `category.` prefix sets
    the minimum for every category's row (`"category.recall@3" = 0.75`).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    tolerance: float = Field(default=0.02, ge=0, le=1)
    retrieval: dict[str, MinimumScore] = Field(default_factory=dict)
    review: dict[str, MinimumScore] = Field(default_factory=dict)
    heldout: dict[str, MinimumScore] = Field(default_factory=dict)
    answers: dict[str, MinimumScore] = Field(default_factory=dict)
    fixes: dict[str, MinimumScore] = Field(default_factory=dict)
    actions: dict[str, MinimumScore] = Field(default_factory=dict)
    actions_real: dict[str, MinimumScore] = Field(default_factory=dict, alias="actions-real")


class LLMSettings(BaseModel):
    """`[tool.bepro.llm]`: the model and the resilience budget. The API key is never read from
    here (only OPENAI_API_KEY), so it cannot end up in a committed file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: str | None = None
    base_url: str | None = Field(default=None, alias="base-url")
    connect_timeout: float = Field(default=5.0, gt=0, le=60, alias="connect-timeout")
    read_timeout: float = Field(default=60.0, gt=0, le=600, alias="read-timeout")
    deadline: float = Field(default=120.0, gt=0, le=3600)
    max_attempts: int = Field(default=3, ge=1, le=10, alias="max-attempts")
    max_tokens: int = Field(default=1200, ge=16, le=32000, alias="max-tokens")
    context_tokens: int = Field(default=3000, ge=256, le=200_000, alias="context-tokens")
    # The circuit breaker per upstream: open after this many failed calls in a row, then let
    # one trial call through after the cooldown.
    breaker_failures: int = Field(default=5, ge=1, le=100, alias="breaker-failures")
    breaker_cooldown: float = Field(default=30.0, gt=0, le=3600, alias="breaker-cooldown")


class ServerSettings(BaseModel):
    """`[tool.bepro.server]`: the limits of `bepro serve`. The API token is never read from here
    (only BEPRO_API_TOKEN), so it cannot end up in a committed file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    max_concurrency: int = Field(default=8, ge=1, le=256, alias="max-concurrency")
    max_queue: int = Field(default=64, ge=0, le=10_000, alias="max-queue")
    request_timeout: float = Field(default=30.0, gt=0, le=600, alias="request-timeout")
    cors_origins: list[str] = Field(default_factory=list, alias="cors-origins")


class BeproSettings(BaseModel):
    """The `[tool.bepro]` table. Unknown keys are an error, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    index_dir: Path | None = Field(default=None, alias="index-dir")
    top_k: int = Field(default=5, ge=1, le=50, alias="top-k")
    chroma_url: str | None = Field(default=None, alias="chroma-url")
    review: ReviewSettings = Field(default_factory=lambda: ReviewSettings())
    # Other surfaces add their tables below, one field each (e.g. eval, llm, server).
    llm: LLMSettings = Field(default_factory=lambda: LLMSettings())
    eval: EvalSettings = Field(default_factory=lambda: EvalSettings())
    server: ServerSettings = Field(default_factory=lambda: ServerSettings())


@dataclass(frozen=True)
class Paths:
    root: Path
    skill: Path
    references: Path
    index: Path
    chroma_url: str | None = None  # vectors on a Chroma server instead of the embedded store


def _is_pack_root(path: Path) -> bool:
    return (path / "SKILL.md").is_file() and (path / "references").is_dir()


def pack_root() -> Path:
    """The directory holding SKILL.md and references/: BEPRO_ROOT, the checkout, or the wheel copy."""
    override = os.environ.get("BEPRO_ROOT")
    if override:
        return Path(override).resolve()
    checkout = _PACKAGE_DIR.parent.parent
    if _is_pack_root(checkout):
        return checkout
    return _PACKAGE_DIR / "_pack"


def _default_index_dir(root: Path) -> Path:
    if (root / ".git").exists() or (root / "pyproject.toml").is_file():
        return root / "index"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bepro")) / "index"


def resolve_paths(
    settings: BeproSettings | None = None,
    *,
    root: Path | None = None,
    index_dir: Path | None = None,
) -> Paths:
    """Where the pack and its index are. `root` and `index_dir` (the Python API's arguments)
    win over BEPRO_ROOT and BEPRO_INDEX_DIR, which win over [tool.bepro] and the defaults."""
    root = root.resolve() if root is not None else pack_root()
    env_index = os.environ.get("BEPRO_INDEX_DIR")
    if index_dir is not None:
        index = index_dir
    elif env_index:
        index = Path(env_index)
    elif settings is not None and settings.index_dir is not None:
        index = settings.index_dir
    else:
        index = _default_index_dir(root)
    chroma_url = os.environ.get("BEPRO_CHROMA_URL") or (settings.chroma_url if settings else None)
    return Paths(
        root=root,
        skill=root / "SKILL.md",
        references=root / "references",
        index=index,
        chroma_url=chroma_url,
    )


def find_pyproject(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


@cache
def load_settings(start: Path | None = None) -> BeproSettings:
    """Settings from the nearest pyproject.toml's [tool.bepro] table (defaults when absent)."""
    pyproject = find_pyproject((start or Path.cwd()).resolve())
    if pyproject is None:
        return BeproSettings()
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {pyproject}: {exc}", "fix the TOML syntax") from exc
    table = data.get("tool", {}).get("bepro", {})
    try:
        return BeproSettings.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"{pyproject}: [tool.bepro] {where}: {first['msg']}",
            "see README.md, section Configuration",
        ) from exc
