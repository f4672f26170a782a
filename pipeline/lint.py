"""The one content rule set: used by `wst check`, the preview and the publish gate.

Every rule returns Findings whose message names the item, the evidence and the fix. Errors block
publication; warnings are shown; identifying-detail warnings need a named person to accept them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from pipeline.readability import reading_age, scoring_text, sentences, words
from renderers.model import BulletinInput, Contacts, Finding, RenderedBulletin, RenderedPost
from renderers.text import find_emoji, find_hashtags, find_urls, full_url

ERROR = "error"
WARNING = "warning"

HASHTAGS_MAX = 2
LINKS_MAX = 1
EMOJI_MAX = 3
INSTAGRAM_HASHTAGS_MAX = 30
EMAIL_CLIP = 102 * 1024  # Gmail shows only this much of an email's HTML

# National helplines that may appear beside the official numbers (digits only).
NATIONAL_NUMBERS = {
    "08001111": "Childline",
    "116123": "Samaritans",
    "08082000247": "National Domestic Abuse Helpline",
    "08000121700": "Modern Slavery Helpline",
    "999": "emergency", "111": "NHS 111", "101": "police non-emergency",
}
AREA_CODE = "01902"  # Wolverhampton: any number here must be an official one


@dataclass(frozen=True, slots=True)
class LintContext:
    """What the rules check against: the official contacts and the [checks] settings."""

    contacts: Contacts
    reading_age_max: int = 9
    sentence_words_max: int = 25
    allowed_names: tuple[str, ...] = ()


def _finding(code: str, severity: str, item: str, message: str, evidence: str = "",
             needs_acceptance: bool = False) -> Finding:
    return Finding(code, severity, f"{item}: {message}", evidence, needs_acceptance)


def _quote(text: str, words_shown: int = 8) -> str:
    parts = text.split()
    return " ".join(parts[:words_shown]) + (" …" if len(parts) > words_shown else "")


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, transpositions."""
    # Transpositions count 1, so "gaur" for "guar" and 01902 552999 -> 01902 559299 are one slip.
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


# --- post-level rules -------------------------------------------------------------------------------

def check_length(rendered: RenderedPost, item: str) -> list[Finding]:
    """length: over the platform's limit (and Bluesky's byte limit)."""
    out = []
    if rendered.length > rendered.limit:
        over = rendered.length - rendered.limit
        out.append(_finding("length", ERROR, item,
            f"{rendered.platform} text is {rendered.length} {rendered.unit}, over the limit of "
            f"{rendered.limit}; cut {over} {rendered.unit} (the link is included)",
            f"{rendered.length}/{rendered.limit}"))
    if rendered.byte_limit and rendered.byte_length > rendered.byte_limit:
        out.append(_finding("length", ERROR, item,
            f"{rendered.platform} text is {rendered.byte_length} UTF-8 bytes, over the limit of "
            f"{rendered.byte_limit}; shorten it", f"{rendered.byte_length}/{rendered.byte_limit} bytes"))
    return out


def check_instagram(rendered: RenderedPost, item: str) -> list[Finding]:
    """instagram-hashtags (more than 30) and instagram-image (no image)."""
    if rendered.platform != "instagram":
        return []
    out = []
    count = rendered.extra.get("hashtag_count", len(rendered.hashtags))
    if count > INSTAGRAM_HASHTAGS_MAX:
        out.append(_finding("instagram-hashtags", ERROR, item,
            f"{count} hashtags; Instagram allows at most {INSTAGRAM_HASHTAGS_MAX}: remove "
            f"{count - INSTAGRAM_HASHTAGS_MAX}", str(count)))
    if not rendered.image:
        out.append(_finding("instagram-image", ERROR, item,
            "an Instagram post needs an image; add `image` (and its `alt`) or drop this channel"))
    return out


_IMAGE_OF = re.compile(r"^\s*(?:an?\s+)?(?:image|picture|photo|photograph)\s+of\b", re.IGNORECASE)


