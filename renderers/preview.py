"""The dry-run preview: a static site that opens offline and shows every item as its channel will."""

from __future__ import annotations

import calendar
import functools
import hashlib
import html
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from renderers.dates import DAYS, DAYS_SHORT, MONTHS, MONTHS_SHORT
from renderers.model import Brand, Finding, RenderedBulletin, RenderedPost
from renderers.text import safe_href

LONDON = ZoneInfo("Europe/London")
TEMPLATES = Path(__file__).parent / "templates" / "preview"
MARKER = ".wst-preview"  # marks a folder this module wrote, so a rebuild may clear its old pages
ERROR, WARNING = "error", "warning"


# How each platform's card is labelled and coloured (the colour is a border or swatch only:
# text always stays dark on light, so contrast never depends on a brand colour).
PLATFORMS: dict[str, tuple[str, str]] = {
    "x": ("X", "#14171a"),
    "facebook": ("Facebook", "#1877f2"),
    "instagram": ("Instagram", "#c13584"),
    "bluesky": ("Bluesky", "#0a7aff"),
    "mastodon": ("Mastodon", "#6364ff"),
    "linkedin": ("LinkedIn", "#0a66c2"),
    "manual": ("Copy and paste", "#128c7e"),
    "whatsapp": ("WhatsApp", "#128c7e"),
    "mailchimp": ("E-bulletin (Mailchimp)", "#d4a900"),
    "smtp": ("E-bulletin (email)", "#7a5c00"),
}
_SPARE_COLOURS = ("#8a4fff", "#e8590c", "#2b8a3e", "#c2255c", "#1098ad", "#5c940d", "#862e9c",
                  "#d9480f", "#364fc7", "#087f5b")
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_TAG = re.compile(r"(?<![\w&/])#\w+")
_REMOTE = re.compile(r"^https?://", re.IGNORECASE)
_PLACEHOLDER = (
    "data:image/svg+xml;charset=utf-8,"
    "%3Csvg xmlns='http://www.w3.org/2000/svg' width='600' height='300' viewBox='0 0 600 300'%3E"
    "%3Crect width='600' height='300' fill='%23e6e9ee'/%3E"
    "%3Ctext x='300' y='155' font-family='sans-serif' font-size='22' text-anchor='middle' "
    "fill='%23444c56'%3EImage not available offline%3C/text%3E%3C/svg%3E"
)


@dataclass(frozen=True)
class PreviewItem:
    """One planned publication, rendered, with its check results: one page of the preview."""

    id: str
    kind: str                       # "post" | "bulletin"
    campaign: str
    channel: str                    # channel name in config
    platform: str                   # the channel's kind (x, facebook, …, mailchimp, smtp, manual)
    due: datetime                   # aware
    title: str
    status: str                     # the one status (pipeline.status.Status): held, scheduled, …
    note: str                       # the status's reason in words
    post: RenderedPost | None
    bulletin: RenderedBulletin | None
    findings: tuple[Finding, ...]
    channel_title: str = ""         # the channel's readable name from config, if known
    handle: str = ""                # the account's public handle, if known
    status_label: str = ""          # the status with its reason ('held: pause'); default status
    provisional: str = ""           # why the date is not confirmed yet ('' when it is)

    @property
    def label(self) -> str:
        """The status in words, with its reason."""
        return self.status_label or self.status


@dataclass(frozen=True)
class PreviewSummary:
    """What a preview build wrote: counts and where to open it."""

    items: int
    errors: int
    warnings: int
    index: Path
    needs_acceptance: int = 0


def page_name(item_id: str) -> str:
    """A stable, file-system-safe page name for an item id (slashes and odd characters removed)."""
    parts = [re.sub(r"[^a-z0-9._-]+", "-", p.lower()).strip("-.") for p in item_id.split("/")]
    slug = "--".join(p for p in parts if p)[:90].strip("-.") or "item"
    digest = hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}"


def local_time(moment: datetime, tz: tzinfo = LONDON) -> str:
    """A due time as people read it, in local time: 'Tue 1 Dec 2026 10:00'."""
    t = moment.astimezone(tz)
    return f"{DAYS_SHORT[t.weekday()]} {t.day} {MONTHS_SHORT[t.month - 1]} {t.year} {t:%H:%M}"


