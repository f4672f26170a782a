"""The monthly e-bulletin: MJML (compiled in-process) to 600 px email HTML, plain text and a web copy."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup, escape
from mjml import mjml2html

from renderers.dates import MONTHS
from renderers.model import Brand, BulletinInput, Contacts, RenderedBulletin
from renderers.text import add_utm, safe_href

FOOTERS = ("mailchimp", "smtp", "archive")
WIDTH = 78           # plain-text wrap column
CONTENT_WIDTH = 552  # 600 px body less 24 px padding each side: the width images are drawn at


# Colours chosen for contrast: white on navy and navy links on white both pass WCAG AAA.
_NAVY = "#0b2d4f"
_LINK = "#1d4f91"
_TEXT = "#0b0c0c"
_STYLE = {
    "a": f"color:{_LINK};text-decoration:underline;",
    "h3": f"font-size:18px;line-height:1.3;margin:20px 0 8px;color:{_NAVY};",
    "h4": f"font-size:16px;line-height:1.3;margin:16px 0 8px;color:{_NAVY};",
    "ul": "margin:0 0 13px;padding-left:24px;",
    "ol": "margin:0 0 13px;padding-left:24px;",
    "li": "margin:0 0 6px;",
    "blockquote": "margin:13px 0;padding:0 0 0 12px;border-left:4px solid #b1b4b6;",
    "code": "font-family:Consolas, Menlo, monospace;font-size:15px;",
}
# System font stacks only: MRML would otherwise link Google Fonts for some family names.
_FONT = "Arial, Helvetica, sans-serif"


def _demote_and_style(state: StateCore) -> None:
    """Markdown headings sit under the story's h2, links get UTM tags, and styles go inline."""
    link = state.env.get("link", lambda url: url)
    tokens = list(state.tokens)
    for token in state.tokens:
        tokens.extend(token.children or ())
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            # a body's "# Heading" is a sub-heading of the story title (h2), so h1 → h3
            token.tag = f"h{min(int(token.tag[1]) + 2, 6)}"
        if token.type == "link_open":
            token.attrSet("href", link(str(token.attrGet("href") or "")))
        if not (token.type.endswith("_open") or token.type == "code_inline"):
            continue
        # the deepest headings share h4's look: smaller would read as body text
        style = _STYLE.get("h4" if token.tag in ("h5", "h6") else token.tag)
        if style:
            token.attrSet("style", style)


def _render_image(self, tokens: list[Token], idx: int, options, env) -> str:
    # An image inside a story body would arrive without a width and perhaps without alt
    # text; stories carry their picture in `image` and `alt`, so a body image shows its words.
    return str(escape(self.renderInlineAsText(tokens[idx].children or [], options, env)))


# html=False: raw HTML written in Markdown is escaped and shown as text, never passed through.
_MD = MarkdownIt("commonmark", {"html": False})
_MD.core.ruler.push("wst_email", _demote_and_style)
_MD.add_render_rule("image", _render_image)

_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("mjml.j2",), disabled_extensions=("txt.j2",),
                                 default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class _StoryView:
    title: str
    body_html: Markup
    body_text: str
    link: str
    link_text: str
    image: str
    alt: str


def month_name(month: str) -> str:
    """'2026-12' → 'December 2026' (no locale, no clock)."""
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def _host(url: str) -> str:
    return (urlsplit(url if "//" in url else "//" + url).hostname or "").lower().removeprefix("www.")


def image_url(image_base_url: str, image: str) -> str:
    """Where a story image is published: content/images/x.png → <image_base_url>x.png."""
    if urlsplit(image).scheme in ("http", "https"):
        return image
    relative = image.lstrip("/").removeprefix("images/")
    return urljoin(image_base_url.rstrip("/") + "/", quote(relative))


def _linker(brand: Brand, contacts: Contacts, month: str, tracked: bool):
    own = tuple(sorted({_host(brand.website), _host(contacts.website)} - {""}))
    campaign = f"bulletin-{month}"

    def link(url: str) -> str:
        # a relative link means a page on the partnership's site; email has no base URL
        if url and not urlsplit(url).scheme and not url.startswith(("#", "//")):
            url = urljoin(brand.website.rstrip("/") + "/", url.lstrip("/"))
        if not tracked or urlsplit(url).scheme not in ("http", "https"):
            return url
        return add_utm(url, source="bulletin", medium="email", campaign=campaign, own_hosts=own)

    return link


def _wrap(text: str, first: str = "", rest: str = "") -> str:
    lines = []
    for i, line in enumerate(text.split("\n")):
        # long URLs stay whole so they remain clickable in plain-text readers
        lines.append(textwrap.fill(line, WIDTH, initial_indent=first if i == 0 else rest,
                                   subsequent_indent=rest, break_long_words=False,
                                   break_on_hyphens=False) or (first if i == 0 else rest).rstrip())
    return "\n".join(lines)


def _inline_text(tokens: list[Token], link) -> str:
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    for token in tokens:
        if token.type in ("text", "code_inline"):
            out.append(token.content)
        elif token.type == "softbreak":
            out.append(" ")
        elif token.type == "hardbreak":
            out.append("\n")
        elif token.type == "image":
            out.append(_inline_text(token.children or [], link))
        elif token.type == "link_open":
            stack.append((link(str(token.attrGet("href") or "")), len(out)))
        elif token.type == "link_close" and stack:
            href, start = stack.pop()
            words = "".join(out[start:])
            if words.strip() and words.strip() not in (href, href.removeprefix("mailto:")):
                out.append(f" ({href})")
            else:  # an autolink: the words are the address already
                out[start:] = [href.removeprefix("mailto:")]
    return "".join(out)


