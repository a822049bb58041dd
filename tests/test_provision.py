"""Provisioning CPython: sources, pins, mirrors, build dependencies and the build cache.

No network and no real compiling: fetching is injected, and `make install` is faked by a
runner that writes a shell script where the interpreter would be.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from harness.provision import cpython as provision
from harness.provision import sources
from harness.provision.cpython import PINS, ProvisionError

FAKE = "3.99.1"  # newer than any real pin, so it is the default version in these tests
MIRROR = "http://mirror.example/debian"
REAL_RUN_LOGGED = provision.run_logged  # before any test replaces it


def quiet(line: str) -> None:
    """A progress callback that drops every line."""


def make_tarball(directory: Path, version: str = FAKE, name: str | None = None) -> Path:
    """A tiny tarball shaped like CPython's: a configure script and Include/patchlevel.h."""
    path = directory / (name or f"Python-{version}.tar.xz")
    files = {
        "configure": b"#!/bin/sh\nexit 0\n",
        "Include/patchlevel.h": f'#define PY_VERSION "{version}"\n'.encode(),
    }
    with tarfile.open(path, "w:xz") as tar:
        for member, data in files.items():
            info = tarfile.TarInfo(f"Python-{version}/{member}")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_apt_dir(root: Path, deb822: str = "", one_line: str = "") -> Path:
    (root / "sources.list.d").mkdir(parents=True)
    (root / "sources.list.d" / "debian.sources").write_text(deb822)
    (root / "sources.list").write_text(one_line)
    return root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GILBENCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake upstream tarball of FAKE, pinned, with one apt mirror configured."""
    (tmp_path / "upstream").mkdir()
    tarball = make_tarball(tmp_path / "upstream")
    monkeypatch.setitem(PINS, FAKE, sha256(tarball))
    apt = write_apt_dir(tmp_path / "apt", deb822=f"Types: deb\nURIs: {MIRROR}\nSuites: x\n")
    monkeypatch.setattr(sources, "APT_DIR", apt)
    return tarball


class FakeNet:
    """Serves `tarball` for URLs starting with one of `serving`; fails every other URL."""

    def __init__(self, tarball: Path, serving: tuple[str, ...] = (MIRROR,)) -> None:
        self.tarball, self.serving, self.urls = tarball, serving, list[str]()

    def __call__(self, url: str, dest: Path) -> None:
        self.urls.append(url)
        if not url.startswith(self.serving):
            raise OSError(f"unreachable: {url}")
        dest.write_bytes(self.tarball.read_bytes())


class FakeBuild:
    """Stands in for configure/make/install; `make install` leaves a fake interpreter."""

    def __init__(self, gil_disabled: dict[bool, int] | None = None) -> None:
        self.commands: list[list[str]] = []
        self.gil_disabled = gil_disabled or {False: 0, True: 1}

    def __call__(self, cmd: list[str], cwd: Path, log: Path, step: str) -> None:
        self.commands.append(cmd)
        configure = next(c for c in reversed(self.commands) if c[0] == "./configure")
        prefix = Path(next(a for a in configure if a.startswith("--prefix=")).split("=", 1)[1])
        if cmd == ["make", "install"]:
            threaded = "--disable-gil" in configure
            python = provision.python_path(prefix, FAKE, threaded)
            python.parent.mkdir(parents=True)
            python.write_text(f"#!/bin/sh\necho {self.gil_disabled[threaded]}\n")
            python.chmod(0o755)


@pytest.fixture
def fake_build(monkeypatch: pytest.MonkeyPatch) -> FakeBuild:
    fake = FakeBuild()
    monkeypatch.setattr(provision, "run_logged", fake)
    monkeypatch.setattr(provision, "missing_build_deps", list)
    monkeypatch.setattr(provision, "probe_compiler_version", lambda: "fakecc 1.0")
    return fake


def test_tarball_with_wrong_sha256_raises_and_is_not_kept(
    cache: Path, upstream: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fetched tarball that doesn't match its pin is an error and leaves no file behind."""
    monkeypatch.setitem(PINS, FAKE, "0" * 64)
    with pytest.raises(ProvisionError, match=r"sha256 of CPython 3\.99\.1 .* not the pinned 0+;"):
        sources.fetch_source(FAKE, None, cache / "sources", quiet, FakeNet(upstream))
    assert list((cache / "sources").iterdir()) == []


