"""Render an eval report: rich tables for a terminal, JSON, markdown, or one self-contained HTML page
with an inline SVG bar chart per category (no scripts, nothing fetched).

Every format is drawn from the same tables, so they always agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from bepro.evals.runner import Check, EvalReport, Figures, SuiteResult

if TYPE_CHECKING:
    from rich.console import Console

MAX_NOTES = 15
# The figures each category's chart shows, per suite, and the colour of the suite's bars.
CHART_METRICS = {
    "retrieval": ("recall@3", "mrr", "ndcg@3"),
    "review": ("precision", "recall", "f1"),
    "heldout": ("precision", "recall", "f1"),
    "answers": ("rubric", "weighted_cite_recall", "points_made"),
}
SUITE_COLOURS = {
    "retrieval": "#3b6ea5",
    "review": "#c0793a",
    "heldout": "#8a5a9e",
    "answers": "#4c9a5f",
}
BAR_LABEL_WIDTH, BAR_WIDTH, BAR_HEIGHT, BAR_GAP = 220, 260, 16, 6


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]


def render_json(report: EvalReport) -> str:
    return json.dumps(report.as_dict(), indent=2, sort_keys=False) + "\n"


def _value(value: float | None) -> str:
    if value is None:
        return "n/a"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def _failed(checks: list[Check], suite: str, metric: str, category: str | None) -> bool:
    return any(
        not c.passed and (c.suite, c.metric, c.category) == (suite, metric, category)
        for c in checks
    )


def suite_tables(suite: SuiteResult, report: EvalReport) -> list[Table]:
    """The metrics, per-category and per-rule tables of one suite that ran."""
    minimums = {
        c.metric: c.minimum for c in report.checks if c.suite == suite.name and not c.category
    }
    metrics = Table(
        f"{suite.name}: figures",
        ["metric", "value", "minimum", "status"],
        [
            [
                name,
                _value(value),
                _value(minimums[name]) if name in minimums else "",
                _status(suite.name, name, None, minimums, report.checks),
            ]
            for name, value in suite.metrics.items()
        ],
    )
    tables = [metrics, _grid(f"{suite.name}: per category", "category", suite, report)]
    if suite.per_rule:
        tables.append(_grid(f"{suite.name}: per rule", "rule", suite, report, per_rule=True))
    if suite.confusion:
        tables.append(_confusion(suite))
    return tables


def _confusion(suite: SuiteResult) -> Table:
    """Rows: the expected action; columns: the inferred one."""
    labels = list(suite.confusion)
    return Table(
        f"{suite.name}: confusion (row expected, column inferred)",
        ["expected", *labels],
        [[label, *(str(suite.confusion[label].get(c, 0)) for c in labels)] for label in labels],
    )


def _status(
    suite: str, metric: str, category: str | None, minimums: dict[str, float], checks: list[Check]
) -> str:
    if _failed(checks, suite, metric, category):
        return "FAIL"
    return "ok" if metric in minimums else ""


def _grid(
    title: str, key: str, suite: SuiteResult, report: EvalReport, per_rule: bool = False
) -> Table:
    rows = suite.per_rule if per_rule else suite.per_category
    columns = list(dict.fromkeys(name for row in rows.values() for name in row))
    body = []
    for name, row in rows.items():
        cells = [name]
        for column in columns:
            flagged = not per_rule and _failed(report.checks, suite.name, column, name)
            cells.append(_value(row.get(column)) + (" FAIL" if flagged else ""))
        body.append(cells)
    return Table(title, [key, *columns], body)


def _verdict_lines(report: EvalReport) -> list[str]:
    lines = [
        f"below minimum: {c.suite} {c.metric}"
        + (f" [{c.category}]" if c.category else "")
        + f" = {_value(c.value)} < {c.minimum}"
        for c in report.checks
        if not c.passed
    ]
    if report.baseline_file is not None:
        lines.append(f"baseline {report.baseline_file}, tolerance {report.tolerance}")
        lines += [
            f"regression: {r.suite} {r.metric}"
            + (f" [{r.category}]" if r.category else "")
            + f" {r.baseline:.3f} -> {r.current:.3f}"
            for r in report.regressions
        ]
    lines.append("PASS" if report.passed else "FAIL")
    return lines


def _notes(suite: SuiteResult) -> list[str]:
    shown = suite.notes[:MAX_NOTES]
    more = len(suite.notes) - len(shown)
    return shown + ([f"... and {more} more (see --format json)"] if more > 0 else [])


def _counts(suite: SuiteResult) -> str:
    return ", ".join(f"{name} {value}" for name, value in suite.counts.items())


def render_text(report: EvalReport, console: Console) -> None:
    from rich.table import Table as RichTable

    for suite in report.suites:
        console.rule(f"[bold]{suite.name}")
        if suite.status == "skipped":
            console.print(f"skipped: {suite.reason}")
            continue
        console.print(_counts(suite))
        for table in suite_tables(suite, report):
            rich_table = RichTable(*table.headers, title=table.title, title_justify="left")
            for row in table.rows:
                rich_table.add_row(*row)
            console.print(rich_table)
        for note in _notes(suite):
            console.print(f"  {note}", highlight=False, markup=False)
    console.rule()
    for line in _verdict_lines(report):
        console.print(line, highlight=False, markup=False)


def _markdown_table(table: Table) -> list[str]:
    return [
        f"**{table.title}**",
        "",
        "| " + " | ".join(table.headers) + " |",
        "| " + " | ".join("---" for _ in table.headers) + " |",
        *("| " + " | ".join(row) + " |" for row in table.rows),
        "",
    ]


def render_markdown(report: EvalReport) -> str:
    lines = ["# bepro eval", ""]
    for suite in report.suites:
        lines += [f"## {suite.name}", ""]
        if suite.status == "skipped":
            lines += [f"skipped: {suite.reason}", ""]
            continue
        lines += [_counts(suite), ""]
        for table in suite_tables(suite, report):
            lines += _markdown_table(table)
        lines += [f"- {note}" for note in _notes(suite)] + [""]
    lines += ["## Result", "", *(f"- {line}" for line in _verdict_lines(report)), ""]
    return "\n".join(lines)


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    return f"<table><caption>{escape(table.title)}</caption><tr>{head}</tr>{body}</table>"


def category_bars(report: EvalReport, category: str) -> list[tuple[str, str, float]]:
    """(suite, metric, value) for the chart of one category, in suite order."""
    bars: list[tuple[str, str, float]] = []
    for suite in report.suites:
        row: Figures = suite.per_category.get(category, {})
        for metric in CHART_METRICS.get(suite.name, ()):
            value = row.get(metric)
            if value is not None:
                bars.append((suite.name, metric, value))
    return bars


def bar_chart_svg(category: str, bars: list[tuple[str, str, float]]) -> str:
    """A horizontal bar per figure, scaled 0..1, with its value written beside it."""
    step = BAR_HEIGHT + BAR_GAP
    width = BAR_LABEL_WIDTH + BAR_WIDTH + 60
    height = step * len(bars) + BAR_GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(category)}">',
        f"<title>{escape(category)}</title>",
    ]
    for index, (suite, metric, value) in enumerate(bars):
        y = BAR_GAP + index * step
        length = max(0.0, min(1.0, value)) * BAR_WIDTH
        colour = SUITE_COLOURS.get(suite, "#777777")
        parts += [
            f'<text x="{BAR_LABEL_WIDTH - 8}" y="{y + BAR_HEIGHT - 4}" text-anchor="end">'
            f"{escape(suite)} {escape(metric)}</text>",
            f'<rect x="{BAR_LABEL_WIDTH}" y="{y}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" '
            'fill="#eeeeee"/>',
            f'<rect x="{BAR_LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{colour}"/>',
            f'<text x="{BAR_LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + BAR_HEIGHT - 4}">'
            f"{value:.3f}</text>",
        ]
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 70rem; }
table { border-collapse: collapse; margin: 0 0 1.5rem; }
caption { text-align: left; font-weight: bold; padding: 0.3rem 0; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.6rem; text-align: left; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem 2rem; }
figure { margin: 0; } figcaption { font-weight: bold; margin-bottom: 0.3rem; }
.chart text { font-size: 12px; }
.pass { color: #2d7a3e; } .fail { color: #b3261e; }
"""


def render_html(report: EvalReport) -> str:
    verdict = "pass" if report.passed else "fail"
    body = [f'<h1>bepro eval: <span class="{verdict}">{verdict.upper()}</span></h1>']
    body += [f"<p>{escape(line)}</p>" for line in _verdict_lines(report)[:-1]]
    body += ["<h2>Per category</h2>", '<div class="charts">']
    for category in report.categories:
        body.append(
            f"<figure><figcaption>{escape(category)}</figcaption>"
            f"{bar_chart_svg(category, category_bars(report, category))}</figure>"
        )
    body.append("</div>")
    for suite in report.suites:
        body.append(f"<h2>{escape(suite.name)}</h2>")
        if suite.status == "skipped":
            body.append(f"<p>skipped: {escape(suite.reason)}</p>")
            continue
        body.append(f"<p>{escape(_counts(suite))}</p>")
        body += [_html_table(table) for table in suite_tables(suite, report)]
        if suite.notes:
            items = "".join(f"<li>{escape(note)}</li>" for note in _notes(suite))
            body.append(f"<details><summary>notes</summary><ul>{items}</ul></details>")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>bepro eval</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
