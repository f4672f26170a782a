"""Adapters' sessions take proxy and CA settings from the environment they are given, once."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from pipeline.channels.http import environ_proxies, settle_environment


class _Proxy(BaseHTTPRequestHandler):
    """A forward proxy on loopback that answers every request itself and remembers its target."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Proxy.seen.append(self.path)  # absolute-form: the proxy is told the full address
        body = b"via proxy"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Proxy.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_proxy_in_the_environment_is_used_and_read_once(proxy: str) -> None:
    environ = {"HTTP_PROXY": proxy, "http_proxy": proxy}
    session = settle_environment(requests.Session(), "http://platform.invalid", environ)
    assert session.trust_env is False
    environ.clear()  # a later change of the environment is not re-read
    answer = session.get("http://platform.invalid/1.1/statuses", timeout=10)
    assert answer.text == "via proxy"
    assert _Proxy.seen == ["http://platform.invalid/1.1/statuses"]


def test_no_proxy_and_the_ca_bundle_follow_requests_rules() -> None:
    environ = {"HTTPS_PROXY": "http://proxy.invalid:3128", "NO_PROXY": "127.0.0.1,localhost",
               "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/partnership.pem"}
    local = settle_environment(requests.Session(), "https://127.0.0.1:8443", environ)
    assert "https" not in local.proxies and local.verify == "/etc/ssl/certs/partnership.pem"
    del environ["NO_PROXY"]
    remote = settle_environment(requests.Session(), "https://graph.facebook.com", environ)
    assert remote.proxies["https"] == "http://proxy.invalid:3128"


def test_the_process_environment_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the mapping the entry point passed down counts, never os.environ behind it."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/partnership.pem")
    session = settle_environment(requests.Session(), "https://graph.facebook.com", {})
    assert session.proxies == {} and session.verify is True


@pytest.mark.parametrize(("no_proxy", "url", "bypassed"), [
    ("10.0.0.0/8", "http://10.1.2.3/x", True),
    ("10.0.0.0/8", "http://11.1.2.3/x", False),
    (".facebook.com", "https://graph.facebook.com", True),
    ("facebook.com", "https://graph.facebook.com", True),
    ("facebook.com", "https://notfacebook.com", False),
    ("localhost:8080", "http://localhost:8080/x", True),
    ("*", "https://graph.facebook.com", True),
])
def test_no_proxy_entries(no_proxy: str, url: str, bypassed: bool) -> None:
    environ = {"http_proxy": "http://proxy.invalid:3128", "https_proxy": "http://proxy.invalid:3128",
               "no_proxy": no_proxy}
    assert (environ_proxies(url, environ) == {}) is bypassed


class _Redirect(BaseHTTPRequestHandler):
    """Answers every POST with a redirect elsewhere, and counts what it was sent."""

    posts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Redirect.posts.append(self.path)
        self.send_response(302)
        self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_settled_session_runs_hooks_and_never_follows_a_redirect() -> None:
    """send() on a settled session: the session's headers and response hooks apply, and a 3xx
    to a write is returned as it is, never sent on anywhere."""
    from pipeline.channels.http import send

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Redirect.posts = []
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        session = settle_environment(requests.Session(), base, {})
        seen: list[int] = []
        session.hooks["response"].append(lambda r, *a, **k: seen.append(r.status_code))
        answer = send(session, "test", "POST /statuses", "POST", f"{base}/statuses", write=True,
                      timeout=5, data={"status": "hello"})
        assert answer.status_code == 302 and seen == [302]
        assert _Redirect.posts == ["/statuses"]
        assert answer.request.headers["User-Agent"].startswith("python-requests/")
    finally:
        server.shutdown()
        server.server_close()
