"""Find workload files and read what they declare, without running them.

A workload is one file that stands alone (see ``workloads/nbody.py``). The host reads its
constants with ``ast`` rather than importing it: the file is written for every
implementation, and a broken one must give the user a clear message, not a traceback.

Two kinds of file are workloads:

- ``kernel``: gilbench's format (README, "Adding a workload"), run by inside/runner.py
  under every model;
- ``pyperf``: an unchanged pyperf script, such as pyperformance's ``run_benchmark.py``
  files (README, "Bring your own pyperf script"). It runs as itself, serial, with
  inside/pyperf_site/ on PYTHONPATH adding gilbench's metadata: see ``script_command``.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.run import sizes
from harness.run.protocol import SCRIPT_SITE

# The shipped workloads: inside the package in a wheel (pyproject's force-include), beside it
# in a checkout, where contributors add theirs.
_PACKAGED = Path(__file__).resolve().parent.parent / "workloads"
WORKLOADS_DIR = _PACKAGED if _PACKAGED.is_dir() else _PACKAGED.parent.parent / "workloads"
REQUIRED = ("CATEGORY", "DESCRIPTION", "CHECKSUM")
# The categories of the suite, in the order the list and the report show them, with what
# each one asks about the GIL. A user's workload may bring a category of its own.
CATEGORIES = {
    "cpu": "pure-Python CPU: can W workers run bytecode at once?",
    "alloc": "allocation and reference counting: what do thread-safe heaps cost?",
    "contention": "shared state: what does sharing cost, and is any update lost?",
    "c-release": "C code that releases the GIL: threads scale on every build",
    "c-holds": "C code that holds the GIL: only GIL-free builds and processes scale",
    "io": "I/O-bound: waiting needs no GIL, so every model should overlap it",
    "mixed": "CPU and I/O together: GIL builds overlap only the waits",
    "payload": "data in and out of each unit: threads pass it, processes and "
    "subinterpreters copy it",
    "tasks": "many small tasks handed to a pool one at a time: what each hand-off costs",
    "pyperf": "your own pyperf scripts, run unchanged and serial",
}
PYPERF_CATEGORY = "pyperf"
# inside/pyperf_site/sitecustomize.py reads its settings from this variable, which pyperf
# passes to its workers only when told to (--inherit-environ).
SCRIPT_SETTINGS = "GILBENCH_PYPERF"


# A project name (PEP 508), extras, then version clauses: what REQUIRES may name.
REQUIREMENT = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?(\[[A-Za-z0-9._,-]+\])?"
    r"\s*((~=|==|!=|<=|>=|<|>|===)\s*[A-Za-z0-9.*+!_-]+\s*,?\s*)*"
)

ALL = "all"  # --workload all: every workload, the sized ones too (the nightly's selection)


class WorkloadError(Exception):
    """A workload file that can't be used, or a selection that matches none."""


@dataclass(frozen=True)
class Workload:
    name: str
    path: Path
    category: str
    tags: tuple[str, ...]
    description: str
    checksum: object
    kind: str = "kernel"  # "kernel": gilbench's format; "pyperf": an unchanged pyperf script
    shared_state: bool = False  # declares updates_seen(): lost updates are checked/counted
    # A sized workload's (make_input: run/sizes.py): "payload" or "task size", the sizes it
    # declares (bytes or seconds), and a variant's own size (its name is then base@size)
    sweep: str = ""
    sizes: tuple[float, ...] = ()
    size: float | None = None
    # REQUIRES: the packages it imports, as pip takes them ("numpy>=2"), installed for each
    # implementation by provision/packages.py; none: the standard library alone
    requires: tuple[str, ...] = ()


