"""The catalogue of a SKILL.md, parsed once per version of the file.

Parsing needs markdown-it-py and PyYAML, whose imports cost more than the parse itself, and a
review or a cold `ask` reads the same SKILL.md every run. A parsed catalogue is kept as JSON in the
user cache, named by a hash of the file's text and of the code that parses it (bepro's version
and the sources of this package and mdparse, as the review cache keys its results); only a file
that parsed is kept, so the checks of parse_catalogue still stand for any other text. The cache
is best effort: a file that cannot be read or written is parsed as usual.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from bepro import __version__
from bepro.atomic import write_atomically
from bepro.catalogue.model import Catalogue
from bepro.errors import CatalogueError

log = logging.getLogger(__name__)


def load_catalogue(path: Path) -> Catalogue:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"cannot read {path}: {exc}", "restore SKILL.md from git") from exc
    kept = _cache_file(text)
    try:
        return Catalogue.model_validate_json(kept.read_bytes())
    except (OSError, ValidationError, ValueError):
        pass  # not parsed before (or damaged): parse it
    from bepro.catalogue.parse import parse_catalogue

    catalogue = parse_catalogue(text, path)
    _keep(kept, catalogue)
    return catalogue


def _cache_file(text: str) -> Path:
    from platformdirs import user_cache_dir

    digest = hashlib.sha256(f"{_parser_key()}\n{text}".encode()).hexdigest()[:32]
    return Path(user_cache_dir("bepro")) / "catalogue" / f"{digest}.json"


@cache
def _parser_key() -> str:
    """bepro's version and the parser's sources: an edited parser never reads an older parse."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent
    for source in [*sorted(package.glob("*.py")), package.parent / "mdparse.py"]:
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _keep(target: Path, catalogue: Catalogue) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, catalogue.model_dump_json())
    except OSError as exc:
        log.debug("the parsed catalogue was not cached", extra={"error": str(exc)})
