"""Print what the default install (`pip install bepro`, no extras) puts in site-packages: each
distribution it pulls in, its size on disk, and which direct dependency brings it, largest first;
then what each extra (bepro/extras.py) adds on top of it.

    python bench/install_weight.py [--top 25]

Measured from the installed distributions' own file lists (importlib.metadata RECORD files) in
the environment this runs in; nothing is downloaded. Per direct dependency: its whole tree (what
it shares with others counted in each), and what only it brings (what dropping it would save).
Sizes are of the files as installed (bytecode written since is left out). An editable install of
bepro lists few files of its own: its size here is then not a wheel's.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = "bepro"
MEGABYTE = 1024 * 1024


@dataclass
class Weight:
    name: str
    bytes: int
    brought_by: set[str] = field(default_factory=set)


def _size(dist: metadata.Distribution) -> int:
    """Bytes of the distribution's installed files (its RECORD), bytecode caches left out."""
    total = 0
    for entry in dist.files or ():
        if "__pycache__" in entry.parts:
            continue
        path = entry.locate()
        try:
            total += path.stat().st_size  # type: ignore[union-attr]
        except OSError:
            continue
    return total


def _requirements(dist: metadata.Distribution, extra: str = "") -> list[str]:
    """The names a distribution requires in this environment, with `extra` (none by default).
    An extra's own list also holds the default requirements: callers subtract those."""
    environment = {**default_environment(), "extra": extra}
    names = []
    for text in dist.requires or ():
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            names.append(canonicalize_name(requirement.name))
    return names


def _closure(name: str) -> set[str]:
    """`name` and everything it requires, transitively (installed ones only)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        try:
            dist = metadata.distribution(current)
        except metadata.PackageNotFoundError:
            continue
        seen.add(current)
        todo.extend(_requirements(dist))
    return seen


def weigh() -> tuple[dict[str, Weight], dict[str, int]]:
    """Each distribution's weight, and each direct dependency's own closure size (its tree)."""
    direct = _requirements(metadata.distribution(ROOT))
    weights: dict[str, Weight] = {}
    trees: dict[str, int] = {}
    for name in direct:
        tree = _closure(name)
        trees[name] = 0
        for member in tree:
            if member not in weights:
                weights[member] = Weight(member, _size(metadata.distribution(member)))
            weights[member].brought_by.add(name)
            trees[name] += weights[member].bytes
    return weights, trees


def extra_weights(default: set[str]) -> dict[str, tuple[int, int]]:
    """Per extra of bepro: the distributions and bytes it adds to the default install."""
    dist = metadata.distribution(ROOT)
    added: dict[str, tuple[int, int]] = {}
    for extra in dist.metadata.get_all("Provides-Extra") or ():
        names = set(_requirements(dist, extra)) - set(_requirements(dist))
        if extra == "dev" or not names:
            continue
        tree = set().union(*(_closure(name) for name in names)) - default - {ROOT}
        added[extra] = (len(tree), sum(_size(metadata.distribution(name)) for name in tree))
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    weights, trees = weigh()
    total = sum(weight.bytes for weight in weights.values())
    own = _size(metadata.distribution(ROOT))
    print(
        f"default install: bepro ({own / MEGABYTE:.1f} MB) and {len(weights)} distributions "
        f"({total / MEGABYTE:.0f} MB)\n"
    )
    print("| direct dependency | its tree | only it brings (dropping it saves) |")
    print("| --- | ---: | ---: |")
    for name, size in sorted(trees.items(), key=lambda item: -item[1]):
        alone = sum(w.bytes for w in weights.values() if w.brought_by == {name})
        print(f"| {name} | {size / MEGABYTE:.1f} MB | {alone / MEGABYTE:.1f} MB |")
    print(f"\n| distribution (largest {args.top}) | size | pulled in by |\n| --- | ---: | --- |")
    ranked = sorted(weights.values(), key=lambda weight: -weight.bytes)
    for weight in ranked[: args.top]:
        by = ", ".join(sorted(weight.brought_by))
        print(f"| {weight.name} | {weight.bytes / MEGABYTE:.1f} MB | {by} |")
    print("\n| extra | distributions it adds | size it adds |\n| --- | ---: | ---: |")
    for extra, (count, size) in extra_weights(set(weights)).items():
        print(f"| {extra} | {count} | {size / MEGABYTE:.1f} MB |")


if __name__ == "__main__":
    main()
