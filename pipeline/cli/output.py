"""How commands print: located problems, and tables sized to the terminal."""

from __future__ import annotations

from collections.abc import Iterable

import click
from rich.console import Console
from rich.table import Table

from pipeline.problems import Problem


def print_problems(problems: Iterable[Problem]) -> None:
    """Each problem as `path:line: severity: message`, on standard error."""
    err = click.get_text_stream("stderr")
    for p in problems:
        err.write(str(p) + "\n")


def table(title: str, columns: Iterable[str]) -> Table:
    """A table whose long cells fold instead of being cut."""
    t = Table(title=title, title_justify="left")
    for column in columns:
        t.add_column(column, overflow="fold")
    return t


def show(t: Table, width: int = 140) -> None:
    """Print a table at least `width` columns wide (ids stay on one line)."""
    Console(width=max(width, Console().width)).print(t)