def check_image(image: str, alt: str, item: str, ctx: LintContext | None = None) -> list[Finding]:
    """alt-missing (image without alt text) and alt-image-of (alt starting "image of" etc.);
    with `ctx`, the official numbers and website in the alt text too (screen readers say it)."""
    if not image:
        return []
    if not alt.strip():
        return [_finding("alt-missing", ERROR, item,
            f"image '{image}' has no alt text; describe what it shows, including any words in it",
            image)]
    out = [] if ctx is None else [*check_numbers(alt, ctx.contacts, f"{item} alt text"),
                                  *check_website(alt, ctx.contacts, f"{item} alt text")]
    m = _IMAGE_OF.match(alt)
    if m:
        out.append(_finding("alt-image-of", ERROR, item,
            f"alt text starts '{m.group(0).strip()}': screen readers already say it is an image; "
            f"start with what it shows", _quote(alt)))
    return out


# --- text rules ----------------------------------------------------------------------------------

# A phone number as people write it: groups of digits with spaces, dots, hyphens or dashes
# between, the area code perhaps in brackets - (01902) 555 392 - or +44 / 0044 with or without
# (0). Generous on length, so a missing or extra digit is still caught; a run holding two
# numbers is split again below.
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+|00)\s*44[\s.\-–—]*(?:\(\s*0\s*\)[\s.\-–—]*)?|\(\s*)?"
                    r"\d(?:[\s\u00a0.\-–—()]{0,3}\d){5,}(?!\w)")
_INTERNATIONAL = re.compile(r"\s*(?:\+|00)\s*44[\s.\-–—]*(\(\s*0\s*\))?")
# "call 99", "dial 911": a slip for the emergency number.
_SHORT_CALL = re.compile(r"\b(?:call|dial|ring|phone)\s+(?:(?:the\s+)?(?:police|an\s+ambulance)\s+"
                         r"(?:on\s+)?)?(?:on\s+)?(\d{2,6})\b(?![\s.\-–—]?\d)", re.IGNORECASE)
UK_NUMBER_MAX = 11  # digits of the longest UK number dialled at home (01902 555392)


@functools.lru_cache(maxsize=1024)
def national(number: str) -> str:
    """The digits of a number as dialled in the UK: +44 or 0044 becomes 0, and (0) is dropped."""
    digits = re.sub(r"\D", "", number)
    m = _INTERNATIONAL.match(number)
    if not m:
        return digits
    rest = digits[4:] if number.lstrip().startswith("00") else digits[2:]
    return "0" + (rest[1:] if m.group(1) else rest)


def phone_numbers(text: str) -> list[str]:
    """Every phone number written in `text`, as written (a run of two numbers is two)."""
    out = []
    for m in _PHONE.finditer(text):
        written = m.group(0).strip()
        if len(national(written)) <= UK_NUMBER_MAX:
            out.append(written)
            continue
        # "01902 555392 01902 551199": take groups until they make a whole number
        group: list[str] = []
        for part in written.split():
            group.append(part)
            if len(national(" ".join(group))) >= 10:
                out.append(" ".join(group))
                group = []
        if group:
            out.append(" ".join(group))
    return out


def check_numbers(text: str, contacts: Contacts, item: str) -> list[Finding]:
    """official-number: a 01902 number, or one a slip away from an official one (in any common
    spelling), that is not official; and "call 99" for 999."""
    official = {national(n): n for n in (contacts.child_mash, contacts.adult_mash, contacts.out_of_hours)
                if n}
    out = []
    for written in phone_numbers(text):
        digits = national(written)
        if digits in official or digits in NATIONAL_NUMBERS:
            continue  # spaces, brackets and +44 are not errors
        closest = min(official, key=lambda o: edit_distance(digits, o), default=None)
        if closest is None:
            continue
        if digits.startswith(AREA_CODE) or edit_distance(digits, closest) <= 2:
            out.append(_finding("official-number", ERROR, item,
                f"'{written}' is not an official number; did you mean {official[closest]}? "
                f"(official: child MASH {contacts.child_mash}, adult MASH {contacts.adult_mash}, "
                f"out of hours {contacts.out_of_hours})", written))
    emergency = national(contacts.emergency or "999")
    for m in _SHORT_CALL.finditer(text):
        number = m.group(1)
        if number != emergency and (set(number) == {"9"} or number == "911"):
            out.append(_finding("official-number", ERROR, item,
                f"'{m.group(0)}': {number} is not the emergency number; write {emergency} "
                f"(immediate danger)", m.group(0)))
    return out


