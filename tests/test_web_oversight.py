"""The bulletin, status, history, audit-trail and report pages over real HTTP to a real `wst
serve` on a real store (their journeys in a real browser are in test_web_browser_oversight.py):
what each shows, the test send and its refusals, approval from the bulletin's page, the audit
trail's filters and export, the report's downloads."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator

import pytest
from web_support import Server, serving, web_project
from workflow_helpers import add_bulletin

BULLETIN = "bulletin/2027-02/mailchimp"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    project = web_project(tmp_path_factory.mktemp("web-oversight") / "project")
    add_bulletin(project)
    with serving(project) as running:
        yield running


def flashes(page: str) -> list[str]:
    return re.findall(r'<p class="alert alert-info">([^<]*)</p>', page)


def follow(client, response) -> str:
    assert response.status_code == 302, response.text[:500]
    return client.get(response.headers["Location"]).text


def test_the_bulletin_page_shows_the_email_at_two_widths_and_its_text(server: Server) -> None:
    page = server.signed_in("writer").get("/bulletin/2027-02").text
    assert "The February 2027 bulletin" in page
    assert page.count(f'src="/items/{BULLETIN}/email"') == 2          # desktop and phone
    assert 'width="640"' in page and 'width="375"' in page
    assert "Plain-text part" in page and "Talk to your child about the apps they use." in page
    assert '<option value="2027-02" selected>February 2027</option>' in page
    email = server.signed_in("writer").get(f"/items/{BULLETIN}/email")
    assert email.status_code == 200 and "sandbox" in email.headers["Content-Security-Policy"]


def test_a_month_that_is_not_one_or_has_no_bulletin_says_so(server: Server) -> None:
    writer = server.signed_in("writer")
    assert writer.get("/bulletin/2027-13").status_code == 400
    assert writer.get("/bulletin/2026-11").status_code == 404   # before [cadence] from_month
    assert writer.get("/bulletin/2027-02?channel=nowhere").status_code == 404


def test_a_test_send_goes_to_the_addresses_given_and_is_listed(server: Server) -> None:
    writer = server.signed_in("writer")
    writer.get("/bulletin/2027-02")
    refused = follow(writer, writer.post("/bulletin/2027-02/test-send", {"to": "not-an-address"}))
    assert flashes(refused) == ["Not sent: &#39;not-an-address&#39; is not an email address"]
    empty = follow(writer, writer.post("/bulletin/2027-02/test-send", {"to": ""}))
    assert flashes(empty)[0].startswith("Not sent: no addresses for the test")  # no email
    sent = follow(writer, writer.post("/bulletin/2027-02/test-send",
                                      {"to": "unit@example.org, lead@example.org"}))
    (said,) = flashes(sent)
    assert said.startswith("Test of the mailchimp email (version ")
    assert said.endswith("sent to unit@example.org, lead@example.org: a dry run, so it was "
                         "written to the outbox and nothing was emailed.")
    listed = sent.split('id="tests"')[1].split("</section>")[0]
    assert "writer sent a test of the mailchimp email" in listed
    assert "unit@example.org, lead@example.org" in listed
    assert len(list((server.project.path / "outbox" / "mailchimp" / "tests").glob("*.json"))) == 1
    # the approver's own email is the default for them
    approver = server.signed_in("approver")
    page = approver.get("/bulletin/2027-02").text
    assert "Leave it empty to send to approver@example.org on mailchimp" in page
    done = follow(approver, approver.post("/bulletin/2027-02/test-send", {"to": ""}))
    assert "sent to approver@example.org" in flashes(done)[0]


def test_a_person_without_the_role_is_told_they_cannot_test_send(server: Server) -> None:
    page = server.signed_in("chair").get("/bulletin/2027-02").text
    assert "You cannot send tests of this bulletin: &#39;chair&#39; is not responsible" in page
    assert 'action="/bulletin/2027-02/test-send"' not in page
    assert "Your decision" not in page   # nor approve it


def test_the_bulletin_is_approved_from_its_page(server: Server) -> None:
    approver = server.signed_in("approver")
    page = approver.get("/bulletin/2027-02").text
    version = re.search(rf'value="{BULLETIN}=([0-9a-f]+)"', page).group(1)
    done = follow(approver, approver.post("/bulletin/2027-02/approve",
                                          {"item": f"{BULLETIN}={version}"}))
    assert flashes(done) == [f"Approved 1 item(s): {BULLETIN}"]
    assert "by approver," in done.split("status-table")[1].split("</table>")[0]
    assert "Your decision" not in done   # nothing left for them to approve


def test_status_shows_the_daemon_channels_and_what_needs_a_person(server: Server) -> None:
    page = server.signed_in("writer").get("/status").text
    assert "Never run</span> on this store" in page    # no daemon in this test
    assert 'id="channel-x"' in page and 'id="channel-facebook"' in page
    assert "Dry run (to the outbox)" in page
    assert "Next to go out" in page


def test_history_lists_what_was_recorded_in_the_days_chosen(server: Server) -> None:
    writer = server.signed_in("writer")
    writer.get("/status")   # records what the plan holds, as the daemon does
    page = writer.get("/history?from=2027-02-01&to=2027-02-28").text
    assert "/items/safer-internet-day/on-the-day/2027-02-09/x" in page
    assert BULLETIN in page
    only = writer.get("/history?from=2027-02-01&to=2027-02-28&status=approved").text
    assert BULLETIN in only and "on-the-day/2027-02-09/x" not in only
    assert writer.get("/history?from=2027-02-30").status_code == 400
    # the audit trail is offered only to those who may read it
    assert "/history/audit" not in page
    assert 'href="/history/audit"' in server.signed_in("chair").get("/history").text


def test_the_audit_trail_filters_and_exports_what_it_shows(server: Server) -> None:
    chair = server.signed_in("chair")
    page = chair.get("/history/audit?kind=test-send&person=writer").text
    rows = page.split("<tbody>")[1].split("</tbody>")[0]
    assert rows.count("<tr>") == 1 and "sent a test to unit@example.org" in rows
    assert "on the web" in rows and "from 127.0.0.1" in rows
    link = re.search(r'href="(/history/audit\.csv\?[^"]+)"', page).group(1)
    export = chair.get(link.replace("&amp;", "&"))
    assert export.headers["Content-Disposition"].startswith('attachment; filename="wst-audit-')
    table = list(csv.DictReader(io.StringIO(export.text, newline="")))
    assert [(r["what"], r["person"], r["via"]) for r in table] == [
        ("test-send", "writer", "on the web")]
    assert chair.get("/history/audit?via=phone").status_code == 400


def test_the_report_is_shown_opened_on_its_own_and_downloaded(server: Server) -> None:
    writer = server.signed_in("writer")
    page = writer.get("/report?from=2027-01-01&to=2027-03-31&campaign=safer-internet-day").text
    frame = re.search(r'<iframe class="report-frame" src="([^"]+)"', page).group(1)
    view = writer.get(frame.replace("&amp;", "&"))
    assert view.status_code == 200 and "Safer Internet Day" in view.text
    assert view.headers["Content-Security-Policy"].startswith("sandbox")
    as_csv = writer.get("/report.csv?from=2027-01-01&to=2027-03-31")
    assert as_csv.text.startswith("section,campaign,channel,item,month,measure,value\r\n")
    assert 'filename="wst-report-2027-01-01-2027-03-31.csv"' in \
        as_csv.headers["Content-Disposition"]
    data = json.loads(writer.get("/report.json?from=2027-01-01&to=2027-03-31").text)
    assert data["period"] == {"from": "2027-01-01", "to": "2027-03-31"}
    assert writer.get("/report.xml").status_code == 404
    assert writer.get("/report?from=2027-03-01&to=2027-01-01").status_code == 400
    assert writer.get("/report?campaign=no-such-campaign").status_code == 404


def test_the_navigation_marks_the_one_area_a_page_is_in(server: Server) -> None:
    chair = server.signed_in("chair")
    for path, area in (("/status", "/status"), ("/history", "/history"),
                       ("/history/audit", "/history"), ("/report", "/report"),
                       ("/bulletin/2027-02", "/bulletin"), ("/calendar/week", "/calendar")):
        nav = chair.get(path).text.split('<nav class="mainnav"')[1].split("</nav>")[0]
        assert re.findall(r'<a href="([^"]+)" aria-current="page">', nav) == [area], path
