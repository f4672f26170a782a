"""The web workspace's application: `create_app` builds it over one config and store.

Every route needs a signed-in person except signing in, setting a password by an invitation
and the private calendar feed; what a person may do is asked of `pipeline.policy` by the
services, and a refusal is a 403. Every change is a POST with a CSRF token. Responses carry a
Content-Security-Policy without inline script.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from flask import Flask, g, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from pipeline.accounts import Accounts
from pipeline.errors import Invalid, NotAllowed, NotFound, WstError
from pipeline.services import signin
from pipeline.web.context import Holder, User, Web, now, ws
from pipeline.workspace import utc_now

log = logging.getLogger("wst.web")

# No inline script anywhere; inline style only for the data-driven colours and bars of the
# preview's cards. The bulletin's email HTML is served under a stricter policy of its own.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; frame-src 'self'; connect-src 'self'; form-action 'self'; "
       "base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", default_limits=[],
                  headers_enabled=True)


class KeyMissing(WstError):
    """Live mode without the session key's environment variable set."""

    def __init__(self, name: str):
        super().__init__(f"set the environment variable {name} to a long random value (e.g. "
                         f"`python -c 'import secrets; print(secrets.token_urlsafe(48))'`): in "
                         f"live mode sign-ins must survive a restart")


def create_app(config_path: Path, environ: Mapping[str, str], *,
               clock: Callable[[], datetime] = utc_now) -> Flask:
    """The web workspace over the config at `config_path`, its store and its content."""
    holder = Holder(Path(config_path), environ, clock)
    settings = holder.ws.config.settings
    web = settings.web
    key = environ.get(web.secret_key_env, "")
    if not key:
        if settings.mode == "live":
            holder.close()
            raise KeyMissing(web.secret_key_env)
        key = secrets.token_urlsafe(48)
        log.warning("%s is not set: a new key for this run (everyone signs in again after a "
                    "restart)", web.secret_key_env)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=web.base_url.startswith("https://"),
        SESSION_COOKIE_NAME="wst_session",
        WTF_CSRF_TIME_LIMIT=None,           # a token lives as long as the session
        WTF_CSRF_SSL_STRICT=web.base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=12 * 1024 * 1024,  # an image upload, with room for the form
        TEMPLATES_AUTO_RELOAD=False,
    )
    if web.proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=web.proxies, x_proto=web.proxies,  # type: ignore[method-assign]
                                x_host=web.proxies)
    app.extensions["wst"] = Web(holder, Accounts(holder.ws.store), clock, environ)
    CSRFProtect(app)
    limiter.init_app(app)
    _login(app)
    _errors(app)
    _blueprints(app)
    _context(app)

    @app.before_request
    def _started() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _headers(response):
        # the server's own time for the request, for bench/web.py and the browser's devtools
        if "started" in g:
            response.headers["Server-Timing"] = \
                f"app;dur={(time.perf_counter() - g.started) * 1000:.1f}"
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    return app


def _login(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.sign_in"
    manager.login_message = "Sign in to see that page."
    manager.session_protection = None  # the server-side session is the protection

    @manager.user_loader
    def _load(token: str) -> User | None:
        web = app.extensions["wst"]
        found = signin.signed_in(ws(), web.accounts, token, now())
        return None if found is None else User(token, found.person)

    @manager.unauthorized_handler
    def _unauthorised():
        from flask import redirect, url_for
        if request.headers.get("HX-Request"):
            response = jsonify(error="sign in first")
            response.status_code = 401
            response.headers["HX-Redirect"] = url_for("auth.sign_in")
            return response
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=target.rstrip("?") if target else None))


def _errors(app: Flask) -> None:
    def page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(NotAllowed)
    def _not_allowed(exc: NotAllowed):
        return page(403, "Not yours to do", str(exc))

    @app.errorhandler(403)
    def _forbidden(exc):
        return page(403, "Not yours to do", getattr(exc, "description", "") or
                    "Your role does not allow this.")

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        return page(404, "Not found", str(exc))

    @app.errorhandler(404)
    def _missing(_exc):
        return page(404, "Not found", "There is no such page.")

    @app.errorhandler(Invalid)
    def _invalid(exc: Invalid):
        return page(400, "That could not be done", str(exc))

    @app.errorhandler(WstError)
    def _refused(exc: WstError):
        return page(409, "That could not be done", str(exc))

    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError):
        return page(400, "The form has expired", "Nothing was changed. Go back, reload the "
                    "page and try again.")

    @app.errorhandler(429)
    def _too_many(exc):
        return page(429, "Too many attempts", "Nothing was changed. Wait a few minutes before "
                    f"trying again ({getattr(exc, 'description', '')}).")

    @app.errorhandler(413)
    def _too_large(_exc):
        return page(413, "That file is too large", "Nothing was changed. Choose a smaller image "
                    "(a post's image is at most a few megabytes) and try again.")

    @app.errorhandler(405)
    def _method(_exc):
        return page(405, "Not allowed", "That page cannot be used that way.")

    @app.errorhandler(500)
    def _broken(exc):
        # the traceback goes to the server's log, never to the page
        log.error("a request failed: %s", getattr(exc, "original_exception", exc))
        return page(500, "Something went wrong", "Nothing was changed by the part that failed. "
                    "Try again; if it happens again, tell the business unit the time it happened.")


def _context(app: Flask) -> None:
    from flask_login import current_user

    from pipeline.render import brand_of
    from pipeline.services import freeze
    from pipeline.web.views import NAV, section_of

    def local(moment: datetime) -> datetime:
        return moment.astimezone(ws().config.tz)

    app.add_template_filter(lambda m: f"{local(m):%a %d %b %Y %H:%M}", "when")
    app.add_template_filter(lambda m: f"{local(m):%H:%M}", "hhmm")
    app.add_template_filter(lambda d: f"{d:%A} {d.day} {d:%B %Y}", "longdate")

    @app.context_processor
    def _common() -> dict:
        workspace = ws()
        settings = workspace.config.settings
        signed_in = current_user.is_authenticated
        nav = [(e, label) for e, label in NAV if e in app.view_functions]
        return {
            "brand": brand_of(workspace.config), "mode": settings.mode, "people": settings.people,
            "nav": nav, "nav_current": section_of(request.endpoint, [e for e, _ in nav]),
            "pause": freeze.in_force(workspace, now()) if signed_in else None,
            "freeze_page": "freeze.page" if "freeze.page" in app.view_functions else "",
        }


def _blueprints(app: Flask) -> None:
    from pipeline.web import auth, views
    app.register_blueprint(auth.blueprint)
    for blueprint in views.BLUEPRINTS:
        app.register_blueprint(blueprint)
