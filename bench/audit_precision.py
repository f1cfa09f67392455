"""Precision of `bepro review` per detector code on real applications, from hand verdicts.

bench/audit/<repo>.verdicts hold one judged finding per line, `path:line:code:verdict:why`
(code is `bepro:<name>` or `ruff:<CODE>`; verdict `tp` worth fixing, `fp` false or not worth
fixing). The applications' code is never committed: check each one out at the commit its file
names, side by side in one folder (verdict files whose checkout is not in that folder are skipped),
then

    python bench/audit_precision.py --repos /work/realrepos             # default selection
    python bench/audit_precision.py --repos /work/realrepos3            # another folder of them
    python bench/audit_precision.py --repos /work/realrepos --all-roles --preview
    PYTHONPATH=/tmp/old/skill python bench/audit_precision.py --repos /work/realrepos --legacy

(the last one measures an older checkout of bepro, from before roles and codes, at /tmp/old)

reviews each checkout as a user would, matches its findings to the verdicts and prints, per code,
the findings, how many were judged, and precision over the judged ones; the overall figure weights
each code's precision by its number of findings. Per role, it prints findings per 1k lines.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

AUDIT_DIR = Path(__file__).parent / "audit"
# A code split in two after the audit: its findings keep the verdicts given under the old code
# (the same line, judged for the same problem).
SPLIT_FROM = {
    "bepro:wall-clock-elapsed": "bepro:wall-clock-duration",
    "bepro:create-without-idempotency-key": "bepro:post-without-idempotency-key",
    "bepro:random-secret": "bepro:random-id",
}
BEPRO = [sys.executable, "-m", "bepro"]


@dataclass(frozen=True)
class Verdict:
    path: str
    line: int
    code: str
    good: bool
    why: str


def read_verdicts(path: Path) -> tuple[str, str, dict[tuple[str, int, str], Verdict]]:
    """The repo, its commit, and its verdicts keyed by (path, line, code)."""
    repo = commit = ""
    verdicts: dict[tuple[str, int, str], Verdict] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.startswith("# repo "):
            _, _, repo, _, commit = raw.split()[:5]
            continue
        if not raw.strip() or raw.startswith("#"):
            continue
        file_path, line, family, name, verdict, why = raw.split(":", 5)
        if verdict not in ("tp", "fp"):
            raise SystemExit(f"{path}:{number}: verdict must be tp or fp, not {verdict!r}")
        code = f"{family}:{name}"
        verdicts[(file_path, int(line), code)] = Verdict(
            file_path, int(line), code, verdict == "tp", why
        )
    return repo, commit, verdicts


def review(repos: Path, name: str, flags: list[str]) -> dict[str, Any]:
    completed = subprocess.run(
        [*BEPRO, "review", name, "--format", "json", *flags],
        cwd=repos, capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    if completed.returncode not in (0, 1):
        raise SystemExit(f"bepro review {name} failed: {completed.stderr.strip()[:300]}")
    payload: dict[str, Any] = json.loads(completed.stdout)
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=Path, required=True, help="folder with the checkouts")
    parser.add_argument("--all-roles", action="store_true", help="pass --all-roles to review")
    parser.add_argument("--preview", action="store_true", help="pass --preview to review")
    parser.add_argument("--legacy", action="store_true", help="a bepro without these flags")
    parser.add_argument(
        "--findings", type=Path, help="also write each finding as path:line:code:verdict here"
    )
    args = parser.parse_args()
    wanted = (
        ("--all-roles", args.all_roles),
        ("--preview", args.preview),
        ("--allow-unparsed", not args.legacy),
    )
    flags = [flag for flag, on in wanted if on]

    counts: Counter[str] = Counter()
    judged: dict[str, list[bool]] = defaultdict(list)
    by_role: Counter[str] = Counter()
    listed: list[str] = []
    lines = 0
    print("| repo | commit | lines | findings | per 1k lines | unparsed |")
    print("| --- | --- | --- | --- | --- | --- |")
    for verdict_file in sorted(AUDIT_DIR.glob("*.verdicts")):
        repo, commit, verdicts = read_verdicts(verdict_file)
        name = verdict_file.stem
        if not (args.repos / name).is_dir():
            continue  # audited in another folder of checkouts (/work/realrepos, /work/realrepos2)
        payload = review(args.repos, name, flags)
        summary, findings = payload["summary"], payload["findings"]
        lines += int(summary["lines"])
        for finding in findings:
            counts[finding["source"]] += 1
            by_role[finding.get("role", "unknown")] += 1  # releases before roles had none
            source = finding["source"]
            verdict = verdicts.get((finding["path"], finding["line"], source)) or verdicts.get(
                (finding["path"], finding["line"], SPLIT_FROM.get(source, source))
            )
            if verdict is not None:
                judged[finding["source"]].append(verdict.good)
            mark = "unjudged" if verdict is None else ("tp" if verdict.good else "fp")
            listed.append(f"{finding['path']}:{finding['line']}:{source}:{mark}")
        density = 1000 * len(findings) / max(1, int(summary["lines"]))
        print(
            f"| {repo} | {commit[:10]} | {summary['lines']} | {len(findings)} | "
            f"{density:.1f} | {summary.get('unreviewed', summary['issues'])} |"
        )
    print("\nfindings per 1k lines by role: " + ", ".join(
        f"{role} {1000 * count / max(1, lines):.2f}" for role, count in sorted(by_role.items())
    ))  # fmt: skip
    _print_codes(counts, judged)
    if args.findings:
        args.findings.write_text("".join(f"{line}\n" for line in sorted(listed)), encoding="utf-8")


def _print_codes(counts: Counter[str], judged: dict[str, list[bool]]) -> None:
    print("\n| code | findings | judged | precision |")
    print("| --- | --- | --- | --- |")
    weighted = weight = 0.0
    for code, count in counts.most_common():
        marks = judged.get(code, [])
        if marks:
            precision = sum(marks) / len(marks)
            weighted += precision * count
            weight += count
            shown = f"{precision:.2f}"
        else:
            shown = "unjudged"
        print(f"| {code} | {count} | {len(marks)} | {shown} |")
    total_judged = sum(len(marks) for marks in judged.values())
    overall = weighted / weight if weight else 0.0
    print(
        f"\noverall precision (each code weighted by its findings): {overall:.2f} over "
        f"{sum(counts.values())} findings, {total_judged} judged"
    )


if __name__ == "__main__":
    main()
