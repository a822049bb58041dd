"""``nox -s sweep-bench``: what moving data and small tasks cost each model, printed.

A benchmark that prints figures, not a test. It measures the quick profile of the sized
workloads (payload_bytes at 0, 1 KiB, 64 KiB, 1 MiB and 16 MiB; task_size at 10 us to 10 ms) on
3.14, 3.14t and PyPy (``run --quick --workload payload_bytes,task_size``, into
reports/sweep-bench/<stamp>), then prints the comparisons the report states about them:
each model's throughput over threads' by payload, each pool's overhead a task on one
worker, its speedup over serial and its throughput over the thread pool's by task size,
each with its interval and decision, and the findings' sentences. ``--table RUN`` prints
them again from a finished run. It measures for about half an hour: run it where nothing
else is being timed (``flock /tmp/gilbench-measure.lock nox -s sweep-bench``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from harness import store
from harness.compare.cells import summarize
from harness.compare.verdicts import Comparison, compare_run
from harness.report.format import format_interval
from harness.report.sweepfindings import format_micro, format_payload, format_tasks
from harness.results import load_run, records

IMPLS = "3.14,3.14t,pypy3.9"  # the builds the issue asks about, and a JIT
WORKLOADS = "payload_bytes,task_size"


def format_rows(comparison: Comparison) -> str:
    """Every sweep figure, one line each: what it is, the figure, its interval, decision."""
    lines = []
    tables = (("payload: throughput over threads'", comparison.payload),
              ("task overhead: time a task on 1 worker over serial's", comparison.task_overhead),
              ("task payoff: speedup over serial", comparison.task_payoff),
              ("task threads: throughput over threadpool's", comparison.task_threads))  # fmt: skip
    for title, table in tables:
        if table.empty:
            continue
        lines.append(f"{title}:")
        for row in records(table):
            extra = f", {format_micro(row['overhead_s'])} a task" if "overhead_s" in row else ""
            lines.append(f"  {row['impl']:<8} {row['workload']:<14} {row['model']:<22} "
                         f"{row['label']:>6} x{row['workers']}  {row['ratio']:.3f}  "
                         f"({format_interval(row)}) {row['decision']}{extra}")  # fmt: skip
    return "\n".join(lines)


def format_bench(run_dir: Path) -> str:
    """A finished run's sweep figures and the findings that state them."""
    comparison = compare_run(summarize(load_run(run_dir)))
    findings = [*format_payload(comparison), *format_tasks(comparison)]
    said = [f"- {f.text}" for f in findings]
    return f"{run_dir}\n{format_rows(comparison)}\nfindings:\n" + "\n".join(said) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    from harness.cli import main as gilbench

    parser = argparse.ArgumentParser(prog="sweep-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--impl", default=IMPLS, help=f"implementations (default {IMPLS})")
    parser.add_argument("--table", type=Path, default=None, metavar="RUN",
                        help="print a finished run's figures, measuring nothing")  # fmt: skip
    args = parser.parse_args(argv)
    if args.table is not None:
        print(format_bench(args.table), end="")
        return 0
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"sweep-bench/{stamp}"
    code = gilbench(["run", "--impl", args.impl, "--quick", "--workload", WORKLOADS,
                     "--into", name])  # fmt: skip
    run_dir = store.reports_dir() / name
    if not store.manifest_path(run_dir).is_file():
        return code or 1
    print(format_bench(run_dir), end="")
    return code


if __name__ == "__main__":
    sys.exit(main())
