"""Writing reactive posts through the services the web composer uses, in-process on a real
SQLite store with real image files: a writer sends one for approval (it waits in the
approvers' queue; a refused one stores nothing, its image included), the checks of a draft
count each platform its own way and find what `wst check` finds, uploads are real images that
the chosen platforms take, saved only inside content/images/ under a name of our own; and the
freeze's checks of what people type."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Clock, ProjectDir
from PIL import Image
from workflow_helpers import APPROVER, CHAIR, WRITER, Rig, set_people

from pipeline.check import load_project
from pipeline.config import load_config
from pipeline.errors import Invalid, NotAllowed
from pipeline.services import approvals, freeze, images, planning, posting
from pipeline.services.approvals import Selection
from pipeline.states import State

NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
URL = "https://www.wolverhamptonsafeguarding.org.uk/concerns/report-a-concern-about-a-child"
# Two more platforms, so each way of counting is seen side by side.
CHANNELS = '''
[channels.bluesky]
kind = "bluesky"

[channels.mastodon]
kind = "mastodon"

'''


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def rig(project: ProjectDir, clock: Clock) -> Iterator[Rig]:
    """The workflow's people; writers are responsible for reactive posts here (they write them,
    approvers approve them), as the business unit is in the real config."""
    set_people(project, CHANNELS)
    project.edit("config.toml", '[responsibilities.reactive-posts]\ntitle = "Reactive posts"\n',
                 '[responsibilities.reactive-posts]\ntitle = "Reactive posts"\n'
                 'responsible = ["writers"]\n')
    made = Rig(project, clock)
    yield made
    made.ws.close()


def png(width: int = 40, height: int = 30, noise: bool = False, kind: str = "PNG") -> bytes:
    """A real image file made here (random pixels do not compress: a large file)."""
    if noise:
        pixels = random.Random(width * height).randbytes(width * height * 3)
        image = Image.frombytes("RGB", (width, height), pixels)
    else:
        image = Image.new("RGB", (width, height), (20, 110, 105))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def stored(rig: Rig) -> tuple:
    """Everything a refused request must leave as it was."""
    return (rig.ws.reactive.all(), rig.rows("reactive/"), len(rig.ws.ledger.audit.events()),
            sorted(p.name for p in images.folder(rig.ws).iterdir()))


# -- sending for approval -----------------------------------------------------------------------

def test_a_writer_sends_a_post_for_approval_and_it_waits_for_an_approver(rig: Rig) -> None:
    text = "Worried about a child? Call 01902 555392. We are here to help."
    done = posting.submit(rig.ws, WRITER, NOW, posting.Draft(text, ("x", "facebook"), at=LATER))
    assert not done.approved and done.published == []
    ids = sorted(i.id for i in done.items)
    assert {e.state for e in rig.rows("reactive/").values()} == {State.PLANNED}
    waiting = approvals.queue(rig.ws, NOW, person="approver")
    assert sorted(w.line.item_id for w in waiting if w.line.campaign == "reactive") == ids
    assert approvals.queue(rig.ws, NOW, person="writer") == []
    submitted = rig.ws.ledger.audit.events("reactive-submit")[-1]
    assert (submitted.by, submitted.details["post"]) == ("writer", done.post.id)
    assert sorted(e.item_id for e in rig.ws.ledger.audit.events("submit")) == ids
    # nothing goes out unapproved; approved, it goes out at its time
    report = approvals.approve(rig.ws, APPROVER, NOW, Selection(tuple(ids)))
    assert sorted(a.item_id for a in report.approved) == ids
    assert sorted(rig.tick(LATER)) == [
        f"{i}: published (dry run: written to the outbox, nothing sent)" for i in ids]


def test_only_people_with_a_role_in_reactive_posts_write_them(rig: Rig) -> None:
    before = stored(rig)
    draft = posting.Draft("A water main has burst on the Stafford Road.", ("x",), at=LATER)
    with pytest.raises(NotAllowed, match="writing them is for: approver, writer"):
        posting.submit(rig.ws, CHAIR, NOW, draft)
    with pytest.raises(posting.PostRefused, match="nothing was posted"):
        posting.post(rig.ws, WRITER, NOW, draft)   # writes, but may not approve
    assert stored(rig) == before
    assert posting.refusal_to_write(rig.ws, "writer") is None
    assert posting.refusal_to_approve(rig.ws, "writer") is not None
    assert posting.refusal_to_approve(rig.ws, "approver") is None
    # an approver may send one for a colleague's approval too
    assert not posting.submit(rig.ws, APPROVER, NOW, draft).approved


def test_a_refused_submission_stores_nothing_not_even_its_image(rig: Rig) -> None:
    before = stored(rig)
    upload = posting.Upload("statement.png", png())
    wrong = posting.Draft("Worried? Call 01902 555000.", ("x",), alt="Our logo", at=LATER,
                          upload=upload)
    with pytest.raises(posting.PostRefused) as refused:
        posting.submit(rig.ws, WRITER, NOW, wrong)
    assert any("not an official number" in p for p in refused.value.problems)
    with pytest.raises(Invalid, match="that time has passed"):
        posting.submit(rig.ws, WRITER, NOW, posting.Draft("Hello.", ("x",), at=NOW))
    with pytest.raises(Invalid, match="say when it should go out"):
        posting.submit(rig.ws, WRITER, NOW, posting.Draft("Hello.", ("x",)))
    with pytest.raises(Invalid, match="bulletin's email channel"):
        posting.submit(rig.ws, WRITER, NOW, posting.Draft("Hello.", ("mailchimp",), at=LATER))
    with pytest.raises(Invalid, match="needs alt text"):
        posting.submit(rig.ws, WRITER, NOW, posting.Draft("Hello.", ("x",), at=LATER,
                                                          upload=upload))
    assert stored(rig) == before
    right = posting.Draft("Worried? Call 01902 555392.", ("x",), alt="Our logo", at=LATER,
                          upload=upload)
    done = posting.submit(rig.ws, WRITER, NOW, right)
    assert done.post.image.startswith("images/statement-") and done.post.image.endswith(".png")
    saved = Path(rig.ws.config.content_dir) / done.post.image
    assert saved.read_bytes() == upload.data
    approvals.approve(rig.ws, APPROVER, NOW, Selection(tuple(i.id for i in done.items)))
    rig.tick(LATER)
    record = next((Path(rig.ws.config.content_dir).parent / "outbox" / "x").glob("*.json"))
    assert str(saved) in record.read_text(encoding="utf-8")   # the adapter gets the file


def test_an_approver_posts_with_an_image_from_the_library_named_as_content_names_it(
        rig: Rig) -> None:
    library = images.library(rig.ws)
    assert library == ["images/sid.jpg"]
    done = posting.post(rig.ws, APPROVER, NOW, posting.Draft(
        "Talk to your child about what they do online.", ("x",),
        image=images.chosen(rig.ws, library[0]), alt="A parent and child look at a tablet."))
    assert done.approved and done.post.image == "images/sid.jpg"
    assert [str(r) for r in done.published] == [
        "published (dry run: written to the outbox, nothing sent)"]


# -- the checks as people type ------------------------------------------------------------------

def test_each_platform_counts_the_draft_its_own_way(rig: Rig) -> None:
    text = f"Worried? {URL} 👋"
    found = posting.check_draft(rig.ws, NOW, posting.Draft(
        text, ("x", "facebook", "bluesky", "mastodon")))
    counted = {c.channel: (c.length, c.limit, c.unit) for c in found.channels}
    assert counted == {
        "x": (9 + 23 + 1 + 2, 280, "weighted characters"),        # a link is 23, an emoji 2
        "facebook": (len(text), 63206, "characters"),              # every character
        # the link as Bluesky shows it: the host, "/" and "…" (never cut inside the host)
        "bluesky": (9 + len("wolverhamptonsafeguarding.org.uk/…") + 2, 300, "graphemes"),
        "mastodon": (9 + 23 + 2, 500, "characters"),               # any link is 23
    }
    bluesky = next(c for c in found.channels if c.channel == "bluesky")
    assert (bluesky.byte_limit, bluesky.over) == (3000, 0)
    long = posting.check_draft(rig.ws, NOW, posting.Draft("Help is here. " * 25, ("x",)))
    assert long.channels[0].over == 349 - 280   # (the last space is trimmed)
    assert [f.code for f in long.channels[0].errors] == ["length"]


def test_the_draft_checks_find_what_wst_check_finds_in_a_content_file(rig: Rig,
                                                                       project: ProjectDir) -> None:
    text = ("Call 01902 555000 or visit wolverhamptonsafegaurding.org.uk 10–14 May. "
            "#safeguarding #help #wolves")
    alt = "Image of a phone"
    found = posting.check_draft(rig.ws, NOW, posting.Draft(
        text, ("x",), image=images.chosen(rig.ws, "images/sid.jpg"), alt=alt))
    codes = {f.code for f in found.channels[0].findings}
    assert {"official-number", "official-website", "alt-image-of"} <= codes
    project.edit("content/posts/safer-internet-day.toml",
                 'text = "It is Safer Internet Day. Ask your child which apps they like."\n'
                 'image = "images/sid.jpg"\nalt = "A parent and child look at a tablet together."',
                 f'text = "{text}"\nimage = "images/sid.jpg"\nalt = "{alt}"')
    report = planning.check(load_project(load_config(project.config)), date(2027, 1, 10))
    in_file = {p.code for p in report.problems if p.code and "[" in p.message and "x" in
               p.message.rsplit("[", 1)[1]}
    assert codes == in_file


def test_the_same_words_are_checked_again_when_the_image_alt_or_link_changes(rig: Rig) -> None:
    """The composer checks one draft many times as a person fills it in: the word checks kept
    for the text alone must not answer for the text with an image lacking alt text."""
    text = "Worried about a child? Call 01902 555392."
    bare = posting.check_draft(rig.ws, NOW, posting.Draft(text, ("x",)))
    assert bare.channels[0].findings == ()
    sid = images.chosen(rig.ws, "images/sid.jpg")
    no_alt = posting.check_draft(rig.ws, NOW, posting.Draft(text, ("x",), image=sid))
    assert [f.code for f in no_alt.channels[0].findings] == ["alt-missing"]
    described = posting.check_draft(rig.ws, NOW, posting.Draft(
        text, ("x",), image=sid, alt="A parent and child look at a tablet together."))
    assert described.channels[0].findings == ()


def test_the_draft_checks_say_what_is_missing_without_raising(rig: Rig) -> None:
    found = posting.check_draft(rig.ws, NOW, posting.Draft("", (), image=Path("/nowhere.png")))
    assert {p.field for p in found.problems} == {"--text", "--channels", "--image", "--alt"}
    assert found.channels == [] and found.blocking == 4
    assert posting.check_draft(rig.ws, NOW, posting.Draft("  ", ("x",))).channels == []
    dangerous = "<script>alert(1)</script> Call 01902 000000"
    found = posting.check_draft(rig.ws, NOW, posting.Draft(dangerous, ("x",)))
    assert any("01902 000000" in f.message for f in found.channels[0].findings)


# -- images -------------------------------------------------------------------------------------

def test_an_upload_is_a_real_image_the_chosen_platforms_take_saved_inside_the_folder(
        rig: Rig) -> None:
    ws, folder = rig.ws, images.folder(rig.ws)
    name = images.upload(ws, WRITER, NOW, "../../config.toml/Our Statement!.PNG", png(), ["x"])
    assert name.startswith("images/our-statement-") and (folder / name[7:]).is_file()
    again = images.upload(ws, WRITER, NOW, "Our statement.png", png(), ["x"])
    assert again == name and len(list(folder.iterdir())) == 2   # the same file, once
    event = ws.ledger.audit.events("image-upload")[-1]
    assert (event.by, event.details["image"], event.details["format"]) == ("writer", name, "PNG")
    before = sorted(folder.iterdir())
    with pytest.raises(Invalid, match="not a picture we can use"):
        images.upload(ws, WRITER, NOW, "notes.png", b"\x89PNG\r\n\x1a\nnot really", ["x"])
    with pytest.raises(Invalid, match="not a picture we can use"):
        images.upload(ws, WRITER, NOW, "cut.png", png(200, 200, noise=True)[:5000], ["x"])
    big = png(620, 620, noise=True)
    assert len(big) > 1_000_000
    with pytest.raises(Invalid, match=r"bluesky would refuse it: the image is 1\.\d MB; Bluesky"):
        images.upload(ws, WRITER, NOW, "big.png", big, ["x", "bluesky"])
    with pytest.raises(NotAllowed):
        images.upload(ws, CHAIR, NOW, "pic.png", png(), ["x"])
    assert sorted(folder.iterdir()) == before
    assert images.upload(ws, WRITER, NOW, "big.png", big, ["x"]).startswith("images/big-")


def test_a_chosen_image_is_only_ever_one_of_the_folder(rig: Rig, project: ProjectDir) -> None:
    folder = images.folder(rig.ws)
    (folder.parent / "secret.png").write_bytes(png())          # content/, not content/images/
    (folder / "elsewhere.png").symlink_to(project.config)      # a link out of the folder
    for name in ("images/../secret.png", "../config.toml", "/etc/passwd", "images/elsewhere.png",
                 "images/missing.png", ""):
        with pytest.raises(Invalid):
            images.chosen(rig.ws, name)
    assert images.library(rig.ws) == ["images/sid.jpg"]
    assert images.chosen(rig.ws, "images/sid.jpg") == folder / "sid.jpg"


# -- the freeze's checks of what people type ----------------------------------------------------

def test_a_pause_needs_a_reason_and_an_end_still_to_come(rig: Rig) -> None:
    with pytest.raises(Invalid, match="say why") as no_reason:
        freeze.pause(rig.ws, CHAIR, NOW, "  ")
    assert no_reason.value.field == "--reason"
    with pytest.raises(Invalid, match="already passed") as past:
        freeze.pause(rig.ws, CHAIR, NOW, "An incident", until=NOW)
    assert past.value.field == "--until"
    with pytest.raises(NotAllowed):
        freeze.pause(rig.ws, WRITER, NOW, "")  # the role first, whatever was typed
    assert freeze.in_force(rig.ws, NOW) is None
    assert freeze.refusal(rig.ws, "chair") is None and freeze.refusal(rig.ws, "writer")


def test_earlier_pauses_with_undecided_items_are_listed(rig: Rig) -> None:
    approvals.approve(rig.ws, APPROVER, NOW, Selection(campaign="safer-internet-day"))
    start = datetime(2027, 2, 7, 9, tzinfo=UTC)
    rig.tick(start)
    freeze.pause(rig.ws, CHAIR, start, "First incident")
    rig.tick(datetime(2027, 2, 7, 10, tzinfo=UTC))   # the Sunday posts are held
    freeze.resume(rig.ws, CHAIR, datetime(2027, 2, 7, 11, tzinfo=UTC))
    later = datetime(2027, 2, 8, 9, tzinfo=UTC)
    freeze.pause(rig.ws, CHAIR, later, "Second incident", until=later + timedelta(hours=1))
    listed = freeze.undecided(rig.ws, later + timedelta(hours=2))
    assert [(h.pause.reason, len(h.entries)) for h in listed] == [("First incident", 2)]
    freeze.decide(rig.ws, CHAIR, later + timedelta(hours=2), release_them=False,
                  reason="Out of date now", pause_id=listed[0].pause.id)
    assert freeze.undecided(rig.ws, later + timedelta(hours=2)) == []


def test_an_upload_a_platform_takes_only_as_jpeg_is_converted(rig: Rig) -> None:
    """Instagram takes only JPEG and Facebook no WebP: the picture is converted once, on
    upload, and every chosen channel gets the JPEG; the trail says what it was."""
    ws = rig.ws
    name = images.upload(ws, WRITER, NOW, "pic.webp", png(kind="WEBP"), ["facebook", "x"])
    assert name.endswith(".jpg")
    saved = images.folder(ws).parent / name
    info = images.info_of(saved)
    assert (info.format, info.width, info.height) == ("JPEG", 40, 30)
    event = ws.ledger.audit.events("image-upload")[-1]
    assert (event.details["format"], event.details["converted_from"]) == ("JPEG", "WEBP")
    kept = images.upload(ws, WRITER, NOW, "pic.png", png(), ["x"])
    assert kept.endswith(".png")   # X takes a PNG: nothing to convert
