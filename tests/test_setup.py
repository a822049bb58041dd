"""The README's two set-up commands: marked, run by CI word for word, and working with the
system's own Python, which refuses `pip install --user` (PEP 668) on Debian and Ubuntu.

``./nox`` is run here with stand-ins for pipx, apt-get, sudo and id, then for real (e2e)
in a fresh clone with only /usr/bin and /bin on PATH, so no pyenv Python can stand in.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOX = ROOT / "nox"
SYSTEM_PATH = "/usr/bin:/bin"  # Debian's python3, pipx and apt-get; no pyenv
SETUP = re.compile(r"<!-- setup:(\w+) -->\n```sh\n([^\n]+)\n```\n")


def _commands() -> dict[str, str]:
    found = SETUP.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(found) == len(dict(found)), found
    return dict(found)


def test_readme_marks_one_compare_and_one_tests_command() -> None:
    """README.md marks exactly two one-line commands, setup:compare measuring --quick and
    setup:tests, each running its nox session through ./nox."""
    commands = _commands()
    assert sorted(commands) == ["compare", "tests"]
    assert shlex.split(commands["compare"]) == ["./nox", "-s", "compare", "--", "--quick"]
    assert shlex.split(commands["tests"]) == ["./nox", "-s", "tests"]


def test_ci_runs_the_readme_test_command_word_for_word() -> None:
    """.ci/run's last command is the README's setup:tests line, unchanged."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line for line in lines if line.strip() and not line.startswith("#")]
    assert commands[-1] == _commands()["tests"]


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _stubs(tmp_path: Path, uid: int, pipx: bool) -> tuple[Path, Path]:
    """A PATH folder of stand-ins that log each call: id, sudo, apt-get (whose install
    fails until update has run, as on an image with no package lists) and pipx."""
    folder, log = tmp_path / "bin", tmp_path / "log"
    folder.mkdir()
    pipx_body = f'echo "pipx $*" >> {log}'
    _stub(folder, "id", f"echo {uid}")
    _stub(folder, "sudo", f'echo sudo >> {log}\nexec "$@"')
    _stub(folder, "apt-get", f'echo "apt-get $*" >> {log}\n'
                             f'[ "$1" = update ] && : > {tmp_path}/lists && exit 0\n'
                             f'[ -e {tmp_path}/lists ] || exit 100\n'
                             f"printf '#!/bin/sh\\n%s\\n' '{pipx_body}' > {folder}/pipx\n"
                             f"/bin/chmod +x {folder}/pipx")  # fmt: skip
    if pipx:
        _stub(folder, "pipx", pipx_body)
    return folder, log


def test_nox_script_runs_nox_through_pipx_with_its_arguments(tmp_path: Path) -> None:
    """With pipx on PATH, ./nox runs `pipx run nox` with its arguments untouched, and
    installs nothing."""
    folder, log = _stubs(tmp_path, 1000, pipx=True)
    subprocess.run([str(NOX), "-s", "compare", "--", "--quick", "--workload", "a b"],
                   env={"PATH": str(folder)}, check=True, timeout=30)  # fmt: skip
    assert log.read_text() == "pipx run nox -s compare -- --quick --workload a b\n"


@pytest.mark.parametrize(("uid", "sudo"), [(0, ""), (1000, "sudo\n")], ids=["root", "user"])
def test_nox_script_installs_pipx_with_apt_get_when_missing(
    tmp_path: Path, uid: int, sudo: str
) -> None:
    """Without pipx, ./nox installs it with apt-get (through sudo unless root), reading the
    package lists first when the install fails, then runs nox through it."""
    folder, log = _stubs(tmp_path, uid, pipx=False)
    done = subprocess.run([str(NOX), "-s", "tests"], env={"PATH": str(folder)},
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    install = f"{sudo}apt-get install -y pipx\n"
    assert log.read_text() == f"{install}{sudo}apt-get update\n{install}pipx run nox -s tests\n"
    assert done.stderr.startswith("./nox: installing pipx with apt-get\n")


def test_nox_script_without_pipx_or_apt_get_says_what_to_install(tmp_path: Path) -> None:
    """With neither pipx nor apt-get, ./nox says in one line to install pipx, and exits 2."""
    folder = tmp_path / "bin"
    folder.mkdir()
    done = subprocess.run([str(NOX), "-s", "tests"], env={"PATH": str(folder)},
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    said = "./nox: pipx is missing: install pipx (or nox) with your package manager\n"
    assert done.stderr == said


@pytest.mark.e2e
def test_readme_compare_command_runs_on_the_system_python_in_a_fresh_clone(
    tmp_path: Path,
) -> None:
    """In a fresh clone, with no environment variable but HOME and PATH=/usr/bin:/bin, the
    README's compare command (with --plan, so that it measures nothing) installs pipx if
    needed, runs nox under /usr/bin/python3, installs gilbench into the session's venv and
    prints the quick run's plan."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    shutil.copy2(NOX, clone / "nox")  # the script as in this checkout, committed or not
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": SYSTEM_PATH}
    command = [*shlex.split(_commands()["compare"]), "--plan"]
    done = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True,
                          timeout=900, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^\d+ cells, profile quick", done.stdout, re.MULTILINE), done.stdout
    config = (clone / ".nox" / "compare" / "pyvenv.cfg").read_text()
    assert re.search(r"^home = /usr/bin$", config, re.MULTILINE), config
