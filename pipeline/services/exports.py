"""The plan as people see it away from the terminal: the static preview site and the calendar
file, each item with its one status (pipeline.services.statuses)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from pipeline.ics import build_ics
from pipeline.render import brand_of
from pipeline.services.statuses import Line, in_range
from pipeline.status import Status
from pipeline.workspace import Workspace
from renderers.preview import PreviewItem, PreviewSummary, build_preview


def calendar(ws: Workspace, now: datetime, first: date, last: date) -> tuple[bytes, int]:
    """The items and the campaign windows as an iCalendar file, and how many items it holds."""
    listing = in_range(ws, now, first, last)
    lines = [line for line in listing.lines if line.item is not None]
    return build_ics(ws.catalog.project, lines, first, last, now), len(lines)


def preview_item(ws: Workspace, line: Line) -> PreviewItem:
    """One planned item rendered and checked, with its status, as the preview shows it."""
    assert line.item is not None
    r = ws.catalog.renderer.render(line.item)
    c = ws.config.settings.channels[line.channel]
    return PreviewItem(
        id=line.item_id, kind=line.kind, campaign=line.campaign, channel=line.channel,
        platform=c.kind, due=line.due, title=line.title, status=line.status.status.value,
        status_label=line.status.label, note=line.status.note, provisional=line.provisional,
        post=r.post, bulletin=r.bulletin, findings=r.findings, channel_title=c.title,
        handle=c.handle)


def preview(ws: Workspace, now: datetime, first: date, last: date, out: Path, *,
            campaign: str | None = None, channel: str | None = None,
            on_rendered: Callable[[], None] | None = None,
            on_written: Callable[[], None] | None = None,
            on_planned: Callable[[int], None] | None = None) -> PreviewSummary:
    """Write the static preview site of every item exactly as each channel will show it."""
    listing = in_range(ws, now, first, last, campaign=campaign, channel=channel)
    lines = [line for line in listing.lines if line.item is not None]  # gone: nothing to show
    if on_planned:
        on_planned(len(lines))
    config = ws.config
    items = []
    for line in lines:
        items.append(preview_item(ws, line))
        if on_rendered:
            on_rendered()
    return build_preview(items, out, brand=brand_of(config), start=first, end=last,
                         generated_at=now, images_dir=config.content_dir,
                         on_item=on_written or (lambda: None), tz=config.tz,
                         status_order=[s.value for s in Status])
