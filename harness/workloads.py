"""Find workload files and read what they declare, without running them.

A workload is one file that stands alone (see ``workloads/nbody.py``). The host reads its
constants with ``ast`` rather than importing it: the file is written for every
implementation, and a broken one must give the user a clear message, not a traceback.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

WORKLOADS_DIR = Path(__file__).resolve().parent.parent / "workloads"
REQUIRED = ("CATEGORY", "DESCRIPTION", "CHECKSUM")


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


def parse_workload(path: Path) -> Workload:
    """Read a workload file's declarations; raise WorkloadError if it is unusable."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, ValueError) as exc:
        raise WorkloadError(f"workload {str(path)!r} can't be read: {exc}") from exc
    consts: dict[str, object] = {}
    has_kernel = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "kernel":
            has_kernel = True
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    try:
                        consts[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue  # computed constants are the workload's business
    missing = [name for name in REQUIRED if name not in consts]
    if not has_kernel:
        missing.insert(0, "def kernel()")
    if missing:
        raise WorkloadError(
            f"workload {str(path)!r} lacks {', '.join(missing)}: see README.md, 'Add a workload'"
        )
    tags = consts.get("TAGS", ())
    return Workload(
        name=path.stem,
        path=path.resolve(),
        category=str(consts["CATEGORY"]),
        tags=tuple(str(t) for t in tags) if isinstance(tags, list | tuple) else (),
        description=str(consts["DESCRIPTION"]),
        checksum=consts["CHECKSUM"],
    )


def load_workloads(directory: Path = WORKLOADS_DIR) -> list[Workload]:
    """Every workload file in ``directory``, sorted by name."""
    files = sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))
    return [parse_workload(p) for p in files]


def select_workloads(available: list[Workload], wanted: list[str]) -> list[Workload]:
    """Pick workloads by name, category or tag; a path adds a user's own file."""
    if not wanted:
        return available
    chosen: dict[str, Workload] = {}
    for item in wanted:
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
