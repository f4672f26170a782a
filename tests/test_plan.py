"""The plan: ordered, unique, stable items at real local times inside their campaign's live window."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from conftest import BUNDLED_CONFIG, ProjectDir
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.calendar import occurrences, windows
from pipeline.check import load_project
from pipeline.config import load_config
from pipeline.content import Post
from pipeline.plan import HELD, PLANNED, PROVISIONAL, Plan, make_plan
from pipeline.project import CampaignPost, Located, Project, load_schedules
from pipeline.timing import exists
from pipeline.tomlfile import parse_toml

LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def bundled_calendar() -> Project:
    """The bundled config and schedules/ (no content: posts are generated per example)."""
    project = Project(load_config(BUNDLED_CONFIG))
    load_schedules(project)
    assert project.errors == []
    return project


# A stand-in posts file so generated posts have somewhere to be "written" (for messages).
_SOURCE = parse_toml("", BUNDLED_CONFIG.parent / "content/posts/generated.toml", "generated.toml")

HOURS = st.one_of(st.sampled_from([(0, 0), (1, 0), (1, 30), (1, 59), (2, 0), (9, 0), (23, 59)]),
                  st.tuples(st.integers(0, 23), st.integers(0, 59)))


@st.composite
def when_phrases(draw) -> str:
    h, m = draw(HOURS)
    at = f"{h:02d}:{m:02d}"
    form = draw(st.sampled_from(["on", "last", "each", "nth", "before", "after"]))
    if form == "on":
        return f"on the day at {at}"
    if form == "last":
        return f"on the last day at {at}"
    if form == "each":
        return f"each day of the event at {at}"
    if form == "nth":
        return f"on day {draw(st.integers(1, 9))} of the event at {at}"
    n = draw(st.integers(1, 12))
    return f"{n} day{'s' if n > 1 else ''} {form} at {at}"


@st.composite
def generated_posts(draw, calendar: Project) -> list[CampaignPost]:
    campaigns = sorted(calendar.campaigns)
    out = []
    for i in range(draw(st.integers(1, 8))):
        cid = draw(st.sampled_from(campaigns))
        anchor = draw(st.sampled_from(calendar.campaigns[cid].events))
        post = Post(id=f"p{i}", when=draw(when_phrases()), anchor=anchor,
                    text=draw(st.text(min_size=1, max_size=40).filter(str.strip)))
        out.append(CampaignPost(cid, post, Located(_SOURCE, ("post", i))))
    return out


RANGES = st.tuples(st.dates(date(2025, 1, 1), date(2035, 12, 31)), st.integers(0, 400))


def item_keys(plan: Plan) -> list[tuple[str, str, str]]:
    return [(i.id, i.version, i.due.isoformat()) for i in plan.items]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), span=RANGES)
def test_plan_properties(bundled_calendar: Project, data, span: tuple[date, int]) -> None:
    posts = data.draw(generated_posts(bundled_calendar))
    project = dataclasses.replace(bundled_calendar, posts=posts)
    start, end = span[0], span[0] + timedelta(days=span[1])
    plan = make_plan(project, start, end)

    dues = [i.due for i in plan.items]
    assert dues == sorted(dues)
    assert len({i.id for i in plan.items}) == len(plan.items)
    assert item_keys(make_plan(project, start, end)) == item_keys(plan)  # stable across runs

    by_ref = {cp.ref: cp for cp in posts}
    for item in plan.items:
        assert item.due.tzinfo is not None and item.due.utcoffset() is not None
        assert exists(item.due)
        assert start <= item.due.date() <= end
        if item.kind != "post":
            continue
        cp = by_ref[item.source]
        campaign = bundled_calendar.campaigns[cp.campaign]
        event = bundled_calendar.events[cp.post.anchor]
        day = item.due.date()
        matching = [o for o in occurrences(event, day - timedelta(days=400),
                                           day + timedelta(days=400)) if o.key == item.occurrence]
        assert any(windows(campaign, o).contains(day) for o in matching), item
        assert item.channel in campaign.channels
        assert item.channel in project.config.enabled_channels()
    # a time the clock moved always leaves a note naming the post
    moved = [i for i in plan.items
             if i.kind == "post" and i.due.strftime("%H:%M") != by_ref[i.source].post.when[-5:]]
    for item in moved:
        assert any(n.path == "generated.toml" and item.due.strftime("%d %B %Y") in n.message
                   for n in plan.notes)


@settings(max_examples=50, deadline=None)
@given(first=st.text(min_size=1, max_size=60).filter(str.strip),
       second=st.text(min_size=1, max_size=60).filter(str.strip))
def test_editing_text_changes_version_and_keeps_id(bundled_calendar: Project, first: str,
                                                   second: str) -> None:
    def plan_with(text: str) -> Plan:
        post = Post(id="p", when="on the day at 10:00", text=text)
        cp = CampaignPost("safer-internet-day", post, Located(_SOURCE, ("post", 0)))
        return make_plan(dataclasses.replace(bundled_calendar, posts=[cp]),
                         date(2027, 2, 1), date(2027, 2, 28), campaign="safer-internet-day")

    a, b = plan_with(first), plan_with(second)
    assert [i.id for i in a.items] == [i.id for i in b.items] != []
    same = Post(id="p", when="on the day at 10:00", text=first).text == \
        Post(id="p", when="on the day at 10:00", text=second).text
    for x, y in zip(a.items, b.items, strict=True):
        assert (x.version == y.version) == same


# --- through real files ---------------------------------------------------------------------------

POSTS = "content/posts/safer-internet-day.toml"


def plan_of(project: ProjectDir, start: date, end: date, **filters) -> Plan:
    loaded = load_project(load_config(project.config))
    assert loaded.errors == []
    return make_plan(loaded, start, end, **filters)


def test_editing_a_post_file_keeps_ids_and_changes_only_that_version(project: ProjectDir) -> None:
    before = plan_of(project, date(2027, 2, 1), date(2027, 2, 28))
    project.edit(POSTS, "Ask your child which apps they like.",
                 "Ask your child which games they like.")
    after = plan_of(project, date(2027, 2, 1), date(2027, 2, 28))
    assert [i.id for i in before.items] == [i.id for i in after.items] == [
        "safer-internet-day/two-days-to-go/2027-02-07/facebook",
        "safer-internet-day/two-days-to-go/2027-02-07/x",
        "safer-internet-day/on-the-day/2027-02-09/facebook",
        "safer-internet-day/on-the-day/2027-02-09/x",
    ]
    changed = {b.id for b, a in zip(before.items, after.items, strict=True) if b.version != a.version}
    assert changed == {"safer-internet-day/on-the-day/2027-02-09/facebook",
                       "safer-internet-day/on-the-day/2027-02-09/x"}


def test_replacing_the_image_file_changes_the_version(project: ProjectDir) -> None:
    before = plan_of(project, date(2027, 2, 9), date(2027, 2, 9))
    with (project.path / "content/images/sid.jpg").open("ab") as image:
        image.write(b"\0")
    after = plan_of(project, date(2027, 2, 9), date(2027, 2, 9))
    assert [i.id for i in before.items] == [i.id for i in after.items]
    assert all(b.version != a.version for b, a in zip(before.items, after.items, strict=True))


CLOCKS_CALENDAR = """
[[event]]
id = "clock-change"
title = "A day the clocks change"
dates = [{ start = 2027-03-28 }, { start = 2027-10-31 }]

