"""Shared helpers: the real `wst` command in a subprocess, and throwaway copies of a small project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from pgcluster import Cluster
from pgcluster import missing as postgres_missing

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINIMAL = FIXTURES / "minimal"
BUNDLED_CONFIG = ROOT / "config.toml"


def wst_command() -> list[str]:
    """The installed `wst` console script beside this interpreter (else `python -m pipeline`)."""
    script = Path(sys.executable).with_name("wst")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pipeline"]


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without WST_CONFIG (tests choose the config), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k != "WST_CONFIG"}
    env.update(extra)
    return env


def run_wst(*args: str, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real CLI; never raises on a non-zero exit (tests assert the code)."""
    return subprocess.run([*wst_command(), *args], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, timeout=timeout)


@dataclass
class ProjectDir:
    """A private copy of tests/fixtures/minimal that a test may edit."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.toml"

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text(encoding="utf-8")

    def write(self, relative: str, text: str) -> Path:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace `old` (which must occur exactly once) with `new` in one file."""
        text = self.read(relative)
        assert text.count(old) == 1, f"{old!r} should occur once in {relative}"
        self.write(relative, text.replace(old, new))

    def wst(self, *args: str, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`wst --config <this>/config.toml ARGS`, run from the project folder by default."""
        return run_wst("--config", str(self.config), *args, cwd=cwd or self.path, env=env)


def copy_minimal(dest: Path) -> ProjectDir:
    """Copy the clean minimal project to `dest`."""
    shutil.copytree(MINIMAL, dest)
    return ProjectDir(dest)


class Clock:
    """A clock a test moves by hand (passed where the pipeline takes `clock`)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def copy_bundled(dest: Path) -> Path:
    """Copy the bundled WST project (config, calendar, content) to `dest`, so a test that runs
    it never writes a store or an outbox into the repository."""
    dest.mkdir(parents=True)
    shutil.copy2(BUNDLED_CONFIG, dest / "config.toml")
    for folder in ("schedules", "content"):
        shutil.copytree(ROOT / folder, dest / folder)
    return dest


@pytest.fixture
def project(tmp_path: Path) -> ProjectDir:
    """A fresh, clean minimal project in a temporary folder."""
    return copy_minimal(tmp_path / "project")


def output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Every line the command printed, stdout then stderr."""
    return (result.stdout + result.stderr).splitlines()


# -- the two databases the store runs on ------------------------------------------------------

@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server on loopback for the whole run (skipped if PostgreSQL is
    not installed; with CI set, that fails the run instead)."""
    missing = postgres_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)
    cluster = Cluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL: a SQLite file in a folder not made yet, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'deeper' / 'wst.sqlite'}"
    return request.getfixturevalue("postgres").database()


@pytest.fixture(scope="module")
def driver():
    """A headless chromium for one module's browser tests (tests/browser_support.py)."""
    from browser_support import chromium
    yield from chromium()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a module's screenshots go: $WST_SCREENSHOTS if set, else a temporary folder."""
    from browser_support import screenshot_folder
    return screenshot_folder(tmp_path_factory)
