"""The README is short and its pages are real: every docs/ page is linked from it, and no
link or path in README.md or docs/ names a file that doesn't exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
# a path in backticks that names a file of this repository (not a run folder's or a
# pattern's: those hold <...>, * or ~)
REPO_PATH = re.compile(r"`((?:harness|workloads|tests|docs|\.github|\.ci)/[^`<>*~ ]*)`")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _documents() -> list[Path]:
    return [README, *PAGES]


def test_the_readme_is_read_in_two_minutes() -> None:
    """README.md is at most 150 lines."""
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    """A page nothing links to is a page nobody finds."""
    links = set(LINK.findall(README.read_text(encoding="utf-8")))
    assert PAGES, "docs/ has no pages"
    missing = [p.name for p in PAGES if f"docs/{p.name}" not in links]
    assert not missing, f"README.md links to none of {missing}"


@pytest.mark.parametrize("document", _documents(), ids=lambda p: p.name)
def test_every_relative_link_names_a_file_that_exists(document: Path) -> None:
    """A link to another page or file of the repository resolves."""
    text = document.read_text(encoding="utf-8")
    links = [link for link in LINK.findall(text) if "://" not in link]
    broken = [link for link in links if not (document.parent / link).exists()]
    assert not broken, f"{document.name} links to missing {broken}"


@pytest.mark.parametrize("document", _documents(), ids=lambda p: p.name)
def test_every_repository_path_named_exists(document: Path) -> None:
    """A path such as `harness/run/plan.py` in the text names a file or folder that is there."""
    named = REPO_PATH.findall(document.read_text(encoding="utf-8"))
    stale = sorted({p for p in named if not (ROOT / p.rstrip("/.,")).exists()})
    assert not stale, f"{document.name} names missing {stale}"