[[campaign]]
id = "clocks"
title = "Clocks"
priority = "online-safety"
events = ["clock-change"]
channels = ["facebook"]
"""

CLOCKS_POSTS = """\
[[post]]
id = "small-hours"
when = "on the day at 01:30"
text = "A post in the small hours."

[[post]]
id = "morning"
when = "on the day at 09:00"
text = "A post in the morning."
"""


def test_clock_change_days(project: ProjectDir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project.path)  # messages show paths relative to the working folder
    project.write("schedules/clocks.toml", CLOCKS_CALENDAR)
    project.write("content/posts/clocks.toml", CLOCKS_POSTS)
    plan = plan_of(project, date(2027, 3, 1), date(2027, 11, 30), campaign="clocks")
    due = {i.id: i.due.isoformat() for i in plan.items}
    assert due == {
        # 01:30 does not exist on 28 March 2027: the first valid time is 02:00 BST
        "clocks/small-hours/2027-03-28/facebook": "2027-03-28T02:00:00+01:00",
        "clocks/morning/2027-03-28/facebook": "2027-03-28T09:00:00+01:00",
        # 01:30 happens twice on 31 October 2027: the first (BST) is taken
        "clocks/small-hours/2027-10-31/facebook": "2027-10-31T01:30:00+01:00",
        "clocks/morning/2027-10-31/facebook": "2027-10-31T09:00:00+00:00",
    }
    assert [str(n) for n in plan.notes] == [
        "content/posts/clocks.toml:3: warning: 01:30 on 28 March 2027 does not exist in "
        "Europe/London (the clocks go forward); moved to 02:00 BST"]
    assert all(i.status == PLANNED for i in plan.items)


def test_clock_note_reaches_the_cli(project: ProjectDir) -> None:
    project.write("schedules/clocks.toml", CLOCKS_CALENDAR)
    project.write("content/posts/clocks.toml", CLOCKS_POSTS)
    result = project.wst("plan", "--json", "--from", "2027-03-28", "--to", "2027-03-28")
    assert result.returncode == 0, result.stderr
    assert ("content/posts/clocks.toml:3: warning: 01:30 on 28 March 2027 does not exist in "
            "Europe/London (the clocks go forward); moved to 02:00 BST") in result.stderr
    dues = [(i["id"], i["due"]) for i in json.loads(result.stdout)]
    assert ("clocks/small-hours/2027-03-28/facebook", "2027-03-28T02:00:00+01:00") in dues


def test_provisional_and_held_items(project: ProjectDir) -> None:
    project.edit("schedules/calendar.toml", 'rule = "FREQ', 'announced = true\nrule = "FREQ')
    project.write("schedules/blackouts.toml", """
