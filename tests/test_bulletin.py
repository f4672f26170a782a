"""The monthly e-bulletin: golden HTML and text, accessibility, safety, footers, and the draft file."""

from __future__ import annotations

import os
import re
import shutil
import time
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.bulletin_draft import draft_bulletin, span, write_draft
from pipeline.check import load_project
from pipeline.config import load_config
from renderers.bulletin import markdown_text, render_bulletin
from renderers.model import Brand, BulletinInput, Contacts, StoryInput
from renderers.text import add_utm

ROOT = Path(__file__).resolve().parent.parent
GOLDENS = Path(__file__).parent / "goldens" / "bulletin"
IMAGES = "https://www.wolverhamptonsafeguarding.org.uk/bulletin-images/"
SITE = "https://www.wolverhamptonsafeguarding.org.uk"

BRAND = Brand(name="Wolverhampton Safeguarding Together", short_name="WST", website=SITE)
CONTACTS = Contacts(child_mash="01902 555392", adult_mash="01902 551199",
                    out_of_hours="01902 552999", emergency="999",
                    website="www.wolverhamptonsafeguarding.org.uk")

# Fixed December copy, so the goldens never depend on content/ files edited elsewhere.
DECEMBER = BulletinInput(
    month="2026-12",
    subject="Orange Wolverhampton and staying safe this Christmas",
    preheader="16 days of action end on 10 December. Who to call over the holidays.",
    theme="Orange Wolverhampton",
    intro=(
        "Welcome to the December bulletin. Thank you to everyone who turned Wolverhampton "
        "orange for the 16 days of action. This month we look at staying safe over "
        "Christmas and how to get help when services are closed."
    ),
    stories=(
        StoryInput(
            title="Orange Wolverhampton: 16 days of action",
            body=(
                "The 16 days of action against violence against women and girls run from "
                "25 November to 10 December. Buildings across the city are lit orange.\n\n"
                "You can help:\n\n"
                "- talk to friends and family about what abuse looks like\n"
                "- share our posts using **#OrangeWolverhampton** and **#NoExcuse**\n"
                "- find out where to get support on "
                "[our domestic abuse page](https://www.wolverhamptonsafeguarding.org.uk/domestic-abuse)\n"
            ),
            link="https://www.wolverhamptonsafeguarding.org.uk/orange-wolverhampton",
            link_text="Read about Orange Wolverhampton",
            image="images/orange-wolverhampton-civic-centre.png",
            alt="The Civic Centre lit orange at night, with the words Orange Wolverhampton #NoExcuse",
        ),
        StoryInput(
            title="Staying safe over Christmas",
            body=(
                "Christmas can be a hard time. Money worries, alcohol and being shut in "
                "together can make things worse at home.\n\n"
                "If you are worried about someone, do not wait until after the holidays. "
                "Our out of hours team is there every day, including Christmas Day.\n\n"
                "The [Samaritans](https://www.samaritans.org) are free to call on 116 123, "
                "day or night."
            ),
            link="https://www.wolverhamptonsafeguarding.org.uk/christmas",
            link_text="Read our Christmas safety tips",
        ),
        StoryInput(
            title="Training: recognising domestic abuse",
            body=(
                "Our free online course helps staff and volunteers spot the signs of "
                "domestic abuse and know what to do next.\n\n"
                "It takes 90 minutes. The next dates are 14 January and 11 February 2027."
            ),
            link="https://www.wolverhamptonsafeguarding.org.uk/training",
            link_text="Book a place on the domestic abuse course",
        ),
    ),
)


def render(bulletin: BulletinInput = DECEMBER, footer: str = "mailchimp", **kwargs):
    return render_bulletin(bulletin, brand=BRAND, contacts=CONTACTS, footer=footer,
                           image_base_url=IMAGES, **kwargs)


