"""The web workspace under test: a real `wst serve` in a subprocess on a loopback port, over a
real SQLite store, with people who sign in through real invitation links; and a client that
speaks to it over HTTP as a browser does (cookies, CSRF tokens from the forms)."""

from __future__ import annotations

import html
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from conftest import MINIMAL, ProjectDir, clean_env, run_wst, wst_command
from workflow_helpers import set_people

PASSWORD = "correct horse battery staple"
KEY = "test-session-key-" + "x" * 40
_TOKEN = re.compile(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"')


def free_port() -> int:
    """A port nobody listens on now."""
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `wst serve` and the project it serves."""

    project: ProjectDir
    port: int
    proc: subprocess.Popen
    log_path: Path
    passwords: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wst(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The CLI on the same project and store (as an operator on the server)."""
        return self.project.wst(*args, env=clean_env(WST_WEB_SECRET_KEY=KEY))

    def invite(self, person: str) -> str:
        """A one-time link for `person`, made at the command line (a dry run prints it)."""
        done = self.wst("user", "invite", person)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip().splitlines()[-1]

    def account(self, person: str, password: str = PASSWORD) -> None:
        """Give `person` a password, through their invitation link, as they would."""
        client = Client(self.url)
        link = self.invite(person)
        page = client.get(link)
        done = client.post(link, {"password": password, "again": password},
                           token=token_of(page.text))
        assert done.status_code == 302, done.text
        self.passwords[person] = password

    def signed_in(self, person: str) -> Client:
        """A client signed in as `person` (given an account first if they have none); one
        per person, kept while it stays signed in."""
        if person not in self.passwords:
            self.account(person)
        client = self.clients.get(person)
        if client is not None and client.get("/calendar/agenda").status_code == 200:
            return client
        client = self.clients[person] = Client(self.url)
        done = client.sign_in(person, self.passwords[person])
        assert done.status_code == 302, done.text
        return client


def token_of(page: str) -> str:
    """The CSRF token in a page's forms."""
    found = _TOKEN.search(page)
    assert found, "no CSRF token on the page"
    return html.unescape(found.group(1))


class Client:
    """A browser-like HTTP client: keeps cookies, sends forms with their CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.token = ""

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def get(self, path: str, **kwargs) -> requests.Response:
        response = self.http.get(self._url(path), allow_redirects=False, timeout=30, **kwargs)
        found = _TOKEN.search(response.text)
        if found:
            self.token = html.unescape(found.group(1))
        return response

    def post(self, path: str, data: dict | list | None = None, *, token: str | None = None,
             **kwargs) -> requests.Response:
        """A form post; with the CSRF token last seen unless `token` says otherwise ('' sends
        none)."""
        use = self.token if token is None else token
        body = list(data.items()) if isinstance(data, dict) else list(data or [])
        if use:
            body.append(("csrf_token", use))
        return self.http.post(self._url(path), data=body, allow_redirects=False, timeout=30,
                              **kwargs)

    def sign_in(self, person: str, password: str) -> requests.Response:
        self.get("/sign-in")
        return self.post("/sign-in", {"name": person, "password": password})


def web_project(folder: Path, extra: str = "") -> ProjectDir:
    """The minimal project with the workflow's people and a [web] table for this test."""
    import shutil

    shutil.copytree(MINIMAL, folder)
    project = ProjectDir(folder)
    set_people(project, extra)
    return project


@contextmanager
def serving(project: ProjectDir, port: int | None = None,
            environ: dict[str, str] | None = None) -> Iterator[Server]:
    """`wst serve` on a free port (with `environ` too: a live project's credentials, for what
    it publishes at once); stopped (SIGTERM, then SIGKILL) on the way out."""
    port = port or free_port()
    text = project.read("config.toml")
    if "[web]" not in text:  # links in pages and emails name the port it listens on
        project.write("config.toml", text + f"\n[web]\nport = {port}\n")
    log_path = project.path / "serve.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([*wst_command(), "--config", str(project.config), "serve",
                                 "--port", str(port)], cwd=project.path, stdout=log,
                                stderr=subprocess.STDOUT,
                                env=clean_env(**(environ or {}), WST_WEB_SECRET_KEY=KEY))
    server = Server(project, port, proc, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(server.url + "/sign-in", timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"wst serve did not start:\n{server.log}") from None
                time.sleep(0.1)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def cli_ok(project: ProjectDir, *args: str) -> str:
    """A command that must succeed on the project; its standard output."""
    done = run_wst("--config", str(project.config), *args, cwd=project.path)
    assert done.returncode == 0, done.stderr
    return done.stdout
