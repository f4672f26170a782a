"""Read TOML keeping line numbers, so every message can name the line to fix."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.files import MB, FileRefused, regular
from pipeline.problems import ERROR, InputError, Problem

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*=""")
_PART = re.compile(r"""\s*("([^"]*)"|'([^']*)'|[A-Za-z0-9_\-]+)\s*""")
_DECODE_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _split_key(text: str) -> tuple[str, ...]:
    parts = []
    for piece in _split_dotted(text):
        m = _PART.fullmatch(piece)
        if not m:
            return ()
        parts.append(m.group(2) if m.group(2) is not None else (m.group(3) or m.group(1)))
    return tuple(parts)


def _split_dotted(text: str) -> list[str]:
    out, cur, quote = [], "", ""
    for ch in text:
        if quote:
            cur += ch
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            cur += ch
        elif ch == ".":
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


@dataclass
class TomlFile:
    """A parsed TOML document and the line of every key and table in it."""

    path: Path
    display: str
    data: dict[str, Any]
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def line_of(self, loc: tuple[Any, ...]) -> int | None:
        """The line of the deepest known key on `loc` (a key path with list indexes)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return None

    def problem(self, loc: tuple[Any, ...], message: str, severity: str = ERROR,
                code: str = "") -> Problem:
        """A problem located at `loc` in this file."""
        return Problem(self.display, self.line_of(loc), severity, message, code)


def index_lines(text: str) -> dict[tuple[Any, ...], int]:
    """Map key paths (with array-of-table indexes) to 1-based line numbers."""
    lines: dict[tuple[Any, ...], int] = {}
    counters: dict[tuple[Any, ...], int] = {}
    table: tuple[Any, ...] = ()
    in_multiline: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if raw.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(raw)
        if header and not _KEY.match(raw):
            name = _split_key(header.group(2))
            if header.group(1) == "[[":
                # resolve arrays nested under the current array element, e.g. [[post.image]]
                base = _resolve_prefix(name, counters)
                index = counters.get(base, -1) + 1
                counters[base] = index
                table = (*base, index)
            else:
                table = _resolve_prefix(name, counters)
            _note(lines, table, number)
            continue
        key = _KEY.match(raw)
        if key:
            path = (*table, *_split_key(key.group(1)))
            _note(lines, path, number)
            rest = raw[key.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_multiline = quote
                    break
    return lines


def _note(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...], number: int) -> None:
    """`path` is first written on line `number`; so are its parents, if not already seen
    ([chanels.x] is the first line of the unknown table 'chanels')."""
    for end in range(1, len(path) + 1):
        lines.setdefault(path[:end], number)


def _unclosed(text: str) -> tuple[int, str] | None:
    """(line, quotes) of a multi-line string that opens and never closes, if one does."""
    opened, quote = 0, ""
    for number, raw in enumerate(text.splitlines(), start=1):
        for token in re.findall(r'"""|\'\'\'', raw):
            if not quote:
                opened, quote = number, token
            elif token == quote:
                quote = ""
    return (opened, quote) if quote else None


def _resolve_prefix(name: tuple[str, ...], counters: dict[tuple[Any, ...], int]) -> tuple[Any, ...]:
    """Insert the current index after every prefix of `name` that is an array of tables."""
    out: tuple[Any, ...] = ()
    for i, part in enumerate(name):
        out = (*out, part)
        if i < len(name) - 1 and out in counters:
            out = (*out, counters[out])
    return out


# The largest calendar, content or config file read: the biggest bundled one is a few KB, so
# anything near this is a mistake (or an attack), and it is refused before it is read.
TOML_MAX = 2 * MB


def read_toml(path: Path, display: str | None = None, most: int = TOML_MAX,
              what: str = "file") -> TomlFile:
    """Parse `path` (a `what` of at most `most` bytes); raise InputError naming the file and
    line when it is not valid TOML."""
    shown = display or str(path)
    try:
        regular(path, most, what)
        data = path.read_bytes()
    except FileRefused as exc:
        raise InputError([Problem(shown, None, ERROR, str(exc))]) from None
    try:
        # utf-8-sig: a byte-order mark (some Windows editors write one) is read and forgotten
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError([Problem(shown, line, ERROR,
                                  f"not UTF-8 text (byte {data[exc.start]:#04x} on this line); save "
                                  f"the file as UTF-8")]) from None
    return parse_toml(text, path, shown)


def parse_toml(text: str, path: Path, display: str, line_offset: int = 0) -> TomlFile:
    """Parse TOML text (e.g. front matter that starts after `line_offset` lines)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _DECODE_AT.search(msg)
        line = int(m.group(1)) + line_offset if m else None
        reason = _DECODE_AT.sub("", msg).strip()
        if line is None and (opened := _unclosed(text)) is not None:
            # "at end of document" names no line: the string left open is the one to fix
            line = opened[0] + line_offset
            reason = f"the multi-line string that starts here never ends; close it with {opened[1]}"
        raise InputError([Problem(display, line, ERROR,
                                  f"malformed TOML: {reason}; fix the syntax on this line")]) from None
    lines = {k: v + line_offset for k, v in index_lines(text).items()}
    return TomlFile(path, display, data, lines)