# Link schemes a person may write: a post links to a web page; an email may also open a new
# message or a phone call.
POST_SCHEMES = ("https",)
EMAIL_SCHEMES = ("https", "mailto", "tel")
# A host this many edits from the official one is a slip; more is another site
# (wolverhampton.gov.uk is 12 edits away).
SLIP_MAX = 3


def site_host(url: str) -> str:
    """The host of a link or of an address written bare, lower case, without www. or a
    trailing dot ('' if it has none)."""
    try:
        # a link Bluesky shows cut short ends in '…', which is not part of its host
        host = urlsplit(full_url(url.strip().rstrip("…"))).hostname or ""
    except ValueError:
        return ""
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def misspelt_host(host: str, right: str) -> bool:
    """True when `host` is a slip (1 to SLIP_MAX edits) away from `right`."""
    # lengths further apart than a slip cannot be one: no need to align them letter by letter
    return bool(host and right) and abs(len(host) - len(right)) <= SLIP_MAX \
        and 0 < edit_distance(host, right) <= SLIP_MAX


def _host_problem(url: str, contacts: Contacts) -> str:
    """What is wrong with where `url` goes, as a sentence ('' if nothing): the official site
    over http, a host that misspells it or dresses up as it."""
    right = site_host(contacts.website)
    parts = urlsplit(full_url(url.strip()))
    host = site_host(url)
    if not host or not right:
        return ""
    name = right.split(".")[0]                   # wolverhamptonsafeguarding
    if "@" in parts.netloc:
        return (f"goes to {host}, not to what is written before the '@'; write the address "
                f"without a user name")
    if host == right or host.endswith("." + right):
        if parts.scheme.lower() == "http":
            return f"is the official site over http; write https://{contacts.website}"
        return ""
    if not host.isascii() or any(label.startswith("xn--") for label in host.split(".")):
        if name[:6] in unicodedata.normalize("NFKD", host).encode("ascii", "ignore").decode() or \
                misspelt_host(host.encode("ascii", "replace").decode(), right):
            return (f"uses letters from another alphabet to look like the official site; write "
                    f"{contacts.website}")
        return ""
    if name in host:
        return (f"only looks like the official site (it is {host}); write {contacts.website}")
    if misspelt_host(host, right) or any(len(label) > 7 and misspelt_host(label, name)
                                         for label in host.split(".")):
        return f"looks like a misspelling of the official website; write {contacts.website}"
    return ""


def check_website(text: str, contacts: Contacts, item: str) -> list[Finding]:
    """official-website and link-scheme over the links in `text`: the official site misspelt,
    imitated or over http, and any http:// link."""
    out = []
    for u in find_urls(text):
        problem = _host_problem(u.text, contacts)
        if problem:
            out.append(_finding("official-website", ERROR, item, f"'{u.text}' {problem}", u.text))
        elif u.text.lower().startswith("http://"):
            out.append(_finding("link-scheme", ERROR, item,
                f"'{u.text}' is an http:// link; write https:// (only secure links are published)",
                u.text))
    return out


def check_link(url: str, ctx: LintContext, item: str, schemes: tuple[str, ...]) -> list[Finding]:
    """link-scheme, official-website and official-number for one link a person wrote (a post's
    `link`, a story's, a Markdown link): only `schemes`, and the rules on where it goes."""
    link = url.strip()
    if not link:
        return []
    scheme = urlsplit(link).scheme.lower() if re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", link) else ""
    if scheme not in schemes:
        shown = link if len(link) <= 80 else link[:79] + "…"
        allowed = " or ".join(f"{s}:" for s in schemes)
        if scheme in ("", "http"):
            why = f"is not a secure web address; write https://{link.split('://', 1)[-1]}"
        elif scheme in ("mailto", "tel"):
            why = (f"is a {scheme}: link, which cannot go here; link to an https:// page and put "
                   f"the {'address' if scheme == 'mailto' else 'number'} in the text")
        else:
            why = (f"({scheme}:) would run code or open something on the reader's device, not a "
                   f"web page; link to an https:// page")
        return [_finding("link-scheme", ERROR, item,
                         f"link '{shown}' {why} (links here may be {allowed})", link)]
    if scheme == "tel":
        return check_numbers(f"call {unquote(link[4:])}", ctx.contacts, item)
    if scheme == "mailto":
        return []
    problem = _host_problem(link, ctx.contacts)
    return [_finding("official-website", ERROR, item, f"link '{link}' {problem}", link)] if problem else []


