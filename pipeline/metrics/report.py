"""The evaluation report's data: the strategy's outputs and outcome, per campaign and period.

One pass over the period's ledger rows, one windowed query for the latest snapshots, and the
hand-made records; everything else is arithmetic in Python. Nothing here reads the clock."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select

from pipeline.metrics.base import ENGAGEMENT_PARTS
from pipeline.metrics.records import Records
from pipeline.plan import BULLETIN_CAMPAIGN
from pipeline.states import State
from pipeline.store import Store
from pipeline.store.schema import ledger_table, snapshots_table

SCHEMA = 1
POST_MEASURES = ("views", "reach", "likes", "shares", "replies", "clicks", "engagements")
BULLETIN_MEASURES = ("delivered", "unique_opens", "open_rate", "unique_clicks", "click_rate",
                     "unsubscribes", "bounces")
TOP_POSTS = 10


@dataclass(frozen=True)
class CampaignInfo:
    """A campaign's title and its live windows (local dates, inclusive)."""

    id: str
    title: str
    windows: tuple[tuple[date, date], ...] = ()


@dataclass(frozen=True)
class PlannedItem:
    """An item the plan says is due in the period (it may not have reached the ledger yet)."""

    id: str
    campaign: str
    channel: str
    kind: str
    due: datetime
    title: str = ""


@dataclass(frozen=True)
class ItemStanding:
    """One item's one status (pipeline.services.statuses), as the report lists it."""

    id: str
    campaign: str
    channel: str
    due: datetime
    title: str
    status: str          # the Status word
    label: str           # with its reason: 'held: pause'
    note: str = ""


# Statuses a person must act on, listed by name in the report.
NEEDS_A_PERSON = ("held", "missed", "failed", "unconfirmed")


