"""docs/formats.md against what the code writes: every column (or key) of every published
file documented, none documented that isn't written, each file's format version in it or
beside it, and checksums as plain values."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import gbmeasure
import pandas as pd
import pyarrow.parquet as pq
import pytest

from harness.formats import FORMATS_JSON, VERSIONS, load_parquet_format
from harness.history.archive import TABLES
from harness.history.decision import Change
from harness.history.events import Event
from harness.publish import add_run, publish
from harness.results import load_run
from harness.run.protocol import checksum_of
from tests.helpers import DATA, QUICK, render

DOCS = Path(__file__).resolve().parent.parent / "docs" / "formats.md"
HEADING = re.compile(r"^#{2,3} (\S+)\n\nFormat version (\d+)\.", re.MULTILINE)
ROW = re.compile(r"^\| `([^`]+)` \| ([a-z ]+) \|([^|]*)\| [^|]+ \|$", re.MULTILINE)
# The parquet types each documented type may be stored as: an integer column with empty
# rows is stored as floats, a column empty in every row as null.
STORED = {"string": ("string", "large_string"), "integer": ("int64", "double"),
          "float": ("double",), "boolean": ("bool",)}  # fmt: skip
SAME_AS = {"summary.parquet": "summary.csv"}  # "every column of summary.csv, then:"


def _documented() -> dict[str, tuple[int, list[tuple[str, str]]]]:
    """Each file's documented version and its (column, type) rows, in the page's order."""
    text = DOCS.read_text(encoding="utf-8")
    headings = list(HEADING.finditer(text))
    found = {}
    for heading, after in zip(headings, [*headings[1:], None], strict=True):
        section = text[heading.end() : after.start() if after else len(text)]
        rows = [(name, kind) for name, kind, _unit in ROW.findall(section)]
        found[heading.group(1)] = (int(heading.group(2)), rows)
    for name, like in SAME_AS.items():
        version, rows = found[name]
        found[name] = (version, found[like][1] + rows)
    return found


DOCUMENTED = _documented()


def _columns(name: str) -> list[str]:
    return [column for column, _ in DOCUMENTED[name][1]]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The frozen quick run's report, and the set of tables a history keeps of it."""
    root = tmp_path_factory.mktemp("formats")
    run_dir = root / "run"
    shutil.copytree(QUICK, run_dir)
    render(load_run(run_dir))
    history = root / "history"
    add_run(run_dir, history, keep_raw=1)
    (kept,) = (history / "runs").iterdir()
    files = {"summary.csv": run_dir / "summary.csv", "values.parquet": run_dir / "values.parquet"}
    return {**files, **{f"{t}.parquet": kept / f"{t}.parquet" for t in TABLES}}


def test_every_published_file_is_documented_at_its_version() -> None:
    """docs/formats.md has a section for each file formats.VERSIONS names, and no other,
    each at the version the code writes."""
    assert {name: version for name, (version, _) in DOCUMENTED.items()} == VERSIONS


def test_summary_csv_has_the_documented_columns_in_order(written: dict[str, Path]) -> None:
    """summary.csv's header is the documented columns, in the page's order."""
    header = written["summary.csv"].read_text().splitlines()[0].split(",")
    assert header == _columns("summary.csv")


def test_summary_csv_version_is_in_formats_json_beside_it(written: dict[str, Path]) -> None:
    """formats.json beside summary.csv gives it and values.parquet their versions."""
    said = json.loads((written["summary.csv"].parent / FORMATS_JSON).read_text())
    assert said["files"] == {n: VERSIONS[n] for n in ("summary.csv", "values.parquet")}
    assert (DOCS.parent.parent / said["docs"]) == DOCS


@pytest.mark.parametrize("name", sorted(n for n in VERSIONS if n.endswith(".parquet")))
def test_each_parquet_file_has_the_documented_columns_types_and_version(
    written: dict[str, Path], name: str
) -> None:
    """The file's columns are the documented ones in order, each stored as its documented
    type allows, and its schema's metadata names the file and its version."""
    schema = pq.read_schema(written[name])
    assert schema.names == _columns(name)
    for field, (column, kind) in zip(schema, DOCUMENTED[name][1], strict=True):
        assert str(field.type) in (*STORED[kind], "null"), (column, kind, str(field.type))
    assert load_parquet_format(written[name]) == (name, VERSIONS[name])


def test_changes_json_has_the_documented_keys_and_version(tmp_path: Path) -> None:
    """A published site's changes.json, with every field of a change and an event, has
    exactly the documented keys, and its format version."""
    publish(DATA / "history", tmp_path / "site")
    changes = json.loads((tmp_path / "site" / "changes.json").read_text())
    blank = {f.name: None for f in dataclasses.fields(Change)}
    change = {**Change(**{**blank, "causes": ()}).as_dict(), "new": False}  # type: ignore[arg-type]
    event = Event(**{f.name: None for f in dataclasses.fields(Event)}).as_dict()  # type: ignore[arg-type]
    keys = [*(k for k in changes if k not in ("rules", "changes", "events")),
            *(f"rules.{k}" for k in changes["rules"]),
            *(f"changes[].{k}" for k in change), *(f"events[].{k}" for k in event)]  # fmt: skip
    assert sorted(keys) == sorted(_columns("changes.json"))
    assert changes["format"] == VERSIONS["changes.json"]


@pytest.mark.parametrize(
    ("value", "text"),
    [("89b9216f", "89b9216f"), (2666466670000, "2666466670000"), (10**30, str(10**30)),
     ("-0.169089263", "-0.169089263"), (None, "")],
)  # fmt: skip
def test_a_checksum_is_written_as_its_plain_value(value: object, text: str) -> None:
    """The runners write a string checksum as itself and a whole number in decimal."""
    assert gbmeasure.checksum_text(value) == text


@pytest.mark.parametrize(
    ("written_as", "read"),
    [("'89b9216f'", "89b9216f"), ("u'89b9216f'", "89b9216f"), ("2666466670000", "2666466670000"),
     ("2666466670000L", "2666466670000"), ("None", ""), ("-", "-")],
)  # fmt: skip
def test_an_older_runs_checksum_repr_is_read_as_its_plain_value(written_as: str, read: str) -> None:
    """Metadata version 1 held the checksum's repr (CPython's, Python 2's u'' and L): read
    plain; from version 2 on the text is taken as it is."""
    assert checksum_of({"gilbench_version": 1, "gilbench_checksum": written_as}) == read
    assert checksum_of({"gilbench_version": 2, "gilbench_checksum": written_as}) == written_as


def test_no_checksum_in_a_report_is_a_repr(written: dict[str, Path]) -> None:
    """The frozen quick run (written under metadata version 1) reports plain checksums in
    summary.csv and values.parquet."""
    summary = pd.read_csv(written["summary.csv"], dtype={"checksum": str})
    values = pd.read_parquet(written["values.parquet"])
    for checksums in (summary["checksum"].dropna(), values["checksum"]):
        assert len(checksums) and not checksums.str.contains("'").any(), set(checksums)
