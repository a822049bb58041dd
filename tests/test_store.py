"""The run folder's writes (store.py): a file is replaced whole or not at all."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from harness import store


def test_a_write_replaces_the_file_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    """write_atomic puts the new content in place and nothing beside it."""
    path = tmp_path / "summary.csv"
    path.write_text("old\n")
    store.write_atomic(path, "new\n")
    store.write_atomic(tmp_path / "values.parquet", b"\x00\x01")
    assert path.read_text() == "new\n"
    assert (tmp_path / "values.parquet").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv", "values.parquet"]


def test_a_write_that_fails_midway_leaves_the_old_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error before the rename (here fsync's) keeps the old content and removes the
    temporary; a full disk is store's DiskFull, naming the folder."""
    path = tmp_path / "changes.json"
    path.write_text('{"format": 1}\n')

    def fail(_: int, code: int = errno.EIO) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(store.os, "fsync", fail)
    with pytest.raises(OSError):
        store.write_atomic(path, '{"format": 2}\n')
    monkeypatch.setattr(store.os, "fsync", lambda fd: fail(fd, errno.ENOSPC))
    with pytest.raises(store.DiskFull, match=f"no space left in {tmp_path}"):
        store.write_atomic(path, '{"format": 2}\n')
    assert path.read_text() == '{"format": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["changes.json"]