@dataclass(frozen=True)
class AuditReach:
    """A partner channel from the Appendix 1 audit, as a share needs it."""

    id: str
    organisation: str
    name: str
    audience: str
    reach: int | None


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report needs besides the store; `now` is passed in, never read."""

    start: date
    end: date
    tz: tzinfo
    now: datetime
    campaign: str | None = None
    title: str = "Communication and engagement evaluation"
    partnership: str = ""
    campaigns: dict[str, CampaignInfo] = field(default_factory=dict)
    planned: tuple[PlannedItem, ...] = ()
    bulletin_stories: dict[str, int] = field(default_factory=dict)
    audit: dict[str, AuditReach] = field(default_factory=dict)
    baseline_from: str = "2022-04"
    baseline_to: str = "2023-03"
    grace_seconds: float = 3600.0
    # (year, month) → USD spent reading X; None when spend can't be known.
    x_spend: Callable[[int, int], float] | None = None
    notes: tuple[str, ...] = ()
    standings: tuple[ItemStanding, ...] = ()   # every item's status, in status order


def months_between(first: str, last: str) -> list[str]:
    """Every YYYY-MM from `first` to `last` inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _num(value: float | None) -> float | int | None:
    """A whole float as an int, so counts read as counts in JSON and CSV."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else round(float(value), 4)


def _rate(part: float | None, whole: float | None) -> float | None:
    if part is None or not whole:
        return None
    return round(part / whole, 4)


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def build_report(store: Store, inputs: ReportInputs) -> dict[str, Any]:
    """The report's data for a period (and optionally one campaign), JSON-ready."""
    tz = inputs.tz
    start_utc = _local_midnight(inputs.start, tz)
    end_utc = _local_midnight(inputs.end + timedelta(days=1), tz)
    notes = list(inputs.notes)

    rows, rehearsals = _ledger_rows(store, inputs, start_utc, end_utc)
    if rehearsals:
        notes.append(f"{rehearsals} rehearsal (dry-run) publication(s) in the period are not "
                     f"counted: only live publications are.")
    items = _merge_planned(rows, inputs)
    metrics = _latest_metrics(store, start_utc, end_utc)

    posts = _posts(items, metrics, tz)
    bulletins = _bulletins(items, metrics, inputs, tz)
    campaigns = _campaigns(items, posts, inputs)
    channels = _channels(posts)
    engagement = _engagement(store, inputs)
    shares = _shares(store, inputs, items)
    spend = _spend(inputs, notes)
    concerns = _concerns(store, inputs, notes)
    stories = {
        "posts_published": len(posts),
        "bulletins_sent": len(bulletins),
        "bulletin_stories": sum(b["stories"] or 0 for b in bulletins),
        "partner_shares_public": sum(1 for s in shares["records"] if s["audience"] == "public"),
        "partner_shares_workforce": sum(1 for s in shares["records"]
                                        if s["audience"] == "workforce"),
        "partner_shares_both": sum(1 for s in shares["records"] if s["audience"] == "both"),
    }
    totals = {
        "planned": sum(c["planned"] for c in campaigns),
        "due": sum(c["due"] for c in campaigns),
        "published": sum(c["published"] for c in campaigns),
        "on_time": sum(c["on_time"] for c in campaigns),
        "views": _num(sum(c["views"] or 0 for c in channels)),
        "reach": _num(sum(c["reach"] or 0 for c in channels)),
        "engagements": _num(sum(c["engagements"] or 0 for c in channels)),
    }
    rated = [p for p in posts if p["views"] and p["engagements"] is not None]
    totals["engagement_rate"] = _rate(sum(p["engagements"] for p in rated),
                                      sum(p["views"] for p in rated))
    totals["on_time_rate"] = _rate(totals["on_time"], totals["due"])
    top = sorted((p for p in posts if p["engagements"] is not None or p["views"] is not None),
                 key=lambda p: (-(p["engagements"] or 0), -(p["views"] or 0), p["item"]))
    return {
        "schema": SCHEMA,
        "title": inputs.title,
        "partnership": inputs.partnership,
        "period": {"from": inputs.start.isoformat(), "to": inputs.end.isoformat()},
        "campaign": inputs.campaign,
        "generated_at": inputs.now.isoformat(timespec="seconds"),
        "grace_minutes": _num(inputs.grace_seconds / 60),
        "totals": totals,
        "campaigns": campaigns,
        "channels": channels,
        "posts": posts,
        "top_posts": top[:TOP_POSTS],
        "bulletins": bulletins,
        "stories": stories,
        "engagement": engagement,
        "shares": shares,
        "spend": spend,
        "concerns": concerns,
        "standing": _standing(inputs),
        "notes": notes,
    }


def _standing(inputs: ReportInputs) -> dict[str, Any]:
    """Where every item of the period stands (the same status every view shows), and the
    items a person must act on."""
    rows = [r for r in inputs.standings if not inputs.campaign or r.campaign == inputs.campaign]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return {"counts": counts, "attention": [
        {"item": r.id, "campaign": r.campaign, "channel": r.channel, "title": r.title,
         "due": r.due.isoformat(), "status": r.label, "note": r.note}
        for r in rows if r.status in NEEDS_A_PERSON]}


def _ledger_rows(store: Store, inputs: ReportInputs, start_utc: datetime,
                 end_utc: datetime) -> tuple[list[dict[str, Any]], int]:
    t = ledger_table
    query = (select(t.c.item_id, t.c.channel, t.c.kind, t.c.campaign, t.c.title, t.c.due,
                    t.c.state, t.c.published_at, t.c.lateness_seconds, t.c.url, t.c.dry_run)
             .where(t.c.due >= start_utc, t.c.due < end_utc, t.c.state != State.SUPERSEDED)
             .order_by(t.c.due, t.c.item_id))
    if inputs.campaign:
        query = query.where(t.c.campaign == inputs.campaign)
    with store.reading() as conn:
        found = [dict(r) for r in conn.execute(query).mappings().all()]
    live = [r for r in found if not r["dry_run"]]
    return live, len(found) - len(live)