def test_tarball_matching_its_pin_is_verified_and_cached(cache: Path, upstream: Path) -> None:
    """A matching tarball is kept in the cache with its origin and reused without fetching."""
    src = sources.fetch_source(FAKE, None, cache / "sources", quiet, FakeNet(upstream))
    assert (src.path, src.sha256) == (cache / "sources" / f"Python-{FAKE}.tar.xz", PINS[FAKE])
    assert src.origin == f"{MIRROR}/pool/main/p/python3.99/python3.99_{FAKE}.orig.tar.xz"
    offline = FakeNet(upstream, serving=())
    again = sources.fetch_source(FAKE, None, cache / "sources", quiet, offline)
    assert again == src
    assert offline.urls == []


def test_python_org_failure_falls_through_to_mirror(cache: Path, upstream: Path) -> None:
    """When python.org can't be reached, the same tarball comes from the apt mirror."""
    net = FakeNet(upstream)
    sources.fetch_source(FAKE, None, cache / "sources", quiet, net)
    assert net.urls == [
        f"https://www.python.org/ftp/python/{FAKE}/Python-{FAKE}.tar.xz",
        f"{MIRROR}/pool/main/p/python3.99/python3.99_{FAKE}.orig.tar.xz",
    ]


def test_user_source_wins_over_network(cache: Path, upstream: Path) -> None:
    """A tarball named by the user is used in place, verified, and nothing is fetched."""
    net = FakeNet(upstream, serving=("https://",))
    src = sources.fetch_source(None, upstream, cache / "sources", quiet, net)
    assert (src.version, src.path, src.origin, src.sha256) == (
        FAKE,
        upstream,
        str(upstream),
        PINS[FAKE],
    )
    assert net.urls == []


def test_user_tarball_of_pinned_version_must_match_pin(
    cache: Path, tmp_path: Path, upstream: Path
) -> None:
    """A user's tarball named as a pinned version, with another hash, is refused naming the
    pin it missed, and not deleted."""
    (tmp_path / "mine").mkdir()
    forged = make_tarball(tmp_path / "mine")
    forged.write_bytes(forged.read_bytes() + b"\0" * 512)
    says = (
        r"sha256 of '.*Python-3\.99\.1\.tar\.xz' is [0-9a-f]{64}, not the pinned .* of "
        r"CPython 3\.99\.1"
    )
    with pytest.raises(ProvisionError, match=says):
        sources.fetch_source(None, forged, cache / "sources", quiet)
    assert forged.is_file()


@pytest.mark.parametrize(
    ("content", "name"),
    [(b"not a tarball at all\n", "Python-3.99.1.tar.xz"), (b"\xfd7zXZ\0\0torn", "src.tar.xz")],
    ids=["text-named-as-the-pin", "torn-xz"],
)  # fmt: skip
def test_a_tarball_matching_no_pin_is_refused_before_a_byte_is_decompressed(
    cache: Path, tmp_path: Path, upstream: Path, monkeypatch: pytest.MonkeyPatch,
    content: bytes, name: str,
) -> None:  # fmt: skip
    """Hashed first: a file that matches no pin never reaches tarfile or lzma, and the
    refusal names the pin it missed and the flag that builds it anyway."""
    bad = tmp_path / name
    bad.write_bytes(content)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a tarball matching no pin was opened")

    monkeypatch.setattr(sources.tarfile, "open", never)
    with pytest.raises(ProvisionError) as refused:
        sources.fetch_source(None, bad, cache / "sources", quiet)
    message = str(refused.value)
    assert message.startswith(f"sha256 of {str(bad)!r} is {sha256(bad)}, not ")
    assert message.endswith("download a genuine copy, or add --unverified-source to build it "
                            "anyway, marked unverified")  # fmt: skip
    pin = f"the pinned {PINS[FAKE]} of CPython {FAKE}" if name.startswith("Python-") else "any"
    assert pin in message
    assert bad.read_bytes() == content


def test_an_unverified_source_is_built_marked_so_and_a_broken_one_is_one_line(
    cache: Path, tmp_path: Path, upstream: Path
) -> None:
    """--unverified-source: a genuine-looking tarball of no pin is taken, verified=False; one
    that isn't a tarball is a ProvisionError naming it, never an LZMAError."""
    unpinned = make_tarball(tmp_path, version="3.99.7")
    src = sources.fetch_source(None, unpinned, cache / "sources", quiet, unverified=True)
    assert (src.version, src.verified, src.sha256) == ("3.99.7", False, sha256(unpinned))
    torn = tmp_path / "torn.tar.xz"
    torn.write_bytes(unpinned.read_bytes()[:40])
    with pytest.raises(ProvisionError, match=r"'.*torn\.tar\.xz' is not a readable tarball \("):
        sources.fetch_source(None, torn, cache / "sources", quiet, unverified=True)


