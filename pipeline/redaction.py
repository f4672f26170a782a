"""The one step that takes secrets out of words before they are kept or shown.

A platform, a gateway or a proxy that refuses a call may quote the request back in its error,
headers included: an OAuth header carries the X keys percent-encoded, HTTP basic auth and SMTP
AUTH carry the Mailchimp key and the relay password in base64. So every secret value is looked
for as written and in each of those forms, wherever it sits in the text.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
# Shorter values would blank out ordinary words; no credential is this short.
MIN_SECRET = 4
# A base64 core this short could be part of an ordinary word: it is not looked for.
MIN_CORE = 4
_B64 = "[A-Za-z0-9+/_-]"


def _percent(text: str) -> str:
    """`text` (already percent-encoded) as a pattern whose %XX escapes match either case."""
    return re.sub(r"%([0-9A-F]{2})", r"%(?i:\1)", re.escape(text))


def _base64_cores(value: bytes) -> set[str]:
    """What every base64 encoding holding `value` contains, whatever bytes come before it:
    `value` is encoded at each of the three alignments and the characters that depend on its
    neighbours are dropped from both ends."""
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value).decode("ascii")
        first = -(-8 * offset // 6)
        last = 8 * (offset + len(value)) // 6
        core = encoded[first:last]
        if len(core) >= MIN_CORE:
            cores.add(core)
    return cores | {c.replace("+", "-").replace("/", "_") for c in cores}


def _forms(value: str) -> list[str]:
    """Patterns of `value` as written, percent-encoded, JSON- and HTML-escaped, and in base64."""
    literal = {value, json.dumps(value)[1:-1], value.replace("/", "\\/"), html.escape(value)}
    patterns = [re.escape(v) for v in literal]
    patterns += [_percent(v) for v in {quote(value, safe=""), quote_plus(value, safe="")}
                 if v != value]
    # A base64 run that holds the secret is taken out whole: its ends are the secret too.
    patterns += [f"{_B64}*{re.escape(core)}{_B64}*={{0,2}}"
                 for core in _base64_cores(value.encode("utf-8"))]
    return patterns


class Redactor:
    """Secret values, and `redactor(text)`: the text with each of them replaced."""

    def __init__(self, values: Iterable[str | None] = ()):
        self._values: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        for value in values:
            self.add(value)

    @classmethod
    def of(cls, env_names: Iterable[str], environ: Mapping[str, str]) -> Redactor:
        """The values of the environment variables named (a channel's `*_env` keys)."""
        return cls(environ.get(name) for name in env_names if name)

    def add(self, value: str | None) -> None:
        """Also take `value` out (e.g. a session token a platform issued)."""
        if value and len(value) >= MIN_SECRET and value not in self._values:
            self._values.append(value)
            self._pattern = None

    def __bool__(self) -> bool:
        return bool(self._values)

    def __call__(self, text: str) -> str:
        if not self._values or not text:
            return text
        if self._pattern is None:
            forms = {form for value in self._values for form in _forms(value)}
            # longest first, so a longer form is never cut short by a shorter one inside it
            self._pattern = re.compile("|".join(sorted(forms, key=len, reverse=True)))
        return self._pattern.sub(REDACTED, text)