def _merge_planned(rows: list[dict[str, Any]], inputs: ReportInputs) -> list[dict[str, Any]]:
    """One row per (item, channel): the ledger's word where it has one, else the plan's."""
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["item_id"], r["channel"])
        held = by_key.get(key)
        # An item may have a cancelled old row beside its live one: the published row wins.
        if held is None or (r["state"] == State.PUBLISHED and held["state"] != State.PUBLISHED):
            by_key[key] = r
    for p in inputs.planned:
        if inputs.campaign and p.campaign != inputs.campaign:
            continue
        by_key.setdefault((p.id, p.channel), {
            "item_id": p.id, "channel": p.channel, "kind": p.kind, "campaign": p.campaign,
            "title": p.title, "due": p.due, "state": "planned", "published_at": None,
            "lateness_seconds": None, "url": None, "dry_run": False})
    return sorted(by_key.values(), key=lambda r: (r["due"], r["item_id"], r["channel"]))


def _latest_metrics(store: Store, start_utc: datetime,
                    end_utc: datetime) -> dict[tuple[str, str], dict[str, float]]:
    """(item, channel) → measure → the latest known value, for items due in the period."""
    s, t = snapshots_table, ledger_table
    in_period = select(t.c.item_id).where(t.c.due >= start_utc, t.c.due < end_utc)
    # The latest present value of each platform field: a field the platform retired or
    # refused later keeps its last known value rather than dropping to nothing.
    ranked = (select(s.c.item_id, s.c.channel, s.c.measure, s.c.value, s.c.collected_at,
                     func.row_number().over(partition_by=(s.c.item_id, s.c.channel, s.c.field),
                                            order_by=(s.c.collected_at.desc(), s.c.id.desc()))
                     .label("rn"))
              .where(s.c.measure.is_not(None), s.c.value.is_not(None), s.c.missing.is_(False),
                     s.c.item_id.in_(in_period))
              .subquery())
    query = select(ranked.c.item_id, ranked.c.channel, ranked.c.measure, ranked.c.value,
                   ranked.c.collected_at).where(ranked.c.rn == 1)
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    when: dict[tuple[str, str, str], str] = {}
    with store.reading() as conn:
        for item, channel, measure, value, collected in conn.execute(query):
            # Two fields may map to one measure (a platform renamed it): the newer one counts.
            key = (item, channel, measure)
            if key not in when or collected > when[key]:
                when[key] = collected
                out[(item, channel)][measure] = float(value)
    return out


def _post_values(m: dict[str, float]) -> dict[str, Any]:
    values: dict[str, Any] = {k: _num(m.get(k)) for k in POST_MEASURES}
    if values["engagements"] is None and any(k in m for k in ENGAGEMENT_PARTS):
        values["engagements"] = _num(sum(m.get(k, 0.0) for k in ENGAGEMENT_PARTS))
    values["engagement_rate"] = _rate(values["engagements"], values["views"])
    return values


def _published(r: dict[str, Any]) -> bool:
    return r["state"] == State.PUBLISHED


def _posts(items: list[dict[str, Any]], metrics: dict, tz: tzinfo) -> list[dict[str, Any]]:
    out = []
    for r in items:
        if r["kind"] != "post" or not _published(r):
            continue
        when = r["published_at"] or r["due"]
        out.append({"item": r["item_id"], "campaign": r["campaign"], "channel": r["channel"],
                    "title": r["title"], "url": r["url"] or "",
                    "published": when.astimezone(tz).isoformat(timespec="minutes"),
                    **_post_values(metrics.get((r["item_id"], r["channel"]), {}))})
    return out


