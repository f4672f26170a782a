"""The content rules: each has a passing and a failing case; realistic WST copy stays quiet."""

from __future__ import annotations

import pytest

from pipeline.lint import LintContext, edit_distance, lint_bulletin, lint_post, lint_text_block
from renderers.model import BulletinInput, Contacts, PostInput, RenderedBulletin, StoryInput
from renderers.social import render_post

OWN = ("www.wolverhamptonsafeguarding.org.uk",)
SITE = "https://www.wolverhamptonsafeguarding.org.uk"
CTX = LintContext(
    Contacts("01902 555392", "01902 551199", "01902 552999", "999",
             "www.wolverhamptonsafeguarding.org.uk"),
    reading_age_max=9, sentence_words_max=25,
    allowed_names=("Wolverhampton", "Bilston", "Wednesfield", "Tettenhall", "Fallings Park",
                   "Black Country", "West Midlands", "Healthwatch", "Place2Be", "Childline",
                   "Samaritans"))
EASY = "Talk to your child about what they do online. "


def codes(findings, code=None):
    return [f for f in findings if f.code == code] if code else [f.code for f in findings]


def rendered(platform="facebook", text=EASY, link="", image="", alt="", **kw):
    return render_post(PostInput(text=text, platform=platform, channel=platform, campaign="c",
                                 link=link, image=image, alt=alt, **kw), own_hosts=OWN)


def lint(text):
    return lint_text_block(text, CTX, "posts/test.toml#p1", social=True)


# --- length and platform rules -------------------------------------------------------------------

def test_length_pass_and_fail_names_count_and_limit():
    assert codes(lint_post(rendered("x", "a" * 280), CTX, "p"), "length") == []
    (f,) = codes(lint_post(rendered("x", "a" * 281), CTX, "posts/a.toml#x1"), "length")
    assert f.severity == "error" and "281" in f.message and "280" in f.message
    assert f.message.startswith("posts/a.toml#x1:")


def test_bluesky_bytes_reported():
    (f,) = codes(lint_post(rendered("bluesky", "👨\u200d👩\u200d👧" * 200), CTX, "p"), "length")
    assert "bytes" in f.message and "3600" in f.message and "3000" in f.message


def test_instagram_hashtags_and_image():
    ok = rendered("instagram", EASY + " ".join(f"#Tag{i}" for i in range(30)), image="a.png",
                  alt="Two people talking.")
    assert codes(lint_post(ok, CTX, "p"), "instagram-hashtags") == []
    assert "instagram-image" not in codes(lint_post(ok, CTX, "p"))
    bad = rendered("instagram", EASY + " ".join(f"#Tag{i}" for i in range(31)))
    found = codes(lint_post(bad, CTX, "p"))
    assert "instagram-hashtags" in found and "instagram-image" in found
    assert {f.severity for f in lint_post(bad, CTX, "p") if f.code.startswith("instagram")} == {"error"}
    assert "instagram-image" not in codes(lint_post(rendered("facebook"), CTX, "p"))


@pytest.mark.parametrize(("alt", "code"), [
    ("", "alt-missing"), ("   ", "alt-missing"), ("Image of a phone", "alt-image-of"),
    ("picture of a family", "alt-image-of"), ("A photo of the town hall", "alt-image-of"),
    ("Photo of a school gate", "alt-image-of"), ("A parent and child at a laptop.", None),
    ("Imagery matters: a poster saying 'Speak up'.", None)])
def test_alt_text(alt, code):
    found = codes(lint_post(rendered(image="images/a.png", alt=alt), CTX, "p"))
    alt_codes = [c for c in found if c.startswith("alt-")]
    assert alt_codes == ([code] if code else [])


# --- official contacts ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Call 01902 555392.", "Call 01902555392.", "Call 01902 555 392.", "Call 01902-551199.",
    "Call +44 1902 552999.", "Childline: 0800 1111. Samaritans: 116 123.",
    "National Domestic Abuse Helpline 0808 2000 247.", "Modern Slavery Helpline 08000 121 700.",
    "Call 999, 111 or 101.", "Birmingham: 0121 303 1888."])
def test_official_numbers_pass(text):
    assert codes(lint(text), "official-number") == []


@pytest.mark.parametrize(("text", "closest"), [
    ("Call 01902 555329.", "01902 555392"),     # transposed
    ("Call 01902 555393.", "01902 555392"),     # one digit wrong
    ("Call 01902 55539.", "01902 555392"),      # digit missing
    ("Call 01920 551199.", "01902 551199"),     # area code transposed
    ("Call 01902 559299.", "01902 552999"),
    ("Call 01902 123456.", None)])              # any other Wolverhampton number
