"""gbprotocol: the status line, the exit codes and the constants the host keeps copies of."""

from __future__ import annotations

import ast
from pathlib import Path

import gbprotocol
import pytest

PROTOCOL = Path(gbprotocol.__file__)


def test_a_failure_is_reported_as_one_status_line(capsys: pytest.CaptureFixture[str]) -> None:
    """report_status writes 'GILBENCH-STATUS status: detail' to stderr, on one line."""
    gbprotocol.report_status("crashed", "Traceback (most recent call last):\n  ZeroDivisionError")
    assert capsys.readouterr().err == (
        "GILBENCH-STATUS crashed: Traceback (most recent call last): ZeroDivisionError\n"
    )


def test_a_model_wide_failure_is_announced_on_the_line_before(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A model-wide status follows MODEL_WIDE_LINE, which tells the host to ask no further."""
    gbprotocol.report_status("unsupported", "Jython 2.7.3 has no multiprocessing module", True)
    assert capsys.readouterr().err == (
        "GILBENCH-SCOPE model\n"
        "GILBENCH-STATUS unsupported: Jython 2.7.3 has no multiprocessing module\n"
    )


def test_each_failure_leaves_with_its_own_exit_status() -> None:
    """wrong-checksum 17, gil-mismatch 18, unsupported 19; any other failure 1."""
    statuses = ("wrong-checksum", "gil-mismatch", "unsupported", "crashed")
    assert [gbprotocol.exit_code(s) for s in statuses] == [17, 18, 19, 1]


def test_the_constants_the_host_copies_are_plain_literals() -> None:
    """Each module-level constant is NAME = literal, so the host can read it with ast."""
    tree = ast.parse(PROTOCOL.read_text())
    constants = {
        target.id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert constants == {
        "EXIT_WRONG_CHECKSUM": 17,
        "EXIT_GIL_MISMATCH": 18,
        "EXIT_UNSUPPORTED": 19,
        "STATUS_PREFIX": "GILBENCH-STATUS",
        "COUNT_PREFIX": "GILBENCH-COUNT",
        "MODEL_WIDE_LINE": "GILBENCH-SCOPE model",
        "NOTE_PREFIX": "GILBENCH-NOTE",
        "MODELS": (
            "serial",
            "threads",
            "processes",
            "processes-shm",
            "subinterpreters",
            "subinterpreters-shared",
            "asyncio",
            "asyncio-to-thread",
            "threadpool",
            "processpool",
            "processpool-chunked",
            "interpool",
        ),
        "METADATA_VERSION": 2,
    }
