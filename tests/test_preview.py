"""The dry-run preview site: built from hand-made rendered items, read back with html.parser."""

from __future__ import annotations

import re
import struct
import zlib
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from mjml import mjml2html

from renderers.model import Brand, Facet, Finding, RenderedBulletin, RenderedPost
from renderers.preview import PreviewItem, PreviewSummary, build_preview, local_time, page_name

LONDON = ZoneInfo("Europe/London")
BRAND = Brand(name="Wolverhampton Safeguarding Together", short_name="WST",
              website="https://www.wolverhamptonsafeguarding.org.uk")
SITE = "https://www.wolverhamptonsafeguarding.org.uk"
GENERATED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
START, END = date(2026, 11, 23), date(2026, 12, 20)
X_ID = "orange-wolverhampton/day-1/2026-11-25/x"
BULLETIN_ID = "bulletin/2026-12/mailchimp"

# ---------------------------------------------------------------------------------------------
# sample content (also used by tests/test_browser.py)
# ---------------------------------------------------------------------------------------------


def png(width: int = 120, height: int = 63) -> bytes:
    """A small valid PNG: an orange band on white (no imaging library needed)."""
    rows = []
    for y in range(height):
        colour = b"\xf2\x8c\x28" if height // 3 <= y < 2 * height // 3 else b"\xff\xff\xff"
        rows.append(b"\x00" + colour * width)
    raw = zlib.compress(b"".join(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def content_dir(root: Path) -> Path:
    """A content/ folder with the images the sample items use."""
    images = root / "content" / "images"
    images.mkdir(parents=True, exist_ok=True)
    (images / "orange-ribbon.png").write_bytes(png())
    (images / "bulletin-banner.png").write_bytes(png(600, 200))
    return root / "content"


def _at(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


LINK = f"{SITE}/orange?utm_source=x&utm_medium=social&utm_campaign=orange-wolverhampton"
X_TEXT = ("Today is the start of 16 Days of Activism. Abuse is never OK, and help is there.\n\n"
          "Worried about a child? Call MASH on 01902 555392.\n"
          "Worried about an adult? Call MASH on 01902 551199.\n"
          "In an emergency, call 999.\n\n"
          "Find out how we are taking part in Orange Wolverhampton this year, and how you can "
          "join in across the city.\n" + LINK + "\n#OrangeWolverhampton #NoExcuse")
BSKY_TEXT = ("Orange Wolverhampton starts today 🧡 Find out how to get help:\n"
             "wolverhamptonsafeguarding.org.uk/orange\n#NoExcuse")


def _bsky_facets(text: str) -> tuple[Facet, ...]:
    raw = text.encode("utf-8")
    link = b"wolverhamptonsafeguarding.org.uk/orange"
    tag = b"#NoExcuse"
    a, t = raw.index(link), raw.index(tag)
    return (Facet(a, a + len(link), "link", f"{SITE}/orange"),
            Facet(t, t + len(tag), "tag", "NoExcuse"))


BULLETIN_MJML = """<mjml lang="en-GB">
<mj-head>
  <mj-title>December 2026: Orange Wolverhampton and how to report a concern</mj-title>
  <mj-preview>16 Days of Activism, our annual event, and the numbers to call</mj-preview>
  <mj-attributes><mj-all font-family="Arial, Helvetica, sans-serif" /></mj-attributes>
</mj-head>
<mj-body background-color="#f3f5f7" width="600px">
  <mj-section background-color="#1d3a5f">
    <mj-column><mj-text color="#ffffff" font-size="22px" font-weight="700">
      <h1 style="margin:0;font-size:22px">Wolverhampton Safeguarding Together</h1></mj-text></mj-column>
  </mj-section>
  <mj-section background-color="#ffffff">
    <mj-column>
      <mj-image src="https://www.wolverhamptonsafeguarding.org.uk/bulletin-images/bulletin-banner.png"
        alt="An orange band: Orange Wolverhampton, 25 November to 10 December" />
      <mj-text font-size="16px" line-height="1.5" color="#1b1f24">
        <h2 style="font-size:19px">Orange Wolverhampton</h2>
        <p>From 25 November to 10 December the city turns orange to say no to violence against
        women and girls.</p>
        <p><a href="https://www.wolverhamptonsafeguarding.org.uk/orange" style="color:#1a4f8b">Find
        out how to take part</a></p>
        <h2 style="font-size:19px">How to report a concern</h2>
        <p>Child: MASH 01902 555392. Adult: MASH 01902 551199. Out of hours: 01902 552999.
        In an emergency, call 999.</p>
      </mj-text>
    </mj-column>
  </mj-section>
  <mj-section><mj-column><mj-text font-size="13px" color="#3d4650">
    <p>You are getting this because you subscribed.
    <a href="*|UNSUB|*" style="color:#1a4f8b">Unsubscribe</a></p>
  </mj-text></mj-column></mj-section>
</mj-body>
</mjml>"""

BULLETIN_TEXT = """WOLVERHAMPTON SAFEGUARDING TOGETHER
December 2026

ORANGE WOLVERHAMPTON
From 25 November to 10 December the city turns orange to say no to violence
against women and girls.
Find out how to take part: https://www.wolverhamptonsafeguarding.org.uk/orange

HOW TO REPORT A CONCERN
Child: MASH 01902 555392. Adult: MASH 01902 551199.
Out of hours: 01902 552999. In an emergency, call 999.
"""


def sample_bulletin() -> RenderedBulletin:
    """A bulletin compiled by MRML, as the bulletin renderer produces one."""
    html = mjml2html(BULLETIN_MJML, fonts={}, disable_comments=True)
    return RenderedBulletin(mjml=BULLETIN_MJML, html=html, text=BULLETIN_TEXT,
                            archive_html=html.replace("*|UNSUB|*", "#"),
                            subject="December 2026: Orange Wolverhampton and how to report a concern",
                            preheader="16 Days of Activism, our annual event, and the numbers to call")


def _post(platform: str, channel: str, text: str, **kw) -> RenderedPost:
    return RenderedPost(platform=platform, channel=channel, text=text, **kw)


def sample_items() -> list[PreviewItem]:
    """Posts for several platforms (one over its limit, with an error) and one bulletin."""
    camp = "orange-wolverhampton"
    x_post = _post("x", "x", X_TEXT, length=291, limit=280, unit="weighted characters", link=LINK,
                   image="images/orange-ribbon.png",
                   alt="An orange ribbon with the words Orange Wolverhampton",
                   hashtags=("OrangeWolverhampton", "NoExcuse"))
    fb_text = X_TEXT.replace("utm_source=x", "utm_source=facebook")
    fb = _post("facebook", "facebook", fb_text, length=len(fb_text), limit=63206,
               unit="characters", link=LINK.replace("utm_source=x", "utm_source=facebook"),
               image="images/orange-ribbon.png",
               alt="An orange ribbon with the words Orange Wolverhampton")
    bsky = _post("bluesky", "bluesky", BSKY_TEXT, length=104, limit=300, unit="graphemes",
                 byte_length=len(BSKY_TEXT.encode()), byte_limit=3000,
                 facets=_bsky_facets(BSKY_TEXT), hashtags=("NoExcuse",))
    insta_text = "Orange Wolverhampton starts today. Link in bio.\n\n#OrangeWolverhampton #NoExcuse"
    insta = _post("instagram", "instagram", insta_text, length=len(insta_text), limit=2200,
                  unit="characters", image="images/orange-ribbon.png",
                  alt="An orange ribbon with the words Orange Wolverhampton",
                  extra={"hashtag_count": 2})
    masto_text = "Safeguarding Adults Week: know the signs of abuse.\n" + SITE + "/adults"
    masto = _post("mastodon", "mastodon", masto_text, length=74, limit=500, unit="characters",
                  link=SITE + "/adults")
    li_text = "Partners across Wolverhampton are marking Safeguarding Adults Week."
    linkedin = _post("linkedin", "linkedin", li_text, length=len(li_text), limit=3000,
                     unit="characters", image="images/missing.png", alt="")
    wa_text = "Worried about a child? Call MASH on 01902 555392.\nIn an emergency, call 999."
    whatsapp = _post("manual", "whatsapp", wa_text, length=len(wa_text), limit=65536,
                     unit="characters")

    def item(id_: str, platform: str, channel: str, due: datetime, title: str, post=None,
             bulletin=None, findings=(), status="planned", note="", campaign=camp,
             kind="post", channel_title="", handle="") -> PreviewItem:
        return PreviewItem(id=id_, kind=kind, campaign=campaign, channel=channel,
                           platform=platform, due=due, title=title, status=status, note=note,
                           post=post, bulletin=bulletin, findings=tuple(findings),
                           channel_title=channel_title, handle=handle)

    too_long = Finding("length", "error",
                       f"{X_ID}: 291 of 280 weighted characters; shorten the text by 11",
                       evidence="291 / 280")
    reading = Finding("reading-age", "warning",
                      "reading age 11 is above 9; use shorter words", evidence="reading age 11")
    name = Finding("identifying-detail", "warning",
                   "'Jane' may identify a person; a named person must accept it before publishing",
                   evidence="Jane", needs_acceptance=True)
    return [
        item(X_ID, "x", "x", _at(2026, 11, 25, 10), "Orange Wolverhampton starts today",
             post=x_post, findings=[too_long, reading], channel_title="WST on X",
             handle="@wvsafeguarding"),
        item(f"{camp}/day-1/2026-11-25/facebook", "facebook", "facebook", _at(2026, 11, 25, 10),
             "Orange Wolverhampton starts today", post=fb, findings=[name],
             channel_title="WST Facebook"),
        item(f"{camp}/day-1/2026-11-25/bluesky", "bluesky", "bluesky", _at(2026, 11, 25, 10, 5),
             "Orange Wolverhampton starts today", post=bsky, channel_title="WST on Bluesky",
             handle="@wst.bsky.social"),
        item(f"{camp}/day-1/2026-11-25/instagram", "instagram", "instagram",
             _at(2026, 11, 25, 12), "Orange Wolverhampton starts today", post=insta,
             channel_title="WST Instagram", handle="@wstsafeguarding"),
        item("adults-week/signs/2026-11-24/mastodon", "mastodon", "mastodon",
             _at(2026, 11, 24, 9), "Know the signs of abuse", post=masto, campaign="adults-week",
             status="provisional",
             note="Safeguarding Adults Week 2026 is not confirmed; date predicted from its rule"),
        item("adults-week/partners/2026-11-26/linkedin", "linkedin", "linkedin",
             _at(2026, 11, 26, 8, 30), "Partners mark Safeguarding Adults Week", post=linkedin,
             campaign="adults-week"),
        item(f"{camp}/help/2026-12-01/whatsapp", "manual", "whatsapp", _at(2026, 12, 1, 10),
             "How to get help", post=whatsapp, status="held",
             note="held: comms freeze (national mourning)",
             channel_title="WhatsApp channel (copy and paste)"),
        item(BULLETIN_ID, "mailchimp", "mailchimp", _at(2026, 12, 3, 9),
             "December 2026: Orange Wolverhampton and how to report a concern",
             bulletin=sample_bulletin(), campaign="e-bulletin", kind="bulletin",
             channel_title="WST e-bulletin (Mailchimp)"),
    ]


def build_sample(root: Path, on_item=None) -> PreviewSummary:
    """Build the sample preview into root/site."""
    return build_preview(sample_items(), root / "site", brand=BRAND, start=START, end=END,
                         generated_at=GENERATED, images_dir=content_dir(root), on_item=on_item)


# ---------------------------------------------------------------------------------------------
# reading the pages back
# ---------------------------------------------------------------------------------------------


class Page(HTMLParser):
    """Collects tags, attributes, text and references from one HTML file."""

    def __init__(self, source: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        (self.styles if self._in_style else self.text).append(data)

    def all(self, tag: str, **match) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in match.items())]

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def read(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


_REFS = {"link": ("href",), "script": ("src",), "img": ("src", "srcset"), "iframe": ("src",),
         "source": ("src", "srcset"), "video": ("src", "poster"), "audio": ("src",),
         "embed": ("src",), "object": ("data",)}


def external_references(page: Page) -> list[str]:
    """Every reference a browser would load from the network (content <a href> is allowed)."""
    found = []
    for tag, attrs in page.tags:
        for name in _REFS.get(tag, ()):
            value = attrs.get(name, "")
            if re.search(r"(^|[\s,])(https?:)?//", value, re.I):
                found.append(f"<{tag} {name}={value}>")
        for name in ("background", "style"):
            if re.search(r"(https?:)?//", attrs.get(name, "")) and name == "background":
                found.append(f"<{tag} background={attrs[name]}>")
            if name == "style" and re.search(r"url\(\s*['\"]?(https?:)?//", attrs.get(name, ""), re.I):
                found.append(f"<{tag} style={attrs[name]}>")
    for css in page.styles:
        found += css_references(css)
    return found


def css_references(css: str) -> list[str]:
    return re.findall(r"@import[^;]*|url\(\s*['\"]?(?:https?:)?//[^)]*\)", css, re.I)


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[PreviewSummary, Path, list[PreviewItem]]:
    root = tmp_path_factory.mktemp("preview")
    calls: list[int] = []
    summary = build_sample(root, on_item=lambda: calls.append(1))
    assert len(calls) == len(sample_items())
    return summary, root / "site", sample_items()


def page_of(out: Path, item_id: str) -> Path:
    return out / "items" / f"{page_name(item_id)}.html"


def test_summary_counts(site):
    summary, out, items = site
    assert summary.items == len(items) == 8
    # the X length error; reading age + identifying detail + the missing LinkedIn image
    assert summary.errors == 1
    assert summary.warnings == 3
    assert summary.needs_acceptance == 1
    assert summary.index == out / "index.html"
    words = read(summary.index).words
    assert "8 items" in words
    assert "1 error" in words and "3 warnings" in words
    assert "1 need a named person's acceptance" in words


def test_index_lists_items_with_errors_and_links_to_them(site):
    _, out, _ = site
    page = read(out / "index.html")
    hrefs = [a["href"] for a in page.all("a")]
    x_page = f"items/{page_name(X_ID)}.html"
    assert x_page in hrefs
    text = (out / "index.html").read_text(encoding="utf-8")
    start = text.index('id="items-with-errors"')
    box = text[start:text.index("</div>", start)]
    assert x_page in box and "length" in box
    assert page_name("orange-wolverhampton/day-1/2026-11-25/facebook") not in box


def test_every_page_is_offline(site):
    _, out, _ = site
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 1 + 8 + 2  # index, one per item, the bulletin's email and web copies
    for path in pages:
        assert external_references(read(path)) == [], path
    for css in out.rglob("*.css"):
        assert css_references(css.read_text(encoding="utf-8")) == [], css
    for js in out.rglob("*.js"):
        assert not re.search(r"https?://", js.read_text(encoding="utf-8")), js
    # content links stay live
    assert any(a["href"].startswith(SITE) for a in read(page_of(out, X_ID)).all("a"))


def test_every_local_reference_resolves(site):
    _, out, _ = site
    for path in out.rglob("*.html"):
        page = read(path)
        for tag, attrs in page.tags:
            for name in _REFS.get(tag, ()) + (("href",) if tag == "a" else ()):
                value = attrs.get(name, "")
                if not value or re.match(r"^(https?:|mailto:|tel:|data:|#|\*\|)", value):
                    continue
                target = (path.parent / unquote(urlsplit(value).path)).resolve()
                assert target.is_file(), f"{path.name}: <{tag} {name}={value}> is missing"


def test_pages_are_accessible_in_structure(site):
    _, out, _ = site
    for path in [out / "index.html", *sorted((out / "items").glob("*-????????.html"))]:
        page = read(path)
        assert page.all("html")[0]["lang"] == "en-GB", path
        assert len(page.all("h1")) == 1, path
        assert page.all("main") and page.all("header") and page.all("footer"), path
        for img in page.all("img"):
            assert "alt" in img, path
        for table in ("table",):
            if page.all(table):
                assert page.all("th"), path


def test_filters_present(site):
    _, out, items = site
    page = read(out / "index.html")
    selects = {s["id"]: s for s in page.all("select")}
    assert {"filter-campaign", "filter-channel"} <= set(selects)
    labels = {lab.get("for") for lab in page.all("label")}
    assert {"filter-campaign", "filter-channel"} <= labels
    values = {o["value"] for o in page.all("option")}
    assert {i.campaign for i in items} <= values
    assert {i.channel for i in items} <= values
    rows = page.all("tr", **{"class": "entry"})
    assert len(rows) == len(items)
    assert {(r["data-campaign"], r["data-channel"]) for r in rows} == {
        (i.campaign, i.channel) for i in items}
    chips = page.all("li", **{"class": "entry"})
    assert len(chips) == len(items)  # each item once in the calendar
    assert page.all("script") and page.all("script")[0]["src"] == "assets/preview.js"
    assert (out / "assets" / "preview.js").is_file()


def test_calendar_has_a_grid_per_month_and_agenda_times(site):
    _, out, _ = site
    page = read(out / "index.html")
    words = page.words
    assert "November 2026" in words and "December 2026" in words
    assert len(page.all("table", **{"class": "calendar"})) == 2
    assert "Wed 25 Nov 2026 10:00" in words
    assert "Thu 3 Dec 2026 09:00" in words
    assert "Held" in words and "held: comms freeze (national mourning)" in words
    assert "Provisional" in words and "not confirmed" in words


def test_each_item_page_present_with_its_card(site):
    _, out, items = site
    for item in items:
        path = page_of(out, item.id)
        assert path.is_file(), item.id
        assert "/" not in path.name
        words = read(path).words
        assert item.title in words
        if item.post:
            assert f"card-{item.platform}" in path.read_text(encoding="utf-8")


def test_length_shown_against_the_limit_and_over_limit_in_words(site):
    _, out, _ = site
    x = read(page_of(out, X_ID))
    assert "291 / 280 weighted characters" in x.words
    assert "Too long. Over the limit by 11: X will refuse this post" in x.words
    bsky = read(page_of(out, "orange-wolverhampton/day-1/2026-11-25/bluesky")).words
    n = len(BSKY_TEXT.encode())
    assert "104 / 300 graphemes" in bsky and f"{n} / 3,000 bytes (UTF-8)" in bsky
    assert "Within the limit" in bsky and "Too long" not in bsky


def test_post_text_is_exact_with_line_breaks_link_and_image(site):
    _, out, _ = site
    path = page_of(out, X_ID)
    source = path.read_text(encoding="utf-8")
    # the card text keeps every character and line break (shown with white-space: pre-wrap)
    card = re.search(r'<div class="card-text">(.*?)</div>', source, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", card).replace("&amp;", "&") == X_TEXT
    page = read(path)
    imgs = page.all("img")
    assert imgs and imgs[0]["alt"] == "An orange ribbon with the words Orange Wolverhampton"
    assert (path.parent / imgs[0]["src"]).resolve().read_bytes() == png()
    assert any(a["href"] == LINK for a in page.all("a"))
    assert "orange-ribbon.png" in page.words


def test_bluesky_facets_are_the_live_links(site):
    _, out, _ = site
    page = read(page_of(out, "orange-wolverhampton/day-1/2026-11-25/bluesky"))
    assert any(a["href"] == f"{SITE}/orange" for a in page.all("a"))


def test_findings_listed_with_severity_code_evidence_and_acceptance(site):
    _, out, _ = site
    x = read(page_of(out, X_ID)).words
    assert "cannot be published yet" in x
    assert "Error length" in x and "shorten the text by 11" in x and "291 / 280" in x
    assert "Warning reading-age" in x
    fb = read(page_of(out, "orange-wolverhampton/day-1/2026-11-25/facebook")).words
    assert "Needs a named person's acceptance" in fb
    li = read(page_of(out, "adults-week/partners/2026-11-26/linkedin")).words
    assert "image-file" in li and "images/missing.png" in li


def test_bulletin_page_has_desktop_and_mobile_frames_and_plain_text(site):
    _, out, _ = site
    path = page_of(out, BULLETIN_ID)
    page = read(path)
    frames = page.all("iframe")
    assert [f["width"] for f in frames] == ["640", "375"]
    for f in frames:
        assert f["title"] and (path.parent / f["src"]).is_file()
    email = (path.parent / frames[0]["src"]).read_text(encoding="utf-8")
    # the remote banner is shown from the local copy; nothing else changed
    assert "bulletin-banner.png" in email and f"{SITE}/bulletin-images" not in email
    assert "*|UNSUB|*" in email
    pre = re.search(r"<pre[^>]*>(.*?)</pre>", path.read_text(encoding="utf-8"), re.S).group(1)
    assert pre == BULLETIN_TEXT
    assert "December 2026: Orange Wolverhampton" in page.words
    assert "16 Days of Activism, our annual event" in page.words


def test_page_names_are_safe_stable_and_distinct():
    name = page_name("orange-wolverhampton/day-1/2026-11-25/x")
    assert name == page_name("orange-wolverhampton/day-1/2026-11-25/x")
    assert name.startswith("orange-wolverhampton--day-1--2026-11-25--x-")
    odd = ["a/b", "a--b", "A/B", "../../etc/passwd", "x y/ü", "", "/"]
    names = {page_name(i) for i in odd}
    assert len(names) == len(odd)
    for n in names:
        assert re.fullmatch(r"[a-z0-9][a-z0-9._-]*", n), n


def test_local_time_follows_the_uk_clock():
    assert local_time(datetime(2026, 12, 1, 10, 0, tzinfo=UTC)) == "Tue 1 Dec 2026 10:00"
    assert local_time(datetime(2026, 7, 14, 9, 0, tzinfo=UTC)) == "Tue 14 Jul 2026 10:00"


def test_rebuild_removes_old_pages_and_refuses_repeated_ids(tmp_path):
    build_sample(tmp_path)
    out = tmp_path / "site"
    items = sample_items()[:2]
    summary = build_preview(items, out, brand=BRAND, start=START, end=END,
                            generated_at=GENERATED, images_dir=None)
    assert summary.items == 2
    assert len(list((out / "items").glob("*.html"))) == 2
    # without images_dir the image is reported, not silently dropped
    assert "image-file" in read(page_of(out, X_ID)).words
    with pytest.raises(ValueError, match="repeated"):
        build_preview(items + items[:1], out, brand=BRAND, start=START, end=END,
                      generated_at=GENERATED, images_dir=None)


def test_empty_period(tmp_path):
    summary = build_preview([], tmp_path / "site", brand=BRAND, start=START, end=END,
                            generated_at=GENERATED, images_dir=None)
    assert (summary.items, summary.errors, summary.warnings) == (0, 0, 0)
    assert "Nothing is planned in this period." in read(summary.index).words


def test_an_unsafe_link_is_shown_never_made_a_link(tmp_path):
    """A post whose link is javascript: (refused by the checks) is shown as words, not a link."""
    post = _post("facebook", "facebook", "Text.\njavascript:alert(1)", length=26, limit=63206,
                 unit="characters", link="javascript:alert(1)")
    items = [PreviewItem(id="c/p/2026-11-25/facebook", kind="post", campaign="c",
                         channel="facebook", platform="facebook", due=_at(2026, 11, 25, 10),
                         title="Text", status="planned", note="", post=post, bulletin=None,
                         findings=())]
    build_preview(items, tmp_path / "site", brand=BRAND, start=START, end=END,
                  generated_at=GENERATED, images_dir=None)
    page = read(page_of(tmp_path / "site", "c/p/2026-11-25/facebook"))
    hrefs = [attrs.get("href", "") for tag, attrs in page.tags if tag == "a"]
    assert hrefs and not any(h.lower().startswith("javascript") for h in hrefs)
    assert "javascript:alert(1)" in page.words
