"""Random bytes and random mutations of the bundled files, through load and check as `wst check`
runs them: no exception escapes but our own InputError, and every problem is located (a file
or folder of the project, and a line inside that file when it names one)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli.context import Context
from pipeline.problems import InputError, Problem
from pipeline.services.planning import check

TODAY = date(2026, 11, 1)
FILES = sorted(str(p.relative_to(ROOT)) for p in [
    ROOT / "config.toml", *(ROOT / "schedules").glob("*.toml"),
    *(ROOT / "content").glob("**/*.toml")])


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled project, restored before each example."""
    root = tmp_path_factory.mktemp("bundled")
    shutil.copy(ROOT / "config.toml", root / "config.toml")
    shutil.copytree(ROOT / "schedules", root / "schedules")
    shutil.copytree(ROOT / "content", root / "content")
    return root


# -- mutations of a file's bytes ----------------------------------------------------------------

TOML_BITS = [b'"', b"'", b'"""', b"[", b"]", b"[[", b"]]", b"=", b"\n", b"#", b".", b",", b"{",
             b"}", b"\\", b"\xef\xbb\xbf", b"\xff", b"\x00", b"\t", b"\r\n", b"1979-05-27",
             b"-1", b"1e400", b"nan", b"true", b"\xe2\x80\xae", b"../../etc/passwd", b"javascript:",
             b"01902 555329", b"http://", b"id = ", b'when = "', b"image = ", b"[[post]]\n",
             b"[channels.x]\n", b"token = ", b"_env = ", b"BYMONTH=13"]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with a few random edits: bytes or TOML-ish pieces inserted, slices deleted,
    duplicated or overwritten, lines swapped, or the whole replaced by random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=2000))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 200)))
        kind = draw(st.sampled_from(["insert", "delete", "duplicate", "overwrite", "swap"]))
        piece = draw(st.one_of(st.sampled_from(TOML_BITS), st.binary(min_size=1, max_size=20)))
        if kind == "insert":
            data = data[:at] + piece + data[at:]
        elif kind == "delete":
            data = data[:at] + data[end:]
        elif kind == "duplicate":
            data = data[:end] + data[at:end] + data[end:]
        elif kind == "overwrite":
            data = data[:at] + piece + data[at + len(piece):]
        else:
            lines = data.split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
    return data


def run_check(root: Path) -> list[Problem]:
    """What `wst check` does below the CLI: every problem, or our InputError's problems."""
    try:
        return check(Context(root / "config.toml").project_to_check(), TODAY).problems
    except InputError as exc:
        return exc.problems


def assert_located(problems: list[Problem], root: Path) -> None:
    for p in problems:
        path = Path(p.path) if Path(p.path).is_absolute() else Path.cwd() / p.path
        assert path.exists() and path.resolve().is_relative_to(root.resolve()), str(p)
        if p.line is not None:
            assert path.is_file(), str(p)
            lines = path.read_bytes().count(b"\n") + 1
            assert 1 <= p.line <= lines, f"line {p.line} of {lines}: {p}"
        assert p.message.strip() and "Traceback" not in p.message, str(p)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.data())
def test_any_mutation_of_a_bundled_file_is_reported_not_raised(bundled: Path, data: st.DataObject) -> None:
    relative = data.draw(st.sampled_from(FILES))
    original = (ROOT / relative).read_bytes()
    target = bundled / relative
    target.write_bytes(data.draw(mutated(original)))
    try:
        problems = run_check(bundled)
        assert_located(problems, bundled)
    finally:
        target.write_bytes(original)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(st.sampled_from(FILES), st.binary(max_size=4000))
def test_random_bytes_in_place_of_a_file_are_reported_not_raised(bundled: Path, relative: str,
                                                                 noise: bytes) -> None:
    original = (ROOT / relative).read_bytes()
    target = bundled / relative
    target.write_bytes(noise)
    try:
        problems = run_check(bundled)
        assert_located(problems, bundled)
    finally:
        target.write_bytes(original)


def test_the_bundled_project_itself_is_clean(bundled: Path) -> None:
    """The starting point: the mutations above are the only errors."""
    assert [str(p) for p in run_check(bundled) if p.is_error] == []
