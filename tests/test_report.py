"""The evaluation report: numbers from a small hand-made store, its CSV and JSON, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import ProjectDir, clean_env

from pipeline.metrics.records import PartnerChannel, Records
from pipeline.metrics.report import (
    AuditReach,
    CampaignInfo,
    PlannedItem,
    ReportInputs,
    build_report,
)
from pipeline.metrics.snapshots import Snapshot, Snapshots
from pipeline.store import Store, ledger_table, open_store
from renderers.report import CSV_COLUMNS, render_csv, render_html, render_json

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
START, END = date(2027, 1, 1), date(2027, 3, 31)
SID = "sid"
POST_X = "sid/a/2027-02-07/x"
POST_FB = "sid/a/2027-02-07/facebook"
AUDIT = {
    "wmp-twitter": AuditReach("wmp-twitter", "West Midlands Police", "Wolverhampton Twitter",
                              "public", 12000),
    "cwc-city-people": AuditReach("cwc-city-people", "City of Wolverhampton Council",
                                  "Intranet – City People", "workforce", 5000),
}


def _at(day: str, hm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=LONDON)


def _row(item: str, channel: str, due: datetime, state: str, *, kind: str = "post",
         campaign: str = SID, late: float | None = None, dry_run: bool = False,
         version: str = "v1") -> dict:
    published = state == "published"
    return dict(key=f"{item}|{channel}|{version}|{dry_run}"[-40:], item_id=item, channel=channel,
                version=version, kind=kind, campaign=campaign, title=f"Title of {item}",
                responsibility="campaign-posts", help=False, due=due, state=state, attempts=1,
                remote_id="r1" if published else None,
                url=f"https://example.org/{item}" if published else None,
                published_at=due + timedelta(seconds=late or 0) if published else None,
                lateness_seconds=late if published else None, dry_run=dry_run,
                created_at=due - timedelta(days=9), updated_at=due)


def _snap(item: str, channel: str, field: str, measure: str | None, value: float | None,
          at: datetime, missing: bool = False) -> Snapshot:
    return Snapshot(item, channel, channel, "r1", field, measure, value, at, missing=missing)


def fill(store: Store) -> None:
    """The hand-made store every number below is worked out from."""
    t1, t2, t3 = _at("2027-02-08"), _at("2027-02-14"), _at("2027-03-07")
    rows = [
        _row(POST_X, "x", _at("2027-02-07"), "published", late=60),
        _row(POST_FB, "facebook", _at("2027-02-07"), "published", late=7200),   # late: grace 1 h
        _row("sid/b/2027-02-09/x", "x", _at("2027-02-09"), "failed"),
        _row("sid/c/2027-03-30/x", "x", _at("2027-03-30"), "approved"),          # still to come
        _row("sid/a/2027-02-07/bluesky", "bluesky", _at("2027-02-07"), "published", late=0,
             dry_run=True),                                                     # rehearsal
        _row(POST_X, "x", _at("2027-02-07"), "superseded", version="v0"),       # an old version
        _row("sid/a/2026-12-01/x", "x", _at("2026-12-01"), "published", late=0),  # before
        _row("bulletin/2027-02/mailchimp", "mailchimp", _at("2027-02-02"), "published",
             kind="bulletin", campaign="e-bulletin", late=0),
        _row("bulletin/2027-03/mailchimp", "mailchimp", _at("2027-03-02"), "published",
             kind="bulletin", campaign="e-bulletin", late=30),
    ]
    with store.engine.begin() as conn:
        conn.execute(ledger_table.insert(), rows)
    Snapshots(store).add([
        _snap(POST_X, "x", "impression_count", "views", 100, t1),
        _snap(POST_X, "x", "impression_count", "views", 200, t2),
        _snap(POST_X, "x", "impression_count", "views", None, t3, missing=True),  # refused later
        _snap(POST_X, "x", "like_count", "likes", 10, t2),
        _snap(POST_X, "x", "retweet_count", "shares", 5, t2),
        _snap(POST_X, "x", "reply_count", "replies", 2, t2),
        _snap(POST_X, "x", "url_link_clicks", "clicks", 3, t2),
        _snap(POST_X, "x", "engagements", "engagements", 20, t2),
        _snap(POST_X, "x", "bookmark_count", None, 99, t2),                      # no measure
        # Facebook renamed its views metric: the newer field's value counts.
        _snap(POST_FB, "facebook", "post_impressions", "views", 300, t1),
        _snap(POST_FB, "facebook", "post_media_view", "views", 400, t2),
        _snap(POST_FB, "facebook", "reactions", "likes", 8, t2),
        _snap(POST_FB, "facebook", "shares", "shares", 2, t2),
        _snap("sid/a/2026-12-01/x", "x", "impression_count", "views", 5000, t1),  # before
        _snap("bulletin/2027-02/mailchimp", "mailchimp", "emails_sent", "delivered", 2000, t2),
        _snap("bulletin/2027-02/mailchimp", "mailchimp", "unique_opens", "unique_opens", 700, t2),
        _snap("bulletin/2027-02/mailchimp", "mailchimp", "open_rate", "open_rate", 0.9, t2),
        _snap("bulletin/2027-02/mailchimp", "mailchimp", "unique_clicks", "unique_clicks", 60, t2),
        _snap("bulletin/2027-03/mailchimp", "mailchimp", "emails_sent", "delivered", 2100, t3),
        _snap("bulletin/2027-03/mailchimp", "mailchimp", "open_rate", "open_rate", 0.31, t3),
    ])
    records = Records(store)
    records.add_engagement(date(2027, 1, 20), "Stall at Bilston market", 30, 2, "officer", NOW)
    records.add_engagement(date(2027, 3, 2), "Talk to a faith group", 12, 0, "officer", NOW)
    records.add_engagement(date(2026, 11, 2), "Before the period", 500, 9, "officer", NOW)
    records.add_share(PartnerChannel("wmp-twitter", "West Midlands Police",
                                     "Wolverhampton Twitter", "public", 12000),
                      POST_X, date(2027, 2, 7), "officer", NOW)
    records.add_share(PartnerChannel("cwc-city-people", "City of Wolverhampton Council",
                                     "Intranet – City People", "workforce", 5000),
                      "bulletin/2027-02/mailchimp", date(2027, 2, 3), "officer", NOW)


def _concerns(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "concerns.csv"
    path.write_text("month,children,adults\n2022-04,60,40\n2022-05,70,40\n2022-06,80,40\n"
                    "2027-01,80,41\n2027-02,90,42\n", encoding="utf-8")
    Records(store).import_concerns(path, "analyst", NOW)


def inputs(campaign: str | None = None, **changes) -> ReportInputs:
    """Report inputs for the hand-made store."""
    values = dict(
        start=START, end=END, tz=LONDON, now=NOW, campaign=campaign,
        partnership="Test Safeguarding Partnership",
        campaigns={SID: CampaignInfo(SID, "Safer Internet Day",
                                     ((date(2027, 2, 2), date(2027, 2, 11)),))},
        planned=(PlannedItem("sid/d/2027-03-31/x", SID, "x", "post", _at("2027-03-31")),
                 PlannedItem(POST_X, SID, "x", "post", _at("2027-02-07"))),
        bulletin_stories={"2027-02": 4, "2027-03": 3, "2027-04": 9},
        audit=AUDIT, baseline_from="2022-04", baseline_to="2022-06", grace_seconds=3600,
        x_spend=lambda year, month: {1: 0.25, 2: 1.5, 3: 0.75}.get(month, 9.0),
    )
    values.update(changes)
    return ReportInputs(**values)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(f"sqlite:///{tmp_path}/store.sqlite")
    fill(opened)
    _concerns(opened, tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def data(store) -> dict:
    return build_report(store, inputs())


def _by(rows: list[dict], key: str) -> dict[str, dict]:
    return {r[key]: r for r in rows}


def test_items_planned_against_published_on_time(data):
    sid = _by(data["campaigns"], "campaign")[SID]
    assert sid["title"] == "Safer Internet Day"
    # a/x, a/facebook, b/x, c/x from the ledger and d/x from the plan only; the superseded,
    # dry-run and December rows are not counted.
    assert (sid["planned"], sid["due"], sid["published"]) == (5, 3, 2)
    assert (sid["on_time"], sid["late"], sid["not_published"], sid["to_come"]) == (1, 1, 1, 2)
    assert sid["on_time_rate"] == round(1 / 3, 4)
    assert sid["lateness_p50_minutes"] == 60.5 and sid["lateness_max_minutes"] == 120
    bulletin = _by(data["campaigns"], "campaign")["e-bulletin"]
    assert (bulletin["due"], bulletin["on_time"]) == (2, 2)
    assert data["totals"]["due"] == 5 and data["totals"]["on_time"] == 3
    assert sid["windows"] == [{"from": "2027-02-02", "to": "2027-02-11"}]


def test_views_and_engagements_take_the_latest_known_value_per_field(data):
    posts = _by(data["posts"], "item")
    x, fb = posts[POST_X], posts[POST_FB]
    assert (x["views"], x["engagements"], x["likes"], x["clicks"]) == (200, 20, 10, 3)
    assert x["engagement_rate"] == 0.1
    # No engagements total from Facebook: likes + shares + replies + clicks that it did give.
    assert (fb["views"], fb["engagements"], fb["engagement_rate"]) == (400, 10, 0.025)
    channels = _by(data["channels"], "channel")
    assert (channels["x"]["posts"], channels["x"]["views"], channels["x"]["replies"]) == (1, 200, 2)
    assert channels["facebook"]["replies"] is None  # never reported, not zero
    assert data["totals"]["views"] == 600 and data["totals"]["engagements"] == 30
    assert data["totals"]["engagement_rate"] == 0.05
    assert [p["item"] for p in data["top_posts"]] == [POST_X, POST_FB]
    assert "sid/a/2027-02-07/bluesky" not in posts
    assert any("1 rehearsal (dry-run)" in n for n in data["notes"])


def test_bulletins_by_month_with_rates_from_counts(data):
    months = _by(data["bulletins"], "month")
    feb, mar = months["2027-02"], months["2027-03"]
    assert (feb["delivered"], feb["unique_opens"], feb["open_rate"]) == (2000, 700, 0.35)
    assert (feb["click_rate"], feb["stories"]) == (0.03, 4)
    assert (mar["open_rate"], mar["click_rate"], mar["stories"]) == (0.31, None, 3)
    assert data["stories"] == {"posts_published": 2, "bulletins_sent": 2, "bulletin_stories": 7,
                               "partner_shares_public": 1, "partner_shares_workforce": 1,
                               "partner_shares_both": 0}


def test_people_engaged_shares_and_spend(data):
    assert (data["engagement"]["events"], data["engagement"]["people"],
            data["engagement"]["groups"]) == (2, 42, 2)
    shares = data["shares"]
    assert (shares["count"], shares["partners"], shares["potential_reach"]) == (2, 2, 17000)
    assert {s["campaign"] for s in shares["records"]} == {SID, "e-bulletin"}
    # Months of the period up to now (March 2027): 0.25 + 1.5 + 0.75.
    assert data["spend"]["x_usd"] == 2.5
    assert [m["month"] for m in data["spend"]["months"]] == ["2027-01", "2027-02", "2027-03"]


def test_concerns_against_the_baseline_with_live_windows(data):
    concerns = data["concerns"]
    assert concerns["baseline"] == {"from": "2022-04", "to": "2022-06", "months_found": 3,
                                    "months_expected": 3, "children": 70.0, "adults": 40.0,
                                    "total": 110.0}
    months = _by(concerns["months"], "month")
    assert (months["2027-01"]["total"], months["2027-01"]["change"],
            months["2027-01"]["change_pct"]) == (121, 11, 0.1)
    assert (months["2027-02"]["change"], months["2027-02"]["change_pct"]) == (22, 0.2)
    assert months["2027-02"]["live_campaigns"] == [SID]
    assert months["2027-01"]["live_campaigns"] == []
    assert months["2027-03"]["total"] is None and months["2027-03"]["change"] is None


def test_a_partial_or_missing_baseline_is_said_plainly(store):
    partial = build_report(store, inputs(baseline_from="2022-03", baseline_to="2022-06"))
    assert partial["concerns"]["baseline"]["months_found"] == 3
    assert any("uses 3 of the 4 months" in n for n in partial["notes"])
    none = build_report(store, inputs(baseline_from="2020-01", baseline_to="2020-12"))
    assert none["concerns"]["baseline"] is None
    assert all(m["change"] is None for m in none["concerns"]["months"])
    assert any("No concerns are recorded for the baseline" in n for n in none["notes"])


def test_one_campaign_only(store):
    data = build_report(store, inputs(campaign=SID))
    assert [c["campaign"] for c in data["campaigns"]] == [SID]
    assert data["bulletins"] == [] and data["shares"]["count"] == 1
    assert data["shares"]["potential_reach"] == 12000


def test_spend_unknown_without_the_budget_reader(store):
    data = build_report(store, inputs(x_spend=None))
    assert data["spend"]["x_usd"] is None
    assert any("X spend is unknown" in n for n in data["notes"])
    assert "unknown" in render_html(data)


def test_an_empty_store_gives_an_empty_but_whole_report(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/empty.sqlite") as empty:
        data = build_report(empty, inputs(planned=()))
    assert data["campaigns"] == [] and data["posts"] == [] and data["totals"]["due"] == 0
    html = render_html(data)
    assert "Nothing was planned in this period." in html
    json.loads(render_json(data))


def test_json_is_the_data_and_csv_is_one_long_table(data):
    assert json.loads(render_json(data)) == json.loads(json.dumps(data))
    rows = list(csv.reader(io.StringIO(render_csv(data))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert all(len(r) == len(CSV_COLUMNS) for r in rows)
    cell = {(r[0], r[1], r[2], r[3], r[4], r[5]): r[6] for r in rows[1:]}
    assert cell[("campaigns", SID, "", "", "", "on_time")] == "1"
    assert cell[("posts", SID, "x", POST_X, "2027-02", "views")] == "200"
    assert cell[("channels", "", "facebook", "", "", "replies")] == ""
    assert cell[("concerns", "", "", "", "2027-02", "change_pct")] == "0.2"
    assert cell[("concerns", "", "", "baseline", "2022-04..2022-06", "total")] == "110.0"
    assert cell[("bulletins", "e-bulletin", "mailchimp", "bulletin/2027-02/mailchimp",
                 "2027-02", "open_rate")] == "0.35"
    assert cell[("spend", "", "", "", "", "x_usd")] == "2.5"
    assert {r[0] for r in rows[1:]} == {"totals", "campaigns", "channels", "posts", "bulletins",
                                         "stories", "engagement", "shares", "spend", "concerns"}


def test_html_is_self_contained_accessible_and_printable(data):
    html = render_html(data)
    assert '<html lang="en-GB">' in html
    for forbidden in ("<script", "<link", "@import", "http://", "src=\"http", "url(http"):
        assert forbidden not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "@media print" in html and "@page" in html
    assert html.count('<svg class="chart"') == 4
    assert html.count("<title id=") == 4 and html.count("<desc id=") == 4
    assert 'role="img"' in html and 'aria-labelledby="chart-concerns-title chart-concerns-desc"' in html
    assert html.count("<table") >= 9 and '<th scope="col">' in html
    assert "Baseline 110 a month" in html and "+22 (+20.0%)" in html


# -- the command line ---------------------------------------------------------------------------

AUDIT_TOML = """
[[channel]]
id = "wmp-wolverhampton-twitter"
organisation = "West Midlands Police"
name = "Wolverhampton Twitter"
audience = "public"
reach = 12000

