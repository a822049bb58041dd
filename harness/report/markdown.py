"""summary.md: the findings and the headline tables, for a CI job summary or a PR comment.

Markdown renders raw HTML and reads ``|``, ``*``, backticks and brackets as markup, so every
string that reaches the page goes through ``format_md``; names from result files can't add
links, tags or table columns.
"""

# Typographic en dashes and multiplication signs are meant for the report's readers.
# ruff: noqa: RUF001

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import pandas as pd

from harness.compare.decisions import DECIDED
from harness.compare.verdicts import Comparison
from harness.report.answer import AnswerText
from harness.report.charts import GEOMEAN_LABEL
from harness.report.format import (
    format_category,
    format_count,
    format_seconds,
    format_shards,
    format_times,
)
from harness.report.packages import packages_frame
from harness.report.sweepfindings import format_sweep_tables
from harness.results import records
from harness.status import FAILED

if TYPE_CHECKING:
    from harness.report.build import Report
# Characters that are markup anywhere in GitHub-flavoured Markdown.
_MARKUP = re.compile(r"([\\`*\[\]|#~!])")
# Underscores are emphasis only at the edge of a word; inside one (alloc_trees) they are not.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")


def format_md(text: object) -> str:
    """Text that Markdown shows as written: HTML entities and escaped markup characters."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MARKUP.sub(r"\\\1", escaped)
    escaped = _EDGE_UNDERSCORE.sub(r"\\_", escaped)
    return " ".join(escaped.split())  # a newline would end a table row or a list item


def _table(frame: pd.DataFrame) -> str:
    # disable_numparse: "3.10" is an implementation id, not the number 3.1.
    return str(frame.to_markdown(index=False, disable_numparse=True)) + "\n"


def format_headline_table(comparison: Comparison) -> str:
    """Implementation x workload: the best model's throughput against the reference."""
    head = comparison.headline
    rows = []
    geo = comparison.geomeans.set_index("impl")
    for impl, group in head.groupby("impl", sort=False):
        row = {"impl": format_md(impl)}
        for cell in records(group):
            row[format_md(cell["workload"])] = _cell_text(cell)
        if impl in geo.index:
            row[GEOMEAN_LABEL] = _cell_text({**records(geo.loc[[impl]])[0], "model": ""})
        rows.append(row)
    return _table(pd.DataFrame(rows))


def _cell_text(cell: dict[str, object]) -> str:
    value = float(str(cell["ratio"]))
    if math.isnan(value):
        return format_md(cell.get("status", "–"))
    mark = "" if cell.get("decision") in DECIDED else " (undecided)"
    model = f" {format_md(cell['model'])}" if cell["model"] else ""
    return f"{format_times(value)}{model}{mark}"


def format_models_table(comparison: Comparison) -> str:
    """Implementation x category: the fastest model and its lead over the next one."""
    models = comparison.models
    if models.empty:
        return ""
    rows: dict[str, dict[str, str]] = {}
    for row in records(models):
        lead = (
            ""
            if math.isnan(row["ratio"])
            else (f", {format_times(row['ratio'])} {format_md(row['runner_up'])}")
        )
        if row["decision"] == "equivalent":
            lead = f" ≈ {format_md(row['runner_up'])}"
        mark = " (undecided)" if row["runner_up"] and row["decision"] not in DECIDED else ""
        text = f"{format_md(row['best'])}{lead}{mark}"
        category = format_md(format_category(str(row["category"])))
        rows.setdefault(str(row["impl"]), {"impl": format_md(row["impl"])})[category] = text
    return _table(pd.DataFrame(list(rows.values())))


def format_cells_table(summary: pd.DataFrame, reference: str | None) -> str:
    """Every cell: status, median with its interval, speedup, ratio to the reference."""
    table = pd.DataFrame(
        {
            "impl": summary["impl"].map(format_md),
            "workload": summary["workload"].map(format_md),
            "model": summary["model"].map(format_md),
            "workers": summary["workers"].astype(str),
            "status": [
                format_md(f"{s}: {d}" if d else s)  # an ok cell's note, too
                for s, d in zip(summary["status"], summary["detail"], strict=True)
            ],
            "median": summary["median_s"].map(format_seconds),
            "95% CI": [
                f"{format_seconds(lo)} – {format_seconds(hi)}"
                for lo, hi in zip(summary["ci_low_s"], summary["ci_high_s"], strict=True)
            ],
            "speedup": summary["speedup"].map(format_times),
            f"vs {format_md(reference)}": [
                "" if math.isnan(v) else f"{format_times(v)} {format_md(verdict)}"
                for v, verdict in zip(summary["vs_ref"], summary["vs_ref_verdict"], strict=True)
            ],
            "flag": ["⚠" if f else "" for f in summary["flag"]],
        }
    )
    return _table(table)


