"""Compare: statistics over a run's tidy tables. Pure: tables in, tables out.

``cells`` makes the results table, one row per cell, and keeps the ``Terms`` behind its
speedups and ratios; ``estimate`` is the one estimator every figure goes through, with
``intervals`` doing the statistics; ``verdicts`` builds the comparisons the findings state
from the same terms; ``roles`` finds the reference and the free-threaded pair;
``steadiness`` says how steady the CPUs were.
"""
