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


def test_an_implementation_measured_again_into_a_run_has_its_old_files_moved_aside(
    tmp_path: Path,
) -> None:
    """A front end joining a run folder (tox's --into) moves what the implementation measured
    there before to superseded/, never deleting it, keeps the others' files and planned
    cells, and refuses a run of another selection."""
    manifest = {"format": store.FORMAT, "version": store.VERSION, "profile": "quick",
                "selection": {"workload": ["nbody"]}, "machine": {}, "workloads": [],
                "impls": [{"id": "3.14"}], "plan": [["3.14", "nbody", "serial", 1]]}  # fmt: skip
    free = {**manifest, "impls": [{"id": "3.14t"}], "plan": [["3.14t", "nbody", "serial", 1]]}
    run = store.join_run_dir(tmp_path, "tox", manifest)
    store.join_run_dir(tmp_path, "tox", free)
    pieces = [store.piece_path(run, impl, "nbody/serial/1", 1) for impl in ("3.14", "3.14t")]
    for piece in pieces:
        piece.parent.mkdir(parents=True)
        piece.write_text("{}")
    store.join_run_dir(tmp_path, "tox", manifest)
    (aside,) = (run / "superseded").iterdir()
    assert aside.name.endswith("-3.14") and (aside / pieces[0].name).read_text() == "{}"
    assert not pieces[0].exists() and pieces[1].exists()
    assert sorted(c[0] for c in store.load_manifest(run)["plan"]) == ["3.14", "3.14t"]
    with pytest.raises(store.StoreError, match="another selection or profile"):
        store.join_run_dir(tmp_path, "tox", {**manifest, "selection": {"workload": ["io"]}})
