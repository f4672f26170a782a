"""A tiny threaded loopback HTTP server that platform stand-ins build on.

A stand-in subclasses `StandIn`, registers routes with `self.route(method, pattern, handler)`,
and keeps its own state (posts, tokens). The base records every call, answers on 127.0.0.1 at
an ephemeral port, and applies programmable faults before the routes see a call:

    with MyStandIn() as s:               # starts the server; stops it (bounded) on exit
        s.answer_next(Reply(503, {...}))  # next call answers this, untouched by the routes
        s.delay_next(2.0, land=True)      # next call is handled, then answered 2 s late
        s.delay_next(2.0, land=False)     # next call waits 2 s, then the connection drops
        s.base_url                        # "http://127.0.0.1:PORT"
        s.calls                           # [Call(method, path, query, headers, body)]

        s.echo_next()                     # next call is refused quoting the whole request back
Faults take `times` (how many calls) and `match` (a predicate on Call; default every call).

Every platform stand-in also offers the contract suite's knobs (see tests/channel_contract.py):
`posts`, `secrets`, `rate_limit(times) -> reset datetime`, `server_error(times)`,
`expire_token()`, `delay(seconds, times, land)`.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# How long stop() waits for the serving thread; a stuck test must not hang the suite.
STOP_TIMEOUT = 5.0


@dataclass
class Part:
    """One part of a multipart/form-data body."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str = ""

    @property
    def text(self) -> str:
        """The part as text."""
        return self.data.decode("utf-8")


@dataclass
class Call:
    """One request the stand-in received, as sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]          # lower-cased names
    body: bytes
    raw_query: str = ""              # as sent, for signature checks

    @property
    def content_type(self) -> str:
        """The media type of the body, without parameters."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query parameter's first value."""
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body parsed as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, list[str]]:
        """The body as form fields, URL-encoded or multipart (file parts give bytes as text)."""
        if self.content_type == "application/x-www-form-urlencoded":
            return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        if self.content_type == "multipart/form-data":
            fields: dict[str, list[str]] = {}
            for part in self.parts():
                if part.filename is None:
                    fields.setdefault(part.name, []).append(part.text)
            return fields
        return {}

    def field(self, name: str, default: str | None = None) -> str | None:
        """A form field's first value."""
        values = self.form().get(name)
        return values[0] if values else default

    def parts(self) -> list[Part]:
        """The parts of a multipart/form-data body."""
        if self.content_type != "multipart/form-data":
            return []
        raw = b"Content-Type: " + self.headers["content-type"].encode() + b"\r\n\r\n" + self.body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        parts = []
        for sub in message.iter_parts():
            parts.append(Part(name=sub.get_param("name", header="content-disposition") or "",
                              data=sub.get_payload(decode=True) or b"",
                              filename=sub.get_filename(),
                              content_type=sub.get_content_type()))
        return parts

    def file(self, name: str) -> Part | None:
        """The multipart part named `name` that carries a file."""
        return next((p for p in self.parts() if p.name == name and p.filename is not None), None)

    def as_text(self) -> str:
        """The whole request as a gateway's error page quotes it: the request line, the
        Authorization header, the body (form fields as name=value, a file by its size), then
        the other headers. Credentials come early so that they are inside the part of an error
        an adapter keeps."""
        target = self.path + (f"?{self.raw_query}" if self.raw_query else "")
        if self.content_type == "multipart/form-data":
            body = "&".join(f"{p.name}=<{len(p.data)} bytes>" if p.filename is not None
                            else f"{p.name}={p.text}" for p in self.parts())
        else:
            body = self.body.decode("utf-8", "replace")
        headers = sorted(self.headers.items(), key=lambda kv: kv[0] != "authorization")
        shown = "\n".join(f"{k}: {v}" for k, v in headers[:1])
        rest = "\n".join(f"{k}: {v}" for k, v in headers[1:])
        return f"{self.method} {target} HTTP/1.1\n{shown}\n{body}\n{rest}"


@dataclass
class Reply:
    """What the stand-in answers: a status, a JSON-able (or bytes) body, headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    times: int
    match: Callable[[Call], bool] | None
    reply: Reply | Callable[[Call], Reply] | None = None
    delay: float = 0.0
    land: bool = True


Handler = Callable[..., Reply]


def http_date(moment: datetime) -> str:
    """An HTTP Date header value for `moment`."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


