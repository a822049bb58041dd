"""How many warm-up values a JIT needs: pyperf's rule, for runners without pyperf.

pyperf calibrates a JIT's warm-ups in a worker of its own (pyperf 2.10, _worker.py,
``WorkerTask.calibrate_warmups`` and ``test_calibrate_warmups``); pure_runner.py needs the
same answer on Jython and IronPython, which can't run pyperf. The rule, as pyperf has it:

- Guess ``nwarmup`` = 1. Take values until there are ``nwarmup`` + 2 x WARMUP_SAMPLE_SIZE,
  drop the first ``nwarmup`` and split the rest into two samples of WARMUP_SAMPLE_SIZE.
- The warm-up is over when the first value after it is no outlier (no more than Q3 +
  1.5 x IQR of the values after it) and the two samples agree: the first's mean is
  between 50% below and 10% above the second's, their median absolute deviations are
  within 10% of each other, and their first and third quartiles within 5%.
- If not, ``nwarmup`` += 1, one more value, and test again.

This module is gilbench's own code for that rule, in the syntax Python 2.7 shares; the
quartiles are interpolated as pyperf's _utils.percentile interpolates them. It departs
from pyperf only where pyperf has no answer. pyperf divides by the second sample's
deviation even when it is zero (a FIXME there): here two zero deviations agree, and a zero
against a non-zero one does not. Where pyperf stops the benchmark with an error after
MAX_WARMUP_VALUES values, this gives up instead, and the workers warm up for as many values
as the calibration took (see ``calibrate_warmups``); it also gives up after
MAX_WARMUP_SECONDS.
"""

from __future__ import division

import math

WARMUP_SAMPLE_SIZE = 20  # values per sample, as in pyperf
MAX_WARMUP_VALUES = 300  # pyperf's limit on a calibration's values
# A wall-clock limit as well, which pyperf has not. A value lasts at least --min-time, and
# longer where one round does (a serial round of W units, on a slow JVM): 300 of them could
# outlast the host's timeout for the whole cell (Profile.timeout_s), and each of the cell's
# worker processes would then warm up as long again. The first test (1 + 2 x
# WARMUP_SAMPLE_SIZE values) always runs: with fewer values there is nothing to test.
MAX_WARMUP_SECONDS = 30.0
OUTLIER_IQRS = 1.5  # Tukey's fence: the first value is an outlier above Q3 + 1.5 x IQR
MEAN_FASTER = 0.5  # the first sample's mean may lie up to 50% below the second's...
MEAN_SLOWER = 0.10  # ...and up to 10% above it (a JIT that is still compiling is slower)
MAD_SPREAD = 0.10  # the two samples' median absolute deviations within 10%
QUARTILE_SPREAD = 0.05  # their first and third quartiles within 5%


def percentile(values, fraction):
    """The value ``fraction`` (0 to 1) of the way through the sorted values, interpolated."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    below, above = int(math.floor(position)), int(math.ceil(position))
    if below == above:
        return ordered[below]
    return ordered[below] * (above - position) + ordered[above] * (position - below)


def median(values):
    return percentile(values, 0.5)


def median_abs_dev(values):
    """The median distance of the values from their median."""
    middle = median(values)
    return median([abs(value - middle) for value in values])


def _relative(a, b):
    """How far ``a`` lies from ``b``, as a fraction of ``b``; infinite if only b is zero."""
    if b == 0:
        return 0.0 if a == 0 else float("inf")
    return (a - b) / b


def warmups_settled(values, nwarmup):
    """Whether the values after the first ``nwarmup`` hold still, by pyperf's test.

    ``values`` holds ``nwarmup`` values and two samples of at least 2 values after them.
    """
    half = nwarmup + (len(values) - nwarmup) // 2
    first, second = values[nwarmup:half], values[half:]
    rest = first[1:] + second
    q1, q3 = percentile(rest, 0.25), percentile(rest, 0.75)
    if first[0] > q3 + OUTLIER_IQRS * (q3 - q1):  # only a slow first value is an outlier
        return False
    mean_diff = _relative(sum(first) / len(first), sum(second) / len(second))
    if not -MEAN_FASTER <= mean_diff <= MEAN_SLOWER:
        return False
    if abs(_relative(median_abs_dev(first), median_abs_dev(second))) > MAD_SPREAD:
        return False
    for fraction in (0.25, 0.75):
        quartiles = percentile(first, fraction), percentile(second, fraction)
        if abs(_relative(quartiles[0], quartiles[1])) > QUARTILE_SPREAD:
            return False
    return True


def calibrate_warmups(value, clock, max_values=MAX_WARMUP_VALUES, max_seconds=MAX_WARMUP_SECONDS):
    """Take values until the warm-up is over: (warm-ups, every value taken, whether settled).

    ``value()`` times one value; ``clock()`` reads the time, for ``max_seconds``. When the
    values don't settle within ``max_values`` values or ``max_seconds``, the warm-ups are
    all the values taken: the workers then warm up as long as the calibration watched the
    JIT, which is the most that is known to help, and measure a drifting JIT, rather than
    measuring nothing. The report's intervals show what that costs.
    """
    values = []
    nwarmup = 1  # pyperf's first guess
    started = clock()
    while True:
        while len(values) < nwarmup + 2 * WARMUP_SAMPLE_SIZE:
            values.append(value())
        if warmups_settled(values, nwarmup):
            return nwarmup, values, True
        if len(values) >= max_values or clock() - started >= max_seconds:
            return len(values), values, False
        nwarmup += 1