political_terms = ["councillor"]

[[blackout]]
id = "pre-election"
title = "Pre-election period"
start = 2027-02-08
end = 2027-02-20
holds = "political"
""")
    project.edit(POSTS, "Ask your child", "Ask your councillor and your child")
    plan = plan_of(project, date(2027, 2, 1), date(2027, 2, 28))
    status = {i.id: (i.status, i.note) for i in plan.items}
    assert status["safer-internet-day/two-days-to-go/2027-02-07/x"] == (
        PROVISIONAL, "Safer Internet Day 2027 is not confirmed; date predicted from its rule")
    assert status["safer-internet-day/on-the-day/2027-02-09/x"] == (
        HELD, "held: Pre-election period (names a councillor, candidate or party)")


def test_filters_disabled_channels_and_bulletins(project: ProjectDir) -> None:
    project.edit("schedules/calendar.toml", 'from_month = "2099-01"', 'from_month = "2027-02"')
    project.edit("config.toml", '[channels.x]\nkind = "x"', '[channels.x]\nkind = "x"\nenabled = false')
    plan = plan_of(project, date(2027, 1, 1), date(2027, 3, 31))
    assert [i.id for i in plan.items] == [
        "bulletin/2027-02/mailchimp",
        "safer-internet-day/two-days-to-go/2027-02-07/facebook",
        "safer-internet-day/on-the-day/2027-02-09/facebook",
        "bulletin/2027-03/mailchimp",
    ]
    assert plan.items[0].due == datetime(2027, 2, 2, 10, 0, tzinfo=UTC)
    only = plan_of(project, date(2027, 1, 1), date(2027, 3, 31), campaign="e-bulletin")
    assert {i.kind for i in only.items} == {"bulletin"}
    facebook = plan_of(project, date(2027, 1, 1), date(2027, 3, 31), channel="facebook")
    assert {i.channel for i in facebook.items} == {"facebook"}


def test_duplicate_post_ids_across_files_of_one_campaign(project: ProjectDir) -> None:
    project.write("content/posts/more.toml", 'campaign = "safer-internet-day"\n\n[[post]]\n'
                  'id = "on-the-day"\nwhen = "on the day at 12:00"\ntext = "Again."\n')
    result = project.wst("check")
    assert ("content/posts/safer-internet-day.toml:7: error: duplicate post id 'on-the-day' in "
            "campaign 'safer-internet-day' (first at content/posts/more.toml:3); give each post "
            "its own id") in result.stdout
    assert result.returncode == 1


def test_plan_times_are_utc_convertible_and_local(project: ProjectDir) -> None:
    plan = plan_of(project, date(2027, 2, 1), date(2027, 2, 28))
    for item in plan.items:
        assert item.due.tzinfo is not None
        assert item.due.astimezone(LONDON).time() in (time(9, 0), time(10, 0))
