"""Add gilbench's metadata to every benchmark of an unchanged pyperf script.

"Bring your own pyperf script" (README): the host runs the script itself, with this
folder first on PYTHONPATH and its settings, as JSON, in GILBENCH_PYPERF; see
harness/workloads.py, ``script_command`` and ``script_environ``. Python imports
``sitecustomize`` at start-up in pyperf's master process and in every worker it spawns
(pyperf passes PYTHONPATH on, and GILBENCH_PYPERF through ``--inherit-environ``).

This one wraps pyperf.Runner's ``bench_*`` methods. Before each benchmark is created it
adds what inside/runner.py records for its own workloads: gilbench_impl, _build,
_workload, _model (serial), _workers (1), _cpus, _cpu_count, _oversubscribed, _kind
(pyperf) and gil_enabled, read in the worker when the benchmark starts, after the
script's own imports. A worker whose GIL state breaks the implementation's promise
reports gil-mismatch and exits, as runner.py does. The script itself is not touched.

Without GILBENCH_PYPERF it does nothing. It shadows any other sitecustomize on the path,
so it runs only the gilbench measurements it is meant for.

Same-syntax rule: parses on Python 2.7 and 3.4+ like the rest of inside/, though only
interpreters that run pyperf (3.9+) ever get here.
"""

import functools
import json
import os
import sys

SETTINGS = "GILBENCH_PYPERF"
BENCH_METHODS = ("bench_func", "bench_time_func", "bench_async_func", "bench_command")


def _inside(module):
    """inside/<module>.py, loaded by path under a private name: the script's imports stay its own.

    Only modules that import no other gb* module can be loaded so: gbprotocol and gbprobe.
    """
    name = "gilbench_" + module
    if name not in sys.modules:
        import importlib.util  # novm

        inside = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        path = os.path.join(inside, module + ".py")
        spec = importlib.util.spec_from_file_location(name, path)  # novm
        loaded = importlib.util.module_from_spec(spec)  # novm
        spec.loader.exec_module(loaded)
        sys.modules[name] = loaded
    return sys.modules[name]


def workload_name(workload, benchmark):
    """The row's workload: the script's name, or name:benchmark for a script of several."""
    own = workload[3:] if workload.startswith("bm_") else workload
    if benchmark in (workload, own):
        return workload
    return "%s:%s" % (workload, benchmark)


def describe(runner, benchmark, settings):
    """Add gilbench's metadata to ``runner`` before it creates ``benchmark``."""
    protocol, probe = _inside("gbprotocol"), _inside("gbprobe")
    args = runner.parse_args()  # pyperf parses once and returns the same args after
    gil = probe.gil_enabled()
    expect = settings.get("expect_gil", "any")
    if args.worker and expect != "any" and gil != int(expect):
        protocol.report_status(
            "gil-mismatch",
            "%s promises GIL %s but the GIL in force is %s"
            % (settings["impl"], "enabled" if expect == "1" else "disabled",
               "enabled" if gil else "disabled"),
        )  # fmt: skip
        sys.stdout.flush()
        os._exit(protocol.EXIT_GIL_MISMATCH)
    cpus = probe.usable_cpus()
    runner.metadata.update(
        {
            "gilbench_version": protocol.METADATA_VERSION,
            "gilbench_impl": settings["impl"],
            "gilbench_build": settings.get("build") or "-",
            "gilbench_workload": workload_name(settings["workload"], benchmark),
            "gilbench_kind": "pyperf",
            "gilbench_model": "serial",
            "gilbench_workers": 1,
            "gilbench_checksum": "-",  # a pyperf script checks its own results, if at all
            "gilbench_cpus": cpus,
            "gilbench_affinity": probe.cpu_affinity(),
            "gilbench_cpu_count": probe.machine_cpus(),
            "gilbench_oversubscribed": int(1 > cpus),
            "gil_enabled": gil,
        }
    )


def _wrap(method, settings):
    @functools.wraps(method)
    def bench(self, name, *args, **kwargs):
        describe(self, name, settings)
        return method(self, name, *args, **kwargs)

    return bench


def install(settings):
    """Wrap every bench_* method of pyperf.Runner so that each benchmark is described."""
    import pyperf

    for name in BENCH_METHODS:
        method = getattr(pyperf.Runner, name, None)
        if method is not None and not getattr(method, "gilbench", False):
            wrapped = _wrap(method, settings)
            wrapped.gilbench = True
            setattr(pyperf.Runner, name, wrapped)


if os.environ.get(SETTINGS):
    install(json.loads(os.environ[SETTINGS]))