[[channel]]
id = "cwc-city-people"
organisation = "City of Wolverhampton Council"
name = "Intranet – City People"
audience = "workforce"
reach = 5000
"""
# A past period, so the report of it never depends on today's date.
ITEM = "safer-internet-day/on-the-day/2024-02-06/x"
# The `wst` command, run by this interpreter.
_WST = "import sys; from pipeline.cli import main; main()"


def wst(project: ProjectDir, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess against `project`."""
    return subprocess.run([sys.executable, "-c", _WST, "--config", str(project.config), *args],
                          cwd=project.path, env=clean_env(), capture_output=True, text=True,
                          timeout=120)


def test_cli_records_and_reports_end_to_end(project):
    project.write("content/channel-audit.toml", AUDIT_TOML)
    project.write("concerns.csv", "month,children,adults\n2022-04,60,40\n2022-05,70,40\n"
                                  "2024-02,90,42\n")
    done = wst(project, "record", "concerns", "concerns.csv", "--by", "approver")
    assert done.returncode == 0, done.stderr
    assert "imported 3 month(s)" in done.stdout
    done = wst(project, "record", "engagement", "--date", "2024-02-10", "--event",
               "Assembly at a school", "--people", "200", "--groups", "1")
    assert done.returncode == 0, done.stderr
    done = wst(project, "record", "share", "--partner", "west midlands police", "--channel",
               "wmp-wolverhampton-twitter", "--item", ITEM, "--date", "2024-02-06")
    assert done.returncode == 0, done.stderr
    assert "reach 12,000" in done.stdout

    done = wst(project, "report", "--format", "json", "--from", "2024-01-01", "--to",
               "2024-03-31")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema"] == 1 and data["period"] == {"from": "2024-01-01", "to": "2024-03-31"}
    assert data["engagement"]["people"] == 200
    assert data["shares"]["potential_reach"] == 12000
    assert data["shares"]["records"][0]["campaign"] == "safer-internet-day"
    # The default baseline, April 2022 to March 2023, of which two months are recorded.
    baseline = data["concerns"]["baseline"]
    assert (baseline["months_found"], baseline["months_expected"], baseline["total"]) == (2, 12, 105)
    months = _by(data["concerns"]["months"], "month")
    assert (months["2024-02"]["total"], months["2024-02"]["change"]) == (132, 27)
    assert months["2024-02"]["live_campaigns"] == ["safer-internet-day"]
    sid = _by(data["campaigns"], "campaign")["safer-internet-day"]
    assert sid["planned"] == 4  # two posts on two channels, from the plan
    assert sid["windows"] and sid["title"] == "Safer Internet Day"

    done = wst(project, "report", "--format", "csv", "--from", "2024-01-01", "--to", "2024-03-31")
    assert done.returncode == 0 and done.stdout.startswith(",".join(CSV_COLUMNS) + "\n")
    out = project.path / "out" / "report.html"
    done = wst(project, "report", "--campaign", "safer-internet-day", "--from", "2024-01-01",
               "--to", "2024-03-31", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Safer Internet Day" in out.read_text(encoding="utf-8")


def test_cli_refuses_bad_input_with_a_fix(project):
    project.write("content/channel-audit.toml", AUDIT_TOML)
    project.write("bad.csv", "month,children,adults\n2027-01,10,5\n2027-02,twelve,5\n")
    done = wst(project, "record", "concerns", "bad.csv")
    assert done.returncode == 1
    assert "bad.csv:3: error: 'children' = 'twelve': expected a whole number" in done.stderr
    assert "nothing was imported" in done.stderr
    done = wst(project, "record", "share", "--partner", "West Midlands Police", "--channel",
               "wmp-wolverhampton-twiter", "--item", ITEM)
    assert done.returncode == 2 and "did you mean 'wmp-wolverhampton-twitter'?" in done.stderr
    done = wst(project, "record", "share", "--partner", "West Midlands Police", "--channel",
               "wmp-wolverhampton-twitter", "--item", "safer-internet-day/on-the-day/2024-02-07/x")
    assert done.returncode == 2 and "no item" in done.stderr
    done = wst(project, "report", "--campaign", "safer-internternet-day")
    assert done.returncode == 2 and "did you mean 'safer-internet-day'?" in done.stderr


def test_items_due_before_the_pipeline_first_ran_are_not_counted_as_unpublished(project):
    """A store that started publishing today did not fail to publish 2024's posts."""
    before = json.loads(wst(project, "report", "--format", "json", "--from", "2024-01-01",
                            "--to", "2024-03-31").stdout)
    assert before["totals"]["planned"] == 4  # nothing run yet: the plan against no publications
    assert any("Nothing has been published from this store yet" in n for n in before["notes"])
    done = wst(project, "run", "--once")
    assert done.returncode == 0, done.stderr
    after = json.loads(wst(project, "report", "--format", "json", "--from", "2024-01-01",
                           "--to", "2024-03-31").stdout)
    assert after["totals"]["planned"] == 0
    assert any("4 item(s) planned before the pipeline first ran" in n for n in after["notes"])
