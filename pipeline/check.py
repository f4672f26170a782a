"""Cross-reference rules over the loaded calendar and content (what `wst check` adds)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path

from pipeline.calendar import Occurrence, Window, occurrences, send_day_in, windows
from pipeline.config import EMAIL_KINDS, SOCIAL_KINDS, Config
from pipeline.content import PLACEHOLDER, placeholders
from pipeline.problems import WARNING, Problem, did_you_mean
from pipeline.project import Located, Project, load_content, load_schedules
from pipeline.timing import clock_change_days, parse_when, resolve_local


def load_project(config: Config, replaced: Mapping[Path, str] | None = None) -> Project:
    """Read every input under `config` and cross-check it. Never raises for bad content.
    `replaced` reads some files as the given text instead (an edit checked before it is
    written; keys are paths as config's folders name them)."""
    project = Project(config, replaced=dict(replaced or {}))
    load_schedules(project)
    load_content(project)
    project.problems.extend(cross_check(project))
    return project


def _years(project: Project) -> tuple[int, int]:
    """The years every event is worked out for ([checks] first_year and last_year)."""
    checks = project.config.settings.checks
    return checks.first_year, checks.last_year


def cross_check(project: Project) -> list[Problem]:
    """Every reference between files resolves, and every post falls in a live window."""
    changes = clock_change_days(project.config.tz, *_years(project))
    out: list[Problem] = []
    out += _check_campaigns(project)
    out += _check_posts(project, changes)
    out += _check_cadence(project, changes)
    out += _check_bulletins(project)
    out += _check_drafts(project)
    out += _check_messages(project)
    return out


def _skipped(project: Project, days, at, changes: frozenset[date], where: Located,
             sub: tuple) -> list[Problem]:
    """A warning (as `wst plan` gives) for the first of `days` on which `at` does not exist
    on the local clock: the clocks go forward through it."""
    for day in days:
        if day in changes:
            note = resolve_local(day, at, project.config.tz).note
            if note:
                return [where.problem(f"{note}; choose another time of day, or leave it to go "
                                      f"out at the later time", sub, WARNING, "clock")]
    return []


def _check_cadence(project: Project, changes: frozenset[date]) -> list[Problem]:
    at = project.where.get("cadence")
    if at is None:
        return []
    cadence = project.cadence
    days = [send_day_in(cadence.send_day, year, month)
            for year in range(_years(project)[0], _years(project)[1] + 1) for month in (3, 10)]
    return _skipped(project, days, cadence.at, changes, at, ("send_time",))


def _unknown(kind: str, name: str, known, fix: str) -> str:
    return f"unknown {kind} '{name}'{did_you_mean(name, known)}; {fix}"


def _check_campaigns(project: Project) -> list[Problem]:
    out: list[Problem] = []
    settings = project.config.settings
    for cid, campaign in project.campaigns.items():
        at = project.where[f"campaign:{cid}"]
        if campaign.priority not in project.priorities:
            out.append(at.problem(_unknown("priority", campaign.priority, project.priorities,
                                           "priorities are listed in [priorities]"), ("priority",)))
        for i, event in enumerate(campaign.events):
            if event not in project.events and f"event:{event}" not in project.dropped:
                out.append(at.problem(_unknown("event", event, project.events,
                                               "events are defined with [[event]] in schedules/"),
                                      ("events", i)))
        for i, name in enumerate(campaign.channels):
            out += _check_channel(project, at, ("channels", i), name, SOCIAL_KINDS)
        if not campaign.channels:
            out.append(at.problem(f"campaign '{cid}' has no channels; list where its posts go",
                                  ("channels",)))
        for i, aud in enumerate(campaign.audiences):
            if project.audiences and aud not in project.audiences:
                out.append(at.problem(_unknown("audience", aud, project.audiences,
                    "audiences are listed in content/key-messages.toml"), ("audiences", i)))
        if campaign.responsibility not in settings.responsibilities:
            out.append(at.problem(_unknown("responsibility", campaign.responsibility,
                settings.responsibilities, "add it under [responsibilities] in config.toml"),
                ("responsibility",)))
    if project.cadence.responsibility not in settings.responsibilities:
        at = project.where.get("cadence")
        if at:
            out.append(at.problem(_unknown("responsibility", project.cadence.responsibility,
                settings.responsibilities, "add it under [responsibilities] in config.toml"),
                ("responsibility",)))
    if at := project.where.get("cadence"):
        for i, name in enumerate(project.cadence.channels):
            out += _check_channel(project, at, ("channels", i), name, EMAIL_KINDS)
    for eid, event in project.events.items():
        at = project.where[f"event:{eid}"]
        if event.themes and len(event.themes) != event.days:
            out.append(at.problem(f"event '{eid}' lasts {event.days} days but has "
                                  f"{len(event.themes)} themes; give one theme a day",
                                  ("themes",), WARNING))
    return out


def _check_channel(project: Project, at, loc, name: str, kinds: frozenset[str]) -> list[Problem]:
    channels = project.config.settings.channels
    if name not in channels:
        return [at.problem(_unknown("channel", name, channels,
                                    "channels are defined under [channels] in config.toml"), loc)]
    if channels[name].kind not in kinds:
        wanted = "an email" if kinds is EMAIL_KINDS else "a social"
        return [at.problem(f"channel '{name}' is kind '{channels[name].kind}', not {wanted} "
                           f"channel; choose one of: "
                           f"{', '.join(n for n, c in channels.items() if c.kind in kinds)}", loc)]
    return []


def _check_posts(project: Project, changes: frozenset[date]) -> list[Problem]:
    out: list[Problem] = []
    reported: set[str] = set()
    expanded: dict[str, list[tuple[Occurrence, Window]]] = {}
    for cp in project.posts:
        post, at = cp.post, cp.at
        campaign = project.campaigns.get(cp.campaign)
        if campaign is None:
            if cp.campaign in reported or project.schedules_incomplete \
                    or f"campaign:{cp.campaign}" in project.dropped:
                continue
            reported.add(cp.campaign)
            where = project.where[f"posts:{cp.campaign}"]
            out.append(where.problem(_unknown("campaign", cp.campaign, project.campaigns,
                "name the file after a campaign id in schedules/ or set campaign = \"...\"")))
            continue
        channels = campaign.channels if post.channels is None else post.channels
        if not channels:
            out.append(at.problem(f"post '{cp.ref}' has no channel; list at least one in "
                                  f"channels = [...] or leave it out to use the campaign's",
                                  ("channels",)))
        for i, name in enumerate(post.channels or []):
            out += _check_channel(project, at, ("channels", i), name, SOCIAL_KINDS)
        for name in post.variants:
            if name not in channels:
                out.append(at.problem(f"post '{cp.ref}' has a variant for '{name}' but does not "
                                      f"go to '{name}'; add the channel or drop the variant",
                                      ("variants", name), WARNING))
        if post.audience and project.audiences and post.audience not in project.audiences:
            out.append(at.problem(_unknown("audience", post.audience, project.audiences,
                "audiences are listed in content/key-messages.toml"), ("audience",)))
        if post.image:
            out += _check_image(project, at, ("image",), post.image)
            if not post.alt.strip():
                out.append(at.problem(f"post '{cp.ref}' has an image but no alt text; write "
                                      f"alt = \"...\" describing it, including any words in it",
                                      ("image",)))
        elif post.alt:
            out.append(at.problem(f"post '{cp.ref}' has alt text but no image", ("alt",), WARNING))
        out += _check_timing(project, cp, campaign, expanded, changes)
    return out


def _check_image(project: Project, at: Located, loc: tuple, written: str) -> list[Problem]:
    """The image is a real image file inside content/ (its platform limits are content checks)."""
    found = project.image(written)
    return [at.problem(f"image '{written}' {found}", loc)] if isinstance(found, str) else []


def _check_timing(project: Project, cp, campaign,
                  expanded: dict[str, list[tuple[Occurrence, Window]]],
                  changes: frozenset[date]) -> list[Problem]:
    post, at = cp.post, cp.at
    when = parse_when(post.when)
    anchor = post.anchor or campaign.events[0]
    if post.anchor and post.anchor not in campaign.events:
        known = project.events if post.anchor not in project.events else campaign.events
        return [at.problem(f"post '{cp.ref}' is timed from anchor '{post.anchor}', which is not "
                           f"one of campaign '{campaign.id}''s events "
                           f"({', '.join(campaign.events)}){did_you_mean(post.anchor, known)}; "
                           f"add it to the campaign's events or fix the anchor", ("anchor",))]
    event = project.events.get(anchor)
    if event is None:
        return []  # reported against the campaign
    occs = expanded.get(f"{campaign.id}@{anchor}")
    if occs is None:  # once per campaign and event, not once per post
        first, last = date(_years(project)[0], 1, 1), date(_years(project)[1], 12, 31)
        occs = expanded[f"{campaign.id}@{anchor}"] = [
            (occ, windows(campaign, occ)) for occ in occurrences(event, first, last)]
    if when.form == "nth" and when.n > event.days:
        return [at.problem(f"post '{cp.ref}' is on day {when.n} but '{anchor}' lasts "
                           f"{event.days} day(s)", ("when",))]
    if when.form == "abs":
        assert when.absolute is not None
        if not any(win.contains(when.absolute) for _, win in occs):
            return [at.problem(f"post '{cp.ref}' is dated {when.absolute} which is outside every "
                               f"live window of campaign '{campaign.id}'; move it, or widen "
                               f"live_before_days/live_after_days", ("when",))]
        return _skipped(project, [when.absolute], when.at, changes, at, ("when",))
    days = []
    for occ, win in occs:
        for day in when.dates(occ.start, occ.end):
            if not win.contains(day):
                return [at.problem(
                    f"post '{cp.ref}' ('{post.when}') falls on {day} for {occ.key}, outside the "
                    f"live window {win.live_from} to {win.live_to}; move it, or widen the "
                    f"campaign's live_before_days/live_after_days", ("when",))]
            days.append(day)
    return _skipped(project, days, when.at, changes, at, ("when",))


def _check_bulletins(project: Project) -> list[Problem]:
    out: list[Problem] = []
    for month, bulletin in project.bulletins.items():
        at = project.where[f"bulletin:{month}"]
        if month < project.cadence.from_month:
            out.append(at.problem(f"bulletin {month} is before the cadence starts "
                                  f"({project.cadence.from_month}); it will not be sent",
                                  ("month",), WARNING))
        if not bulletin.story:
            out.append(at.problem(f"bulletin {month} has no stories; add [[story]] tables",
                                  (), WARNING))
        for i, story in enumerate(bulletin.story):
            if story.image:
                out += _check_image(project, at, ("story", i, "image"), story.image)
                if not story.alt.strip():
                    out.append(at.problem(f"story '{story.title}' has an image but no alt text; "
                                          f"write alt = \"...\"", ("story", i, "image")))
            if story.link and not story.link_text.strip():
                out.append(at.problem(f"story '{story.title}' has a link but no link_text saying "
                                      f"where it goes", ("story", i, "link"), WARNING))
    return out


def _check_drafts(project: Project) -> list[Problem]:
    """Drafts may be saved and previewed, never approved or published: say so on the lines to
    finish. A bulletin marked ready that still has placeholders is an error (it contradicts
    itself); a draft's placeholders are warnings."""
    out: list[Problem] = []
    for month, bulletin in project.bulletins.items():
        at = project.where[f"bulletin:{month}"]
        draft = bulletin.status == "draft"
        if draft:
            out.append(at.problem(f'bulletin {month} is marked status = "draft": it can\'t be '
                                  f'approved or sent until you finish it and set status = "ready"',
                                  ("status",), WARNING, "draft"))
        for loc in placeholders(bulletin):
            what = " ".join(str(p + 1) if isinstance(p, int) else p for p in loc)
            out.append(at.problem(
                f"bulletin {month} {what} is still a {PLACEHOLDER} placeholder; write it"
                + ("" if draft else ' (the bulletin is marked ready: it can\'t be approved '
                                    'until every placeholder is written)'),
                loc, WARNING if draft else "error", "placeholder"))
    for cp in project.posts:
        texts = {("text",): cp.post.text, ("alt",): cp.post.alt,
                 **{("variants", name): text for name, text in cp.post.variants.items()}}
        for loc, text in texts.items():
            if PLACEHOLDER in text:
                out.append(cp.at.problem(f"post '{cp.ref}' {' '.join(loc)} is still a "
                                         f"{PLACEHOLDER} placeholder: it is a draft and can't be "
                                         f"approved until written", loc, WARNING, "placeholder"))
    return out


def _check_messages(project: Project) -> list[Problem]:
    out: list[Problem] = []
    at = project.where.get("key-messages")
    if at is None:
        return out
    for i, message in enumerate(project.key_messages):
        if message.audience not in project.audiences:
            out.append(at.problem(_unknown("audience", message.audience, project.audiences,
                                           "add it as an [[audience]]"), ("message", i, "audience")))
    return out


def missing_bulletins(project: Project, today: date, weeks: int) -> list[Problem]:
    """Warnings for bulletins due in the next `weeks` that have no content file yet."""
    out: list[Problem] = []
    if project.schedules_incomplete:
        return out  # the cadence may be in the file that could not be read
    end = today + timedelta(weeks=weeks)
    year, month = today.year, today.month
    folder = project.display(project.config.content_dir / "bulletins")
    while date(year, month, 1) <= end:
        key = f"{year:04d}-{month:02d}"
        send = send_day_in(project.cadence.send_day, year, month)
        if today <= send <= end and key >= project.cadence.from_month \
                and key not in project.bulletins:
            out.append(Problem(folder, None, WARNING,
                f"the {send:%B %Y} bulletin is due {send:%a %d %b} but {key}.toml does not "
                f"exist; run: wst bulletin new --month {key}", "bulletin-missing"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out
