"""The plan: a pure, deterministic function from the loaded project to dated publication items."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from pipeline.calendar import Blackout, occurrences, send_day_in, windows
from pipeline.content import draft_note, post_draft_note
from pipeline.problems import WARNING, Problem
from pipeline.project import CampaignPost, Located, Project
from pipeline.timing import LocalTime, parse_when, resolve_local

PLANNED, HELD, PROVISIONAL, DRAFT = "planned", "held", "provisional", "draft"
BULLETIN_CAMPAIGN = "e-bulletin"
# Bumped when the renderers change what a channel receives, so versions follow the output.
RENDER_SCHEMA = "1"


@dataclass(frozen=True, slots=True)
class Item:
    """One publication of one piece of content to one channel at one time."""

    id: str
    kind: str
    campaign: str
    channel: str
    due: datetime
    title: str
    version: str
    status: str
    source: str
    occurrence: str = ""
    note: str = ""
    help: bool = False
    responsibility: str = ""
    answers_pause: bool = False   # a reactive post confirmed to answer the event a pause is for

    def as_json(self) -> dict[str, str]:
        """The documented JSON shape of `wst plan --json`."""
        return {
            "id": self.id, "kind": self.kind, "campaign": self.campaign,
            "channel": self.channel, "due": self.due.isoformat(), "title": self.title,
            "status": self.status, "version": self.version, "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True)
class Plan:
    """The items in a date range, in due order, and notes about times the clock moved."""

    start: date
    end: date
    items: list[Item]
    notes: list[Problem]


def version_of(payload: dict) -> str:
    """A short hash of everything that decides what a channel will receive."""
    blob = json.dumps({"schema": RENDER_SCHEMA, **payload}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def id_span(item_id: str) -> tuple[str, date, date] | None:
    """(campaign, first day, last day) that an item id names, for finding the item again:
    `campaign/post/YYYY-MM-DD/channel` names its day, `bulletin/YYYY-MM/channel` its month.
    None if it is not an item id."""
    parts = item_id.split("/")
    try:
        if parts[0] == "bulletin" and len(parts) == 3:
            year, month = map(int, parts[1].split("-"))
            first = date(year, month, 1)
            last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
            return BULLETIN_CAMPAIGN, first, last
        if len(parts) == 4:
            day = date.fromisoformat(parts[2])
            return parts[0], day, day
    except ValueError:
        pass
    return None


def post_text(post, channel: str) -> str:
    """The text a channel gets: its own variant if the post has one, else the base text."""
    return post.variants.get(channel, post.text)


class _Holds:
    """Decides whether a due time falls in a blackout window, once per decision."""

    def __init__(self, blackouts: list[Blackout], terms: list[str]):
        self.blackouts = blackouts
        self.political = re.compile(
            r"\b(" + "|".join(re.escape(t) for t in terms) + r")\b", re.IGNORECASE
        ) if terms else None

    def reason(self, due: datetime, text: str, help_post: bool) -> str:
        for b in self.blackouts:
            if not b.covers(due):
                continue
            if b.holds == "all":
                return f"held: {b.title}"
            if b.holds == "all-but-help" and not help_post:
                return f"held: {b.title}"
            if b.holds == "political" and self.political and self.political.search(text):
                return f"held: {b.title} (names a councillor, candidate or party)"
        return ""


def make_plan(project: Project, start: date, end: date, *, campaign: str | None = None,
              channel: str | None = None) -> Plan:
    """Every item due from `start` to `end` (local dates, inclusive), in due order."""
    config = project.config
    tz = config.tz
    enabled = config.enabled_channels()
    holds = _Holds(project.blackouts, project.political_terms)
    notes: dict[tuple[date, time, str, int], Problem] = {}
    times: dict[tuple[date, time], LocalTime] = {}

    def due_at(day: date, at: time, where: Located | None = None,
               sub: tuple[str, ...] = ()) -> datetime:
        key = (day, at)
        found = times.get(key)
        if found is None:
            found = times[key] = resolve_local(day, at, tz)
        if found.note:
            # name the file and line that asked for the time, once per place that asked
            note = (where.problem(found.note, sub, WARNING, "clock") if where is not None
                    else Problem(config.source.display, None, WARNING, found.note, "clock"))
            notes.setdefault((day, at, note.path, note.line or 0), note)
        return found.due

    items: list[Item] = []
    if campaign in (None, BULLETIN_CAMPAIGN):
        items += _bulletin_items(project, start, end, enabled, channel, due_at, holds)
    for cp in project.posts:
        if campaign not in (None, cp.campaign):
            continue
        items += _post_items(project, cp, start, end, enabled, channel, due_at, holds)
    items.sort(key=lambda i: (i.due, i.kind, i.campaign, i.id))
    return Plan(start, end, items, [notes[k] for k in sorted(notes)])


def _post_items(project: Project, cp: CampaignPost, start: date, end: date, enabled,
                channel, due_at, holds: _Holds) -> list[Item]:
    camp = project.campaigns.get(cp.campaign)
    if camp is None:
        return []
    post = cp.post
    when = parse_when(post.when)
    event = project.events.get(post.anchor or camp.events[0])
    if event is None:
        return []
    # widen the search so offsets reaching into the range are found
    margin = timedelta(days=max(when.n, 0) + 400 if when.form == "abs" else when.n + 62)
    occs = occurrences(event, start - margin, end + margin)
    targets = [c for c in (camp.channels if post.channels is None else post.channels)
               if c in enabled and channel in (None, c)]
    out: list[Item] = []
    seen_days: set[date] = set()
    for occ in occs:
        win = windows(camp, occ)
        days = when.dates(occ.start, occ.end)
        for day in days:
            if day < start or day > end or day in seen_days or not win.contains(day):
                continue
            seen_days.add(day)
            due = due_at(day, when.at, cp.at, ("when",))
            for name in targets:
                text = post_text(post, name)
                status, note = PLANNED, ""
                held = holds.reason(due, text, post.help)
                draft = post_draft_note(post)
                if held:
                    status, note = HELD, held
                elif draft:
                    status, note = DRAFT, draft
                elif occ.provisional:
                    status, note = PROVISIONAL, (f"{event.title} {occ.start.year} is not "
                                                 f"confirmed; date predicted from its rule")
                version = version_of({
                    "kind": "post", "channel": name, "text": text, "link": post.link,
                    "image": post.image, "image_digest": cp.image_digest, "alt": post.alt,
                })
                out.append(Item(
                    id=f"{cp.campaign}/{post.id}/{day.isoformat()}/{name}",
                    kind="post", campaign=cp.campaign, channel=name, due=due,
                    title=post.title or _first_words(text), version=version, status=status,
                    source=cp.ref, occurrence=occ.key, note=note, help=post.help,
                    responsibility=camp.responsibility,
                ))
    return out


def _bulletin_items(project: Project, start: date, end: date, enabled, channel, due_at,
                    holds: _Holds) -> list[Item]:
    cadence = project.cadence
    out: list[Item] = []
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        key = f"{year:04d}-{month:02d}"
        send = send_day_in(cadence.send_day, year, month)
        if start <= send <= end and key >= cadence.from_month:
            bulletin = project.bulletins.get(key)
            theme = (bulletin.theme if bulletin and bulletin.theme
                     else cadence.themes.get(f"{month:02d}", ""))
            if bulletin:
                title = bulletin.subject
                payload = bulletin.model_dump(mode="json")
            else:
                title = f"{send:%B %Y} e-bulletin: {theme or 'no theme'}"
                payload = {"missing": key}
            due = due_at(send, cadence.at, project.where.get("cadence"), ("send_time",))
            for name in cadence.channels:
                if name not in enabled or channel not in (None, name):
                    continue
                held = holds.reason(due, title, False)
                draft = (draft_note(bulletin) if bulletin else
                         f"no content file yet: run `wst bulletin new --month {key}`")
                status = HELD if held else DRAFT if draft else PLANNED
                out.append(Item(
                    id=f"bulletin/{key}/{name}", kind="bulletin", campaign=BULLETIN_CAMPAIGN,
                    channel=name, due=due, title=title,
                    version=version_of({"kind": "bulletin", "channel": name, **payload}),
                    status=status, source=f"bulletin:{key}", note=held or draft,
                    responsibility=cadence.responsibility,
                ))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _first_words(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rsplit(" ", 1)[0] + "…"
