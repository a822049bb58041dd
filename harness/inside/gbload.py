"""Load a workload file by path, as ``import`` would load it from its ``.pyc``.

A workload (README, "Adding a workload") is one file that stands alone: ``kernel()`` and
``CHECKSUM``, and optionally a generator kernel that asks for its I/O (gbio.py),
``start_service()`` and ``updates_seen()`` (gbmodels.py). Every model loads it through
``load_workload``, in every process and interpreter it runs units in.
"""

import os
import platform
import sys


def load_workload(path):
    """Import a workload file by path, under a private module name, from its bytecode.

    The code runs as an imported module's does when it comes from its ``.pyc``, whether
    or not a ``__pycache__`` is there (see ``compile_as_cached``).
    """
    name = "gilbench_workload_" + os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules:
        return sys.modules[name]
    if sys.version_info >= (3, 5):
        import importlib.util  # novm

        spec = importlib.util.spec_from_file_location(name, path)  # novm
        module = importlib.util.module_from_spec(spec)  # novm
        sys.modules[name] = module
        try:
            exec(compile_as_cached(path), module.__dict__)
        except BaseException:
            del sys.modules[name]  # a half-imported workload must not be found next time
            raise
    else:
        import imp

        module = imp.load_source(name, path)
    return module


def compile_as_cached(path):
    """A file's code object as ``import`` gets it from the file's ``.pyc``: through marshal.

    On CPython's free-threaded build this decides what is measured. Code that marshal
    builds (a module imported from its .pyc) has its int, float and tuple constants
    interned and immortal. Code that the builtin ``compile()`` makes from source text
    keeps them mortal (3.14's bltinmodule.c: ``suppress_co_const_immortalization``), and
    importlib calls just that when there is no usable .pyc: a first import, ``python -B``,
    a read-only folder. Every thread using a mortal literal updates its reference count,
    and two threads of one such loop ran at 0.53x to 0.69x the throughput of one. So a
    workload's figures hung on whether an earlier process had written its .pyc; no more.
    """
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec", 0, True)  # dont_inherit: our __future__s
    if platform.python_implementation() == "CPython":
        import marshal

        code = marshal.loads(marshal.dumps(code))
    return code