def check_reading(text: str, ctx: LintContext, item: str) -> list[Finding]:
    """reading-age (with the figure) and long-sentence (quoting its start)."""
    out = []
    r = reading_age(text)
    if r.words and r.reading_age > ctx.reading_age_max:
        noisy = "; one sentence makes the score rough" if r.sentences == 1 else ""
        out.append(_finding("reading-age", WARNING, item,
            f"{r.describe()} is above {ctx.reading_age_max} (Flesch–Kincaid grade + 5){noisy}; "
            f"use shorter words and sentences", f"{r.reading_age:.1f}"))
    for s in sentences(scoring_text(text)):
        n = len(words(s))
        if n > ctx.sentence_words_max:
            out.append(_finding("long-sentence", WARNING, item,
                f"a sentence of {n} words (over {ctx.sentence_words_max}): '{_quote(s)}'; split it",
                _quote(s)))
    return out


def check_hashtags(tags: Iterable[str], item: str) -> list[Finding]:
    """hashtags: more than two, or a tag that is not CamelCase (#SaferInternetDay)."""
    tags = list(tags)
    out = []
    if len(tags) > HASHTAGS_MAX:
        out.append(_finding("hashtags", WARNING, item,
            f"{len(tags)} hashtags ({' '.join(tags)}); use at most {HASHTAGS_MAX}, at the end",
            " ".join(tags)))
    for tag in tags:
        word = tag.lstrip("#")
        # CamelCase starts with a capital or a digit; short lower-case tags (#wst) are let be.
        if not (word[:1].isupper() or word[:1].isdigit()) and len(word) > 4:
            out.append(_finding("hashtags", WARNING, item,
                f"{tag} is not CamelCase; capitalise each word (e.g. #SaferInternetDay) so screen "
                f"readers say the words", tag))
    return out


def check_links(text: str, item: str) -> list[Finding]:
    """links: more than one link in a post."""
    urls = find_urls(text)
    if len(urls) <= LINKS_MAX:
        return []
    return [_finding("links", WARNING, item,
        f"{len(urls)} links ({', '.join(u.text for u in urls)}); keep one link per post",
        ", ".join(u.text for u in urls))]


# Characters nobody sees: control characters (but line breaks and tabs), and the ones that
# reorder what is shown (a link can be made to read backwards) - never in copy.
_HIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def has_visible_text(text: str) -> bool:
    """True if `text` has a character a reader sees (not only spaces or invisible marks)."""
    return any(not ch.isspace() and unicodedata.category(ch) not in ("Cf", "Cc", "Zs") for ch in text)


def check_characters(text: str, item: str) -> list[Finding]:
    """hidden-character: no visible words at all, or a control or direction character."""
    if text and not has_visible_text(text):
        return [_finding("hidden-character", ERROR, item,
                         "has no visible text (only spaces or invisible characters); write the words")]
    m = _HIDDEN.search(text)
    if m:
        return [_finding("hidden-character", ERROR, item,
            f"holds an invisible control character U+{ord(m.group(0)):04X} after "
            f"'{' '.join(text[:m.start()].split()[-6:])}'; delete it", f"U+{ord(m.group(0)):04X}")]
    return []


def check_emoji(text: str, item: str) -> list[Finding]:
    """emoji: more than three, or one used twice."""
    found = [e.text.replace("\ufe0f", "") for e in find_emoji(text)]
    out = []
    if len(found) > EMOJI_MAX:
        out.append(_finding("emoji", WARNING, item,
            f"{len(found)} emoji ({''.join(found)}); use no more than {EMOJI_MAX}", "".join(found)))
    repeated = [e for e, n in Counter(found).items() if n > 1]
    if repeated:
        out.append(_finding("emoji", WARNING, item,
            f"emoji repeated: {''.join(repeated)}; use each at most once", "".join(repeated)))
    return out