def test_user_source_directory_is_recorded_without_sha256(tmp_path: Path, cache: Path) -> None:
    """An unpacked source directory can't be hashed: its origin is the directory, sha256 None."""
    tree = tmp_path / "cpython"
    (tree / "Include").mkdir(parents=True)
    (tree / "Include" / "patchlevel.h").write_text('#define PY_VERSION "3.15.0a1+"\n')
    src = sources.fetch_source(None, tree, cache / "sources", quiet)
    assert (src.version, src.origin, src.sha256) == ("3.15.0a1", str(tree), None)


def test_no_source_anywhere_says_how_to_supply_one(cache: Path, upstream: Path) -> None:
    """When every URL fails, the error names the option that supplies a tarball."""
    with pytest.raises(
        sources.SourceUnavailable,
        match=r"pass --cpython-source PATH to a Python-3\.99\.1\.tar\.xz$",
    ):
        sources.fetch_source(FAKE, None, cache / "sources", quiet, FakeNet(upstream, ()))
    assert list((cache / "sources").iterdir()) == []


def test_deb822_mirrors_skip_disabled_stanzas_and_unfetchable_schemes(tmp_path: Path) -> None:
    """deb822 files give every enabled URI, in order, once, without a trailing slash."""
    deb822 = (
        "Types: deb deb-src\n# a comment\nURIs: http://a.example/debian/ https://b.example/d\n"
        "Suites: bookworm\nComponents: main\n\n"
        "Types: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: x\n\n"
        "Types: deb\nURIs: cdrom:[Debian]/ http://a.example/debian\nSuites: y\n"
    )
    apt = write_apt_dir(tmp_path, deb822=deb822)
    assert sources.load_mirror_uris(apt) == ["http://a.example/debian", "https://b.example/d"]


def test_one_line_mirrors_handle_options_and_comments(tmp_path: Path) -> None:
    """sources.list lines give their URI, options in brackets and comments ignored."""
    one_line = (
        "# deb http://commented.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://c.example/debian bookworm main\n"
        "deb-src file:///srv/mirror bookworm main # local\n"
        "deb\n"
    )
    apt = write_apt_dir(tmp_path, one_line=one_line)
    (apt / "sources.list.d" / "extra.list").write_text("deb https://d.example/x stable main\n")
    assert sources.load_mirror_uris(apt) == [
        "http://c.example/debian",
        "file:///srv/mirror",
        "https://d.example/x",
    ]


def test_unknown_version_error_lists_pins(cache: Path) -> None:
    """An unpinned version without a source is refused, listing the pinned versions."""
    with pytest.raises(ProvisionError) as info:
        provision.provision_cpython("3.14.99", progress=quiet)
    message = str(info.value)
    assert "'3.14.99'" in message and "--cpython-source" in message
    assert all(v in message for v in PINS)


def test_missing_build_deps_are_named_with_apt_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headers the compiler can't find, and a missing make, are named with their packages."""
    cc = tmp_path / "gcc"  # finds every header but zlib.h and ffi.h
    cc.write_text('#!/bin/sh\nread -r line\ncase "$line" in *zlib.h*|*ffi.h*) exit 1;; esac\n')
    cc.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    assert provision.missing_build_deps() == [
        ("zlib.h", "zlib1g-dev"),
        ("ffi.h", "libffi-dev"),
        ("make", "make"),
    ]
    with pytest.raises(ProvisionError, match=r"apt-get install zlib1g-dev libffi-dev make$"):
        provision.require_build_deps()


