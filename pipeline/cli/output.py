"""How commands print: located problems, and lists of items that fit the terminal.

An item id is what a person copies into the next command, so it is always printed whole on a
line of its own (never folded mid-word); everything else wraps to the terminal's width, which
may be as narrow as 80 columns. `--ids` prints the ids alone, one per line, for scripts.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterable, Sequence
from datetime import tzinfo

import click

from pipeline.problems import Problem
from pipeline.services.statuses import Line

INDENT = "  "


def print_problems(problems: Iterable[Problem]) -> None:
    """Each problem as `path:line: severity: message`, on standard error."""
    err = click.get_text_stream("stderr")
    for p in problems:
        err.write(str(p) + "\n")


def width() -> int:
    """The terminal's width (80 when it can't be told, as in a pipe)."""
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def wrapped(text: str, indent: str = INDENT) -> str:
    """`text` wrapped to the terminal, every line indented; words longer than a line (links,
    ids) are kept whole."""
    return textwrap.fill(text, width=width(), initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def print_items(title: str, lines: Sequence[Line], tz: tzinfo,
                details: Iterable[tuple[Line, Sequence[str]]] | None = None) -> None:
    """A heading, then each item as a block: when, channel and status; the id whole; the title;
    why (the status's reason); and any extra detail lines given for it."""
    extra = {id(line): list(more) for line, more in (details or ())}
    click.echo(title)
    for line in lines:
        s = line.status
        click.echo("")
        click.echo(textwrap.fill(f"{line.due.astimezone(tz):%a %d %b %Y %H:%M}  {line.channel}  "
                                 f"{s.label}", width=width(), subsequent_indent=INDENT + "  ",
                                 break_long_words=False))
        click.echo(INDENT + line.item_id)
        click.echo(wrapped(line.title))
        if s.note:
            click.echo(wrapped(f"why: {s.note}"))
        if s.approval is not None and s.status.value != "published":
            click.echo(wrapped(f"approved by {s.approval.person} on "
                               f"{s.approval.at.astimezone(tz):%d %b %H:%M} (version "
                               f"{s.approval.version})"))
        if s.url:
            click.echo(INDENT + s.url)
        if line.provisional:
            click.echo(wrapped(f"provisional date: {line.provisional}"))
        for more in extra.get(id(line), ()):
            click.echo(wrapped(more))


def print_ids(lines: Iterable[Line]) -> None:
    """Only the ids, one per line (for scripts)."""
    for line in lines:
        click.echo(line.item_id)
