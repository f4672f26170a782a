"""Writing content files through a real `wst serve` over HTTP, as a browser's forms do: a post
edited and a post added are in the file (and planned) at once; a file changed meanwhile is
refused with both versions on the page; an edit `wst check` would fail is refused with the
located problem and never written; the live checks count and check as the composer does; a
person without the role is refused (tests/test_web_security.py checks every route)."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator
from datetime import date

import pytest
from PIL import Image
from web_support import Server, serving, web_project
from workflow_helpers import add_bulletin

POSTS = "content/posts/safer-internet-day.toml"
EDIT = "/write/posts/safer-internet-day/two-days-to-go"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    project = web_project(tmp_path_factory.mktemp("write") / "project")
    project.write(POSTS, "# Reviewed by the C&E group.\n" + project.read(POSTS))
    add_bulletin(project)
    with serving(project) as running:
        yield running


def last_thursday_of_january(year: int) -> str:
    """The day as the workspace writes it ("Thursday 27 January 2028")."""
    day = max(date(year, 1, d) for d in range(25, 32) if date(year, 1, d).weekday() == 3)
    return f"Thursday {day.day} January {year}"


def digest_of(page: str) -> str:
    return re.search(r'name="digest" value="([0-9a-f]*)"', page).group(1)


def form(page: str, **changes: str) -> list[tuple[str, str]]:
    """The post form as the page filled it in, with `changes`."""
    values = {"post": re.search(r'name="post" value="([^"]*)"', page).group(1),
              "digest": digest_of(page),
              "id": html.unescape(re.search(r'id="id" name="id" value="([^"]*)"', page).group(1)),
              "when_mode": "before", "when_n": "2", "when_unit": "days", "when_time": "10:00",
              "text": html.unescape(re.search(r'<textarea id="text"[^>]*>([^<]*)</textarea>',
                                              page, re.S).group(1)),
              "action": "save"}
    values.update(changes)
    channels = ["facebook", "x"]
    return [*values.items(), *(("channels", c) for c in channels)]


def test_an_edit_is_written_to_the_file_keeping_its_comment(server: Server) -> None:
    client = server.signed_in("approver")
    page = client.get(EDIT)
    assert page.status_code == 200, page.text
    assert "Safer Internet Day is on Tuesday." in page.text
    done = client.post("/write/posts/safer-internet-day/save",
                       form(page.text, text="Safer Internet Day is on Tuesday. Ask your child "
                                            "what they enjoy online.", when_n="3"))
    assert done.status_code == 302, done.text
    text = server.project.read(POSTS)
    assert text.startswith("# Reviewed by the C&E group.\n[[post]]\nid = \"two-days-to-go\"\n"
                           "when = \"3 days before at 10:00\"\ntext = \"Safer Internet Day is "
                           "on Tuesday. Ask your child what they enjoy online.\"\n")
    shown = client.get(done.headers["Location"])
    assert "Saved content/posts/safer-internet-day.toml" in shown.text
    plan = server.wst("plan", "--from", "2027-02-01", "--to", "2027-02-10", "--ids")
    assert "safer-internet-day/two-days-to-go/2027-02-06/x" in plan.stdout, plan.stdout


def test_a_new_post_is_added_at_the_end(server: Server) -> None:
    client = server.signed_in("approver")
    page = client.get("/write/posts/safer-internet-day/new")
    assert page.status_code == 200
    done = client.post("/write/posts/safer-internet-day/save", form(
        page.text, id="thank-you", when_mode="after", when_n="1", when_time="12:00",
        text="Thank you to everyone who talked about staying safe online."))
    assert done.status_code == 302, done.text
    assert server.project.read(POSTS).endswith(
        '\n\n[[post]]\nid = "thank-you"\nwhen = "1 day after at 12:00"\n'
        'text = "Thank you to everyone who talked about staying safe online."\n')


def test_a_file_changed_meanwhile_is_refused_showing_both(server: Server) -> None:
    client = server.signed_in("approver")
    page = client.get(EDIT)
    hand = server.project.read(POSTS).replace("Reviewed by the C&E group.", "Edited by hand.")
    server.project.write(POSTS, hand)
    done = client.post("/write/posts/safer-internet-day/save", form(page.text, text="Mine."))
    assert done.status_code == 409
    assert "the file changed since you opened it" in done.text
    assert "# Edited by hand." in done.text and 'text = &#34;Mine.&#34;' in done.text
    assert server.project.read(POSTS) == hand
    assert digest_of(done.text) != digest_of(page.text)  # saving again is a deliberate choice


def test_an_edit_check_would_fail_is_refused_with_where_and_not_written(
        server: Server) -> None:
    client = server.signed_in("approver")
    page = client.get(EDIT)
    before = server.project.read(POSTS)
    done = client.post("/write/posts/safer-internet-day/save",
                       form(page.text, when_n="9", when_unit="weeks"))
    assert done.status_code == 409
    assert "Nothing was saved" in done.text
    assert re.search(r"content/posts/safer-internet-day\.toml:4</code>: .*live window",
                     done.text), done.text
    assert server.project.read(POSTS) == before


def test_the_live_checks_count_and_check_as_people_type(server: Server) -> None:
    client = server.signed_in("approver")
    page = client.get(EDIT)
    done = client.post("/write/posts/safer-internet-day/check",
                       form(page.text, text="Worried? Call 01902 555393 #saferinternetday"),
                       headers={"HX-Request": "true"})
    assert done.status_code == 200
    assert "of 280" in done.text  # X's count
    assert "01902 555392" in done.text  # the official number it is a slip from
    assert 'id="check-summary" hx-swap-oob' in done.text


def test_a_person_without_the_role_cannot_open_the_form(server: Server) -> None:
    writer = server.signed_in("writer")
    assert writer.get(EDIT).status_code == 403
    assert server.signed_in("approver").get("/write").status_code == 200


def test_the_months_draft_is_started_then_written(server: Server) -> None:
    writer = server.signed_in("writer")   # responsible for the bulletin
    assert writer.get("/write").status_code == 200   # (the months listed: test_bulletin_editing)
    page = writer.get("/write/bulletins/2027-03")
    assert "Start this month's draft" in page.text
    done = writer.post("/write/bulletins/2027-03/start", [])
    assert done.status_code == 302, done.text
    draft = server.project.read("content/bulletins/2027-03.toml")
    assert draft.startswith("# Draft e-bulletin for March 2027, written by `wst bulletin new")
    assert writer.post("/write/bulletins/2027-03/start", []).status_code == 400  # never again
    assert server.project.read("content/bulletins/2027-03.toml") == draft

    page = writer.get("/write/bulletins/2027-02")
    body = [("digest", digest_of(page.text)), ("stories", "2"), ("status", "ready"),
            ("subject", "February: staying safe online"),
            ("preheader", "How to help children stay safe online."),
            ("intro", "This month is about staying safe online."),
            ("story-0-title", "Safer Internet Day"),
            ("story-0-body", "Talk to your child about the apps they use."),
            ("story-1-title", "Training"), ("story-1-body", "Book a place on our course."),
            ("story-1-link", "https://www.wolverhamptonsafeguarding.org.uk/training"),
            ("story-1-link_text", "Book a place"), ("action", "save")]
    done = writer.post("/write/bulletins/2027-02/save", body)
    assert done.status_code == 302, done.text
    text = server.project.read("content/bulletins/2027-02.toml")
    assert 'subject = "February: staying safe online"' in text
    assert text.endswith('[[story]]\ntitle = "Training"\nbody = "Book a place on our course."\n'
                         'link = "https://www.wolverhamptonsafeguarding.org.uk/training"\n'
                         'link_text = "Book a place"\n')


def test_the_bulletin_preview_shows_the_markdown_and_the_checks(server: Server) -> None:
    writer = server.signed_in("writer")
    writer.get("/write/bulletins/2027-02")
    done = writer.post("/write/bulletins/2027-02/preview", [
        ("stories", "1"), ("status", "draft"), ("subject", "February"), ("preheader", "Hello"),
        ("story-0-title", "Apps"),
        ("story-0-body", "Ask them:\n\n- which apps\n- who they talk to\n\n<script>x</script> "
                         "Call 01902 555000.")], headers={"HX-Request": "true"})
    assert done.status_code == 200
    assert re.search(r"<li[^>]*>which apps</li>", done.text), done.text
    assert "<script>" not in done.text and "&lt;script&gt;" in done.text
    assert "Must fix" in done.text and "01902 555000" in done.text


def test_an_awareness_day_is_built_previewed_and_saved(server: Server) -> None:
    client = server.signed_in("approver")
    page = client.get("/write/events/safer-internet-day")
    assert page.status_code == 200
    assert re.search(r'id="mode-after" name="mode" value="after" checked', page.text)
    built = [("event", ""), ("id", "holocaust-memorial-day"),
             ("title", "Holocaust Memorial Day"), ("mode", "nth"), ("ordinal", "-1"),
             ("weekday", "TH"), ("month", "1"), ("day", "1"), ("days", "1"), ("dates", "0")]
    shown = client.post("/write/events/preview", built, headers={"HX-Request": "true"})
    assert 'rule = "FREQ=YEARLY;BYMONTH=1;BYDAY=-1TH"' in shown.text
    assert last_thursday_of_january(date.today().year + 1) in shown.text
    page = client.get("/write/new-event")
    done = client.post("/write/events/save",
                       [*built, ("digest", digest_of(page.text)), ("action", "save")])
    assert done.status_code == 302, done.text
    calendar = server.project.read("schedules/calendar.toml")
    assert ('[[event]]\nid = "holocaust-memorial-day"\ntitle = "Holocaust Memorial Day"\n'
            'rule = "FREQ=YEARLY;BYMONTH=1;BYDAY=-1TH"\n') in calendar
    assert server.signed_in("writer").get("/write/events/safer-internet-day").status_code == 403


def test_a_campaigns_windows_are_shown_and_saved(server: Server) -> None:
    client = server.signed_in("approver")
    page = client.get("/write/campaigns/safer-internet-day")
    assert page.status_code == 200
    form = [("campaign", "safer-internet-day"), ("id", "safer-internet-day"),
            ("title", "Safer Internet Day"), ("priority", "online-safety"),
            ("anchor", "safer-internet-day"), ("prepare_weeks", "6"), ("live_before_days", "10"),
            ("live_after_days", "2"), ("channels", "facebook"), ("channels", "x"),
            ("responsibility", "campaign-posts"), ("hashtags", "#SaferInternetDay"),
            ("upbeat", "1")]
    shown = client.post("/write/campaigns/preview", form, headers={"HX-Request": "true"})
    assert "posts may go out from" in shown.text
    done = client.post("/write/campaigns/save",
                       [*form, ("digest", digest_of(page.text)), ("action", "save")])
    assert done.status_code == 302, done.text
    assert "live_before_days = 10" in server.project.read("schedules/calendar.toml")
    assert server.signed_in("writer").get("/write/campaigns/safer-internet-day").status_code \
        == 403


def test_an_image_for_the_bulletin_is_uploaded_to_the_library(server: Server) -> None:
    writer = server.signed_in("writer")
    page = writer.get("/write/bulletins/2027-02")
    form = [("digest", digest_of(page.text)), ("stories", "1"), ("subject", "February"),
            ("story-0-title", "Training"), ("story-0-body", "Book a place."), ("action", "upload")]
    refused = writer.post("/write/bulletins/2027-02/save", form,
                          files={"upload": ("notes.png", b"not a picture")})
    assert refused.status_code == 400 and "not a picture we can use" in refused.text
    out = io.BytesIO()
    Image.new("RGB", (64, 40), (11, 110, 105)).save(out, "PNG")
    done = writer.post("/write/bulletins/2027-02/save", form,
                       files={"upload": ("Training day.png", out.getvalue())})
    assert done.status_code == 200, done.text
    name = re.search(r"uploaded as (images/training-day-[0-9a-f]{12}\.png)", done.text)[1]
    assert (server.project.path / "content" / name).read_bytes() == out.getvalue()
    assert f'<option value="{name}">' in done.text   # to choose for a story


def test_a_story_link_the_email_would_never_make_a_link_is_not_one_in_the_preview(
        server: Server) -> None:
    writer = server.signed_in("writer")
    writer.get("/write/bulletins/2027-02")
    done = writer.post("/write/bulletins/2027-02/preview", [
        ("stories", "1"), ("status", "draft"), ("subject", "February"), ("preheader", "Hello"),
        ("story-0-title", "Apps"), ("story-0-body", "Ask them."),
        ("story-0-link", "javascript:alert(1)"), ("story-0-link_text", "Read more")],
        headers={"HX-Request": "true"})
    assert done.status_code == 200
    assert 'href="javascript' not in done.text
    assert "Read more (javascript:alert(1))" in done.text
    assert "Must fix" in done.text   # the link check says so
