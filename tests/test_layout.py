"""The code's shape is its architecture: docs/architecture.md's tree names every module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "harness"
MAX_LINES = 400  # a module past this has more than one job (STYLE.md: most are 100-300)


def _tree() -> str:
    """The block of docs/architecture.md that draws harness/."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    blocks = re.findall(r"```\n(harness/\n.*?)```", text, re.S)
    assert len(blocks) == 1, "docs/architecture.md draws harness/ in one code block"
    return blocks[0]


def _modules() -> list[Path]:
    return sorted(p for p in HARNESS.rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))


def test_the_architecture_page_names_every_module_and_folder() -> None:
    """Each package folder and each module of harness/ appears in the page's tree."""
    tree = _tree()
    words = set(re.findall(r"[\w.]+/?", tree))
    folders = {f"{p.name}/" for p in HARNESS.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders - words == set()
    unnamed = [p for p in _modules() if p.name not in words and p.stem not in words]
    assert unnamed == []


def test_every_module_the_page_names_exists() -> None:
    """The tree names no module that is gone."""
    named = set(re.findall(r"\b(\w+\.py)\b", _tree()))
    present = {p.name for p in _modules()}
    assert named - present == set()


def test_no_module_of_the_harness_is_over_400_lines() -> None:
    """Modules stay small enough to have one job each."""
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}  # fmt: skip
    assert long == {}


def _imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def _importers(package: str, prefix: str) -> dict[str, list[str]]:
    """The modules of ``harness/<package>`` that import anything under ``prefix``."""
    return {
        str(p.relative_to(ROOT)): hits
        for p in sorted((HARNESS / package).rglob("*.py"))
        if (hits := sorted(m for m in _imported(p) if m == prefix or m.startswith(f"{prefix}.")))
    }


def test_the_history_imports_nothing_from_the_report() -> None:
    """history/ builds its series from compare/ and decides its changes; report/ only renders
    them, so no module of harness/history imports harness.report."""
    assert _importers("history", "harness.report") == {}


def test_the_report_renders_the_history_and_never_runs_its_change_search() -> None:
    """report/ takes the changes history/read.py decided: no module of it imports
    harness.history.changes, where they are searched for and tested."""
    assert _importers("report", "harness.history.changes") == {}