_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_DAY = r"(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)(?:day|sday|nesday|rsday|urday)?"
_DASH = r"\s*[-–—]\s*"
_ORD = r"(?:st|nd|rd|th)?"
_RANGES = re.compile("|".join((
    rf"\b\d{{1,2}}{_ORD}(?:\s+{_MONTH})?{_DASH}\d{{1,2}}{_ORD}\s+{_MONTH}\b",   # 9-15 February
    rf"\b{_MONTH}\s+\d{{1,2}}{_ORD}{_DASH}\d{{1,2}}{_ORD}\b",                    # February 9-15
    rf"\b{_MONTH}{_DASH}{_MONTH}\b",                                             # June-July
    rf"\b{_DAY}{_DASH}{_DAY}\b",                                                 # Mon-Fri
    r"\b\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm)?\s*[-–—]\s*\d{1,2}(?:[:.]\d\d)?\s*(?:am|pm)\b",  # 9am-5pm
    r"\b(?:19|20)\d\d\s*[-–—]\s*(?:19|20)?\d\d\b",                               # 2025-26
)))


_DASH_RE = re.compile(_DASH)


def check_dash_ranges(text: str, item: str) -> list[Finding]:
    """dash-range: a date, day, time or year range written with a dash."""
    return [_finding("dash-range", WARNING, item,
        f"'{m.group(0)}' uses a dash for a range; write '{_DASH_RE.sub(' to ', m.group(0))}'",
        m.group(0)) for m in _RANGES.finditer(text)]


# --- identifying details ------------------------------------------------------------------------

# Capitalised words that are not people's names in safeguarding copy: organisations, services,
# campaigns, days and months. A run of capitalised words containing one is not flagged.
_KNOWN_WORDS_TEXT = """
a an the and of for in on at to by with from our your their this that these those every all any
each no not if when where what who how why is are be call contact visit find get help report
safeguarding together partnership partnerships board council city police service services nhs
trust foundation hub mash multi agency team group network alliance forum charity society
association centre center helpline line lines hospital healthcare health care university college
school academy project programme campaign week day month awareness national international world
united nations kingdom uk government executive committee unit office officer lead leads designated
practitioner practitioners family families children child young people person adult adults
carers carer early think neglect domestic abuse violence exploitation county criminal sexual
modern slavery trafficking mental wellbeing safer internet online safety bullying anti hate crime
loneliness elder memory suicide prevention honour orange white ribbon elimination women girls men
boys against stop black country west midlands ambulance fire rescue street road lane avenue park
square court church mosque temple gurdwara library station town hall house voluntary sector
community communities local authority practice review reviews learning training event events
conference annual summer winter spring autumn christmas easter eid diwali ramadan vaisakhi new
year monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december royal west east north south central primary
secondary high infant junior nursery academies colleges schools concern concerns worried
safeguarding's children's adults' people's women's men's week's day's annual report
"""
_KNOWN_WORDS = frozenset(_KNOWN_WORDS_TEXT.split())
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "cllr", "councillor"})
# Organisations of WST's calendar whose names contain personal-looking words.
_KNOWN_NAMES = ("Ann Craft Trust", "Karma Nirvana", "Clouds End", "Marmalade Trust", "Place2Be",
                "Stop Hate UK", "White Ribbon", "Carers UK", "NWG Network", "Mental Health Foundation")
_CAP_RUN = re.compile(r"(?<![\w'’-])[A-Z][a-z]+(?:['’]s)?(?:[-][A-Z][a-z]+)?"
                      r"(?:\s+[A-Z][a-z]+(?:['’]s)?(?:[-][A-Z][a-z]+)?)+")
