"""The host and the runners agree on what the runners print: one protocol, two copies.

harness/inside/gbprotocol.py runs inside every measured interpreter (Python 2.7 too) and
can't import the harness; harness/run/protocol.py is the host's copy. Read gbprotocol's
constants with ``ast``, never by importing it, and hold the two side by side.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.run import protocol
from harness.status import STATUSES

GBPROTOCOL = protocol.INSIDE / "gbprotocol.py"


def inside_constants(path: Path = GBPROTOCOL) -> dict[str, object]:
    """Every UPPER_CASE name a module assigns a literal to, as the literal's value."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    continue
    return found


INSIDE = inside_constants()


@pytest.mark.parametrize(
    "name", ["STATUS_PREFIX", "MODEL_WIDE_LINE", "MODELS", "METADATA_VERSION", "NOTE_PREFIX"]
)
def test_the_host_reads_what_the_runners_write(name: str) -> None:
    """Each constant both sides use has one value on both sides."""
    assert getattr(protocol, name) == INSIDE[name]


def test_exit_statuses_mean_the_same_on_both_sides() -> None:
    """The exit codes a dying worker leaves with name the statuses the host records."""
    names = {s: f"EXIT_{s.upper().replace('-', '_')}" for s in protocol.EXIT_STATUSES.values()}
    inside = {INSIDE[name]: status for status, name in names.items()}
    assert inside == protocol.EXIT_STATUSES
    assert set(protocol.EXIT_STATUSES.values()) <= set(STATUSES)


def test_the_reader_finds_constants_and_skips_computed_ones(tmp_path: Path) -> None:
    """inside_constants reads literal assignments only, so a computed one can't pass as equal."""
    module = tmp_path / "m.py"
    module.write_text("A = 1\nB = ('x', 2)\nC = len('abc')\nlower = 4\n")
    assert inside_constants(module) == {"A": 1, "B": ("x", 2)}
