"""The publishing commands as a person uses them: approvals, approve, refusals, status, history."""

from __future__ import annotations

import json

from conftest import ProjectDir


def _pending(project: ProjectDir) -> list[dict]:
    done = project.wst("approvals", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_approvals_list_who_may_approve_and_approve_by_campaign(project: ProjectDir) -> None:
    """Every waiting item shows its accountable people; --campaign approves them all at once."""
    pending = _pending(project)
    assert pending, "the minimal calendar has Safer Internet Day posts within the horizon"
    assert {p["may_approve"][0] for p in pending} == {"approver"}
    assert [p["due"] for p in pending] == sorted(p["due"] for p in pending)  # soonest first
    done = project.wst("approve", "--campaign", "safer-internet-day", "--by", "approver")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("approved ") == len(pending)
    assert _pending(project) == []


def test_approval_by_someone_not_accountable_is_refused(project: ProjectDir) -> None:
    """Only a person holding an accountable role may approve; the refusal says who may."""
    project.edit("config.toml", "[people.approver]",
                 '[people.writer]\nname = "A writer"\nroles = []\n\n[people.approver]')
    item = _pending(project)[0]["id"]
    done = project.wst("approve", item, "--by", "writer")
    assert done.returncode == 1
    assert "not approved" in done.stderr and "it may be approved by: approver" in done.stderr
    assert item in {p["id"] for p in _pending(project)}


def test_unknown_person_is_refused_with_the_nearest_id(project: ProjectDir) -> None:
    done = project.wst("pause", "--reason", "test", "--by", "aprover")
    assert done.returncode == 2
    assert "'aprover' is not in [people]" in done.stderr and "approver" in done.stderr


def test_status_and_history_json_shapes(project: ProjectDir) -> None:
    """status and history answer in the documented shapes."""
    status = json.loads(project.wst("status", "--json").stdout)
    assert status["mode"] == "dry-run" and status["pause"] is None
    assert set(status) >= {"mode", "pause", "daemon", "next", "channels", "counts",
                           "x_read_spend", "attention"}
    assert status["channels"]["facebook"]["credentials"].startswith("missing: ")
    history = project.wst("history", "--json", "--from", "2020-01-01", "--to", "2040-12-31")
    assert history.returncode == 0, history.stderr
    rows = json.loads(history.stdout)  # `wst status` recorded the current items
    waiting = _pending(project)
    assert len(rows) >= len(waiting) > 0
    assert {r["id"]: r["status"] for r in rows if r["id"] in {w["id"] for w in waiting}} == {
        w["id"]: "needs approval" for w in waiting}
    for row in rows:
        assert set(row) >= {"id", "channel", "status", "label", "reason", "note", "remote_id",
                            "url", "due", "published_at", "attempts", "last_error", "approved"}