class StandIn:
    """A loopback HTTP server with routes, recorded calls and programmable faults."""

    name = "standin"

    def __init__(self, clock: Callable[[], datetime] | None = None):
        self.clock = clock or (lambda: datetime.now(UTC))
        self.calls: list[Call] = []
        self.lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[_Fault] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> StandIn:
        """Listen on 127.0.0.1 at an ephemeral port, serving from a daemon thread."""
        standin = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the body waited for
            # the client's delayed ACK (~40 ms on Linux), a delay no platform adds.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                standin._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output for failures, not for every request

        self._stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake any delayed handler, and wait (bounded) for the thread."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        self._server = self._thread = None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The server's address, e.g. http://127.0.0.1:54321."""
        assert self._server is not None, "stand-in not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- routes and faults -------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answer `method` on paths fully matching regex `pattern` with handler(call, **groups)."""
        self._routes.append((method.upper(), re.compile(pattern), handler))

    def answer_next(self, reply: Reply | Callable[[Call], Reply], times: int = 1,
                    match: Callable[[Call], bool] | None = None) -> None:
        """The next `times` matching calls get `reply` (or reply(call)) and change nothing."""
        with self.lock:
            self._faults.append(_Fault(times, match, reply=reply))

    def delay_next(self, seconds: float, times: int = 1, land: bool = True,
                   match: Callable[[Call], bool] | None = None) -> None:
        """Delay the next `times` matching calls; `land` says whether the call takes effect."""
        with self.lock:
            self._faults.append(_Fault(times, match, delay=seconds, land=land))

    def echo_next(self, times: int = 1, status: int = 400,
                  match: Callable[[Call], bool] | None = None) -> None:
        """Refuse the next `times` matching calls, quoting each whole request (its credentials
        too) in the platform's own error shape, as some gateways and proxies do."""
        self.answer_next(lambda call: self.error_reply(
            status, f"request refused by the gateway: {call.as_text()}"), times, match)

    def clear_faults(self) -> None:
        """Forget every pending fault."""
        with self.lock:
            self._faults.clear()

    def calls_to(self, method: str, pattern: str) -> list[Call]:
        """Recorded calls with this method whose path fully matches `pattern`."""
        rx = re.compile(pattern)
        with self.lock:
            return [c for c in self.calls if c.method == method.upper() and rx.fullmatch(c.path)]

    # -- overridable answers -----------------------------------------------------------------

    def not_found(self, call: Call) -> Reply:
        """The platform's answer to an unknown path."""
        return Reply(404, {"error": "not found"})

    def authorise(self, call: Call) -> Reply | None:
        """None if the call's credentials are good, else the platform's refusal."""
        return None

    def error_reply(self, status: int, message: str) -> Reply:
        """The platform's error answer carrying `message`."""
        return Reply(status, {"error": message})

    def decorate(self, call: Call, reply: Reply) -> Reply:
        """Add headers every answer carries (rate headers, Date)."""
        return reply

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(self, call: Call) -> Reply:
        """Credentials first, then the route; what the platform would answer with no fault."""
        refused = self.authorise(call)
        if refused is not None:
            return refused
        for method, pattern, handler in self._routes:
            m = pattern.fullmatch(call.path)
            if m and method == call.method:
                return handler(call, **m.groupdict())
        return self.not_found(call)

    def _take_fault(self, call: Call) -> _Fault | None:
        with self.lock:
            for fault in self._faults:
                if fault.match is None or fault.match(call):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        call = Call(h.command, split.path, parse_qs(split.query, keep_blank_values=True),
                    {k.lower(): v for k, v in h.headers.items()}, body, split.query)
        with self.lock:
            self.calls.append(call)
        fault = self._take_fault(call)
        if fault is not None and fault.delay and not fault.land:
            # Lost before the platform acted on it: the client sees only silence.
            self._stopping.wait(fault.delay)
            h.close_connection = True
            return
        if fault is not None and fault.reply is not None:
            reply = fault.reply(call) if callable(fault.reply) else fault.reply
        else:
            with self.lock:
                reply = self.dispatch(call)
        if fault is not None and fault.delay:
            # Acted on, then answered late: the case where only asking again tells the truth.
            self._stopping.wait(fault.delay)
        self._write(h, self.decorate(call, reply))

    def _write(self, h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if isinstance(reply.body, bytes):
            data, ctype = reply.body, "application/octet-stream"
        elif reply.body is None:
            data, ctype = b"", "application/json"
        else:
            data, ctype = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        try:
            h.send_response_only(reply.status)
            # The stand-in's clock, not the wall clock, dates the answer (adapters read Date).
            headers = {"Date": http_date(self.clock()), "Server": self.name,
                       "Content-Type": ctype, **reply.headers}
            for key, value in headers.items():
                h.send_header(key, value)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test); the platform would not notice either
