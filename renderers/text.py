"""Text helpers shared by the renderers and the checks: finding links, hashtags and emoji; UTM tags."""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex

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


# Every link, bare or not, has a dot with something after it (its domain's last label).
_MAYBE_LINK = re.compile(r"\.[^.]")


def find_urls(text: str, *, without_protocol: bool = True) -> list[Span]:
    """Links in `text` as twitter-text finds them (bare domains such as www.example.org.uk too)."""
    if not _MAYBE_LINK.search(text):
        return []  # twitter-text's extractor is slow; most sentences cannot hold a link
    return list(_find_urls(text, without_protocol))


# More dots than any host name has (a real one has two or three); longer than a link in copy
# ever is; more brackets than a link ever has (a Wikipedia page's one pair).
HOST_DOTS_MAX = 20
WORD_MAX = 1000
BRACKETS_MAX = 8


_AFTER_DOT = re.compile(r"\.([^\W_]+)")


class _Twitter(NamedTuple):
    """What find_urls takes from twitter-text."""

    extract: Callable[..., list[dict[str, Any]]]   # its link extractor
    tlds: frozenset[str]                           # the top-level domains it knows, lower case
    tld_max: int
    link_word: re.Pattern[str]                     # a word that may hold a link (see below)


@functools.cache
def _twitter() -> _Twitter:
    """twitter-text, imported when something is first checked or rendered (it is slow to import,
    and most commands never need it)."""
    from twitter_text import extract_urls_with_indices
    from twitter_text.regexp.spaces_group import spaces_group as sp
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld

    tlds: set[str] = set()
    for pattern in (valid_gtld.pattern, valid_cctld.pattern):
        tlds.update(pattern[len("(?:(?:"):pattern.index(")(?=")].lower().split("|"))
    # A word (between what twitter-text counts as spaces: no link holds one) with a dot followed
    # by something; it only starts at a word's start, so a long word is read once, not per letter.
    link_word = re.compile(f"(?<![^{sp}])[^{sp}]*\\.[^.{sp}][^{sp}]*")
    return _Twitter(extract_urls_with_indices, frozenset(tlds), max(map(len, tlds)), link_word)


def _may_hold_link(word: str, twitter: _Twitter) -> bool:
    """False when nothing after a dot starts with a top-level domain: twitter-text could find
    no link in `word`."""
    lower = word.lower()
    if "xn--" in lower:
        return True  # a punycode domain
    return any(label[:n] in twitter.tlds for label in _AFTER_DOT.findall(lower)
               for n in range(2, min(len(label), twitter.tld_max) + 1))  # no TLD is one letter


@functools.lru_cache(maxsize=4096)
def _find_urls(text: str, without_protocol: bool) -> tuple[Span, ...]:
    # twitter-text is the reference extractor X and Mastodon count with, so a link we find is a
    # link the platform finds; it ships its TLD list, so nothing is fetched. The same text is
    # checked by several rules, hence the cache. Its pattern is slow over long text, and no
    # link spans its spaces, so it reads only the words that could hold a link, each with the
    # space before it (its pattern looks one character back): the same links, in linear time.
    twitter = _twitter()
    found = []
    for w in twitter.link_word.finditer(text):
        word = w.group(0)
        host = word.split("://", 1)[-1].split("/", 1)[0].split("?", 1)[0]
        if len(_AFTER_DOT.findall(host)) > HOST_DOTS_MAX or not _may_hold_link(word, twitter):
            # twitter-text's time on a word grows as the square of its dots: it reads only
            # a word that could be a link, and whose host has no more dots than a real one
            continue
        # so does its time on a long path or many brackets: a link is read that far, no further
        end = w.start() + min(len(word), WORD_MAX, _nth(word, "(", BRACKETS_MAX))
        start = max(w.start() - 1, 0)
        found += [Span(start + u["indices"][0], start + u["indices"][1], u["url"])
                  for u in twitter.extract(text[start:end], without_protocol)]
    return tuple(found)


def _nth(word: str, char: str, n: int) -> int:
    """The index of the `n`th `char` in `word` (its length if there are fewer)."""
    at = -1
    for _ in range(n):
        at = word.find(char, at + 1)
        if at < 0:
            return len(word)
    return at


def find_hashtags(text: str) -> list[Span]:
    """Hashtags in `text` in order (the span includes '#'); a '#' inside a link is not a tag."""
    urls = find_urls(text)
    starts = [u.start for u in urls]  # in text order, never overlapping
    found = []
    for m in _HASHTAG.finditer(text):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i >= 0 and m.start() < urls[i].end:
            continue  # a URL fragment such as /page#section
        found.append(Span(m.start(), m.end(), m.group(0)))
    return found


def overlaps(span_start: int, span_end: int, starts: list[int], ends: list[int]) -> bool:
    """True if [span_start, span_end) overlaps one of the sorted, disjoint [starts[i], ends[i])."""
    i = bisect.bisect_left(starts, span_end) - 1
    return i >= 0 and ends[i] > span_start


_GRAPHEME = regex.compile(r"\X")
# Unicode's own definition of a character shown as an emoji: emoji presentation by default,
# a pictograph asked to show as emoji (U+FE0F), or a flag's regional indicators.
_EMOJI = regex.compile(r"\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\p{Regional_Indicator}")


def find_emoji(text: str) -> list[Span]:
    """Emoji in `text`, one per grapheme (a ZWJ sequence, a skin tone or a flag is one emoji)."""
    if text.isascii():
        return []  # the common case, and twenty times faster than scanning graphemes
    return [Span(m.start(), m.end(), m.group(0)) for m in _GRAPHEME.finditer(text)
            if _EMOJI.search(m.group(0))]


# What a rendered link may point at: anything else (javascript:, data:, vbscript:, file:) could
# run in the reader's browser or mail client, so it is shown as words, never made a link.
HREF_SCHEMES = frozenset({"https", "http", "mailto", "tel"})


def safe_href(url: str) -> str:
    """`url` if it is safe as a link's address (by its scheme), else ''."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in HREF_SCHEMES else ""


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


@functools.lru_cache(maxsize=1024)
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
