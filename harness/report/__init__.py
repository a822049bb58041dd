"""Report: what a run shows its readers, built once (``build``) and then written (``write``).

``build.build_report(run)`` is pure and returns a ``Report``; ``findings`` turns the
comparisons into sentences; ``pages``, ``charts`` and ``markdown`` format the Report;
``write.write_report(report, folder)`` writes every file, each in one step.
"""
