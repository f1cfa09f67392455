"""Prints a summary of a nightly run (used by a service's admin endpoint too)."""


def summarize(counts: dict[str, int]) -> int:
    total = sum(counts.values())
    for name, count in sorted(counts.items()):
        print(name, count, sep=": ")
    print("total", total)
    return total