_POSTCODE = re.compile(r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b")
# A school by its name: "Highfields School", "St Peter's Primary" (not "Primary Care").
_SCHOOL = re.compile(r"((?:[A-Z][\w'’.&-]*\s+){1,5})(School|Academy|College|Primary|Infants?|"
                     r"Juniors?|Nursery)\b(?!\s+(?:Care|Health|Network|Trust|Team|Mental|Prevention))")
# A first name with an age beside it: "Jayden, 10," or "Amira (14)".
_NAME_AGE = re.compile(r"(?<![\w'’])([A-Z][a-z]{2,})(?:,\s*|\s+\(\s*)(?:aged\s+)?(\d{1,2})(?:\s*\)|,)")
_SCHOOL_LEADS = frozenset({"the", "our", "your", "a", "any", "every", "each", "local", "this",
                           "their", "all", "at", "in", "primary", "secondary", "high", "junior",
                           "infant", "nursery", "school", "schools"})
_AGE = re.compile(r"\b(?:(?P<who>\w+)\s+)?(?:(?P<n>\d{1,2})[- ]years?[- ]old(?P<pl>s)?\b|"
                  r"aged\s+(?P<n2>\d{1,2})\b(?!\s*(?:to|-|–|and|or|\+|plus)\s*\d))")
_PLACE = re.compile(r"\b(?:from|in|at|near|of|living in|lives in)\s+(?:the\s+)?"
                    r"([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)")
_NOT_PLACES = frozenset({"year", "years", "school", "college", "care", "january", "february", "march",
                         "april", "may", "june", "july", "august", "september", "october",
                         "november", "december", "court", "hospital"})
_PLURAL_GROUPS = frozenset({"children", "people", "pupils", "students", "adults", "those",
                            "anyone", "everyone", "girls", "boys", "women", "men", "learners"})


def _allowed(name: str, allowed: Iterable[str]) -> bool:
    """True if `name` holds one of `allowed` (given in lower case)."""
    low = name.lower()
    return any(a in low for a in allowed)


def check_identifying(text: str, ctx: LintContext, item: str) -> list[Finding]:
    """identifying: possible names, postcodes, school names, or an age with a place."""
    allowed = tuple(a.lower() for a in (*ctx.allowed_names, *_KNOWN_NAMES))
    out: list[Finding] = []

    def flag(what: str, evidence: str, fix: str) -> None:
        out.append(_finding("identifying", WARNING, item,
            f"possible identifying detail ({what}): '{evidence}'; {fix}", evidence,
            needs_acceptance=True))

    clean = scoring_text(text)
    for sentence in sentences(clean):
        first = re.match(r"\W*\w+", sentence)
        start = first.end() if first else 0
        for m in _CAP_RUN.finditer(sentence):
            run = m.group(0).split()
            if m.start() < start:
                run = run[1:]  # a sentence's first word is capitalised anyway
            if len(run) < 2 and not (m.start() < start and m.group(0).split()[0].lower() in _TITLES):
                continue
            name = " ".join(run)
            lowered = [w.removesuffix("'s").removesuffix("’s").lower() for w in run]
            if _allowed(name, allowed) or any(w in _KNOWN_WORDS for w in lowered[1:]) \
                    or all(w in _KNOWN_WORDS for w in lowered):
                continue
            if lowered[0] in _KNOWN_WORDS and lowered[0] not in _TITLES and len(run) == 2:
                continue
            flag("a personal name?", name,
                 "remove it, or use a pseudonym the family or the published report uses, "
                 "or add it to [checks] allowed_names if it is a place or organisation")
    for m in _NAME_AGE.finditer(clean):
        name = m.group(1)
        if name.lower() not in _KNOWN_WORDS and name.lower() not in _NOT_PLACES \
                and not _allowed(name, allowed):
            flag("a name with an age", f"{name}, {m.group(2)}",
                 "remove the name or the age; together they identify a child")
    for m in _POSTCODE.finditer(clean):
        flag("a postcode", m.group(0), "remove the postcode; name the area at most")
    for m in _SCHOOL.finditer(clean):
        lead = [w for w in m.group(1).split() if w.lower() not in _SCHOOL_LEADS]
        if not lead:
            continue
        name = " ".join(m.group(0).split())
        # A place on the allow-list does not make its school allowed: only the full name does.
        if not any(a.lower() in (name.lower(), " ".join([*lead, m.group(2)]).lower())
                   for a in ctx.allowed_names):
            flag("a school name", name, "do not name a child's school")
    for sentence in sentences(clean):
        # the first place in the sentence, found once (not once per age: a long text of ages
        # and month names would be quadratic)
        place = next((p for p in _PLACE.finditer(sentence)
                      if p.group(1).split()[0].lower() not in _NOT_PLACES), None)
        if place is None:
            continue
        ages = [m.group(0).strip() for m in _AGE.finditer(sentence)
                if not (m.group("pl") or (m.group("who") or "").lower() in _PLURAL_GROUPS)]
        # "children aged 11", "14-year-olds": a group, not a person
        ages += [f"{m.group(1)}, {m.group(2)}" for m in _NAME_AGE.finditer(sentence)
                 if m.group(1).lower() not in _KNOWN_WORDS]
        for age in ages:
            flag("an age with a place", f"{age} … {place.group(0)}",
                 "give the age or the place, not both (jigsaw identification)")
    return out


# --- entry points -------------------------------------------------------------------------------

def lint_text_block(text: str, ctx: LintContext, item: str, *, social: bool = False,
                    reading: bool = True) -> list[Finding]:
    """The text rules on one block of copy (a post's text, a subject, a story's title or body)."""
    out = [*check_characters(text, item),
           *check_numbers(text, ctx.contacts, item), *check_website(text, ctx.contacts, item),
           *(check_reading(text, ctx, item) if reading else []), *check_emoji(text, item),
           *check_dash_ranges(text, item), *check_identifying(text, ctx, item)]
    if social:
        out += check_hashtags((t.text for t in find_hashtags(text)), item)
        out += check_links(text, item)
    return out


def lint_platform(rendered: RenderedPost, item: str) -> list[Finding]:
    """The rules that depend on the platform: its length and Instagram's."""
    return [*_at(check_length(rendered, item), "text"), *check_instagram(rendered, item)]


def lint_words(text: str, image: str, alt: str, link: str, ctx: LintContext,
               item: str) -> list[Finding]:
    """The rules on what a person wrote: the text (with its link), the image's alt text, and
    the link itself. The same on every platform, so a caller may check a post once."""
    about_link = _at(check_link(link, ctx, item, POST_SCHEMES), "link")
    link = link.strip()
    # the link is in the text too: its finding there would be the same one again
    words = [f for f in _at(lint_text_block(text, ctx, item, social=True), "text")
             if not (link and f.evidence == link and f.code in ("official-website", "link-scheme",
                                                                  *(g.code for g in about_link)))]
    return [*_at(check_image(image, alt, item, ctx), "alt" if alt.strip() else "image"),
            *about_link, *words]


def lint_post(rendered: RenderedPost, ctx: LintContext, item: str) -> list[Finding]:
    """Every rule on one rendered post; errors block publication."""
    return [*lint_platform(rendered, item),
            *lint_words(rendered.text, rendered.image, rendered.alt, rendered.link, ctx, item)]


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]+)[^)]*\)")
_VAGUE_LINK_TEXT = frozenset({"click here", "here", "read more", "more", "link", "this link",
                              "find out more", "click", "this"})


