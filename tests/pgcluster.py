"""A throwaway PostgreSQL cluster on loopback for the tests: initdb into a temporary folder,
pg_ctl start on a free port, a fresh database per test, everything removed at the end.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` OS user that
Debian's package creates. The cluster trusts connections from 127.0.0.1 only, and fsync is off:
it holds nothing worth keeping.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

INSTALL = ("run `bash tests/postgres/install.sh` (as root it installs Debian's postgresql with "
           "apt-get)")
USER = "wst"


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin holding initdb and pg_ctl."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")
             if (p.parent / "pg_ctl").is_file()]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


def missing() -> str | None:
    """What is missing to run a cluster, as a message with the fix (None if nothing)."""
    problems = []
    if find_bindir() is None:
        problems.append("PostgreSQL's initdb and pg_ctl (/usr/lib/postgresql/*/bin)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            problems.append("the `postgres` OS user (to run the server as, not as root)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        problems.append("the psycopg package (pip install -e '.[dev]')")
    return f"PostgreSQL tests need {', '.join(problems)}: {INSTALL}" if problems else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One running server; `database()` makes a fresh, empty database and returns its URL."""

    def __init__(self) -> None:
        bindir = find_bindir()
        assert bindir is not None, INSTALL
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="wst-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._names = itertools.count(1)
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True,
                       timeout=120)

    def start(self) -> Cluster:
        """initdb and start the server (waiting until it accepts connections)."""
        try:
            self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", USER,
                      "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
            options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
                       "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                       "-c max_connections=200")
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                      "-o", options, "-w", "-t", "60", "start")
        except subprocess.CalledProcessError as exc:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            self.remove()
            raise RuntimeError(f"could not start PostgreSQL: {exc.stderr}\n{log}") from None
        return self

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                      "-w", "stop")
        self.remove()

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
