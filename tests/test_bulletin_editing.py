"""Writing the monthly bulletin through the service the bulletin form calls, in-process on a
real store and real files: the month's draft is the one `wst bulletin new` writes; a save keeps
the file's comments and theme, adds and removes stories; a bulletin marked ready with a
placeholder is refused where it is; the preview checks the words as typed; only the people the
matrix lets write the bulletin may."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from conftest import Clock, ProjectDir
from workflow_helpers import CHAIR, WRITER, Rig, add_bulletin, set_people

from pipeline.bulletin_draft import draft_bulletin
from pipeline.errors import Invalid, NotAllowed
from pipeline.services import bulletin_editing as bulletins
from pipeline.services import editing
from pipeline.services.bulletin_editing import BulletinFields, StoryFields
from pipeline.services.editing import EditRefused

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
FEBRUARY = "content/bulletins/2027-02.toml"


@pytest.fixture
def rig(project: ProjectDir) -> Iterator[Rig]:
    set_people(project)
    add_bulletin(project)
    project.write(FEBRUARY, "# February: checked by the business unit.\n"
                  + project.read(FEBRUARY).replace('intro = ', 'theme = "Online safety"  # '
                                                   'this month only\nintro = '))
    made = Rig(project, Clock(NOW))
    yield made
    made.ws.close()


def opened(rig: Rig, month: str = "2027-02"):
    return bulletins.bulletin_form(rig.ws, month)


def test_the_months_draft_is_the_one_wst_bulletin_new_writes(rig: Rig,
                                                             project: ProjectDir) -> None:
    expected = draft_bulletin(rig.ws.catalog.project, "2027-03")
    saved = bulletins.start_draft(rig.ws, WRITER, NOW, "2027-03")
    assert project.read("content/bulletins/2027-03.toml") == expected
    assert saved.shown.endswith("content/bulletins/2027-03.toml")
    assert opened(rig, "2027-03").fields.status == "draft"
    with pytest.raises(Invalid, match="already exists; edit it instead"):
        bulletins.start_draft(rig.ws, WRITER, NOW, "2027-03")
    assert project.read("content/bulletins/2027-03.toml") == expected


def test_a_save_keeps_comments_and_theme_and_changes_the_stories(
        rig: Rig, project: ProjectDir) -> None:
    form = opened(rig)
    (story,) = form.fields.stories
    fields = replace(form.fields, subject="February: staying safe online", stories=(
        replace(story, body="Talk to your child about the apps they use.\n\n- Ask them to "
                            "show you\n- Agree rules together"),
        StoryFields("Training", "Book a place on our online safety course.",
                    "https://www.wolverhamptonsafeguarding.org.uk/training",
                    "Book a place on the course")))
    bulletins.save_bulletin(rig.ws, WRITER, NOW, "2027-02", fields, form.digest)
    text = project.read(FEBRUARY)
    assert text.startswith('# February: checked by the business unit.\nmonth = "2027-02"\n'
                           'subject = "February: staying safe online"\n')
    assert 'theme = "Online safety"  # this month only\n' in text
    assert text.endswith('\n\n[[story]]\ntitle = "Training"\nbody = "Book a place on our online '
                         'safety course."\nlink = "https://www.wolverhamptonsafeguarding.org.uk/'
                         'training"\nlink_text = "Book a place on the course"\n')
    assert rig.ws.catalog.project.bulletins["2027-02"].story[0].body.endswith(
        "- Agree rules together")
    form = opened(rig)
    bulletins.save_bulletin(rig.ws, WRITER, NOW, "2027-02",
                            replace(form.fields, stories=form.fields.stories[:1]), form.digest)
    assert "Training" not in project.read(FEBRUARY)


def test_ready_with_a_placeholder_is_refused_where_it_is(rig: Rig, project: ProjectDir) -> None:
    form = opened(rig)
    before = project.read(FEBRUARY)
    with pytest.raises(EditRefused) as refused:
        bulletins.save_bulletin(rig.ws, WRITER, NOW, "2027-02",
                                replace(form.fields, status="ready",
                                        preheader="WRITE: the inbox line"), form.digest)
    assert project.read(FEBRUARY) == before
    assert any(p.line == 4 and "placeholder" in p.message for p in refused.value.problems), \
        refused.value.problems
    # the same words in a draft are only worth a look: saved
    saved = bulletins.save_bulletin(rig.ws, WRITER, NOW, "2027-02",
                                    replace(form.fields, status="draft",
                                            preheader="WRITE: the inbox line"), form.digest)
    assert any("placeholder" in w.message for w in saved.warnings)


def test_the_preview_checks_the_words_as_typed(rig: Rig, project: ProjectDir) -> None:
    form = opened(rig)
    (story,) = form.fields.stories
    said = bulletins.preview(rig.ws, "2027-02", replace(form.fields, stories=(
        replace(story, body="Worried? Call 01902 555000."),)))
    assert any(f.severity == "error" and "official" in f.message for f in said.findings), said
    said = bulletins.preview(rig.ws, "2027-02", replace(form.fields, subject=""))
    assert said.problems and said.problems[0].startswith("subject:")
    assert editing.opened(project.path / FEBRUARY).digest == form.digest  # nothing written


def test_only_the_people_the_matrix_lets_write_the_bulletin_may(
        rig: Rig, project: ProjectDir) -> None:
    form = opened(rig)
    before = project.read(FEBRUARY)
    with pytest.raises(NotAllowed, match="'chair' is not responsible, accountable or in "
                                         "support for 'e-bulletins'"):
        bulletins.save_bulletin(rig.ws, CHAIR, NOW, "2027-02",
                                replace(form.fields, subject="The chair's"), form.digest)
    with pytest.raises(NotAllowed):
        bulletins.start_draft(rig.ws, CHAIR, NOW, "2027-03")
    assert project.read(FEBRUARY) == before
    assert not (project.path / "content/bulletins/2027-03.toml").exists()
    with pytest.raises(Invalid, match="is not a month"):
        bulletins.bulletin_form(rig.ws, "../../config")
    assert BulletinFields().status == "draft"


def test_the_months_offered_say_which_are_written(rig: Rig) -> None:
    assert bulletins.months(rig.ws, NOW)[:2] == [("2027-02", True), ("2027-03", False)]