def _imports_pyperf(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "pyperf" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "pyperf":
            return True
    return False


def _script_name(path: Path) -> str:
    """pyperformance keeps every script as bm_<name>/run_benchmark.py: name it after bm_<name>."""
    return path.resolve().parent.name if path.stem == "run_benchmark" else path.stem


def parse_script(path: Path, tree: ast.Module) -> Workload:
    """A pyperf script as a workload: serial only, described by its docstring."""
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    name = _script_name(path)
    return Workload(
        name=name,
        path=path.resolve(),
        category=PYPERF_CATEGORY,
        tags=("pyperf",),
        description=doc[0] if doc else f"pyperf script {name} (run unchanged, serial)",
        checksum=None,
        kind="pyperf",
    )


def parse_workload(path: Path) -> Workload:
    """Read a workload file's declarations; raise WorkloadError if it is unusable."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        raise WorkloadError(f"workload {str(path)!r} can't be read: {exc}") from exc
    consts: dict[str, object] = {}
    has_kernel = False
    functions = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions.add(node.name)
        if isinstance(node, ast.FunctionDef) and node.name == "kernel":
            has_kernel = True
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    try:
                        consts[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        if target.id in DECLARED:  # gilbench reads these without running it
                            raise WorkloadError(
                                f"workload {str(path)!r} declares {target.id} = "
                                f"{ast.unparse(node.value)}, which is not a literal: write "
                                f"the value itself, as {DECLARED[target.id][0]}"
                            ) from None
                        continue  # other computed constants are the workload's business
    if not has_kernel and _imports_pyperf(tree):
        return parse_script(path, tree)
    sized = "make_input" in functions
    required = [n for n in REQUIRED if n != "CHECKSUM"] if sized else list(REQUIRED)
    missing = [name for name in required if name not in consts]
    if not has_kernel:
        missing.insert(0, "def kernel()")
    if sized and "expected_output" not in functions:
        missing.append("def expected_output(size)")
    if missing:
        raise WorkloadError(
            f"workload {str(path)!r} lacks {', '.join(missing)}: see README.md, 'Adding a workload'"
        )
    _check_types(path, consts)
    tags = consts.get("TAGS", ())
    sweep, declared = _sizes(path, consts) if sized else ("", ())
    requires = consts.get("REQUIRES", ())
    requires = requires if isinstance(requires, list | tuple) else ()  # _check_types: strings
    return Workload(
        name=path.stem,
        path=path.resolve(),
        category=str(consts["CATEGORY"]),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list | tuple) else (),
        description=str(consts["DESCRIPTION"]),
        checksum=consts.get("CHECKSUM"),
        shared_state="updates_seen" in functions,
        sweep=sweep,
        sizes=declared,
        requires=tuple(str(r).strip() for r in requires),
    )


def _sizes(path: Path, consts: dict[str, object]) -> tuple[str, tuple[float, ...]]:
    """A sized workload's kind and declared sizes: exactly one of PAYLOADS and TASK_SIZES,
    each a list of sizes as --payload or --task-size takes them."""
    declared = [(sweep, name) for sweep, name in sizes.DECLARATION.items() if name in consts]
    if len(declared) != 1:
        raise WorkloadError(f"workload {str(path)!r} declares make_input(), so it needs "
                            "exactly one of PAYLOADS (sizes in bytes, e.g. (\"0\", \"1KiB\")) "
                            "and TASK_SIZES (durations, e.g. (\"10us\", \"1ms\"))")  # fmt: skip
    sweep, name = declared[0]
    value = consts[name]
    try:
        if not isinstance(value, list | tuple) or not value:
            raise sizes.SizeError("it must be a non-empty list of strings")
        return sweep, sizes.parse_sizes(",".join(str(v) for v in value), sweep)
    except sizes.SizeError as exc:  # the flag's words, in the declaration's name
        said = str(exc).replace(sizes.FLAG[sweep], name)
        raise WorkloadError(f"workload {str(path)!r} declares {name} = {value!r}: {said}") from None


# What each declaration must be, in words for the error, and the test of it.
DECLARED: dict[str, tuple[str, Callable[[object], bool]]] = {
    "CATEGORY": ('a non-empty string, e.g. CATEGORY = "cpu"',
                 lambda v: isinstance(v, str) and bool(v.strip())),
    "DESCRIPTION": ("a string saying what the kernel stresses",
                    lambda v: isinstance(v, str)),
    "CHECKSUM": ("a whole number or a string: what one unit returns",
                 lambda v: isinstance(v, int | str) and not isinstance(v, bool)),
    "TAGS": ('a list of strings, e.g. TAGS = ["quick"]',
             lambda v: isinstance(v, list | tuple) and all(isinstance(t, str) for t in v)),
    "REQUIRES": ('a list of requirements as pip takes them, e.g. REQUIRES = ("numpy>=2",)',
                 lambda v: isinstance(v, list | tuple) and all(_requirement(r) for r in v)),
}  # fmt: skip


def _requirement(text: object) -> bool:
    """A name with an optional version constraint ("numpy", "numpy>=2,<3", "lxml==6.*"):
    never a URL, a path or an option, which would reach pip's command line as such."""
    return isinstance(text, str) and bool(REQUIREMENT.fullmatch(text.strip()))


def _check_types(path: Path, consts: dict[str, object]) -> None:
    """A declaration of the wrong type is refused with one line that says what it must be."""
    for name, (wanted, good) in DECLARED.items():
        if name in consts and not good(consts[name]):
            raise WorkloadError(f"workload {str(path)!r} declares {name} = "
                                f"{consts[name]!r}: it must be {wanted}")  # fmt: skip


def load_workloads(directory: Path = WORKLOADS_DIR) -> list[Workload]:
    """Every workload file in ``directory``, sorted by name."""
    files = sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))
    return [parse_workload(p) for p in files]


def by_category(workloads: Sequence[Workload]) -> list[Workload]:
    """The suite's categories in CATEGORIES order, then any others; names sorted within."""
    order = {name: index for index, name in enumerate(CATEGORIES)}
    return sorted(workloads, key=lambda w: (order.get(w.category, len(order)), w.category, w.name))


