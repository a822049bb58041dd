"""Load a workload file by path, as ``import`` would load it from its ``.pyc``.

A workload (README, "Adding a workload") is one file that stands alone: ``kernel()`` and
``CHECKSUM``, and optionally a generator kernel that asks for its I/O (gbio.py),
``start_service()`` and ``updates_seen()`` (gbmodels.py). Every model loads it through
``load_workload``, in every process and interpreter it runs units in. An extension module
it imports may turn a free-threaded build's GIL back on: ``gil_note`` says which.
"""

import os
import platform
import sys

import gbprotocol

# The words of CPython's RuntimeWarning when an import turns a free-threaded build's GIL
# back on (Python/import.c): "... has been enabled to load module 'numpy._core', which ..."
GIL_WARNING = "has been enabled to load module '"

_reenabled = []  # the modules whose import turned this process's GIL back on, in order


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
            with WatchingTheGil():
                exec(compile_as_cached(path), module.__dict__)
        except BaseException:
            del sys.modules[name]  # a half-imported workload must not be found next time
            raise
    else:
        import imp

        with WatchingTheGil():
            module = imp.load_source(name, path)
    return module


class WatchingTheGil(object):
    """Keeps the name of each module whose import, inside the block, turned the GIL back on.

    CPython names it in a RuntimeWarning, once per process: that warning is caught here
    and kept (``gil_note``); any other warning goes on as it would have.
    """

    def __enter__(self):
        import warnings

        self.catcher = warnings.catch_warnings(record=True)
        self.caught = self.catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *failure):
        import warnings

        self.catcher.__exit__(*failure)
        for warning in self.caught:
            text = str(warning.message)
            if issubclass(warning.category, RuntimeWarning) and GIL_WARNING in text:
                _reenabled.append(text.split(GIL_WARNING, 1)[1].split("'", 1)[0])
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                       warning.lineno)  # fmt: skip
        return False


def gil_note(gil):
    """The note "numpy re-enabled the GIL" when the GIL is in force (``gil``: 1) because a module
    the workload imported turned it back on; else "". Said on stderr too, for the host,
    which keeps it beside the cell (run/bench.py): its figures are measured with the GIL
    on, and marked."""
    if not gil or not _reenabled:
        return ""
    note = "%s re-enabled the GIL" % ", ".join(_reenabled)
    sys.stderr.write("%s %s\n" % (gbprotocol.NOTE_PREFIX, note))
    sys.stderr.flush()
    return note


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
