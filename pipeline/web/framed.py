"""Pages the workspace shows in a frame but did not write for itself: a bulletin's email (the
mailing service's HTML) and the evaluation report (a page of its own, for printing). Each is
served under a policy that lets it draw itself and nothing else: no script, no forms, no way
out of the sandbox, framed only by the workspace."""

from __future__ import annotations

from flask import Response


def framed(html: str, *, images: str = "'self' data:") -> Response:
    """`html` as a sandboxed page the workspace's own pages may frame."""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
        f"img-src {images}; style-src 'unsafe-inline'; frame-ancestors 'self'")
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
