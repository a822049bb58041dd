"""gilbench installed like any Python tool: a wheel outside the checkout, and light commands.

The wheel is built as pip builds it (the build backend from the package index) and
installed into a fresh venv with pyproject's light group only, so the same venv shows
that the commands that list or plan run without the analysis stack.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from harness import __version__
from harness.run.workloads import WORKLOADS_DIR, format_listing, load_workloads

pytestmark = pytest.mark.real  # it runs real interpreters: never beside another test

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ANALYSIS = {"pandas", "scipy", "plotly", "pyarrow"}  # and numpy, which they bring
LIGHT_COMMANDS = [["--version"], ["list"], ["impls"], ["compare", "--plan", "--quick"],
                  ["compare", "--list"], ["cpus", "--seconds", "1"]]  # fmt: skip
# Run in a fresh interpreter: importing any of the analysis stack fails, and says who did.
BLOCKER = """
import runpy, sys, traceback
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"pandas", "scipy", "plotly", "pyarrow", "numpy"}:
            traceback.print_stack()
            raise ImportError("the light commands import no " + name)
sys.meta_path.insert(0, Block())
sys.argv[0] = "gilbench"
runpy.run_module("harness", run_name="__main__")
"""
# What an installed gilbench finds, asked inside its venv from an empty folder.
WHERE = """
import json, sys, harness
from harness import store
from harness.run import protocol, workloads
print(json.dumps({"harness": harness.__file__, "workloads": str(workloads.WORKLOADS_DIR),
                  "runner": str(protocol.RUNNER), "pure_runner": str(protocol.PURE_RUNNER),
                  "reports": str(store.reports_dir()),
                  "heavy": sorted(m for m in ("pandas", "scipy", "plotly", "pyarrow", "numpy")
                                  if m in sys.modules)}))
"""


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert found, requirement
    return found.group(0).lower()


def test_light_group_is_the_dependencies_without_the_analysis_stack() -> None:
    """dependency-groups.light is project.dependencies, in order, less pandas, scipy, plotly
    and pyarrow: what the light nox sessions install is what a full install starts with."""
    dependencies = PYPROJECT["project"]["dependencies"]
    light = PYPROJECT["dependency-groups"]["light"]
    assert [d for d in dependencies if _name(d) not in ANALYSIS] == light
    assert {_name(d) for d in dependencies} - {_name(d) for d in light} == ANALYSIS


@pytest.mark.parametrize("command", LIGHT_COMMANDS, ids=" ".join)
def test_light_commands_import_none_of_the_analysis_stack(command: list[str]) -> None:
    """list, impls, cpus, compare --plan and --list, and --version run to the end with
    pandas, scipy, plotly, pyarrow and numpy made unimportable."""
    done = subprocess.run([sys.executable, "-c", BLOCKER, *command], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "the light commands import no" not in done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gilbench's wheel, built from the checkout as pip builds it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(ROOT)], check=True, timeout=600)  # fmt: skip
    (built,) = out.glob("gilbench-*.whl")
    return built


@pytest.fixture(scope="module")
def light_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout: the wheel, and the light group beside it."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)  # fmt: skip
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
           "-q", "--disable-pip-version-check"]  # fmt: skip
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True, timeout=600)
    subprocess.run([*pip, *PYPROJECT["dependency-groups"]["light"]], check=True, timeout=600)
    return venv


def _gilbench(venv: Path, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / "gilbench"), *args], cwd=folder,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_wheel_carries_workloads_runners_templates_types_and_license(wheel: Path) -> None:
    """The wheel holds every shipped workload under harness/workloads/, every inside/
    runner and report template, py.typed, the LICENSE, and the MIT license expression."""
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"harness/workloads/{p.name}" for p in WORKLOADS_DIR.glob("*.py")}
    package = ROOT / "harness"
    data = [*package.glob("inside/**/*.py"), *package.glob("report/templates/*")]
    assert shipped and data
    missing = {*shipped, *(p.relative_to(ROOT).as_posix() for p in data), "harness/py.typed"}
    assert missing - names == set()
    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    assert metadata.replace("METADATA", "licenses/LICENSE") in names
    headers = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "\nLicense-Expression: MIT\n" in headers
    assert "the gilbench authors" in (ROOT / "LICENSE").read_text()


def test_installed_gilbench_says_its_version(light_venv: Path, tmp_path: Path) -> None:
    """`gilbench --version` prints the package's version."""
    done = _gilbench(light_venv, tmp_path, "--version")
    assert (done.returncode, done.stdout) == (0, f"gilbench {__version__}\n"), done.stderr


def test_installed_gilbench_lists_the_shipped_workloads_without_pandas(
    light_venv: Path, tmp_path: Path
) -> None:
    """From an empty folder, with no analysis stack installed, `gilbench list` prints the
    checkout's workloads and writes nothing."""
    done = _gilbench(light_venv, tmp_path, "list")
    assert done.returncode == 0, done.stderr
    assert done.stdout == format_listing(load_workloads())
    assert list(tmp_path.iterdir()) == []
    pandas = subprocess.run([str(light_venv / "bin" / "python"), "-c", "import pandas"],
                            capture_output=True, timeout=60, check=False)  # fmt: skip
    assert pandas.returncode != 0  # the list above really ran without it


def test_installed_gilbench_plans_without_pandas(light_venv: Path, tmp_path: Path) -> None:
    """`gilbench compare --plan --quick` prints a plan in the light venv and writes nothing."""
    done = _gilbench(light_venv, tmp_path, "compare", "--plan", "--quick")
    assert done.returncode == 0, done.stderr
    assert "nbody" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_installed_gilbench_finds_its_files_in_its_venv_and_reports_here(
    light_venv: Path, tmp_path: Path
) -> None:
    """Installed, the workloads and the inside/ runners resolve inside the venv, never the
    checkout, and runs go to reports/ under the current folder."""
    done = subprocess.run([str(light_venv / "bin" / "python"), "-c", WHERE], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    where = json.loads(done.stdout)
    assert where.pop("reports") == str(tmp_path.resolve() / "reports")
    assert where.pop("heavy") == []
    for name, path in where.items():
        assert Path(path).exists(), name
        assert Path(path).is_relative_to(light_venv.resolve()), (name, path)
    assert {p.name for p in Path(where["workloads"]).glob("*.py")} == {
        p.name for p in WORKLOADS_DIR.glob("*.py")
    }


@pytest.mark.e2e
def test_pip_install_of_the_checkout_measures_into_the_current_folder(
    cpython_builds: object, tmp_path: Path
) -> None:
    """`pip install <checkout>` into a fresh venv, then its gilbench, from an empty folder,
    measures a tiny workload on 3.14 and writes the run and its report under ./reports."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)  # fmt: skip
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                    "install", "-q", "--disable-pip-version-check", str(ROOT)], check=True,
                   timeout=900)  # fmt: skip
    here = tmp_path / "empty"
    here.mkdir()
    tiny = ROOT / "tests" / "data" / "workloads" / "tiny.py"
    done = subprocess.run([str(venv / "bin" / "gilbench"), "run", "--impl", "3.14", "--quick",
                           "--workload", str(tiny), "--model", "serial,threads",
                           "--workers", "1,2"],
                          cwd=here, capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    run_dir = (here / "reports" / "latest").resolve()
    assert run_dir.parent == here.resolve() / "reports"
    for name in ("run.json", "summary.csv", "summary.md", "index.html", "values.parquet"):
        assert (run_dir / name).is_file(), name