def _long_date(day: date) -> str:
    return f"{DAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ---------------------------------------------------------------------------------------------
# text as the platforms show it
# ---------------------------------------------------------------------------------------------

def _linkify(text: str) -> Markup:
    """Escaped text with URLs and hashtags marked up, characters and line breaks unchanged."""
    out: list[str] = []
    pos = 0
    pattern = re.compile(f"{_URL.pattern}|{_TAG.pattern}")
    for m in pattern.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        token = m.group(0)
        if token.startswith("#"):
            out.append(f'<span class="tag">{html.escape(token)}</span>')
        else:
            out.append(f'<a href="{html.escape(token)}" rel="noopener noreferrer">'
                       f"{html.escape(token)}</a>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return Markup("".join(out))


def _with_facets(post: RenderedPost) -> Markup:
    """Bluesky text with its facets applied (only faceted links and tags are live there)."""
    raw = post.text.encode("utf-8")
    facets = sorted(post.facets, key=lambda f: f.byte_start)
    out: list[str] = []
    pos = 0
    for f in facets:
        if f.byte_start < pos or f.byte_end > len(raw) or f.byte_start >= f.byte_end:
            continue
        out.append(html.escape(raw[pos:f.byte_start].decode("utf-8", "replace")))
        shown = html.escape(raw[f.byte_start:f.byte_end].decode("utf-8", "replace"))
        if f.kind == "link":
            out.append(f'<a href="{html.escape(f.value)}" rel="noopener noreferrer">{shown}</a>')
        else:
            out.append(f'<span class="tag" title="{html.escape(f.kind)}: '
                       f'{html.escape(f.value)}">{shown}</span>')
        pos = f.byte_end
    out.append(html.escape(raw[pos:].decode("utf-8", "replace")))
    return Markup("".join(out))


@dataclass(frozen=True)
class _Count:
    label: str        # "247 / 280 weighted characters"
    over: bool
    detail: str       # the words that say whether it fits
    percent: int      # for the bar (decorative)


def _counts(post: RenderedPost, platform_label: str) -> list[_Count]:
    out = []
    pairs = [(post.length, post.limit, post.unit or "characters")]
    if post.byte_limit:
        pairs.append((post.byte_length, post.byte_limit, "bytes (UTF-8)"))
    for length, limit, unit in pairs:
        over = bool(limit) and length > limit
        if not limit:
            detail = "No limit known for this channel"
        elif over:
            detail = f"Over the limit by {length - limit:,}: {platform_label} will refuse this post"
        else:
            detail = f"Within the limit ({limit - length:,} to spare)"
        label = f"{length:,} / {limit:,} {unit}" if limit else f"{length:,} {unit}"
        percent = min(100, round(100 * length / limit)) if limit else 0
        out.append(_Count(label, over, detail, percent))
    return out


# ---------------------------------------------------------------------------------------------
# images: copied into the site; remote ones in email HTML mapped to local copies when possible
# ---------------------------------------------------------------------------------------------

class _Images:
    def __init__(self, images_dir: Path | None, out: Path):
        self.images_dir = images_dir.resolve() if images_dir else None
        self.out = out
        self.copied: dict[str, str] = {}

    def _find(self, relative: str) -> Path | None:
        if not self.images_dir or not relative:
            return None
        for base in (self.images_dir, self.images_dir / "images"):
            candidate = (base / relative).resolve()
            if candidate.is_relative_to(self.images_dir) and candidate.is_file():
                return candidate
        return None

    def _copy(self, found: Path) -> str:
        """The site-relative path of a copy of `found` under images/."""
        key = str(found)
        if key not in self.copied:
            rel = found.relative_to(self.images_dir)
            safe = [re.sub(r"[^A-Za-z0-9._-]+", "-", p).strip(".") or "_" for p in rel.parts]
            target = self.out / "images" / Path(*safe)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(found, target)
            self.copied[key] = "images/" + "/".join(safe)
        return self.copied[key]

    def local(self, image: str) -> str:
        """The site-relative path of a post's image (relative to content/), or '' if missing."""
        if _REMOTE.match(image):
            return self.remote(image)
        found = self._find(image.lstrip("/"))
        return self._copy(found) if found else ""

    def remote(self, url: str) -> str:
        """A local copy of a published image, found by the longest matching end of its path."""
        parts = [p for p in PurePosixPath(unquote(urlsplit(url).path)).parts if p != "/"]
        for i in range(len(parts)):
            found = self._find("/".join(parts[i:]))
            if found:
                return self._copy(found)
        return ""


class _ServedImages(_Images):
    """Images where a web server serves the content folder at `prefix` (nothing is copied)."""

    def __init__(self, images_dir: Path | None, prefix: str):
        super().__init__(images_dir, Path("."))
        self.prefix = prefix

    def _copy(self, found: Path) -> str:
        assert self.images_dir is not None
        return self.prefix + "/".join(found.relative_to(self.images_dir).parts)


def _offline_email(source: str, images: _Images, depth: str) -> tuple[str, list[str]]:
    """The email HTML with remote images swapped for local copies and remote styles removed."""
    notes: list[str] = []

    def image(url: str) -> str:
        local = images.remote(url)
        if local:
            return depth + local
        notes.append(f"{url} is not in the content folder: shown as a grey placeholder")
        return _PLACEHOLDER

    def attr(m: re.Match) -> str:
        return f"{m.group(1)}{m.group(2)}{html.escape(image(html.unescape(m.group(3))))}{m.group(2)}"

    def css_url(m: re.Match) -> str:
        return f"url({m.group(1)}{image(m.group(2))}{m.group(1)})"

    def link(m: re.Match) -> str:
        tag = m.group(0)
        if re.search(r"""href\s*=\s*["']?https?://""", tag, re.I):
            href = re.search(r"""href\s*=\s*["']?([^"'\s>]+)""", tag, re.I)
            notes.append(f"removed a remote stylesheet ({href.group(1) if href else 'unknown'});"
                         " the email will load it, the preview shows the fallback fonts")
            return "<!-- remote stylesheet removed for the offline preview -->"
        return tag

    def imports(m: re.Match) -> str:
        notes.append(f"removed a remote @import ({m.group(1)}); the email will load it")
        return "/* remote @import removed for the offline preview */"

    out = re.sub(r"<link\b[^>]*>", link, source, flags=re.I)
    out = re.sub(r"""@import\s+(?:url\()?\s*["']?(https?://[^"')\s;]+)["']?\s*\)?[^;]*;""",
                 imports, out, flags=re.I)
    out = re.sub(r"""(\b(?:src|background)\s*=\s*)(["'])(https?://[^"']+)\2""", attr, out,
                 flags=re.I)
    out = re.sub(r"""url\(\s*(["']?)(https?://[^"')]+)\1\s*\)""", css_url, out, flags=re.I)
    return out, notes


# ---------------------------------------------------------------------------------------------
# the site
# ---------------------------------------------------------------------------------------------

@functools.cache
def _environment() -> Environment:
    # one for the process: it keeps its compiled templates (the web workspace renders an item's
    # body per request, and compiling _item_body.html cost four fifths of an item page)
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(("html", "j2")),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["local_time"] = local_time
    env.filters["linkify"] = _linkify
    env.filters["safe_href"] = safe_href
    env.filters["plural"] = _plural
    return env


def _colours(items: list[PreviewItem]) -> dict[str, str]:
    """One colour per channel: the platform's own for the first channel of a kind."""
    used: set[str] = set()
    out: dict[str, str] = {}
    spare = iter(_SPARE_COLOURS * 4)
    for item in sorted(items, key=lambda i: (i.channel != i.platform, i.channel)):
        if item.channel in out:
            continue
        colour = PLATFORMS.get(item.platform, ("", ""))[1]
        if not colour or colour in used:
            colour = next(spare, "#495057")
        used.add(colour)
        out[item.channel] = colour
    return out


def _months(start: date, end: date, days: list[date]) -> list[tuple[int, int]]:
    first = min([start, *days])
    last = max([end, *days])
    out = []
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


@dataclass(frozen=True)
class _View:
    """What the templates need about one item."""

    item: PreviewItem
    page: str               # items/<name>.html
    email_page: str         # items/<name>.email.html for a bulletin
    archive_page: str
    day: date
    time: str               # HH:MM local
    when: str               # "Tue 1 Dec 2026 10:00"
    colour: str
    channel_label: str
    platform_label: str
    errors: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    others: tuple[Finding, ...]
    acceptance: int
    image: str              # site-relative, or ""
    image_missing: str      # the path asked for, when it could not be found
    counts: tuple[_Count, ...]
    body: Markup
    email_notes: tuple[str, ...]
    email_html: str
    archive_html: str

    @property
    def over(self) -> bool:
        return any(c.over for c in self.counts)


def build_preview(items: list[PreviewItem], out: Path, *, brand: Brand, start: date, end: date,
                  generated_at: datetime, images_dir: Path | None,
                  on_item: Callable[[], None] | None = None, tz: tzinfo = LONDON,
                  status_order: Sequence[str] = ()) -> PreviewSummary:
    """Write the static preview site for `items` into `out` and return its counts and index path
    (the summary counts statuses in `status_order`)."""
    ids = [i.id for i in items]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"item ids must be unique; repeated: {', '.join(duplicates)}")
    out = Path(out)
    _clear(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by renderers.preview; safe to delete\n", encoding="utf-8")
    for sub in ("items", "assets"):
        (out / sub).mkdir(exist_ok=True)
    for asset in ("preview.css", "preview.js", "favicon.svg"):
        shutil.copyfile(TEMPLATES / asset, out / "assets" / asset)

    env = _environment()
    images = _Images(images_dir, out)
    colours = _colours(items)
    ordered = sorted(items, key=lambda i: (i.due, i.kind, i.campaign, i.id))
    views = [_view(i, colours, images, tz) for i in ordered]
    common = {"brand": brand, "generated": local_time(generated_at, tz),
              "generated_iso": generated_at.isoformat(), "range": _range_text(start, end),
              "colours": colours, "platforms": PLATFORMS}

    errors = sum(len(v.errors) for v in views)
    warnings = sum(len(v.warnings) for v in views)
    acceptance = sum(v.acceptance for v in views)
    item_page = env.get_template("item.html")
    for n, v in enumerate(views):
        if v.item.bulletin is not None:
            (out / v.email_page).write_text(v.email_html, encoding="utf-8")
            (out / v.archive_page).write_text(v.archive_html, encoding="utf-8")
        prev = views[n - 1] if n else None
        nxt = views[n + 1] if n + 1 < len(views) else None
        (out / v.page).write_text(item_page.render(
            **common, root="../", v=v, item=v.item, prev=prev, next=nxt,
            position=n + 1, total=len(views)), encoding="utf-8")
        if on_item is not None:
            on_item()

    campaigns = sorted({v.item.campaign for v in views})
    channels = sorted({v.item.channel for v in views})
    index = out / "index.html"
    index.write_text(env.get_template("index.html").render(
        **common, root="", views=views, campaigns=campaigns, channels=channels,
        channel_labels={v.item.channel: v.channel_label for v in views},
        months=_calendar(start, end, views), errors=errors, warnings=warnings,
        acceptance=acceptance,
        with_errors=[v for v in views if v.errors],
        with_warnings=[v for v in views if v.warnings and not v.errors],
        statuses=_status_counts(views, status_order),
        provisional=sum(1 for v in views if v.item.provisional),
    ), encoding="utf-8")
    return PreviewSummary(items=len(views), errors=errors, warnings=warnings, index=index,
                          needs_acceptance=acceptance)


def _status_counts(views: list[_View], order: Sequence[str]) -> list[tuple[str, int]]:
    """How many items have each status, in `order` (then in the order they are first met)."""
    counts: dict[str, int] = {}
    for v in views:
        counts[v.item.status] = counts.get(v.item.status, 0) + 1
    rank = {status: n for n, status in enumerate(order)}
    return sorted(counts.items(), key=lambda kv: rank.get(kv[0], len(rank)))


def _clear(out: Path) -> None:
    """Remove a previous build's pages, only from a folder this module wrote."""
    if not (out / MARKER).is_file():
        return
    for sub in ("items", "images", "assets"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "index.html").unlink(missing_ok=True)


def _range_text(start: date, end: date) -> str:
    return f"{_long_date(start)} to {_long_date(end)}"


def _view(item: PreviewItem, colours: dict[str, str], images: _Images, tz: tzinfo, *,
          pages: tuple[str, str, str] | None = None, depth: str = "../") -> _View:
    name = page_name(item.id)
    page, email_page, archive_page = pages or (f"items/{name}.html", f"items/{name}.email.html",
                                               f"items/{name}.archive.html")
    local = item.due.astimezone(tz)
    platform_label = PLATFORMS.get(item.platform, (item.platform or "Other", ""))[0]
    findings = list(item.findings)
    image, missing = "", ""
    counts: list[_Count] = []
    body = Markup("")
    if item.post is not None:
        post = item.post
        if post.image:
            image = images.local(post.image)
            if not image:
                missing = post.image
                findings.append(Finding(
                    code="image-file", severity=WARNING,
                    message=(f"{item.id}: the image '{post.image}' was not found in the content "
                             "folder, so the preview cannot show it; add the file or fix the path"),
                    evidence=post.image))
        counts = _counts(post, platform_label)
        body = _with_facets(post) if post.facets else _linkify(post.text)
    email_html = archive_html = ""
    notes: list[str] = []
    if item.bulletin is not None:
        email_html, notes = _offline_email(item.bulletin.html, images, depth)
        archive_html, _ = _offline_email(item.bulletin.archive_html, images, depth)
    elif item.post is None:
        findings.append(Finding(
            code="not-rendered", severity=WARNING,
            message=f"{item.id}: nothing was rendered for this item, so there is nothing to show",
        ))
    errors = tuple(f for f in findings if f.severity == ERROR)
    warnings = tuple(f for f in findings if f.severity == WARNING)
    others = tuple(f for f in findings if f.severity not in (ERROR, WARNING))
    return _View(
        item=item, page=page, email_page=email_page, archive_page=archive_page,
        day=local.date(), time=f"{local:%H:%M}",
        when=local_time(item.due, tz), colour=colours.get(item.channel, "#495057"),
        channel_label=item.channel_title or item.channel, platform_label=platform_label,
        errors=errors, warnings=warnings, others=others,
        acceptance=sum(1 for f in findings if f.needs_acceptance),
        image=image, image_missing=missing, counts=tuple(counts), body=body,
        email_notes=tuple(dict.fromkeys(notes)), email_html=email_html, archive_html=archive_html,
    )


@dataclass(frozen=True)
class ItemBody:
    """One item's checks and renderings as HTML for another page to embed (the web
    workspace's item page), and its bulletin's email and archive HTML, if any."""

    html: Markup
    email_html: str
    archive_html: str
    errors: int
    warnings: int


def item_body(item: PreviewItem, *, brand: Brand, images_dir: Path | None, media: str,
              email_page: str, archive_page: str, tz: tzinfo = LONDON) -> ItemBody:
    """What the preview's item page shows below its facts, exactly as the preview renders it,
    for a page served from the site root: images under `media` (the web server serves the
    content folder there), the email frames at `email_page` and `archive_page`."""
    images = _ServedImages(images_dir, media)
    v = _view(item, _colours([item]), images, tz, pages=("", email_page, archive_page), depth="")
    html = _environment().get_template("_item_body.html").render(
        item=item, v=v, brand=brand, root="/", platforms=PLATFORMS)
    return ItemBody(Markup(html), v.email_html, v.archive_html, len(v.errors), len(v.warnings))


def _calendar(start: date, end: date, views: list[_View]) -> list[dict]:
    by_day: dict[date, list[_View]] = {}
    for v in views:
        by_day.setdefault(v.day, []).append(v)
    months = []
    cal = calendar.Calendar(firstweekday=0)
    for y, m in _months(start, end, list(by_day)):
        weeks = []
        for week in cal.monthdatescalendar(y, m):
            weeks.append([{
                "date": d, "in_month": d.month == m, "in_range": start <= d <= end,
                "label": _long_date(d), "items": by_day.get(d, []) if d.month == m else [],
            } for d in week])
        count = sum(len(by_day.get(d, [])) for w in cal.monthdatescalendar(y, m)
                    for d in w if d.month == m)
        months.append({"title": f"{MONTHS[m - 1]} {y}", "id": f"month-{y:04d}-{m:02d}",
                       "weeks": weeks, "count": count})
    return months
