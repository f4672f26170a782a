"""Social posts rendered per platform: final text, length counted the platform's way, facets."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

import regex

from renderers.model import Facet, PostInput, RenderedPost
from renderers.text import add_utm, find_hashtags, find_urls, full_url, overlaps

X_LIMIT = 280
BLUESKY_GRAPHEMES = 300
BLUESKY_BYTES = 3000
BLUESKY_DISPLAY_MAX = 30  # a link longer than this is shown as its first 29 characters and "…"
MASTODON_LIMIT = 500
MASTODON_URL_LENGTH = 23  # Mastodon counts every link as 23 characters, whatever its length
X_URL_LENGTH = 23         # so does X (twitter-text's transformed_url_length)
FACEBOOK_LIMIT = 63206
INSTAGRAM_LIMIT = 2200
INSTAGRAM_HASHTAGS = 30
LINKEDIN_LIMIT = 3000
MANUAL_LIMIT = 65536  # WhatsApp's message limit

_GRAPHEME = regex.compile(r"\X")
# Mastodon counts a remote mention @user@instance as just @user.
_MENTION = regex.compile(r"(?<![\w@])@(\w+)@[\w.-]+\w")


def compose(p: PostInput, *, own_hosts: tuple[str, ...]) -> tuple[str, str]:
    """The final text and link: p.text, then the UTM-tagged link on its own line."""
    text = p.text.rstrip()
    if not p.link:
        return text, ""
    link = add_utm(p.link.strip(), source=p.channel, medium="social", campaign=p.campaign,
                   own_hosts=own_hosts)
    return (f"{text}\n{link}" if text else link), link


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters), as Bluesky and Mastodon count them."""
    return len(_GRAPHEME.findall(text))


def utf8_offsets(text: str, indexes: list[int]) -> dict[int, int]:
    """The UTF-8 byte offset of each code-point index in `indexes`, in one pass over `text`."""
    out: dict[int, int] = {}
    last = size = 0
    for index in sorted(set(indexes)):
        size += len(text[last:index].encode("utf-8"))
        out[index], last = size, index
    return out


def hashtags(text: str) -> tuple[str, ...]:
    """Hashtags in order, with '#'."""
    return tuple(s.text for s in find_hashtags(text))


def short_url(url: str) -> str:
    """A link as the Bluesky app shows it: no scheme, no www., no query (UTM tags) or fragment.

    Longer than 30 characters, it is cut to 29 and "…" is added, but never inside the host
    name: a cut host reads as another site (wolverhamptonsafeguarding.org…), and lint's
    official-website rule rightly flags it as a misspelling of the official one.
    """
    parts = urlsplit(full_url(url))
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host[4:] if host.lower().startswith("www.") else host
    path = "" if parts.path == "/" else parts.path
    shown = host + path
    if len(shown) <= BLUESKY_DISPLAY_MAX:
        return shown
    cut = BLUESKY_DISPLAY_MAX - 1 if len(host) < BLUESKY_DISPLAY_MAX - 1 else len(host) + 1
    return shown if cut >= len(shown) else shown[:cut] + "…"


def bluesky_text(text: str, p: PostInput, own_hosts: tuple[str, ...]) -> tuple[str, tuple[Facet, ...]]:
    """The text as sent to Bluesky and its facets, in text order.

    Each link is shown in its short form (short_url) and a link facet over exactly those bytes
    points to the full URL, with UTM tags when it is the partnership's site. Tag facets are found
    on the final text, so their offsets allow for the shortening. Offsets are UTF-8 bytes, end
    exclusive.
    """
    out: list[str] = []
    links: list[tuple[int, int, str]] = []  # code-point span in the final text, and the URI
    last = pos = 0
    for u in find_urls(text):
        uri = full_url(add_utm(u.text, source=p.channel, medium="social", campaign=p.campaign,
                               own_hosts=own_hosts))
        shown = short_url(u.text)
        out.append(text[last:u.start])
        pos += u.start - last
        out.append(shown)
        links.append((pos, pos + len(shown), uri))
        pos += len(shown)
        last = u.end
    out.append(text[last:])
    final = "".join(out)
    starts, ends = [a for a, _, _ in links], [b for _, b, _ in links]
    tags = [t for t in find_hashtags(final) if not overlaps(t.start, t.end, starts, ends)]
    # every offset in one pass over the text: one pass per facet grows as their product
    at = utf8_offsets(final, [i for a, b, _ in links for i in (a, b)] +
                      [i for t in tags for i in (t.start, t.end)])
    facets = [Facet(at[a], at[b], "link", uri) for a, b, uri in links]
    facets += [Facet(at[t.start], at[t.end], "tag", t.text[1:]) for t in tags]
    return final, tuple(sorted(facets, key=lambda f: f.byte_start))


def mastodon_length(text: str) -> int:
    """Length as Mastodon counts it: graphemes, every http(s) link 23, remote mentions as @user."""
    # Mastodon only treats links with a scheme as links (bare domains count letter by letter).
    out, last = [], 0
    for u in find_urls(text, without_protocol=False):
        out.append(text[last:u.start])
        out.append("x" * MASTODON_URL_LENGTH)
        last = u.end
    out.append(text[last:])
    return graphemes(_MENTION.sub(r"@\1", "".join(out)))


