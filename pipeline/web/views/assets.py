"""Files the pages need: the preview's stylesheet (the item cards look exactly as in the
preview), the icon, and the content folder's images, only from inside it."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_file
from flask_login import login_required

from pipeline.web.context import ws
from renderers.preview import TEMPLATES

blueprint = Blueprint("assets", __name__)
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp"}


@blueprint.route("/assets/preview.css")
def preview_css():
    """The preview's stylesheet."""
    return send_file(TEMPLATES / "preview.css", mimetype="text/css", max_age=300)


@blueprint.route("/assets/favicon.svg")
def favicon():
    """The icon."""
    return send_file(TEMPLATES / "favicon.svg", mimetype="image/svg+xml", max_age=3600)


@blueprint.route("/media/<path:relative>")
@login_required
def media(relative: str):
    """An image from the content folder; nothing outside it (links included), nothing else."""
    root = Path(ws().config.content_dir).resolve()
    found = (root / relative).resolve()
    kind = IMAGE_TYPES.get(found.suffix.lower())
    if kind is None or not found.is_relative_to(root) or not found.is_file():
        abort(404)
    return send_file(found, mimetype=kind, max_age=300)