def format_listing(workloads: Sequence[Workload]) -> str:
    """One line per workload: name, category, and what it stresses (``gilbench list``)."""
    width = max([len(w.name) for w in workloads] + [8])
    lines = [
        f"{w.name:<{width}}  {w.category:<10}  {w.description}" for w in by_category(workloads)
    ]
    return "".join(line + "\n" for line in lines)


def select_workloads(available: list[Workload], wanted: list[str],
                     payload: Sequence[float] | None = None,
                     task_size: Sequence[float] | None = None) -> list[Workload]:  # fmt: skip
    """Pick workloads by name, category or tag; a path adds a user's own file. A sized
    one comes out as one variant per size: ``payload`` or ``task_size``, else its own."""
    return sweep_sizes(_pick(available, wanted), payload, task_size)


def _pick(available: list[Workload], wanted: list[str]) -> list[Workload]:
    """Nothing asked for: every workload but the sized ones, which sweep several sizes each,
    and those with REQUIRES, whose packages come from the index: both are measured when
    named (by name, category, tag, or ``all``: every workload)."""
    if not wanted:
        return [w for w in available if not w.sweep and not w.requires]
    chosen: dict[str, Workload] = {}
    for item in wanted:
        if item == ALL:
            chosen.update((w.name, w) for w in available)
            continue
        path = Path(item) if "/" in item or "." in item else None  # names have neither
        if path is not None and path.is_dir():
            raise WorkloadError(f"{item} is a folder; name a workload file (.py), or a "
                                "workload's name, category or tag")  # fmt: skip
        if path is not None and path.is_file() and path.suffix != ".py":
            raise WorkloadError(f"{item} is not a Python file; a workload is a .py file that "
                                "declares CATEGORY, DESCRIPTION, CHECKSUM, kernel()")  # fmt: skip
        if item.endswith(".py"):
            workload = parse_workload(Path(item))
            chosen[workload.name] = workload
            continue
        hits = [w for w in available if item in (w.name, w.category, *w.tags)]
        if not hits:
            names = ", ".join(w.name for w in available)
            raise WorkloadError(f"no workload is called {item!r}; valid names: {names}")
        chosen.update((w.name, w) for w in hits)
    return list(chosen.values())


def script_command(
    workload: Workload, python: Path, raw: Path, pyperf_args: Sequence[str]
) -> list[str]:
    """The command that runs a pyperf script unchanged, appending to ``raw``.

    Run it with ``script_environ``'s environment: that puts inside/pyperf_site/ (whose
    sitecustomize adds gilbench's metadata to every benchmark) on PYTHONPATH, which pyperf
    passes to its workers, and the settings in SCRIPT_SETTINGS, which it passes because
    of ``--inherit-environ``.
    """
    return [
        str(python), str(workload.path),
        "--append", str(raw), "--quiet", f"--inherit-environ={SCRIPT_SETTINGS}",
        *pyperf_args,
    ]  # fmt: skip


def script_environ(
    workload: Workload,
    impl_id: str,
    build: str,
    expect_gil: str,
    base: Mapping[str, str],
) -> dict[str, str]:
    """``base`` plus what inside/pyperf_site/sitecustomize.py needs to describe the run."""
    env = dict(base)
    paths = [str(SCRIPT_SITE)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env[SCRIPT_SETTINGS] = json.dumps(
        {"impl": impl_id, "build": build, "workload": workload.name, "expect_gil": expect_gil}
    )
    return env


def sweep_sizes(workloads: Iterable[Workload], payload: Sequence[float] | None = None,
                task_size: Sequence[float] | None = None) -> list[Workload]:  # fmt: skip
    """Each sized workload as one variant per size (run/sizes.py): the sizes given for its
    kind, else its own; the others as they are. Sizes given where no selected workload
    takes them are a WorkloadError that says which to add."""
    given: dict[str, Sequence[float] | None] = {sizes.PAYLOAD: payload, sizes.TASK_SIZE: task_size}
    workloads = list(workloads)
    for sweep, wanted in given.items():
        if wanted is not None and not any(w.sweep == sweep for w in workloads):
            known = "payload_bytes" if sweep == sizes.PAYLOAD else "task_size"
            raise WorkloadError(f"{sizes.FLAG[sweep]} sizes the workloads that declare "
                                f"{sizes.DECLARATION[sweep]}, and none is selected: add "
                                f"--workload {known}, or your own")  # fmt: skip
    out: list[Workload] = []
    for workload in workloads:
        if not workload.sweep or workload.size is not None:
            out.append(workload)
            continue
        out.extend(variant_of(workload, size) for size in given[workload.sweep] or workload.sizes)
    return out


def variant_of(workload: Workload, size: float | None) -> Workload:
    """``workload`` measured at ``size``: named ``<name>@<size>``; as it is if unsized."""
    if size is None or not workload.sweep:
        return workload
    name = sizes.variant_name(sizes.base_name(workload.name), size, workload.sweep)
    return replace(workload, name=name, size=size)
