"""Signing in and out, and setting a password by an invitation link."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo

from pipeline.accounts import InviteInvalid
from pipeline.errors import Invalid
from pipeline.services import signin
from pipeline.web.app import limiter
from pipeline.web.context import User, address, now, web, ws

blueprint = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    """User name (the person's key in config.toml) and password."""

    name = StringField("User name", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class PasswordForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField("New password", validators=[DataRequired()])
    again = PasswordField("The same password again",
                          validators=[DataRequired(), EqualTo("password", "The two do not match.")])


def _account_key() -> str:
    return "account:" + request.form.get("name", "").strip().lower()


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //elsewhere or an absolute address)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("calendar.month")


def _failed(response) -> bool:
    """Only a refused sign-in counts against the limits."""
    return response.status_code == 401


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: ws().config.settings.web.sign_in_limit_address, methods=["POST"],
               deduct_when=_failed)
@limiter.limit(lambda: ws().config.settings.web.sign_in_limit_account, methods=["POST"],
               key_func=_account_key, deduct_when=_failed)
def sign_in():
    """The sign-in page; a wrong name or password get the same answer."""
    form = SignInForm()
    failed = False
    if form.validate_on_submit():
        try:
            person, token = signin.sign_in(ws(), web().accounts, form.name.data or "",
                                           form.password.data or "", now(), address())
        except signin.SignInRefused:
            failed = True
        else:
            session.clear()  # a fresh session at every sign-in
            login_user(User(token, person))
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if failed else 200
    return render_template("sign_in.html", form=form, failed=failed,
                           message=signin.SIGN_IN_FAILED), status


@blueprint.route("/sign-out", methods=["POST"])
@login_required
def sign_out():
    """End the session on the server, then in the browser."""
    signin.sign_out(ws(), web().accounts, current_user.token, current_user.person, now(),
                    address())
    logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: ws().config.settings.web.sign_in_limit_address, methods=["POST"])
def invite(token: str):
    """Set a password by a one-time invitation link."""
    try:
        person = web().accounts.invited(token, now())
    except InviteInvalid as exc:
        return render_template("error.html", title="This link does not work",
                               message=str(exc)), 410
    form = PasswordForm()
    problem = ""
    if form.validate_on_submit():
        try:
            signin.set_password(ws(), web().accounts, token, form.password.data or "", now(),
                                address())
        except Invalid as exc:
            problem = str(exc)
        except InviteInvalid as exc:
            return render_template("error.html", title="This link does not work",
                                   message=str(exc)), 410
        else:
            flash("Your password is set. Sign in with it now.")
            return redirect(url_for("auth.sign_in"))
    return render_template("invite.html", form=form, person=person, problem=problem,
                           name=ws().config.settings.people[person].name)