def markdown_text(source: str, link=lambda url: url) -> str:
    """Markdown reduced to wrapped plain text: links as 'text (url)', lists with '- '."""
    blocks: list[str] = []
    lists: list[list] = []     # [ordered, next number] per open list
    marker: str | None = None  # the list marker waiting for the item's first block
    quote_depth = 0
    tight = False              # the paragraph being read is in a tight list (markdown-it hides it)
    list_opened = False        # the next block is the first of a top-level list: keep the gap
    for token in _MD.parse(source):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([kind.startswith("ordered"), int(token.attrGet("start") or 1)])
            list_opened = len(lists) == 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            ordered, number = lists[-1]
            marker = f"{number}. " if ordered else "- "
            lists[-1][1] += 1
        elif kind == "blockquote_open":
            quote_depth += 1
        elif kind == "blockquote_close":
            quote_depth -= 1
        elif kind == "paragraph_open":
            tight = token.hidden
        elif kind in ("inline", "fence", "code_block", "hr"):
            # a nested list lines up under its parent item's text, past the parent's marker
            indent = "> " * quote_depth + "".join(" " * (3 if o else 2) for o, _ in lists[:-1])
            first = rest = indent
            if lists:
                width = 3 if lists[-1][0] else 2
                first = indent + (marker or " " * width)
                rest = indent + " " * width
                marker = None
            if kind == "inline":
                text = _wrap(_inline_text(token.children or [], link), first, rest)
            elif kind == "hr":
                text = first + "-" * 20
            else:  # code is shown as written, indented, never re-wrapped
                text = "\n".join(rest + "    " + line for line in token.content.rstrip("\n").split("\n"))
            # items of a tight list follow line by line; everything else is a paragraph apart
            close = kind == "inline" and tight and bool(lists) and not list_opened
            blocks.append(("\n" if close else "\n\n") + text if blocks else text)
            list_opened = False
            tight = False
    return "".join(blocks)


def _body_html(source: str, link) -> Markup:
    # markdown-it escapes every raw tag (html=False), so its output is safe to mark up
    return Markup(_MD.render(source, {"link": link}))


def markdown_html(source: str) -> Markup:
    """Markdown as the email's HTML shows it (raw HTML escaped), its links as written: for a
    preview while it is being written."""
    return _body_html(source, lambda url: url)


def _stories(b: BulletinInput, link, image_base_url: str) -> list[_StoryView]:
    views = []
    for story in b.stories:
        if story.image and not story.alt.strip():
            raise ValueError(f"story {story.title!r} has an image but no alt text; every image "
                             f"in the bulletin needs alt text")
        href = safe_href(link(story.link)) if story.link else ""
        words = story.link_text.strip() or (f"Find out more on {_host(story.link)}" if href else "")
        views.append(_StoryView(
            title=story.title,
            body_html=_body_html(story.body, link),
            body_text=markdown_text(story.body, link),
            link=href,
            link_text=words,
            image=image_url(image_base_url, story.image) if story.image else "",
            alt=story.alt.strip(),
        ))
    return views


def _context(b: BulletinInput, brand: Brand, contacts: Contacts, footer: str,
             image_base_url: str, unsubscribe_url: str, tracked: bool) -> dict:
    link = _linker(brand, contacts, b.month, tracked)
    website = "https://" + contacts.website.removeprefix("https://").removeprefix("http://")
    return {
        "b": b,
        "brand": brand,
        "contacts": contacts,
        "footer": footer,
        "unsubscribe_url": unsubscribe_url,
        "month_name": month_name(b.month),
        "year": b.month[:4],
        "intro_html": _body_html(b.intro, link) if b.intro.strip() else "",
        "intro_text": markdown_text(b.intro, link) if b.intro.strip() else "",
        "stories": _stories(b, link, image_base_url),
        "website_url": link(website),
        "brand_url": link(brand.website),
        "font": _FONT,
        "navy": _NAVY,
        "link_colour": _LINK,
        "text_colour": _TEXT,
        "content_width": CONTENT_WIDTH,
        "style": _STYLE,
        # invisible padding after the preheader stops inboxes pulling body text into the preview
        "preview_pad": Markup("&#847;&zwnj;&nbsp;" * 40),
        "wrap": _wrap,
        "rule": "-" * WIDTH,
    }


def _mjml(context: dict) -> str:
    return _ENV.get_template("bulletin.mjml.j2").render(context)


def _compile(mjml: str) -> str:
    # fonts={} so MRML links no web fonts: the stacks above are all system fonts
    return mjml2html(mjml, fonts={}, disable_comments=True)


def render_bulletin(b: BulletinInput, *, brand: Brand, contacts: Contacts, footer: str,
                    image_base_url: str, unsubscribe_url: str = "") -> RenderedBulletin:
    """The bulletin as email HTML and plain text (with `footer`'s unsubscribe) plus its web copy."""
    if footer not in FOOTERS:
        raise ValueError(f"footer must be one of {', '.join(FOOTERS)}, not {footer!r}")
    if footer == "smtp" and not unsubscribe_url:
        raise ValueError("an SMTP bulletin needs unsubscribe_url (the channel's unsubscribe_url)")
    email = _context(b, brand, contacts, footer, image_base_url, unsubscribe_url,
                     tracked=footer != "archive")
    archive = _context(b, brand, contacts, "archive", image_base_url, "", tracked=False)
    mjml = _mjml(email)
    html = _compile(mjml)
    archive_html = html if footer == "archive" else _compile(_mjml(archive))
    text = _ENV.get_template("bulletin.txt.j2").render(email)
    return RenderedBulletin(mjml=mjml, html=html, text=text, archive_html=archive_html,
                            subject=b.subject, preheader=b.preheader)