class _Parsed(HTMLParser):
    """The few things the tests read from the HTML: lang, title, images, links, stylesheets."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.html_lang = None
        self.title = ""
        self.images: list[dict] = []
        self.links: list[str] = []
        self.stylesheets: list[str] = []
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attr = dict(attrs)
        if tag == "html":
            self.html_lang = attr.get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag == "img":
            self.images.append(attr)
        elif tag == "a":
            self.links.append(attr.get("href") or "")
        elif tag == "link":
            self.stylesheets.append(attr.get("href") or "")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _golden(name: str, actual: str) -> None:
    path = GOLDENS / name
    if os.environ.get("WST_UPDATE_GOLDENS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.exists(), f"{path} is missing; run with WST_UPDATE_GOLDENS=1 to write it"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (f"{name} differs from its golden; if the change is intended, "
                                f"run WST_UPDATE_GOLDENS=1 pytest tests/test_bulletin.py and review the diff")


def test_golden_december_html():
    _golden("2026-12.html", render().html)


def test_golden_december_text():
    _golden("2026-12.txt", render().text)


@pytest.mark.parametrize("footer", ["mailchimp", "smtp", "archive"])
def test_lang_title_and_preheader(footer):
    result = render(footer=footer, unsubscribe_url="https://lists.example.org/u/abc")
    for html in (result.html, result.archive_html):
        parsed = _Parsed(html)
        assert parsed.html_lang == "en-GB"
        assert parsed.title == DECEMBER.subject
        assert DECEMBER.preheader in html
        assert 'lang="und"' not in html
    assert result.subject == DECEMBER.subject and result.preheader == DECEMBER.preheader


def test_every_image_has_alt_and_a_width():
    result = render()
    for html in (result.html, result.archive_html):
        images = _Parsed(html).images
        assert images, "the December bulletin has a story image"
        for img in images:
            assert (img.get("alt") or "").strip(), f"image without alt text: {img}"
            assert img.get("width"), f"image without a width: {img}"
        assert images[0]["src"] == IMAGES + "orange-wolverhampton-civic-centre.png"


def test_email_is_600_px_wide():
    assert "max-width:600px" in render().html


def test_no_external_fonts():
    for html in (render().html, render().archive_html):
        assert "fonts.googleapis.com" not in html
        assert "@import" not in html
        assert "@font-face" not in html
        assert _Parsed(html).stylesheets == []


def test_official_numbers_in_both_parts():
    result = render()
    for part in (result.html, result.text, result.archive_html):
        for value in (CONTACTS.child_mash, CONTACTS.adult_mash, CONTACTS.out_of_hours,
                      CONTACTS.emergency, CONTACTS.website):
            assert value in part
        assert "How to raise a concern".lower() in part.lower()


def test_a_story_link_that_is_not_a_web_address_is_never_made_a_link():
    """javascript: (refused by the checks) gets no button in the email, the archive or the text."""
    story = StoryInput(title="T", body="B", link="javascript:alert(1)", link_text="Report it")
    result = render(BulletinInput(month="2026-12", subject="S", preheader="P", stories=(story,)))
    for html in (result.html, result.archive_html):
        assert not any(h.lower().startswith("javascript:") for h in _Parsed(html).links)
    assert "javascript:" not in result.text


def test_raw_html_in_story_body_is_escaped():
    hostile = StoryInput(
        title="A <b>bold</b> title",
        body='Hello <script>alert(1)</script> and <img src="x" onerror="alert(2)">.\n\n'
             "[click](javascript:alert(3))",
    )
    result = render(BulletinInput(month="2026-12", subject="S", preheader="P", stories=(hostile,)))
    for html in (result.html, result.archive_html):
        assert "<script" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert 'onerror="alert(2)"' not in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html
        # markdown-it refuses the link, so the words stay as text and no href runs script
        assert not any(h.lower().startswith("javascript:") for h in _Parsed(html).links)
        assert all((img.get("alt") or "").strip() for img in _Parsed(html).images)
    assert "<script>alert(1)</script>" in result.text  # plain text shows it as the words typed


def test_story_image_without_alt_is_refused():
    story = StoryInput(title="T", body="B", image="images/x.png", alt=" ")
    with pytest.raises(ValueError, match="alt text"):
        render(BulletinInput(month="2026-12", subject="S", preheader="P", stories=(story,)))


def test_archive_has_no_unsubscribe_merge_tags_or_tracking():
    result = render(footer="mailchimp")
    for html in (result.archive_html, render(footer="archive").html):
        assert "*|" not in html
        assert "unsubscribe" not in html.lower()
        assert "utm_" not in html
        assert "This is the web copy" in html
    assert "*|" not in render(footer="archive").text


def test_mailchimp_footer():
    result = render(footer="mailchimp")
    links = _Parsed(result.html).links
    assert "*|UNSUB|*" in links and "*|UPDATE_PROFILE|*" in links
    assert "*|LIST:ADDRESSLINE|*" in result.html
    assert "*|UNSUB|*" in result.text and "*|LIST:ADDRESSLINE|*" in result.text


def test_smtp_footer():
    url = "https://lists.example.org/unsubscribe?id=abc"
    result = render(footer="smtp", unsubscribe_url=url)
    assert url.replace("&", "&amp;") in result.html or url in _Parsed(result.html).links
    assert url in _Parsed(result.html).links
    assert url in result.text
    assert "*|" not in result.html and "*|" not in result.text


def test_smtp_needs_an_unsubscribe_url_and_footer_is_checked():
    with pytest.raises(ValueError, match="unsubscribe_url"):
        render(footer="smtp")
    with pytest.raises(ValueError, match="footer"):
        render(footer="email")


def test_own_links_get_utm_tags_and_others_do_not():
    links = _Parsed(render().html).links
    own = [h for h in links if h.startswith(SITE)]
    assert own and all("utm_source=bulletin" in h and "utm_medium=email" in h
                       and "utm_campaign=bulletin-2026-12" in h for h in own)
    assert "https://www.samaritans.org" in links  # another organisation's site is left alone
    assert add_utm("https://example.org/a", source="bulletin", medium="email", campaign="c",
                   own_hosts=("x.org",)) == "https://example.org/a"
    assert add_utm("https://wolverhamptonsafeguarding.org.uk/a?utm_source=poster", source="bulletin",
                   medium="email", campaign="c", own_hosts=("wolverhamptonsafeguarding.org.uk",)) \
        == "https://wolverhamptonsafeguarding.org.uk/a?utm_source=poster&utm_medium=email&utm_campaign=c"


def test_text_part_has_each_story_title_and_link():
    text = render().text
    for story in DECEMBER.stories:
        assert story.title in text
        assert story.link_text in text
        assert story.link + "?utm_source=bulletin" in text
    assert text.startswith(DECEMBER.subject + "\n")
    assert "<" not in text.replace("<script>", "")  # no HTML scraped into the text part
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= 78


def test_markdown_to_text():
    source = "Go to [the site](https://a.example/b) now.\n\n- one\n- two\n\n1. first\n2. second"
    assert markdown_text(source) == ("Go to the site (https://a.example/b) now.\n\n- one\n- two\n\n"
                                     "1. first\n2. second")
    assert markdown_text("<https://a.example>") == "https://a.example"


def test_render_is_quick():
    render()  # warm the template cache
    start = time.perf_counter()
    for _ in range(10):
        render()
    assert (time.perf_counter() - start) / 10 < 0.05


# ---- the draft file ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def project():
    return load_project(load_config(ROOT / "config.toml"))


def _project_with_draft(tmp_path: Path, month: str, text: str):
    shutil.copy(ROOT / "config.toml", tmp_path / "config.toml")
    shutil.copytree(ROOT / "schedules", tmp_path / "schedules")
    (tmp_path / "content" / "bulletins").mkdir(parents=True)
    (tmp_path / "content" / "bulletins" / f"{month}.toml").write_text(text, encoding="utf-8")
    return load_project(load_config(tmp_path / "config.toml"))


def test_draft_parses_and_loads(project, tmp_path):
    text = draft_bulletin(project, "2026-12")
    data = tomllib.loads(text)
    assert data["status"] == "draft" and data["month"] == "2026-12"
    assert data["theme"] == "Orange Wolverhampton"
    assert "How to raise a concern" in text and "automatically" in text
    titles = [s["title"] for s in data["story"]]
    assert "Training and events" in titles
    assert any("Orange Wolverhampton" in t for t in titles)
    assert "25 November to 10 December 2026" in text
    loaded = _project_with_draft(tmp_path, "2026-12", text)
    assert loaded.errors == [], [str(p) for p in loaded.errors]
    assert loaded.bulletins["2026-12"].status == "draft"


def test_draft_marks_provisional_dates(project, tmp_path):
    text = draft_bulletin(project, "2026-11")
    assert re.search(r"Anti-Bullying Week: 16 to 20 November 2026 \(provisional", text)
    assert _project_with_draft(tmp_path, "2026-11", text).errors == []


def test_draft_for_a_quiet_month_still_loads(project, tmp_path):
    text = draft_bulletin(project, "2027-01")
    assert "No campaigns or awareness days" in text
    assert _project_with_draft(tmp_path, "2027-01", text).errors == []


def test_draft_rejects_a_bad_month(project):
    with pytest.raises(ValueError, match="YYYY-MM"):
        draft_bulletin(project, "2026-13")


def test_write_draft_refuses_to_overwrite(project, tmp_path):
    path = tmp_path / "content" / "bulletins" / "2026-12.toml"
    assert write_draft(project, "2026-12", path) == path
    first = path.read_text(encoding="utf-8")
    path.write_text(first + "# edited by hand\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"2026-12\.toml"):
        write_draft(project, "2026-12", path)
    assert path.read_text(encoding="utf-8").endswith("# edited by hand\n")


def test_span_uses_to():
    from datetime import date
    assert span(date(2026, 12, 10), date(2026, 12, 10)) == "10 December 2026"
    assert span(date(2026, 11, 16), date(2026, 11, 20)) == "16 to 20 November 2026"
    assert span(date(2026, 12, 28), date(2027, 1, 3)) == "28 December 2026 to 3 January 2027"