def test_install_brings_cpythons_build_dependencies_with_apt_before_a_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With install (--install-system-packages, or root) and apt present, the build
    dependencies are apt-installed, then checked; an apt failure is said and the check
    decides; without install, or without apt, they are only checked."""
    asked: list[tuple[str, ...]] = []
    checked: list[bool] = []
    said: list[str] = []

    def install(names: tuple[str, ...], say: object, allow: bool) -> None:
        asked.append(tuple(names))
        if len(asked) == 2:
            raise provision.system.SystemPackagesError("'apt-get update -q' failed (offline)")

    monkeypatch.setattr(provision.system, "ensure_packages", install)
    monkeypatch.setattr(provision, "require_build_deps", lambda: checked.append(True))
    monkeypatch.setattr(provision.shutil, "which", lambda name: f"/usr/bin/{name}")
    provision.ensure_build_deps(True, said.append)
    assert asked == [provision.system.CPYTHON_BUILD_PACKAGES] and checked == [True]
    provision.ensure_build_deps(True, said.append)  # apt fails: said, and still checked
    assert said == ["CPython's build dependencies could not be installed: 'apt-get update -q' "
                    "failed (offline)"] and checked == [True, True]  # fmt: skip
    provision.ensure_build_deps(False, said.append)
    monkeypatch.setattr(provision.shutil, "which", lambda name: None)
    provision.ensure_build_deps(True, said.append)
    assert len(asked) == 2 and checked == [True] * 4
    for header, package in provision.HEADERS.items():  # every header checked is installed
        assert package in provision.system.CPYTHON_BUILD_PACKAGES, header


def test_missing_compiler_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without any C compiler, the error asks for gcc."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CC", raising=False)
    assert provision.missing_build_deps()[0] == ("a C compiler (gcc or cc)", "gcc")


def test_cache_key_changes_with_flags_and_version(cache: Path) -> None:
    """Other configure flags or another version build into another directory."""
    assert provision.flag_key(()) != provision.flag_key(("--enable-shared",))
    roots = {
        provision.build_root("3.14.7", ()),
        provision.build_root("3.14.7", ("--enable-shared",)),
        provision.build_root("3.14.6", ()),
    }
    assert len(roots) == 3
    assert all(root.parent == cache / "cpython" for root in roots)


def test_cache_dir_prefers_gilbench_cache_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$GILBENCH_CACHE wins over $XDG_CACHE_HOME/gilbench, which wins over ~/.cache/gilbench."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GILBENCH_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert provision.cache_dir() == tmp_path / "home" / ".cache" / "gilbench"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert provision.cache_dir() == tmp_path / "xdg" / "gilbench"
    monkeypatch.setenv("GILBENCH_CACHE", str(tmp_path / "g"))
    assert provision.cache_dir() == tmp_path / "g"


def test_builds_differ_only_by_disable_gil_and_record_provenance(
    cache: Path, upstream: Path, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both builds use one verified source and the same flags but --disable-gil."""
    monkeypatch.setattr(sources, "download", FakeNet(upstream))
    lines: list[str] = []
    default, threaded = provision.provision_cpython(progress=lines.append)
    configures = [c for c in fake_build.commands if c[0] == "./configure"]
    assert configures == [
        ["./configure", f"--prefix={default.prefix}", *provision.CONFIGURE_FLAGS],
        ["./configure", "--disable-gil", f"--prefix={threaded.prefix}", *provision.CONFIGURE_FLAGS],
    ]
    assert (default.python.name, threaded.python.name) == ("python3.99", "python3.99t")
    for build in (default, threaded):
        written = json.loads((build.prefix / "gilbench-provenance.json").read_text())
        assert written == build.provenance
        assert written["sha256"] == PINS[FAKE]
        assert written["Py_GIL_DISABLED"] == int(build.free_threaded)
        assert written["compiler"] == "fakecc 1.0"
        assert not (build.prefix.parent / f"{build.prefix.name}.build").exists()
    assert lines[-1].startswith(f"built {FAKE} free-threaded in 0m")
    assert provision.find_builds() == (default, threaded)


