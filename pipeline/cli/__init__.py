"""The `wst` command: thin click commands that parse, call one service and print.

Every library error reaches one edge, `WstGroup.invoke` in `group.py`, which turns it into a
message and an exit status; nothing below it prints or exits. One module per area registers
its commands on the group: `project` (check, plan, calendar, preview, bulletin), `publishing`
(run, approvals, pause, post, status, history...), `evaluation` (collect, record, report), `db`.
"""

from __future__ import annotations

import os

from pipeline.cli import db, evaluation, project, publishing, web  # noqa: F401  (they register commands)
from pipeline.cli.group import cli

__all__ = ["cli", "main"]


def main() -> None:
    """Entry point of the `wst` console script."""
    if os.environ.get("WST_CONFIG") == "":
        os.environ.pop("WST_CONFIG")
    cli(prog_name="wst")
