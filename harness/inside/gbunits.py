"""One unit of work: run the kernel, perform its I/O, check its result against CHECKSUM.

A model's workers run units and send back picklable ``(status, value)`` outcomes rather
than raising, so that a failure in another thread, process or interpreter reaches the
round intact; ``collect`` turns a round's outcomes back into values or the first failure.
"""

import traceback
import types

import gbio
import gbpayload
import gbprobe
import gbprotocol

try:
    xrange
except NameError:  # Python 3: range is already lazy
    xrange = range


def kernel_args(module, service):
    """A workload with a service gets its argument in every kernel call."""
    return (service,) if hasattr(module, "start_service") else ()


def check(module, got):
    """Return ``got`` if it is the workload's CHECKSUM; raise wrong-checksum if not."""
    if got != module.CHECKSUM:
        raise gbprotocol.WorkloadFailure(
            "wrong-checksum", "expected %r, got %r" % (module.CHECKSUM, got)
        )
    return got


def runner(module):
    """The call that runs one unit of ``module`` on a service argument, performing its I/O
    requests blocking and checking its result. A sized workload's unit runs on this
    process's own argument (gbpayload.prepare), its output checked against the expected.

    Whether a workload is sized (``gbpayload.sized``) and whether its kernel takes the
    service (``kernel_args``) are ``hasattr`` misses in the workload module's dict, whose
    probes depend on the hash seed. Every model looks them up once, for a run of units or
    in a worker's set-up, rather than in each unit, whose instructions run/counts.py
    counts: in io_sleep's unit they were 4 of its 12 dict lookups, and moved its count
    with the seed."""
    if gbpayload.sized(module):

        def sized_unit(service=None):
            local = gbpayload.local(module)
            status, value = gbpayload.check_output(local.expected, module.kernel(local.argument))
            if status != "ok":
                raise gbprotocol.WorkloadFailure(status, value)
            return value

        return sized_unit
    takes_service = hasattr(module, "start_service")  # as kernel_args decides

    def unit(service=None):
        got = module.kernel(service) if takes_service else module.kernel()
        if isinstance(got, types.GeneratorType):
            got = gbio.drive_blocking(got)
        return check(module, got)

    return unit


def attempt(unit, service=None):
    """Run ``unit`` (a ``runner``) on ``service``; return a picklable (status, value) pair
    instead of raising."""
    try:
        return ("ok", unit(service))
    except gbprotocol.WorkloadFailure as exc:
        return (exc.status, exc.detail)
    except Exception:
        return ("crashed", traceback.format_exc())


def outcomes(module, service=None, units=1):
    """Run ``units`` units back to back: their outcomes, ending at the first failure."""
    try:
        unit = runner(module)
    except Exception:
        return [("crashed", traceback.format_exc())]
    done = []
    for _ in xrange(units):
        done.append(attempt(unit, service))
        if done[-1][0] != "ok":
            break
    return done


def timed_outcomes(module, service=None, units=1):
    """``outcomes``, timed by the worker that runs them: (outcomes, seconds on gbprobe.clock).

    Every model's worker reports its units this way: the seconds are its busy time in a
    round (gbmodels.Model.busy), or a paired baseline's serial time
    (gbmodels.Model.time_alone), read around the units alone, hand-offs outside.
    """
    start = gbprobe.clock()
    done = outcomes(module, service, units)
    return done, gbprobe.clock() - start


def collect(done):
    """The values of a round's (status, value) outcomes; the first failure raises."""
    values = []
    for status, value in done:
        if status != "ok":
            raise gbprotocol.WorkloadFailure(status, value)
        values.append(value)
    return values
