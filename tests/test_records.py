"""Hand-recorded evaluation data: concerns CSV import (all or nothing), engagement, partner shares."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline.content import AuditChannel
from pipeline.metrics.records import Records, ShareError, check_share
from pipeline.problems import InputError
from pipeline.store import open_store

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2027, 4, 1, 9, 0, tzinfo=UTC)
AUDIT = [
    AuditChannel(id="wmp-twitter", organisation="West Midlands Police", name="Wolverhampton Twitter",
                 audience="public", reach=12000),
    AuditChannel(id="wmp-intranet", organisation="West Midlands Police", name="Internal Wolverhampton Police",
                 audience="workforce", reach=600),
    AuditChannel(id="cwc-city-people", organisation="City of Wolverhampton Council",
                 name="Intranet – City People", audience="workforce", reach=5000),
    AuditChannel(id="wst-facebook", organisation="Wolverhampton Safeguarding Together",
                 name="WST Facebook", audience="both", reach=654),
]


@pytest.fixture
def records(tmp_path: Path, monkeypatch) -> Records:
    monkeypatch.chdir(tmp_path)  # messages name files relative to where the command runs
    store = open_store(f"sqlite:///{tmp_path}/store.sqlite")
    yield Records(store)
    store.close()


def _csv(tmp_path: Path, text: str, name: str = "concerns.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _messages(path: Path, records: Records) -> list[str]:
    with pytest.raises(InputError) as caught:
        records.import_concerns(path, "analyst", NOW)
    return [str(p) for p in caught.value.problems]


def test_a_good_file_imports_every_month_with_who_and_when(records, tmp_path):
    path = _csv(tmp_path, "\ufeffmonth,children,adults\n2024-04,120,85\n\n2024-05, 131 ,90\n")
    assert records.import_concerns(path, "analyst", NOW) == ["2024-04", "2024-05"]
    rows = records.concerns()
    assert [(r["month"], r["children"], r["adults"]) for r in rows] == [
        ("2024-04", 120, 85), ("2024-05", 131, 90)]
    assert {r["recorded_by"] for r in rows} == {"analyst"}
    assert {r["at"] for r in rows} == {NOW}
    assert {r["source"] for r in rows} == {"concerns.csv"}


@pytest.mark.parametrize(("row", "message"), [
    ("2024-06,twelve,80", "'children' = 'twelve': expected a whole number"),
    ("2024-06,12,8.5", "'adults' = '8.5': expected a whole number"),
    ("2024-06,-3,80", "'children' = '-3': expected a whole number of 0 or more"),
    ("2024-06,,80", "'children' = '': expected a whole number"),
    ("June 2024,12,80", "'month' = 'June 2024': expected a month as YYYY-MM, e.g. 2024-04"),
    ("2024-13,12,80", "'month' = '2024-13': expected a month as YYYY-MM"),
    ("2024-06,12", "expected 3 values (month,children,adults), found 2"),
    ('2024-06,"1,200",80', "'children' = '1,200': expected a whole number"),
    ("2024-04,1,2", "month 2024-04 appears twice (first on line 2); keep one row per month"),
])
def test_each_bad_row_gets_one_message_with_file_and_line_and_nothing_is_imported(
        records, tmp_path, row, message):
    path = _csv(tmp_path, f"month,children,adults\n2024-04,120,85\n2024-05,130,90\n{row}\n")
    messages = _messages(path, records)
    assert len(messages) == 1, messages
    assert messages[0].startswith("concerns.csv:4: error: "), messages
    assert message in messages[0]
    assert records.concerns() == []  # the two good rows were not imported either


def test_every_bad_row_is_reported_at_once_one_message_per_row(records, tmp_path):
    path = _csv(tmp_path, "month,children,adults\n2024-04,x,y\n2024-05,1,2\nnope,1,z\n")
    messages = _messages(path, records)
    assert [m.split(": error: ")[0] for m in messages] == ["concerns.csv:2", "concerns.csv:4"]
    assert "'children' = 'x'" in messages[0] and "'adults' = 'y'" in messages[0]


@pytest.mark.parametrize(("text", "message"), [
    ("", "concerns.csv: error: the file is empty"),
    ("month,children,adults\n", "concerns.csv: error: no months after the header"),
    ("month,kids,adults\n2024-04,1,2\n",
     "concerns.csv:1: error: the first line must be the header 'month,children,adults'"),
])
def test_empty_or_headerless_files_are_refused(records, tmp_path, text, message):
    assert _messages(_csv(tmp_path, text), records)[0].startswith(message)


def test_a_missing_file_is_one_clear_message(records, tmp_path):
    assert _messages(tmp_path / "nope.csv", records) == [
        "nope.csv: error: not found; add the CSV file or fix the path"]


def test_reimport_replaces_the_month_and_records_who_and_when(records, tmp_path):
    records.import_concerns(_csv(tmp_path, "month,children,adults\n2024-04,120,85\n2024-05,1,1\n"),
                            "first", NOW)
    records.import_concerns(_csv(tmp_path, "month,children,adults\n2024-04,125,86\n", "fix.csv"),
                            "second", LATER)
    rows = {r["month"]: r for r in records.concerns()}
    assert (rows["2024-04"]["children"], rows["2024-04"]["adults"]) == (125, 86)
    assert (rows["2024-04"]["recorded_by"], rows["2024-04"]["at"]) == ("second", LATER)
    assert rows["2024-04"]["source"] == "fix.csv"
    assert (rows["2024-05"]["children"], rows["2024-05"]["recorded_by"]) == (1, "first")


def test_a_bad_reimport_leaves_what_was_there(records, tmp_path):
    records.import_concerns(_csv(tmp_path, "month,children,adults\n2024-04,120,85\n"), "a", NOW)
    path = _csv(tmp_path, "month,children,adults\n2024-04,999,999\n2024-05,lots,1\n", "bad.csv")
    _messages(path, records)
    assert [(r["month"], r["children"]) for r in records.concerns()] == [("2024-04", 120)]


def test_engagement_is_recorded_and_read_back_by_date(records):
    records.add_engagement(date(2027, 2, 1), " Stall at Bilston market ", 40, 2, "officer", NOW)
    records.add_engagement(date(2027, 3, 5), "Talk at a school", 120, 1, "officer", NOW)
    got = records.engagement(date(2027, 2, 1), date(2027, 2, 28))
    assert [(r["date"], r["event"], r["people"], r["groups"]) for r in got] == [
        ("2027-02-01", "Stall at Bilston market", 40, 2)]
    with pytest.raises(ValueError):
        records.add_engagement(date(2027, 2, 1), "x", -1, 0, "officer", NOW)


def test_share_names_a_partner_channel_from_the_audit(records):
    found = check_share(AUDIT, "west midlands police", "wmp-twitter")
    assert (found.organisation, found.reach, found.audience) == ("West Midlands Police", 12000, "public")
    records.add_share(found, "campaign/post/2027-02-09/x", date(2027, 2, 9), "officer", NOW)
    shares = records.shares(date(2027, 2, 1), date(2027, 2, 28))
    assert [(s["partner"], s["channel"], s["item_id"]) for s in shares] == [
        ("West Midlands Police", "wmp-twitter", "campaign/post/2027-02-09/x")]


@pytest.mark.parametrize(("partner", "channel", "option", "message"), [
    ("West Midland Police", "wmp-twitter", "--partner",
     "no partner 'West Midland Police' in the channel audit (did you mean 'West Midlands Police'?)"),
    ("Nobody", "wmp-twitter", "--partner", "partners are: City of Wolverhampton Council"),
    ("West Midlands Police", "wmp-twiter", "--channel",
     "no channel 'wmp-twiter' in the channel audit (did you mean 'wmp-twitter'?)"),
    ("West Midlands Police", "cwc-city-people", "--channel",
     "'cwc-city-people' is a channel of City of Wolverhampton Council, not West Midlands Police"),
    ("Wolverhampton Safeguarding Together", "wst-facebook", "--partner",
     "is the partnership itself"),
])
def test_share_validation_says_how_to_fix_it(partner, channel, option, message):
    with pytest.raises(ShareError) as caught:
        check_share(AUDIT, partner, channel, "Wolverhampton Safeguarding Together")
    assert caught.value.option == option
    assert message in str(caught.value)