def test_complete_builds_are_reused_without_network(
    cache: Path, upstream: Path, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Later calls, even naming the same tarball, return the cached pair and build nothing."""
    monkeypatch.setattr(sources, "download", FakeNet(upstream))
    first = provision.provision_cpython(FAKE, progress=quiet)
    (cache / "sources" / f"Python-{FAKE}.tar.xz").unlink()
    offline = FakeNet(upstream, serving=())
    monkeypatch.setattr(sources, "download", offline)
    fake_build.commands.clear()
    assert provision.provision_cpython(progress=quiet) == first
    assert (offline.urls, fake_build.commands) == ([], [])
    assert provision.provision_cpython(source=upstream, progress=quiet) == first
    assert fake_build.commands == []


def test_nothing_fetchable_is_one_line_naming_the_option(
    cache: Path, upstream: Path, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no version given and every source unreachable, one line says how to supply one."""
    monkeypatch.setattr(sources, "download", FakeNet(upstream, serving=()))
    with pytest.raises(ProvisionError) as info:
        provision.provision_cpython(progress=quiet)
    message = str(info.value)
    assert "\n" not in message and MIRROR in message
    assert message.endswith("pass --cpython-source PATH to a Python-X.Y.Z.tar.xz")
    assert list((cache / "sources").iterdir()) == []


def test_half_built_prefix_is_not_reused_and_is_rebuilt(
    cache: Path, upstream: Path, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A prefix without its provenance file is not found, and is wiped before rebuilding."""
    monkeypatch.setattr(sources, "download", FakeNet(upstream))
    default, _ = provision.provision_cpython(FAKE, progress=quiet)
    (default.prefix / "gilbench-provenance.json").unlink()
    (default.prefix / "leftover").write_text("from a build that died")
    assert provision.find_builds(FAKE) is None
    fake_build.commands.clear()
    rebuilt, _ = provision.provision_cpython(FAKE, progress=quiet)
    assert [c[0] for c in fake_build.commands] == ["./configure", "make", "make"]
    assert not (rebuilt.prefix / "leftover").exists()
    assert (rebuilt.prefix / "gilbench-provenance.json").is_file()


@pytest.mark.parametrize(
    ("damage", "says"),
    [("#!/bin/sh\necho 'Fatal Python error: init_fs_encoding' >&2\nexit 1\n",
      "fails: Fatal Python error: init_fs_encoding"),
     ("#!/bin/sh\necho 1\n", "reports Py_GIL_DISABLED=1, not 0"),
     (None, "is missing")],
)  # fmt: skip
def test_a_cached_build_that_no_longer_works_is_named_and_rebuilt(
    cache: Path, upstream: Path, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch,
    damage: str | None, says: str,
) -> None:  # fmt: skip
    """A finished build whose interpreter fails, lies or is gone: one line, then rebuilt."""
    monkeypatch.setattr(sources, "download", FakeNet(upstream))
    default, threaded = provision.provision_cpython(FAKE, progress=quiet)
    if damage is None:
        default.python.unlink()
    else:
        default.python.write_text(damage)
    assert provision.find_builds(FAKE) is None
    fake_build.commands.clear()
    said: list[str] = []
    rebuilt, kept = provision.provision_cpython(FAKE, progress=said.append)
    (line,) = [m for m in said if "broken" in m]
    assert line == (f"the cached build in {default.prefix} is broken ({default.python} "
                    f"{says}): building it again")  # fmt: skip
    assert [c[0] for c in fake_build.commands] == ["./configure", "make", "make"]
    assert not provision.broken(rebuilt.python, 0) and kept.provenance == threaded.provenance


def test_default_version_skips_newest_pin_that_cannot_be_fetched(
    cache: Path, upstream: Path, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no version given, an unfetchable newest pin gives way to the next pinned one."""
    monkeypatch.setitem(PINS, "3.99.2", "f" * 64)
    net = FakeNet(upstream, serving=(f"{MIRROR}/pool/main/p/python3.99/python3.99_{FAKE}",))
    monkeypatch.setattr(sources, "download", net)
    default, _ = provision.provision_cpython(progress=quiet)
    assert default.version == FAKE
    assert not (cache / "sources" / "Python-3.99.2.tar.xz").exists()


def test_build_step_failure_names_step_and_log(
    cache: Path, upstream: Path, fake_build: FakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing make is reported with the step's name and the log's path."""

    def failing_make(cmd: list[str], cwd: Path, log: Path, step: str) -> None:
        fake_build(cmd, cwd, log, step)
        if step == "make":
            REAL_RUN_LOGGED(["false"], cwd, log, step)

    monkeypatch.setattr(provision, "run_logged", failing_make)
    with pytest.raises(
        ProvisionError, match=r"^make failed \(exit 1\); read the end of '(.*)'$"
    ) as e:
        provision.provision_cpython(FAKE, upstream, progress=quiet)
    log = Path(str(e.value).split("'")[1])
    assert log.name == "gilbench-build.log" and "$ false" in log.read_text()
    assert provision.find_builds(FAKE) is None


def test_wrong_gil_state_is_an_error(
    cache: Path, upstream: Path, monkeypatch: pytest.MonkeyPatch, fake_build: FakeBuild
) -> None:
    """A free-threaded build that reports Py_GIL_DISABLED=0 is refused."""
    fake_build.gil_disabled = {False: 0, True: 0}
    with pytest.raises(ProvisionError, match=r"reports Py_GIL_DISABLED=0, expected 1"):
        provision.provision_cpython(FAKE, upstream, progress=quiet)