def _base(p: PostInput, text: str, link: str, **kw) -> RenderedPost:
    return RenderedPost(platform=p.platform, channel=p.channel, text=text, link=link,
                        image=p.image, alt=p.alt, byte_length=len(text.encode("utf-8")),
                        hashtags=hashtags(text), **kw)


# Characters twitter-text weighs 1 (its v3 ranges) that can never begin an emoji (© and ® can):
# text made only of these weighs its length, links aside.
_WEIGHT_ONE = re.compile("[\u0000-\u00a8\u00aa-\u00ad\u00af-\u10ff\u2000-\u200d\u2010-\u201f"
                         "\u2032-\u2037]*")
_LINE_END = re.compile(r"\r\n|\r")


def x_length(text: str) -> int:
    """X's weighted length, as twitter-text's parse_tweet counts it, in time linear in the text.

    parse_tweet's own link search takes minutes on a word of many dots, and its emoji scan a
    millisecond a post; so its count is made here, by its rules (links 23, an emoji 2, each
    character by its weight), with the links found by find_urls. Most copy is plain Latin text,
    whose count is its length with each link as 23, without the emoji scan at all."""
    normal = _LINE_END.sub("\n", unicodedata.normalize("NFC", text))
    urls = find_urls(normal)
    if _WEIGHT_ONE.fullmatch(normal):
        return len(normal) - sum(len(u.text) for u in urls) + X_URL_LENGTH * len(urls)
    # slow to import: only when a text needs it
    from twitter_text.config import config as twitter_config
    from twitter_text.extract_emojis import extract_emojis_with_indices
    from twitter_text.get_character_weight import get_character_weight

    options = twitter_config["defaults"]
    url_ends = {u.start: u.end for u in urls}
    emoji_ends = {e["indices"][0]: e["indices"][1] for e in extract_emojis_with_indices(normal)}
    weight, i = 0, 0
    while i < len(normal):
        if i in url_ends:
            weight += options["transformed_url_length"] * options["scale"]
            i = url_ends[i]
        elif i in emoji_ends:
            weight += options["default_weight"]
            i = emoji_ends[i]
        else:
            weight += get_character_weight(normal[i], options)
            i += 1
    return weight // options["scale"]


def render_x(p: PostInput, text: str, link: str) -> RenderedPost:
    """X: 280 weighted characters as twitter-text counts them (URL 23, CJK and emoji 2)."""
    return _base(p, text, link, length=x_length(text), limit=X_LIMIT, unit="weighted characters")


def render_bluesky(p: PostInput, text: str, link: str, own_hosts: tuple[str, ...] = ()) -> RenderedPost:
    """Bluesky: 300 graphemes and 3,000 UTF-8 bytes; links and tags live only through facets.

    Links are shown short and counted as shown; their facets carry the full (UTM-tagged) URL.
    """
    text, facets = bluesky_text(text, p, own_hosts)
    return _base(p, text, link, length=graphemes(text), limit=BLUESKY_GRAPHEMES, unit="graphemes",
                 byte_limit=BLUESKY_BYTES, facets=facets)


def render_mastodon(p: PostInput, text: str, link: str) -> RenderedPost:
    """Mastodon: 500 characters unless the instance says otherwise; every link counts 23."""
    return _base(p, text, link, length=mastodon_length(text), limit=p.max_characters or MASTODON_LIMIT,
                 unit="characters")


def render_facebook(p: PostInput, text: str, link: str) -> RenderedPost:
    """Facebook: 63,206 characters."""
    return _base(p, text, link, length=len(text), limit=FACEBOOK_LIMIT, unit="characters")


def render_instagram(p: PostInput, text: str, link: str) -> RenderedPost:
    """Instagram: 2,200 characters and at most 30 hashtags (links in captions are not clickable)."""
    count = len(find_hashtags(text))
    return _base(p, text, link, length=len(text), limit=INSTAGRAM_LIMIT, unit="characters",
                 extra={"hashtag_count": count, "hashtag_limit": INSTAGRAM_HASHTAGS})


def render_linkedin(p: PostInput, text: str, link: str) -> RenderedPost:
    """LinkedIn: 3,000 characters."""
    return _base(p, text, link, length=len(text), limit=LINKEDIN_LIMIT, unit="characters")


def render_manual(p: PostInput, text: str, link: str) -> RenderedPost:
    """Copy for a person to paste (WhatsApp channel): plain text, 65,536 characters."""
    return _base(p, text, link, length=len(text), limit=MANUAL_LIMIT, unit="characters")


RENDERERS: dict[str, Callable[[PostInput, str, str], RenderedPost]] = {
    "x": render_x,
    "bluesky": render_bluesky,
    "mastodon": render_mastodon,
    "facebook": render_facebook,
    "instagram": render_instagram,
    "linkedin": render_linkedin,
    "manual": render_manual,
}


def render_post(p: PostInput, *, own_hosts: tuple[str, ...]) -> RenderedPost:
    """Render one post for its platform; ValueError for a platform without a social renderer."""
    renderer = RENDERERS.get(p.platform)
    if renderer is None:
        raise ValueError(f"no social renderer for platform '{p.platform}' "
                         f"(known: {', '.join(sorted(RENDERERS))})")
    text, link = compose(p, own_hosts=own_hosts)
    if renderer is render_bluesky:  # the only renderer that rewrites links, so it tags them too
        return render_bluesky(p, text, link, own_hosts)
    return renderer(p, text, link)