def markdown_to_text(md: str) -> str:
    """Markdown reduced to the words a reader reads (link text kept, markup dropped)."""
    text = _MD_LINK.sub(lambda m: m.group(1), md)
    text = re.sub(r"^\s{0,3}(?:#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s?)", "", text, flags=re.MULTILINE)
    return re.sub(r"(\*\*|__|\*|_|`)", "", text)


def check_link_text(link: str, link_text: str, item: str) -> list[Finding]:
    """link-text: a link whose text does not say where it goes ("click here")."""
    if link and link_text.strip().lower().strip(".!: ") in _VAGUE_LINK_TEXT:
        return [_finding("link-text", WARNING, item,
            f"link text '{link_text}' does not say where it goes; describe the page "
            f"(e.g. 'Report a concern about a child')", link_text)]
    return []


class _EmailScan(HTMLParser):
    """The parts of an email's HTML the rules look at: <html lang>, <title>, <img> without alt."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.title = ""
        self.in_title = False
        self.images_without_alt: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "title":
            self.in_title = True
        elif tag == "img" and "alt" not in a:  # alt="" is right for a decorative image
            self.images_without_alt.append(a.get("src") or "(no src)")

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data


def check_email(rendered: RenderedBulletin, item: str) -> list[Finding]:
    """email-lang, email-title, alt-missing (in the HTML, e.g. social icons), text-part-missing."""
    scan = _EmailScan()
    scan.feed(rendered.html)
    out = []
    if (scan.lang or "").lower() != "en-gb":
        out.append(_finding("email-lang", WARNING, item,
            f"the email's <html lang> is '{scan.lang or 'missing'}'; set lang=\"en-GB\" so screen "
            f"readers use British English", scan.lang or ""))
    if " ".join(scan.title.split()) != " ".join(rendered.subject.split()):
        out.append(_finding("email-title", WARNING, item,
            f"the email's <title> '{scan.title.strip()}' differs from the subject "
            f"'{rendered.subject}'; make them the same", scan.title.strip()))
    for src in scan.images_without_alt:
        out.append(_finding("alt-missing", ERROR, item,
            f"an image in the email HTML ({src}) has no alt attribute; set alt (social icons too)",
            src))
    if not rendered.text.strip():
        out.append(_finding("text-part-missing", ERROR, item,
            "the email has no plain-text part; write it from the same content as the HTML"))
    size = len(rendered.html.encode("utf-8"))
    if size > EMAIL_CLIP:
        out.append(_finding("email-size", WARNING, item,
            f"the email is {size // 1000} KB; Gmail clips an email over 102 KB, hiding the rest "
            f"(and the unsubscribe link) behind 'view entire message': shorten the stories",
            f"{size // 1000} KB"))
    return out


def _at(findings: Iterable[Finding], *loc: str | int) -> list[Finding]:
    """`findings`, located at key `loc` of the bulletin's file."""
    return [replace(f, loc=loc) for f in findings]


