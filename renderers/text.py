"""Text helpers shared by the renderers and the checks: finding links, hashtags and emoji; UTM tags."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex
from twitter_text import extract_emojis_with_indices, extract_urls_with_indices

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")

# A hashtag: '#' not glued to a word, '&' (HTML entities) or another '#', and at least one letter
# so "#1" or "#2026" are not tags. \w is Unicode-aware, so #Ünïcode tags are found too.
_HASHTAG = regex.compile(r"(?<![\w&#])#(\w*[^\W\d_]\w*)")


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of text found in a string: code-point offsets, end exclusive."""

    start: int
    end: int
    text: str


def find_urls(text: str, *, without_protocol: bool = True) -> list[Span]:
    """Links in `text` as twitter-text finds them (bare domains such as www.example.org.uk too)."""
    # twitter-text is the reference extractor X and Mastodon count with, so a link we find is a
    # link the platform finds; it ships its TLD list, so nothing is fetched.
    return [Span(u["indices"][0], u["indices"][1], u["url"])
            for u in extract_urls_with_indices(text, without_protocol)]


def find_hashtags(text: str) -> list[Span]:
    """Hashtags in `text` in order (the span includes '#'); a '#' inside a link is not a tag."""
    urls = find_urls(text)
    found = []
    for m in _HASHTAG.finditer(text):
        if any(u.start <= m.start() < u.end for u in urls):
            continue  # a URL fragment such as /page#section
        found.append(Span(m.start(), m.end(), m.group(0)))
    return found


def find_emoji(text: str) -> list[Span]:
    """Emoji in `text` (a ZWJ sequence or a flag is one emoji), from twitter-text's emoji table."""
    return [Span(e["indices"][0], e["indices"][1], e["emoji"])
            for e in extract_emojis_with_indices(text)]


def full_url(url: str) -> str:
    """`url` with https:// added when it was written as a bare domain."""
    return url if "://" in url else "https://" + url


def _strip_www(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def is_own_host(host: str, own_hosts: tuple[str, ...]) -> bool:
    """True if `host` is one of `own_hosts` or a subdomain of one (www. is ignored on both sides)."""
    host = _strip_www(host.lower().rstrip("."))
    for own in own_hosts:
        own = _strip_www(own.lower().rstrip("."))
        # Compare at a label boundary so notwolverhamptonsafeguarding.org.uk is not ours.
        if own and (host == own or host.endswith("." + own)):
            return True
    return False


def add_utm(url: str, *, source: str, medium: str, campaign: str, own_hosts: tuple[str, ...]) -> str:
    """`url` with utm_source/medium/campaign added if it is on the partnership's own site."""
    bare = "://" not in url
    parts = urlsplit(full_url(url))
    if not parts.hostname or not is_own_host(parts.hostname, own_hosts):
        return url  # other sites' analytics are not ours to tag
    present = {key for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    wanted = [(k, v) for k, v in zip(UTM_KEYS, (source, medium, campaign), strict=True)
              if k not in present and v]
    if not wanted:
        return url
    # Append to the raw query rather than re-encoding it, so existing parameters stay byte-identical;
    # a tag the author already set is kept (their choice wins and nothing is duplicated).
    query = "&".join(q for q in (parts.query, urlencode(wanted)) if q)
    tagged = urlunsplit(parts._replace(query=query))
    return tagged.removeprefix("https://") if bare else tagged