def test_official_numbers_fail_naming_closest(text, closest):
    (f,) = codes(lint(text), "official-number")
    assert f.severity == "error" and f.evidence in text
    if closest:
        assert f"did you mean {closest}" in f.message


@pytest.mark.parametrize("text", [
    "Visit www.wolverhamptonsafeguarding.org.uk", "Visit wolverhamptonsafeguarding.org.uk/report",
    f"{SITE}/a?utm_source=x", "See www.wolverhampton.gov.uk and www.childline.org.uk"])
def test_official_website_pass(text):
    assert codes(lint(text), "official-website") == []


@pytest.mark.parametrize("text", [
    "Visit www.wolverhamptonsafegaurding.org.uk", "Visit www.wolverhamptonsafguarding.org.uk",
    "https://wolverhamptonsafeguarding.co.uk/report", "www.wolverhamtonsafeguarding.org.uk"])
def test_official_website_fail(text):
    (f,) = codes(lint(text), "official-website")
    assert f.severity == "error" and "www.wolverhamptonsafeguarding.org.uk" in f.message


def test_edit_distance_counts_transposition_as_one():
    assert edit_distance("safegaurding", "safeguarding") == 1
    assert edit_distance("abc", "abc") == 0 and edit_distance("", "ab") == 2


# --- writing rules -------------------------------------------------------------------------------

def test_reading_age_warning_shows_figure():
    assert codes(lint(EASY + "Ask who they chat to."), "reading-age") == []
    (f,) = codes(lint("Multi-agency safeguarding arrangements necessitate comprehensive "
                      "interdisciplinary collaboration."), "reading-age")
    assert f.severity == "warning" and f.evidence in f.message and "1 sentence" in f.message
    assert float(f.evidence) > 9


def test_long_sentence_quotes_its_start():
    assert codes(lint(EASY), "long-sentence") == []
    long = "If you are " + "really " * 25 + "worried, call us."
    (f,) = codes(lint(long), "long-sentence")
    assert "'If you are really" in f.message and "over 25" in f.message


def test_hashtags_count_and_camel_case():
    assert codes(lint(EASY + "#SaferInternetDay #wst"), "hashtags") == []
    assert codes(lint(EASY + "#2026Goals"), "hashtags") == []
    assert len(codes(lint(EASY + "#One #Two #Three"), "hashtags")) == 1
    (f,) = codes(lint(EASY + "#saferinternetday"), "hashtags")
    assert "#saferinternetday" in f.message and "#SaferInternetDay" in f.message


def test_links_one_allowed():
    assert codes(lint_post(rendered(link=f"{SITE}/a"), CTX, "p"), "links") == []
    (f,) = codes(lint_post(rendered(text=EASY + "www.childline.org.uk", link=f"{SITE}/a"), CTX, "p"),
                 "links")
    assert "2 links" in f.message


def test_emoji_count_and_repeats():
    assert codes(lint(EASY + "😷📞💬"), "emoji") == []
    assert len(codes(lint(EASY + "😷📞💬🧡"), "emoji")) == 1
    (f,) = codes(lint(EASY + "🧡 and 🧡"), "emoji")
    assert "repeated" in f.message


@pytest.mark.parametrize("text", ["Runs 9-15 February.", "Runs 9 – 15 Feb.", "Open 9am-5pm.",
                                  "Open Mon-Fri.", "February 9-15.", "In 2025-26 we grew."])
def test_dash_range_fail(text):
    (f,) = codes(lint(text), "dash-range")
    assert " to " in f.message and f.severity == "warning"


@pytest.mark.parametrize("text", ["Runs 9 to 15 February.", "Call 01902 555392.",
                                  "A well-known anti-bullying week.", "Open 9am to 5pm."])
def test_dash_range_pass(text):
    assert codes(lint(text), "dash-range") == []


# --- identifying details -------------------------------------------------------------------------

