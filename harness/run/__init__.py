"""Run: measure the planned cells, one process tree per benchmark, in interleaved passes.

``plan`` lists the cells and the effort (``Profile``); ``matrix`` runs them pass after
pass, recording every outcome; ``bench`` runs one benchmark with a runner from
``harness/inside/`` and classifies how it ended; ``progress`` draws the bar; ``cpuspeed``
samples the CPUs between benchmarks; ``workloads`` reads the workload files;
``protocol`` is the host's side of what the runners print.
"""