def _bulletins(items: list[dict[str, Any]], metrics: dict, inputs: ReportInputs,
               tz: tzinfo) -> list[dict[str, Any]]:
    out = []
    for r in items:
        if r["kind"] != "bulletin" or not _published(r):
            continue
        m = metrics.get((r["item_id"], r["channel"]), {})
        month = r["due"].astimezone(tz).strftime("%Y-%m")
        row: dict[str, Any] = {"month": month, "item": r["item_id"], "channel": r["channel"],
                               "title": r["title"], "stories": inputs.bulletin_stories.get(month)}
        row.update({k: _num(m.get(k)) for k in BULLETIN_MEASURES})
        # Rates from the counts where we have them, so months compare on the same footing.
        row["open_rate"] = _rate(row["unique_opens"], row["delivered"]) or row["open_rate"]
        row["click_rate"] = _rate(row["unique_clicks"], row["delivered"]) or row["click_rate"]
        out.append(row)
    return out


def _lateness(r: dict[str, Any]) -> float:
    if r["lateness_seconds"] is not None:
        return float(r["lateness_seconds"])
    if r["published_at"] is not None:
        return (r["published_at"] - r["due"]).total_seconds()
    return 0.0


def _campaigns(items: list[dict[str, Any]], posts: list[dict[str, Any]],
               inputs: ReportInputs) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in items:
        grouped[r["campaign"]].append(r)
    if inputs.campaign:
        grouped.setdefault(inputs.campaign, [])
    by_campaign_posts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in posts:
        by_campaign_posts[p["campaign"]].append(p)
    out = []
    for cid in sorted(grouped, key=lambda c: (c == BULLETIN_CAMPAIGN, c)):
        rows = grouped[cid]
        due = [r for r in rows if r["due"] <= inputs.now]
        published = [r for r in rows if _published(r)]
        late_s = [max(0.0, _lateness(r)) for r in published]
        on_time = sum(1 for s in late_s if s <= inputs.grace_seconds)
        cposts = by_campaign_posts.get(cid, [])
        rated = [p for p in cposts if p["views"] and p["engagements"] is not None]
        info = inputs.campaigns.get(cid)
        title = info.title if info else ("Monthly e-bulletin" if cid == BULLETIN_CAMPAIGN else cid)
        out.append({
            "campaign": cid, "title": title,
            "planned": len(rows), "due": len(due), "published": len(published),
            "on_time": on_time, "late": len(published) - on_time,
            "not_published": sum(1 for r in due if not _published(r)),
            "cancelled": sum(1 for r in rows if r["state"] == State.CANCELLED),
            "to_come": len(rows) - len(due) - sum(1 for r in published if r["due"] > inputs.now),
            "on_time_rate": _rate(on_time, len(due)),
            "lateness_p50_minutes": _num(round(statistics.median(late_s) / 60, 1)) if late_s else None,
            "lateness_max_minutes": _num(round(max(late_s) / 60, 1)) if late_s else None,
            "views": _num(sum(p["views"] or 0 for p in cposts)),
            "reach": _num(sum(p["reach"] or 0 for p in cposts)),
            "engagements": _num(sum(p["engagements"] or 0 for p in cposts)),
            "engagement_rate": _rate(sum(p["engagements"] for p in rated),
                                     sum(p["views"] for p in rated)),
            "windows": [{"from": a.isoformat(), "to": b.isoformat()}
                        for a, b in (info.windows if info else ())],
        })
    return out


