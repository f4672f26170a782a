"""The workflow through the real `wst` command, as a person at a terminal meets it: lists that
fit 80 columns with whole ids, refusals that store nothing and say who may, drafts located and
refused, a test send, and the statuses every command shows alike."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import ProjectDir, clean_env, copy_bundled, run_wst
from workflow_helpers import set_people

ID = re.compile(r"^[a-z0-9-]+(/[a-z0-9-]+)*/\d{4}-\d{2}(-\d{2})?/[a-z0-9-]+$")


def test_lists_fit_80_columns_with_every_id_whole_on_its_own_line(tmp_path: Path) -> None:
    bundled = copy_bundled(tmp_path / "bundled")
    args = ("--config", str(bundled / "config.toml"), "plan", "--from", "2026-09-01",
            "--to", "2027-08-31")
    listed = run_wst(*args, cwd=bundled, env=clean_env(COLUMNS="80"))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    ids = run_wst(*args, "--ids", cwd=bundled).stdout.splitlines()
    assert len(ids) > 200 and all(ID.match(i) for i in ids), ids[:3]
    assert max(len(i) for i in ids) > 60    # long ids are there, and still whole:
    stripped = {line.strip() for line in lines}
    assert all(i in stripped for i in ids)
    as_json = json.loads(run_wst(*args, "--json", cwd=bundled).stdout)
    assert [i["id"] for i in as_json] == ids
    # one status per item: the list's first line of each block says the JSON's label
    heads = [line for line in lines if re.match(r"^\w{3} \d{2} \w{3} \d{4} \d{2}:\d{2}  ", line)]
    assert [h.split("  ", 2)[2] for h in heads] == [i["label"] for i in as_json]


def test_approvals_and_history_print_ids_alone_for_scripts(project: ProjectDir) -> None:
    waiting = project.wst("approvals", "--ids")
    assert waiting.returncode == 0, waiting.stderr
    ids = waiting.stdout.splitlines()
    assert ids and all(ID.match(i) for i in ids)
    assert ids == [w["id"] for w in json.loads(project.wst("approvals", "--json").stdout)]
    history = project.wst("history", "--ids", "--from", "2027-02-01", "--to", "2027-02-28")
    assert history.stdout.splitlines() == [i for i in ids if "/2027-02-" in i]


def test_a_refused_reactive_post_stores_nothing_and_exits_1(project: ProjectDir) -> None:
    set_people(project)
    refused = project.wst("post", "--text", "A water main has burst.", "--channels", "x",
                          "--approved-by", "writer")
    assert refused.returncode == 1
    assert "nothing was posted or saved" in refused.stderr
    assert "does not hold an accountable role for 'reactive-posts'" in refused.stderr
    listed = json.loads(project.wst("plan", "--campaign", "reactive", "--json").stdout)
    assert listed == []
    assert not any(i["id"].startswith("reactive/") for i in json.loads(
        project.wst("history", "--json", "--from", "2020-01-01", "--to", "2040-01-01").stdout))


def test_a_reactive_post_in_a_dry_run_says_so(project: ProjectDir) -> None:
    set_people(project)
    done = project.wst("post", "--text", "Worried about an adult? Call 01902 551199.",
                       "--channels", "x", "--approved-by", "approver")
    assert done.returncode == 0, done.stderr
    assert re.search(r"reactive/\S+/x: published \(dry run: written to the outbox, nothing "
                     r"sent\)", done.stdout), done.stdout


def test_only_the_freeze_role_pauses_and_the_refusal_names_who_may(project: ProjectDir) -> None:
    set_people(project)
    refused = project.wst("pause", "--reason", "National mourning", "--by", "approver")
    assert refused.returncode == 1
    assert "is for: chair" in refused.stderr
    assert json.loads(project.wst("status", "--json").stdout)["pause"] is None
    done = project.wst("pause", "--reason", "National mourning", "--until", "2040-01-01 09:00",
                       "--by", "chair")
    assert done.returncode == 0, done.stderr
    assert "until Sun 01 Jan 2040 09:00" in done.stdout
    status = json.loads(project.wst("status", "--json").stdout)
    assert status["pause"]["reason"] == "National mourning"
    # what falls due in it already shows as held by it, in every list
    plan = json.loads(project.wst("plan", "--from", "2027-02-01", "--to", "2027-02-28",
                                  "--json").stdout)
    assert {i["label"] for i in plan} == {"held: pause (dry run)"}


def test_a_draft_bulletin_is_located_shown_as_draft_and_refused(project: ProjectDir) -> None:
    project.edit("schedules/calendar.toml", 'from_month = "2099-01"', 'from_month = "2027-02"')
    made = project.wst("bulletin", "new", "--month", "2027-02")
    assert made.returncode == 0, made.stderr
    check = project.wst("check")
    assert check.returncode == 0  # a draft is fine to save: warnings on the lines to finish
    assert re.search(r"content/bulletins/2027-02\.toml:\d+: warning: bulletin 2027-02 is marked "
                     r'status = "draft"', check.stdout), check.stdout
    assert re.search(r"content/bulletins/2027-02\.toml:\d+: warning: bulletin 2027-02 subject is "
                     r"still a WRITE: placeholder", check.stdout)
    listed = json.loads(project.wst("plan", "--from", "2027-02-01", "--to", "2027-02-28",
                                    "--campaign", "e-bulletin", "--json").stdout)
    assert [(i["status"], i["note"]) for i in listed] == [("draft", 'marked status = "draft"')]
    refused = project.wst("approve", "bulletin/2027-02/mailchimp", "--by", "approver")
    assert refused.returncode == 1
    assert "not approved: it is a draft" in refused.stderr
    # marked ready with a placeholder left: an error, on its line
    path = project.path / "content" / "bulletins" / "2027-02.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('status = "draft"',
                                                             'status = "ready"'), "utf-8")
    check = project.wst("check")
    assert check.returncode == 1
    assert re.search(r"2027-02\.toml:\d+: error: bulletin 2027-02 subject is still a WRITE: "
                     r"placeholder; write it \(the bulletin is marked ready", check.stdout)


def test_a_test_send_from_the_command_line_is_recorded_for_the_approver(
        project: ProjectDir) -> None:
    project.edit("schedules/calendar.toml", 'from_month = "2099-01"', 'from_month = "2027-02"')
    project.write("content/bulletins/2027-02.toml", 'month = "2027-02"\nsubject = "February"\n'
                  'preheader = "Staying safe online."\n\n[[story]]\ntitle = "Safer Internet '
                  'Day"\nbody = "Talk to your child about the apps they use."\n')
    sent = project.wst("bulletin", "test-send", "--month", "2027-02", "--to", "unit@example.org",
                       "--by", "approver")
    assert sent.returncode == 0, sent.stderr
    assert "bulletin/2027-02/mailchimp" in sent.stdout and "dry run" in sent.stdout
    waiting = {w["id"]: w for w in json.loads(project.wst("approvals", "--json").stdout)}
    tests = waiting["bulletin/2027-02/mailchimp"]["test_sends"]
    assert [(t["to"], t["by"], t["dry_run"]) for t in tests] == [(["unit@example.org"],
                                                                  "approver", True)]
    shown = project.wst("approvals", "--campaign", "e-bulletin").stdout
    assert "test sent to unit@example.org by approver" in shown
