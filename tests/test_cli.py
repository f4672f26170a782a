"""The `wst` command as a user runs it: help everywhere, `python -m pipeline`, the plan golden file."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import ROOT, ProjectDir, clean_env, copy_bundled, run_wst, wst_command

from pipeline.cli import cli

GOLDEN = ROOT / "tests" / "goldens" / "plan" / "2026-11_2027-01.json"
GOLDEN_ARGS = ("plan", "--json", "--from", "2026-11-01", "--to", "2027-01-31")


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in sorted(group.commands.items()):
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out += _command_paths(command, (*prefix, name))
    return out


COMMANDS = _command_paths(cli)


def test_python_dash_m_pipeline_help() -> None:
    result = subprocess.run([sys.executable, "-m", "pipeline", "--help"], cwd=ROOT,
                            env=clean_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: wst ")
    for name in ("check", "plan", "calendar"):
        assert name in result.stdout


def test_every_command_has_help(tmp_path) -> None:
    assert {("check",), ("plan",), ("calendar",)} <= set(COMMANDS)
    # run them side by side: one real process per command, without waiting for each in turn
    running = {path: subprocess.Popen([*wst_command(), *path, "--help"], cwd=tmp_path,
                                      env=clean_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
               for path in COMMANDS}
    for path, process in running.items():
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, (path, err)
        assert out.startswith(f"Usage: wst {' '.join(path)}"), (path, out)
        assert "--help" in out
        command = cli
        for part in path:
            command = command.commands[part]  # type: ignore[attr-defined]
        assert (command.help or "").strip(), f"wst {' '.join(path)} has no help text"


def test_version(tmp_path) -> None:
    result = run_wst("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("wst, version ")


@pytest.mark.parametrize(("args", "message"), [
    (("plan", "--from", "2027-13-01"), "Invalid value for --from: '2027-13-01' is not a date; "
                                       "write YYYY-MM-DD"),
    (("plan", "--from", "2027-02-01", "--to", "2027-01-01"),
     "Invalid value for --to: --to 2027-01-01 is before --from 2027-02-01"),
    (("plan", "--from", "2027-02-01", "--campaign", "safer-internet"),
     "Invalid value for --campaign: no campaign 'safer-internet' (did you mean "
     "'safer-internet-day'?)"),
    (("plan", "--from", "2027-02-01", "--channel", "facebok"),
     "Invalid value for --channel: no channel 'facebok' (did you mean 'facebook'?)"),
])
def test_bad_options_say_the_fix(project: ProjectDir, args: tuple[str, ...], message: str) -> None:
    result = project.wst(*args)
    assert result.returncode == 2
    assert f"Error: {message}" in result.stderr


def test_plan_refuses_a_project_with_errors(project: ProjectDir) -> None:
    project.edit("content/posts/safer-internet-day.toml", "images/sid.jpg", "images/none.png")
    result = project.wst("plan", "--from", "2027-02-01", "--to", "2027-02-28")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == ("1 error(s): fix them (see `wst check`) before "
                                              "planning.")


def test_plan_table_lists_items(project: ProjectDir) -> None:
    result = project.wst("plan", "--from", "2027-02-01", "--to", "2027-02-28")
    assert result.returncode == 0, result.stderr
    assert "Plan 01 Feb 2027 to 28 Feb 2027: 4 items" in result.stdout
    assert "Tue 09 Feb 2027 09:00" in result.stdout


# What an item's status depends on besides the plan: the clock and the store.
STATUS_KEYS = ("status", "label", "reason", "note", "dry_run", "url", "approved")


def test_plan_json_golden(tmp_path: Path) -> None:
    """The bundled year from November to January, exactly (the plan's part of each item; its
    status follows the clock and the store, and is tested on its own); WST_UPDATE_GOLDENS=1
    rewrites it."""
    bundled = copy_bundled(tmp_path / "bundled")
    first = run_wst("--config", str(bundled / "config.toml"), *GOLDEN_ARGS, cwd=bundled)
    assert first.returncode == 0, first.stderr
    items = json.loads(first.stdout)
    assert all(set(STATUS_KEYS) <= set(i) for i in items)
    # stable across runs: the same ids, versions and times every time
    again = run_wst("--config", str(bundled / "config.toml"), *GOLDEN_ARGS, cwd=bundled)
    assert again.stdout == first.stdout
    items = [{k: v for k, v in i.items() if k not in STATUS_KEYS} for i in items]
    assert len({i["id"] for i in items}) == len(items)
    assert [i["due"] for i in items] == sorted(i["due"] for i in items)  # all +00:00 this winter
    text = json.dumps(items, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("WST_UPDATE_GOLDENS") == "1":
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
        return
    assert GOLDEN.exists(), "no golden yet: run WST_UPDATE_GOLDENS=1 pytest -k golden"
    expected = GOLDEN.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            str(GOLDEN.relative_to(ROOT)), "wst plan --json", n=2))
        pytest.fail(f"the plan changed; if that is intended run `make goldens` and review:\n{diff}")