def _channels(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in posts:
        grouped[p["channel"]].append(p)
    out = []
    for channel in sorted(grouped):
        cposts = grouped[channel]
        row: dict[str, Any] = {"channel": channel, "posts": len(cposts),
                               "posts_measured": sum(1 for p in cposts if any(
                                   p[k] is not None for k in POST_MEASURES))}
        for k in POST_MEASURES:
            known = [p[k] for p in cposts if p[k] is not None]
            row[k] = _num(sum(known)) if known else None
        rated = [p for p in cposts if p["views"] and p["engagements"] is not None]
        row["engagement_rate"] = _rate(sum(p["engagements"] for p in rated),
                                       sum(p["views"] for p in rated))
        out.append(row)
    return out


def _engagement(store: Store, inputs: ReportInputs) -> dict[str, Any]:
    records = Records(store).engagement(inputs.start, inputs.end)
    return {
        "events": len(records),
        "people": sum(r["people"] for r in records),
        "groups": sum(r["groups"] for r in records),
        "records": [{"date": r["date"], "event": r["event"], "people": r["people"],
                     "groups": r["groups"], "recorded_by": r["recorded_by"]} for r in records],
    }


def campaign_of(item_id: str) -> str:
    """The campaign an item id belongs to, from its documented shape."""
    head = item_id.split("/", 1)[0]
    return BULLETIN_CAMPAIGN if head == "bulletin" else head


def _shares(store: Store, inputs: ReportInputs, items: list[dict[str, Any]]) -> dict[str, Any]:
    campaigns = {r["item_id"]: r["campaign"] for r in items}
    out = []
    for r in Records(store).shares(inputs.start, inputs.end):
        campaign = campaigns.get(r["item_id"]) or campaign_of(r["item_id"])
        if inputs.campaign and campaign != inputs.campaign:
            continue
        audit = inputs.audit.get(r["channel"])
        out.append({"date": r["date"], "partner": r["partner"], "channel": r["channel"],
                    "channel_name": audit.name if audit else r["channel"],
                    "audience": audit.audience if audit else "",
                    "item": r["item_id"], "campaign": campaign,
                    "reach": audit.reach if audit else None})
    return {"count": len(out),
            "partners": len({s["partner"] for s in out}),
            "potential_reach": sum(s["reach"] or 0 for s in out),
            "records": out}


def _period_months(inputs: ReportInputs) -> list[str]:
    last = min(inputs.end, inputs.now.astimezone(inputs.tz).date())
    if last < inputs.start:
        return []
    return months_between(inputs.start.strftime("%Y-%m"), last.strftime("%Y-%m"))


def _spend(inputs: ReportInputs, notes: list[str]) -> dict[str, Any]:
    months = _period_months(inputs)
    if inputs.x_spend is None:
        notes.append("X spend is unknown: the read budget is not recorded in this store yet.")
        return {"x_usd": None, "months": [{"month": m, "x_usd": None} for m in months]}
    rows = [{"month": m, "x_usd": round(inputs.x_spend(int(m[:4]), int(m[5:7])), 4)}
            for m in months]
    return {"x_usd": round(sum(r["x_usd"] for r in rows), 4), "months": rows}


def _live_in(windows: Iterable[tuple[date, date]], month: str) -> bool:
    first = date(int(month[:4]), int(month[5:7]), 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return any(a <= last and b >= first for a, b in windows)


def _concerns(store: Store, inputs: ReportInputs, notes: list[str]) -> dict[str, Any]:
    held = {r["month"]: r for r in Records(store).concerns()}
    wanted = months_between(inputs.baseline_from, inputs.baseline_to)
    found = [held[m] for m in wanted if m in held]
    baseline = None
    if found:
        children = sum(r["children"] for r in found) / len(found)
        adults = sum(r["adults"] for r in found) / len(found)
        baseline = {"from": inputs.baseline_from, "to": inputs.baseline_to,
                    "months_found": len(found), "months_expected": len(wanted),
                    "children": round(children, 2), "adults": round(adults, 2),
                    "total": round(children + adults, 2)}
        if len(found) < len(wanted):
            notes.append(f"The concerns baseline uses {len(found)} of the {len(wanted)} months "
                         f"{inputs.baseline_from} to {inputs.baseline_to}; import the rest with "
                         f"`wst record concerns`.")
    else:
        notes.append(f"No concerns are recorded for the baseline {inputs.baseline_from} to "
                     f"{inputs.baseline_to}, so no change can be shown; import them with "
                     f"`wst record concerns`.")
    shown = {c.id: c for c in inputs.campaigns.values()
             if c.windows and (not inputs.campaign or c.id == inputs.campaign)}
    months = []
    for m in _period_months(inputs):
        r = held.get(m)
        total = r["children"] + r["adults"] if r else None
        change = round(total - baseline["total"], 2) if r and baseline else None
        months.append({
            "month": m,
            "children": r["children"] if r else None,
            "adults": r["adults"] if r else None,
            "total": total,
            "change": _num(change),
            "change_pct": _rate(change, baseline["total"]) if change is not None and baseline else None,
            "live_campaigns": sorted(cid for cid, c in shown.items() if _live_in(c.windows, m)),
        })
    return {"baseline": baseline, "months": months,
            "windows": [{"campaign": cid, "title": c.title, "from": a.isoformat(),
                         "to": b.isoformat()}
                        for cid, c in sorted(shown.items()) for a, b in c.windows]}


# -- from a loaded project ----------------------------------------------------------------------

def x_spend_of(store: Store) -> Callable[[int, int], float] | None:
    """X read spend per (year, month) from the budget module, or None where it isn't installed."""
    try:
        from pipeline.metrics.budget import XReads  # written alongside; may not exist yet
    except ImportError:
        return None
    reads = XReads(store)
    return reads.spent_usd


def inputs_from_project(project: Any, store: Store, start: date, end: date, now: datetime, *,
                        campaign: str | None = None) -> ReportInputs:
    """Report inputs from the loaded project: plan, campaign windows, bulletins, audit, settings."""
    from pipeline.calendar import occurrences, windows
    from pipeline.plan import make_plan

    config = project.config
    settings = config.settings
    notes: list[str] = []
    planned: list[PlannedItem] = []
    if project.errors:
        notes.append(f"The content has {len(project.errors)} error(s) (see `wst check`): items "
                     f"are counted from the ledger only.")
    else:
        plan = make_plan(project, start, end, campaign=campaign)
        # Items due before the pipeline first ran on this store were never its to publish:
        # counting them as "not published" would misreport the partnership's delivery.
        from pipeline.ledger import LedgerReads

        since = LedgerReads(store).first_seen()
        if since is None:
            notes.append("Nothing has been published from this store yet: the plan is shown "
                          "against no publications.")
        planned = [PlannedItem(i.id, i.campaign, i.channel, i.kind, i.due, i.title)
                   for i in plan.items if since is None or i.due >= since]
        if since is not None and len(planned) < len(plan.items):
            notes.append(f"{len(plan.items) - len(planned)} item(s) planned before the pipeline "
                         f"first ran on this store ({since.astimezone(config.tz):%d %B %Y}) "
                         f"are not counted.")
    infos: dict[str, CampaignInfo] = {}
    for cid, camp in project.campaigns.items():
        spans: set[tuple[date, date]] = set()
        for eid in camp.events[:1]:  # the live window follows the default anchor
            event = project.events.get(eid)
            if event is None:
                continue
            margin = timedelta(days=120)
            for occ in occurrences(event, start - margin, end + margin):
                win = windows(camp, occ)
                if win.live_from <= end and win.live_to >= start:
                    spans.add((win.live_from, win.live_to))
        infos[cid] = CampaignInfo(cid, camp.title, tuple(sorted(spans)))
    audit = {c.id: AuditReach(c.id, c.organisation, c.name, c.audience, c.reach)
             for c in project.audit}
    return ReportInputs(
        start=start, end=end, tz=config.tz, now=now, campaign=campaign,
        partnership=settings.partnership.name, campaigns=infos, planned=tuple(planned),
        bulletin_stories={m: len(b.story) for m, b in project.bulletins.items()},
        audit=audit, baseline_from=settings.metrics.baseline_from,
        baseline_to=settings.metrics.baseline_to,
        grace_seconds=settings.scheduler.grace_minutes * 60.0,
        x_spend=x_spend_of(store), notes=tuple(notes))
