"""Unpack a tar archive the way tarfile's "data" filter does, on every Python 3.11.

Debian 12's own Python is 3.11.2, and tarfile's extraction filters arrived in 3.11.4: there
the members are checked here instead (no absolute path, none leaving the folder, no device
or fifo, no link pointing outside), then extracted.
"""

from __future__ import annotations

import tarfile
from pathlib import Path


def extract_data(tar: tarfile.TarFile, folder: Path) -> None:
    """Every member of ``tar`` into ``folder``, refusing any that would land outside it."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(folder, filter="data")
        return
    root = folder.resolve()
    members = tar.getmembers()
    for member in members:
        target = (root / member.name).resolve()
        if Path(member.name).is_absolute() or not target.is_relative_to(root):
            raise tarfile.TarError(f"{member.name} would be extracted outside {folder}")
        if member.isdev() or member.isfifo():
            raise tarfile.TarError(f"{member.name} is a device or fifo")
        if member.issym() or member.islnk():
            base = root if member.islnk() else target.parent
            link = (base / member.linkname).resolve()
            if Path(member.linkname).is_absolute() or not link.is_relative_to(root):
                raise tarfile.TarError(f"{member.name} links outside {folder}")
    tar.extractall(folder, members=members)