def lint_bulletin(bulletin: BulletinInput, rendered: RenderedBulletin | None, ctx: LintContext,
                  item: str) -> list[Finding]:
    """Every rule on a bulletin: subject, preheader, intro, each story, and the rendered email.
    Each finding about a part of the file carries its key (`loc`), so the message names its line."""
    out: list[Finding] = [] if rendered is None else check_email(rendered, item)
    if not bulletin.subject.strip():
        out += _at([_finding("subject-missing", ERROR, item, "the bulletin has no subject; add one")],
                   "subject")
    if not bulletin.preheader.strip():
        out += _at([_finding("preheader-missing", WARNING, item,
            "no preheader; add one sentence that previews the bulletin in the inbox")], "preheader")
    # A reading age of a few words is noise: subject, preheader and titles are not scored.
    out += _at(lint_text_block(bulletin.subject, ctx, f"{item} subject", reading=False), "subject")
    out += _at(lint_text_block(bulletin.preheader, ctx, f"{item} preheader", reading=False),
               "preheader")
    if bulletin.intro:
        out += _at([*lint_text_block(markdown_to_text(bulletin.intro), ctx, f"{item} intro"),
                    *_markdown_links(bulletin.intro, ctx, f"{item} intro")], "intro")
    for i, story in enumerate(bulletin.stories):
        where = f"{item} story {i + 1} '{_quote(story.title, 6)}'"
        out += _at(lint_text_block(story.title, ctx, f"{where} title", reading=False),
                   "story", i, "title")
        out += _at([*lint_text_block(markdown_to_text(story.body), ctx, where),
                    *_markdown_links(story.body, ctx, where)], "story", i, "body")
        out += _at([*check_link_text(story.link, story.link_text, where),
                    *check_numbers(story.link_text, ctx.contacts, f"{where} link text"),
                    *check_website(story.link_text, ctx.contacts, f"{where} link text")],
                   "story", i, "link_text" if story.link_text else "link")
        out += _at(check_link(story.link, ctx, where, EMAIL_SCHEMES), "story", i, "link")
        out += _at(check_image(story.image, story.alt, where, ctx), "story", i,
                   "alt" if story.alt.strip() else "image")
    return out


def _markdown_links(md: str, ctx: LintContext, item: str) -> list[Finding]:
    out = []
    for m in _MD_LINK.finditer(md):
        if m.group(0).startswith("!"):
            out += check_image(m.group(2), m.group(1), item, ctx)  # ![alt](src)
        else:
            out += check_link_text(m.group(2), m.group(1), item)
            out += check_link(m.group(2), ctx, item, EMAIL_SCHEMES)
    return out
