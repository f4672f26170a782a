"""The evaluation report for the C&E group and the Executive: choose a period and a campaign,
read it in the page, open it on its own to print, or download it for a spreadsheet (CSV) or
another tool (JSON). The same report `wst report` writes, from the same service."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request
from flask_login import login_required

from pipeline.errors import Invalid
from pipeline.plan import BULLETIN_CAMPAIGN
from pipeline.services import evaluation
from pipeline.web.context import now, ws
from pipeline.web.framed import framed
from pipeline.web.views.oversight import blueprint, day_arg
from renderers.report import render_csv, render_html, render_json

FORMATS = {"csv": ("text/csv", render_csv), "json": ("application/json", render_json)}


def _period() -> tuple[Any, Any, str | None]:
    today = now().astimezone(ws().config.tz).date()
    last = day_arg("to", today)
    first = day_arg("from", None) or evaluation.default_first(last)
    if last < first:
        raise Invalid(f"the last day ({last:%d %B %Y}) is before the first ({first:%d %B %Y})",
                      field="to")
    return first, last, request.args.get("campaign") or None


def _args(first, last, campaign) -> dict[str, str]:
    out = {"from": first.isoformat(), "to": last.isoformat()}
    if campaign:
        out["campaign"] = campaign
    return out


@blueprint.route("/report")
@login_required
def report():
    """The report page: the period and campaign, the report in a frame, the downloads."""
    first, last, campaign = _period()
    evaluation.check_report(ws().catalog, first, last, campaign)   # a wrong choice is said here
    project = ws().catalog.project
    campaigns = [(BULLETIN_CAMPAIGN, "The e-bulletin"),
                 *sorted((c.id, c.title) for c in project.campaigns.values())]
    return render_template("report.html", first=first, last=last, campaign=campaign or "",
                           campaigns=campaigns, args=_args(first, last, campaign))


@blueprint.route("/report/view")
@login_required
def report_view():
    """The report as one page of its own (to read in the frame, print or save)."""
    first, last, campaign = _period()
    data = evaluation.report_of(ws(), now(), first, last, campaign=campaign)
    return framed(render_html(data), images="data:")   # its charts are inline SVG


@blueprint.route("/report.<fmt>")
@login_required
def report_file(fmt: str):
    """The report's data as CSV (for a spreadsheet) or JSON."""
    if fmt not in FORMATS:
        abort(404)
    first, last, campaign = _period()
    data = evaluation.report_of(ws(), now(), first, last, campaign=campaign)
    mimetype, render = FORMATS[fmt]
    name = f"wst-report-{first}-{last}{'-' + campaign if campaign else ''}.{fmt}"
    return Response(render(data), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