REALISTIC_WST_COPY = [
    "It's #SaferInternetDay! Talk to your child about what they do online. Worried about a child? "
    "Call the MASH on 01902 555392.",
    "Orange Wolverhampton starts today. For 16 days we stand against violence towards women and "
    "girls. If you are worried about an adult, call 01902 551199. #NoExcuse #OrangeTheWorld",
    "This Safeguarding Adults Week, the Ann Craft Trust and WST are sharing free training for "
    "practitioners across Wolverhampton.",
    "Children's Mental Health Week runs from 9 to 15 February. Place2Be has ideas for families and "
    "schools.",
    "Today is the Day of Memory for victims of honour-based abuse. Karma Nirvana runs a helpline.",
    "Modern slavery happens in the Black Country. Call the Modern Slavery Helpline on 08000 121 700 "
    "or West Midlands Police on 101.",
    "Hoarding Awareness Week: Clouds End CIC explains how to help a neighbour. Out of hours, call "
    "01902 552999.",
    "Young people aged 11 to 18 in Wolverhampton can get support from Childline on 0800 1111.",
    "Children aged 14 in Bilston and Wednesfield can join the summer project.",
    "National Hate Crime Awareness Week starts on Saturday. Report hate crime to Stop Hate UK or "
    "West Midlands Police.",
    "Join us for Wolverhampton Safeguarding Week. Each day has a theme: Early Help, Think Family "
    "and online safety.",
    "The City of Wolverhampton Council and the Royal Wolverhampton NHS Trust work with WST.",
    "Ask your school's Designated Safeguarding Lead for advice.",
]


@pytest.mark.parametrize("text", REALISTIC_WST_COPY)
def test_identifying_quiet_on_realistic_copy(text):
    assert codes(lint(text), "identifying") == []


@pytest.mark.parametrize(("text", "evidence"), [
    ("We helped a family after a call from Jane Smith last week.", "Jane Smith"),
    ("Speak to Dr Patel.", "Patel"),
    ("Drop in at WV1 1RE on Monday.", "WV1 1RE"),
    ("Pupils at St Edmund's Catholic Academy took part.", "St Edmund's Catholic Academy"),
    ("Well done to Highfields School for their work.", "Highfields School"),
    ("A 14-year-old from Bilston was helped.", "from Bilston"),
    ("A girl aged 15 was supported in Wednesfield.", "in Wednesfield"),
])
def test_identifying_flags_need_acceptance(text, evidence):
    found = codes(lint(text), "identifying")
    assert found, text
    assert any(evidence in f.evidence for f in found)
    assert all(f.severity == "warning" and f.needs_acceptance for f in found)


def test_allowed_school_name_is_not_flagged():
    ctx = LintContext(CTX.contacts, allowed_names=("Highfields School",))
    assert codes(lint_text_block("Well done to Highfields School.", ctx, "p"), "identifying") == []


# --- bulletins -----------------------------------------------------------------------------------

def test_bulletin_checks_every_part():
    good = BulletinInput(month="2026-02", subject="Safer Internet Day", preheader="Tips for parents",
                         stories=(StoryInput(title="Stay safe online", body=EASY,
                                             link=f"{SITE}/online", link_text="Online safety tips",
                                             image="a.png", alt="A child using a tablet."),))
    assert lint_bulletin(good, None, CTX, "bulletins/2026-02.toml") == []
    bad = BulletinInput(month="2026-02", subject="", preheader="", intro="Call 01902 555393.",
                        stories=(StoryInput(title="Runs 9-15 February",
                                            body="See [here](https://www.wolverhamptonsafegaurding.org.uk).\n"
                                                 "![](images/b.png)",
                                            link=f"{SITE}/x", link_text="click here", image="a.png"),))
    found = lint_bulletin(bad, None, CTX, "bulletins/2026-02.toml")
    assert set(codes(found)) >= {"subject-missing", "preheader-missing", "official-number",
                                 "dash-range", "official-website", "link-text", "alt-missing"}
    assert all(f.message.startswith("bulletins/2026-02.toml") for f in found)
    assert any("story 1" in f.message for f in found if f.code == "alt-missing")


def _email(html: str, text: str = "Plain text") -> RenderedBulletin:
    return RenderedBulletin(mjml="", html=html, text=text, archive_html="", subject="Safer Internet Day",
                            preheader="Tips")


def test_rendered_email_rules():
    b = BulletinInput(month="2026-02", subject="Safer Internet Day", preheader="Tips")
    good = _email('<html lang="en-GB"><head><title>Safer Internet Day</title></head>'
                  '<body><img src="a.png" alt="A child"><img src="spacer.gif" alt=""></body></html>')
    assert lint_bulletin(b, good, CTX, "b") == []
    bad = _email('<html lang="und"><head><title>Bulletin</title></head>'
                 '<body><img src="facebook.png"></body></html>', text="")
    assert set(codes(lint_bulletin(b, bad, CTX, "b"))) == {"email-lang", "email-title", "alt-missing",
                                                           "text-part-missing"}