def format_answer_md(text: AnswerText, details: str = "#caveats") -> str:
    """The answer: its title as a heading, the table, the sentences and the caveats line
    with a link to where they are detailed."""
    table = pd.DataFrame([[format_md(c.text) for c in row] for row in text.rows],
                         columns=[format_md(h) for h in text.header])  # fmt: skip
    said = " ".join(format_md(s) for s in text.sentences)
    caveats = f"{format_md(text.caveats)} " if text.caveats else ""
    return (f"## {format_md(text.title)}\n\n{_table(table)}\n{said}\n\n"
            f"{caveats}[Details]({details})\n")  # fmt: skip


def format_markdown(report: Report) -> str:
    """The whole summary.md: the answer first."""
    manifest, machine = report.manifest, report.manifest["machine"]
    summary, comparison = report.summary, report.comparison
    stated = [f for f in report.findings if f.stated]
    undecided = [f for f in report.findings if not f.stated]
    ref, workers = comparison.roles.reference, comparison.workers
    parts = [
        f"# gilbench run {format_md(manifest.get('run'))}\n",
        format_answer_md(report.answer),
        f"{format_md(machine.get('cpu_count'))} CPUs ({format_md(machine.get('cpu_model'))}), "
        f"{format_md(machine.get('os'))}; profile {format_md(manifest.get('profile'))}. "
        f"Ratios are against {format_md(ref)}. Every statement is a decision from the "
        "interval of the figure it states: gains, loses, equivalent (within "
        f"{comparison.margin:.0%}) or undecided. ⚠ in the cells marks a wide raw interval, "
        "for information.\n",
    ]
    parts += [
        "## Findings\n",
        "\n".join(f"- {format_md(f.text)}" for f in stated)
        or "No statement is decided yet: every figure is undecided (see below).",
        "",
    ]
    if undecided:
        parts += [
            f"## Undecided ({len(undecided)})\n",
            "\n".join(f"- {format_md(f.text)}" for f in undecided),
            "",
        ]
    parts += ["## Caveats\n", *_caveats(report)]
    failed = summary[summary["status"].isin(FAILED)]
    if len(failed):
        parts += ["## Failures\n"] + [
            f"- {format_md(r['impl'])} {format_md(r['workload'])}/{format_md(r['model'])}/"
            f"{r['workers']}: {format_md(r['status'])}: {format_md(r['detail'])}"
            for r in records(failed)
        ] + [""]  # fmt: skip
    parts += [
        f"## Best model at {format_count(workers, 'worker')}, against {format_md(ref)} "
        "serial on 1 worker\n",
        format_headline_table(comparison),
    ]
    for title, table in format_sweep_tables(comparison):  # the sized workloads' sweeps
        parts += [f"## {format_md(title)}\n", _table(table.map(format_md))]
    models = format_models_table(comparison)
    if models:
        parts += [f"## Fastest model at {format_count(workers, 'worker')}\n", models]
    if report.packages is not None:
        parts += ["## Packages: what each implementation got, and whether the GIL stayed off\n",
                  _table(packages_frame(report.packages).map(format_md))]  # fmt: skip
    parts += [
        f"<details><summary>All {len(summary)} cells</summary>\n",
        format_cells_table(summary, ref),
        "</details>",
    ]
    return "\n".join(parts) + "\n"


def _caveats(report: Report) -> list[str]:
    """What to know of the machine and the effort: precision, shards, CPU speed."""
    parts = []
    if report.precision:
        parts += [format_md(f"Precision: {report.precision}") + "\n"]
    if report.manifest.get("shards"):
        parts += [format_md(format_shards(report.manifest)) + "\n"]
    for label, speed in report.speeds:
        if speed.samples:
            head = ("" if speed.steady else "⚠ ") + (f"Shard {label}: " if label else "")
            parts += [head + format_md(speed.sentence()) + "\n"]
    return parts or ["Nothing to note.\n"]
