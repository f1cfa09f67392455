"""Install weight: what each of bepro's dependencies adds to site-packages, and what each surface
(the LLM upgrade, MCP, the HTTP server, rewrites) would save if it were an extra.

Sizes are the bytes of the files each installed distribution records (its RECORD), for the
packages installed in this environment. A surface "saves" the packages that nothing else bepro
needs depends on.

python bench/install_weight.py
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from collections import deque

# Surfaces whose libraries `ask` and `review` never import, and the distributions they need.
SURFACES = {
    "llm (extra)": ("openai", "langchain-core"),
    "mcp": ("mcp",),
    "serve": ("fastapi", "uvicorn", "prometheus-client"),
    "fix rewrites": ("libcst",),
}


def _name(requirement: str) -> str:
    return re.split(r"[ ;<>=!~\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _requires(distribution: str) -> list[str]:
    found = metadata.distribution(distribution).requires or []
    return [_name(req) for req in found if "extra ==" not in req]


def closure(roots: list[str]) -> set[str]:
    """The installed distributions `roots` need, themselves included."""
    seen: set[str] = set()
    queue = deque(roots)
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        try:
            queue.extend(_requires(name))
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
    return seen


def megabytes(distributions: set[str]) -> float:
    total = 0
    for name in distributions:
        for record in metadata.distribution(name).files or []:
            path = record.locate()
            total += path.stat().st_size if path.exists() else 0  # type: ignore[attr-defined]
    return total / 1e6


def main() -> None:
    base = _requires("bepro")
    roots = sorted({*base, *(name for names in SURFACES.values() for name in names)})
    everything = closure(roots)
    print(f"bepro with every surface: {len(everything)} packages, {megabytes(everything):.0f} MB")
    print(f"{'dependency':<22}{'packages':>9}{'MB':>8}   (with what it needs)")
    for name in sorted(roots, key=lambda dep: -megabytes(closure([dep]))):
        needed = closure([name])
        print(f"{name:<22}{len(needed):>9}{megabytes(needed):>8.1f}")
    print(f"\n{'surface':<16}{'packages saved':>15}{'MB saved':>10}  (if it were left out)")
    for surface, names in SURFACES.items():
        rest = closure([dep for dep in roots if dep not in names])
        own = everything - rest
        print(f"{surface:<16}{len(own):>15}{megabytes(own):>10.1f}  {', '.join(sorted(own))}")


if __name__ == "__main__":
    main()
