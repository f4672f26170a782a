"""Saving content from the workspace's forms, through the service they call, in-process on a
real SQLite store and real files: round-trip edits keep comments, order and layout; a file
changed since the form opened is refused with both versions; an edit `wst check` would fail is
never written and says where the problem is; every save is in the audit trail and, in a git
repository, a commit by the person; only people the RASCI matrix lets write may; the new
version is planned at once and voids the old approval."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from conftest import Clock, ProjectDir
from workflow_helpers import APPROVER, WRITER, Rig, set_people

from pipeline.errors import Invalid, NotAllowed
from pipeline.ledger.notices import QUEUED
from pipeline.services import editing
from pipeline.services.editing import EditConflict, EditRefused, PostFields
from pipeline.services.notices import tell_approvers
from pipeline.states import State

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
POSTS = "content/posts/safer-internet-day.toml"
# The minimal project's posts file, as a person writes one: comments, blank lines, a
# multi-line string and a sub-table, which a save must leave as they are.
WRITTEN = '''# Safer Internet Day: posts for parents and carers.
# Reviewed by the C&E group in January.

[[post]]
id = "two-days-to-go"   # the countdown post
when = "2 days before at 10:00"
text = "Safer Internet Day is on Tuesday. Talk to your child about what they do online."

[post.variants]
x = "Safer Internet Day is on Tuesday. Talk to your child about their apps."

# the day itself
[[post]]
id = "on-the-day"
when = "on the day at 09:00"
text = """It is Safer Internet Day.
Ask your child which apps they like."""
image = "images/sid.jpg"
alt = "A parent and child look at a tablet together."
'''


@pytest.fixture
def rig(project: ProjectDir) -> Iterator[Rig]:
    set_people(project)
    project.write(POSTS, WRITTEN)
    made = Rig(project, Clock(NOW))
    yield made
    made.ws.close()


def fields(**changes) -> PostFields:
    base = {"id": "two-days-to-go", "when": "2 days before at 10:00",
            "text": "Safer Internet Day is on Tuesday. Talk to your child about what they do "
                    "online."}
    return PostFields(**{**base, **changes})


def save(rig: Rig, post_id: str | None, form: PostFields, *, by=APPROVER, seen: str | None = None):
    path = editing.post_file(rig.ws, "safer-internet-day")
    shown = editing.opened(path)
    return editing.save_post(rig.ws, by, NOW, "safer-internet-day", post_id, form,
                             shown.digest if seen is None else seen)


def test_an_edit_changes_only_what_was_changed(rig: Rig, project: ProjectDir) -> None:
    save(rig, "two-days-to-go", fields(text="Safer Internet Day is on Tuesday. Ask your child "
                                             "what they enjoy online.", help=True))
    assert project.read(POSTS) == WRITTEN.replace(
        'text = "Safer Internet Day is on Tuesday. Talk to your child about what they do '
        'online."',
        'text = "Safer Internet Day is on Tuesday. Ask your child what they enjoy online."\n'
        'help = true')


def test_a_multi_line_text_stays_multi_line_and_a_new_post_goes_at_the_end(
        rig: Rig, project: ProjectDir) -> None:
    save(rig, "on-the-day", PostFields(
        id="on-the-day", when="on the day at 09:30",
        text="It is Safer Internet Day.\nAsk your child which games they like.",
        image="images/sid.jpg", alt="A parent and child look at a tablet together."))
    save(rig, None, PostFields(id="the-day-after", when="1 day after at 12:00",
                               text="Thank you for talking to your children yesterday.",
                               channels=("x",)))
    text = project.read(POSTS)
    assert 'when = "on the day at 09:30"\ntext = """It is Safer Internet Day.\nAsk your child ' \
           'which games they like."""' in text
    assert text.startswith(WRITTEN.split("# the day itself")[0])
    assert text.endswith('alt = "A parent and child look at a tablet together."\n\n[[post]]\n'
                         'id = "the-day-after"\nwhen = "1 day after at 12:00"\n'
                         'text = "Thank you for talking to your children yesterday."\n'
                         'channels = ["x"]\n')
    posts = {cp.post.id for cp in rig.ws.catalog.project.posts}
    assert posts == {"two-days-to-go", "on-the-day", "the-day-after"}


def test_a_file_changed_since_the_form_opened_is_refused_with_both_versions(
        rig: Rig, project: ProjectDir) -> None:
    seen = editing.opened(project.path / POSTS).digest
    by_hand = WRITTEN.replace("the countdown post", "edited by hand meanwhile")
    project.write(POSTS, by_hand)
    with pytest.raises(EditConflict) as refused:
        save(rig, "two-days-to-go", fields(text="Mine"), seen=seen)
    assert refused.value.theirs == by_hand
    assert 'text = "Mine"' in refused.value.yours
    assert "changed since you opened it" in str(refused.value)
    assert project.read(POSTS) == by_hand


def test_an_edit_that_check_would_refuse_is_never_written_and_says_where(
        rig: Rig, project: ProjectDir) -> None:
    with pytest.raises(EditRefused) as refused:
        save(rig, "two-days-to-go", fields(when="9 weeks before at 10:00"))
    assert project.read(POSTS) == WRITTEN
    (problem,) = refused.value.problems
    assert problem.path.endswith(POSTS) and problem.line == 6, problem
    assert "live window" in problem.message
    with pytest.raises(EditRefused) as refused:
        save(rig, "two-days-to-go", fields(text="Worried about a child? Call 01902 555393."))
    assert project.read(POSTS) == WRITTEN
    assert any(p.line == 7 and "01902 555392" in p.message for p in refused.value.problems), \
        refused.value.problems


def test_only_people_the_matrix_lets_write_may_save(rig: Rig, project: ProjectDir) -> None:
    with pytest.raises(NotAllowed) as refused:
        save(rig, "two-days-to-go", fields(text="A writer's words"), by=WRITER)
    assert "'writer' is not responsible, accountable or in support for 'campaign-posts'" \
        in str(refused.value)
    assert project.read(POSTS) == WRITTEN
    assert rig.ws.ledger.audit.events(editing.AUDIT_KIND) == []


def test_a_save_is_in_the_audit_trail_and_plans_the_new_version(
        rig: Rig, project: ProjectDir) -> None:
    rig.tick(NOW)
    item = "safer-internet-day/two-days-to-go/2027-02-07/facebook"  # (x has a variant)
    old = rig.rows(item)[item]
    rig.ws.ledger.approvals.approve(item, old.version, APPROVER, NOW, rig.ws.config.settings)
    assert rig.rows(item)[item].state == State.APPROVED
    saved = save(rig, "two-days-to-go", fields(text="Safer Internet Day is on Tuesday. Ask "
                                                    "your child what they enjoy online."))
    new = rig.rows(item)[item]
    assert new.version != old.version and new.state == State.PLANNED
    (event,) = rig.ws.ledger.audit.events(editing.AUDIT_KIND)
    assert event.by == "approver"
    assert event.details["file"].endswith(POSTS) and event.details["post"] == "two-days-to-go"
    assert event.details["digest"] == saved.digest == editing.opened(project.path / POSTS).digest
    assert saved.commit is None  # not a git repository


def test_a_duplicate_id_or_an_unknown_post_is_refused(rig: Rig, project: ProjectDir) -> None:
    with pytest.raises(Invalid, match="already has a post 'on-the-day'"):
        save(rig, None, fields(id="on-the-day"))
    with pytest.raises(Invalid, match="already has a post 'on-the-day'"):
        save(rig, "two-days-to-go", fields(id="on-the-day"))
    assert project.read(POSTS) == WRITTEN


def test_in_a_git_repository_each_save_is_a_commit_by_the_person(
        project: ProjectDir) -> None:
    set_people(project)
    project.write(POSTS, WRITTEN)

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(project.path), *args], check=True,
                              capture_output=True, text=True).stdout

    git("init", "--quiet")
    git("-c", "user.name=Set up", "-c", "user.email=setup@example.org", "add", ".")
    git("-c", "user.name=Set up", "-c", "user.email=setup@example.org", "commit", "--quiet",
        "-m", "start")
    (project.path / "notes.txt").write_text("not part of the save\n")
    git("add", "notes.txt")  # staged by someone else: a save commits its own file only
    rig = Rig(project, Clock(NOW))
    try:
        saved = save(rig, "two-days-to-go", fields(text="Safer Internet Day is on Tuesday."))
    finally:
        rig.ws.close()
    assert saved.commit and len(saved.commit) == 40
    log = git("log", "-1", "--format=%H|%an|%ae|%s", "--name-only").split("\n")
    assert log[0] == f"{saved.commit}|An approver|approver@example.org|Edit post " \
                     f"safer-internet-day/two-days-to-go (from the workspace)"
    assert [line for line in log[1:] if line] == [POSTS]
    assert "notes.txt" in git("diff", "--cached", "--name-only")


def test_a_write_is_whole_and_keeps_the_file_permissions(rig: Rig, project: ProjectDir) -> None:
    path = project.path / POSTS
    os.chmod(path, 0o640)
    save(rig, "two-days-to-go", fields(text="Safer Internet Day is on Tuesday."))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_path_from_a_form_stays_inside_its_folder(rig: Rig, project: ProjectDir) -> None:
    content = project.path / "content"
    with pytest.raises(Invalid, match="goes out of"):
        editing.in_folder(content, "../config.toml")
    with pytest.raises(Invalid, match="outside"):
        editing.in_folder(content, "/etc/passwd")


def test_the_approvers_are_told_of_the_new_version_as_after_a_hand_edit(
        rig: Rig, project: ProjectDir) -> None:
    """What the daemon does after any edit (sync, then tell the approvers) finds the saved
    version already planned, and tells the approvers of it once."""
    rig.tick(NOW)
    # two posts on two channels, in 2027 and 2028 (the horizon is 400 days)
    assert tell_approvers(rig.ws, NOW).queued == {"approver": 8}
    assert tell_approvers(rig.ws, NOW).queued == {}
    save(rig, "on-the-day", PostFields(
        id="on-the-day", when="on the day at 09:00", text="It is Safer Internet Day.\nAsk your "
        "child which games they play.", image="images/sid.jpg",
        alt="A parent and child look at a tablet together."))
    rig.tick(NOW)   # the daemon's reload: nothing new to record
    assert tell_approvers(rig.ws, NOW).queued == {"approver": 4}   # the one post changed
    told = rig.ws.ledger.notices.given(QUEUED)
    day = "safer-internet-day/on-the-day/2027-02-09"
    assert {item for _person, item, _version in told} >= {f"{day}/x", f"{day}/facebook"}


def test_a_commit_that_fails_leaves_the_save_and_says_why(project: ProjectDir) -> None:
    set_people(project)
    project.write(POSTS, WRITTEN)
    subprocess.run(["git", "-C", str(project.path), "init", "--quiet"], check=True)
    (project.path / ".git" / "index.lock").write_text("")   # another git command is running
    rig = Rig(project, Clock(NOW))
    try:
        saved = save(rig, "two-days-to-go", fields(text="Safer Internet Day is on Tuesday."))
        (event,) = rig.ws.ledger.audit.events(editing.AUDIT_KIND)
    finally:
        rig.ws.close()
    assert saved.commit is None
    assert 'text = "Safer Internet Day is on Tuesday."' in project.read(POSTS)
    assert "index.lock" in event.details["not_committed"]


def test_a_new_file_is_checked_with_the_rest_before_it_is_written(project: ProjectDir) -> None:
    """load_project reads an edit's text in place of the file, and a file that is not there
    yet as one more of its folder."""
    from pipeline.check import load_project
    from pipeline.config import load_config

    config = load_config(project.config)
    new = config.content_dir / "bulletins" / "2099-01.toml"
    found = load_project(config, {new: 'month = "2099-01"\nsubject = "January"\n'})
    assert [(p.path.endswith("bulletins/2099-01.toml"), p.line, "preheader" in p.message)
            for p in found.errors] == [(True, None, True)]
    assert not new.exists()
    edited = config.content_dir / "posts" / "safer-internet-day.toml"
    found = load_project(config, {edited: project.read(POSTS).replace("on the day at 09:00",
                                                                       "on the dya at 09:00")})
    assert [(p.line, "cannot read when" in p.message) for p in found.errors] == [(8, True)]


def test_the_date_builder_of_a_post_reads_back_what_it_writes() -> None:
    from pipeline.services.editing import WhenParts

    for phrase in ("2 days before at 10:00", "1 week after at 14:00", "on the day at 09:00",
                   "at 2027-02-01 10:00", "each day of the event at 12:30"):
        assert WhenParts.of(phrase).phrase() == phrase
    assert WhenParts("before", 1, "days", "08:30").phrase() == "1 day before at 08:30"


def test_a_channel_switched_off_stays_listed_when_the_form_saves(project: ProjectDir) -> None:
    set_people(project, "")
    project.write(POSTS, WRITTEN.replace('when = "on the day at 09:00"\n',
                                         'when = "on the day at 09:00"\n'
                                         'channels = ["facebook", "x"]\n'))
    project.edit("config.toml", 'kind = "facebook"\n', 'kind = "facebook"\nenabled = false\n')
    rig = Rig(project, Clock(NOW))
    try:
        form = editing.post_form(rig.ws, "safer-internet-day", "on-the-day")
        assert rig.ws.config.settings.channels["facebook"].enabled is False
        editing.save_post(rig.ws, APPROVER, NOW, "safer-internet-day", "on-the-day",
                          PostFields(**{**form.fields.__dict__, "channels": ("x",),
                                        "text": "It is Safer Internet Day."}), form.digest)
    finally:
        rig.ws.close()
    assert 'text = """It is Safer Internet Day."""' in project.read(POSTS)  # its style kept
    assert 'channels = ["x", "facebook"]' in project.read(POSTS)
