"""The comparisons that pick among candidates: break-even against the default build's
models, and the fastest model's lead. Pure computation, as verdicts.py.

A figure picked among candidates gets an interval simultaneous over them, and the model
named is the one the decision rests on (``_hardest``); see verdicts.py.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from harness.compare.cells import Cells
from harness.compare.estimate import Terms, geomean, ratio
from harness.compare.rows import _categories, _decided, _impls, _table, adjusted
from harness.results import records
from harness.status import OK


def _hardest(cells: Cells, options: list[tuple[Any, Terms]]) -> tuple[Any, Terms]:
    """Of several ratios ``ours / theirs_k`` chosen among, the one a statement about all of
    them rests on, from their simultaneous intervals: where every interval lies above 1,
    the one whose low end is lowest (we beat them all; this is the closest); where some lie
    below 1, the one whose high end is lowest (it surely beats us); else the one with the
    lowest estimate (nothing is decided; this is the nearest rival)."""
    found = cells.estimate([t for _, t in options], adjusted(len(options)))
    known = [(o, e) for o, e in zip(options, found, strict=True) if not math.isnan(e.low)]
    if known and all(e.low > 1 for _, e in known):
        return min(known, key=lambda oe: oe[1].low)[0]
    if any(e.high < 1 for _, e in known):
        return min(known, key=lambda oe: oe[1].high)[0]
    return min(zip(options, found, strict=True), key=lambda oe: oe[1].value)[0]


def compare_break_even(cells: Cells, by_category: bool = False) -> pd.DataFrame:
    """Per workload (or per category: ``by_category``) and worker count: free-threaded
    threads against the default build's best.

    The figure is the free-threaded threads' throughput over one of the default build's
    models at that worker count (``rival``; ``rivals``: how many models it has there); a
    category's is the geometric mean over its workloads, each model measured on all of them.

    - "Gains on every model" is an intersection-union claim (Berger 1982): it holds only
      if each of its parts does, so it is decided where each rival's own interval lies
      above 1, with no adjustment for the rivals; only for the worker counts it is sought
      at (the fewest where it holds is the break-even), as those are chosen among. The
      rival stated is the closest, and ``candidates`` is 1 (``each`` is True).
    - Anything else ("a model beats it", "equivalent to the best") rests on a rival picked
      among them, so it is decided from intervals simultaneous over them (``candidates``),
      and the rival stated is the one that decides (``_hardest``).
    """
    key = "category" if by_category else "workload"
    columns = [key, "workloads" if by_category else "category", "workers", "rival", "rivals",
               "each"]  # fmt: skip
    free_threaded, default = cells.roles.free_threaded, cells.roles.default
    if free_threaded is None or default is None:
        return _table(cells, [], [], columns)
    rows, terms, counts, options = [], [], [], []
    for named, workloads, workers, models in _rival_groups(cells, default, by_category):
        ours = [(free_threaded, w, "threads", workers) for w in workloads]
        candidates = [m for m in models
                      if all(cells.ok((default, w, m, workers)) for w in workloads)]  # fmt: skip
        if not all(cells.ok(c) for c in ours) or not candidates:
            continue
        each = [(m, geomean([ratio((default, w, m, workers), mine)
                             for w, mine in zip(workloads, ours, strict=True)]))
                for m in candidates]  # fmt: skip
        theirs, terms_of = _hardest(cells, each)
        rows.append({**named, "workers": workers, "rival": theirs, "rivals": len(candidates),
                     "each": False})  # fmt: skip
        terms.append(terms_of)
        counts.append(len(candidates))
        options.append(each)
    found = _table(cells, rows, terms, columns, counts)
    out = records(found)
    sought = [sum(r[key] == row[key] for r in out) for row in out]
    for row, each, tries in zip(out, options, sought, strict=True):
        estimates = cells.estimate([t for _, t in each], adjusted(tries))
        if not all(e.low > 1 for e in estimates):
            continue
        (closest, terms_of), estimate = min(zip(each, estimates, strict=True),
                                            key=lambda pair: pair[1].low)  # fmt: skip
        row.update(_decided(cells, terms_of, estimate, count=tries), rival=closest,
                   candidates=1, each=True)  # fmt: skip
    return pd.DataFrame(out, columns=found.columns)


def _rival_groups(cells: Cells, default: str, by_category: bool
                  ) -> list[tuple[dict[str, Any], list[str], int, list[str]]]:  # fmt: skip
    """What break-even compares, in order: (the row's naming columns, its workloads, the
    worker count, the default build's models measured there)."""
    table = cells.table
    rivals = table[(table["impl"] == default) & (table["status"] == OK)]
    if not by_category:
        return [({"workload": workload, "category": group["category"].iloc[0]},
                 [str(workload)], int(str(count)), [str(m) for m in group["model"]])
                for (workload, count), group in rivals.groupby(["workload", "workers"],
                                                               sort=True)]  # fmt: skip
    return [({"category": category, "workloads": ", ".join(workloads)}, workloads, int(str(count)),
             [str(m) for m in dict.fromkeys(group["model"])])
            for category, workloads in _categories(table).items()
            for count, group in rivals.groupby("workers", sort=True)]  # fmt: skip


def compare_models(cells: Cells, workers: int) -> pd.DataFrame:
    """Per impl x category at ``workers``: the fastest model and its lead over the others.

    Models are ranked by their geometric-mean speedup over the category's workloads; only
    models with a speedup on every workload of the category take part. The lead over each
    other model is the geometric mean of the leader's speedup over that model's, with
    intervals simultaneous over the others (``candidates``): the leader is the fastest
    only where it leads each. The model stated (``runner_up``) is the one that decides
    (``_hardest``): where the lead over it holds 1, no model is shown the fastest.
    """
    rows, terms, counts = [], [], []
    for category, workloads in _categories(cells.table).items():
        for impl in _impls(cells):
            ranked = rank_models(cells, impl, workloads, workers)
            if not ranked:
                continue
            best, others = ranked[0], ranked[1:]

            leads = [(m, _lead(cells, impl, workloads, best, m, workers)) for m in others]
            runner, chosen = _hardest(cells, leads) if leads else ("", None)
            rows.append({"impl": impl, "category": category, "best": best, "runner_up": runner})
            terms.append(chosen)
            counts.append(max(1, len(others)))
    return _table(cells, rows, terms, ["impl", "category", "best", "runner_up"], counts)


def rank_models(cells: Cells, impl: str, workloads: list[str], workers: int) -> list[str]:
    """``impl``'s models with a speedup on every one of ``workloads`` at ``workers``, fastest
    first by the geometric mean of their speedups' estimates."""
    speedup = cells.figures["speedup"]
    rates = {}
    for model in cells.table["model"].drop_duplicates():
        keys = [(impl, w, str(model), workers) for w in workloads]
        if all(k in cells.speedup and not math.isnan(speedup[k]) for k in keys):
            rates[str(model)] = math.prod(speedup[k] for k in keys) ** (1 / len(keys))
    return sorted(rates, key=lambda m: -rates[m])


def _lead(cells: Cells, impl: str, workloads: list[str], best: str, other: str,
          workers: int) -> Terms:  # fmt: skip
    """The geometric mean over ``workloads`` of ``best``'s speedup over ``other``'s."""
    return geomean([
        cells.speedup[(impl, w, best, workers)] * cells.speedup[(impl, w, other, workers)] ** -1
        for w in workloads
    ])  # fmt: skip
