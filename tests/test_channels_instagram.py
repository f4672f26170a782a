"""The Instagram adapter over real HTTP against the loopback Instagram Graph stand-in, which also
plays the website that serves content/images/; and the "Instagram needs an image" check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from channel_contract import ALT, PNG, TEXT, ChannelContract, artefact, wall_clock
from conftest import ProjectDir
from standins.facebook import graph_error
from standins.instagram import WINDOW, InstagramStandIn
from standins.server import http_date
from test_metrics_support import write_config

from pipeline.channels.base import (
    Artefact,
    AuthExpired,
    Publication,
    RateLimited,
    Rejected,
    Setup,
    Transient,
    Unconfirmed,
)
from pipeline.channels.instagram import CONTAINER_POLLS, InstagramAdapter, image_url
from pipeline.channels.registry import make_adapter
from pipeline.config import Channel, load_config
from pipeline.problems import InputError

TIMEOUT = 0.5
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
# Other bytes under the same name: an older version of the image left on the website.
OTHER_PNG = PNG + b"an older version"


def settings_for(standin: InstagramStandIn, **extra: Any) -> Channel:
    """The [channels.instagram] table of config.toml, pointed at the stand-in."""
    values = {"kind": "instagram", "api_base": standin.base_url, "api_version": standin.version,
              "account_id": standin.ig_user_id, "handle": "@" + standin.username,
              "image_base_url": standin.site_url, "token_env": "WST_INSTAGRAM_TOKEN", **extra}
    return Channel(**values)


def adapter_for(standin: InstagramStandIn, slept: list[float] | None = None,
                **extra: Any) -> InstagramAdapter:
    return InstagramAdapter("instagram", settings_for(standin, **extra), standin.environ,
                            timeout=TIMEOUT, sleep=(slept if slept is not None else []).append,
                            now=wall_clock)


def image_in(folder: Path, name: str = "orange-heart.png", data: bytes = PNG) -> Path:
    """An image file in `folder`, which the stand-in's website serves."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[InstagramStandIn]:
    """A started stand-in whose website serves tmp_path, on a fixed clock."""
    with InstagramStandIn(site_root=tmp_path, clock=lambda: NOW) as s:
        yield s


@pytest.fixture
def channel(standin: InstagramStandIn, tmp_path: Path,
            request: pytest.FixtureRequest) -> tuple[InstagramAdapter, InstagramStandIn]:
    """An Instagram adapter and the started stand-in it talks to; a contract case's posts carry
    a default image (Instagram publishes nothing without one)."""
    if request.instance is not None:
        request.instance.default_image = image_in(tmp_path, "default.png")
    return adapter_for(standin), standin


class TestInstagramContract(ChannelContract):
    """The shared channel contract, for an Instagram professional account."""

    default_image: Path

    def make_artefact(self, text: str = TEXT, image: Path | None = None, alt: str = "") -> Artefact:
        """A post, with the default image when the case gives none."""
        if image is None:
            image, alt = self.default_image, alt or ALT
        return artefact(text, image, alt)

    def assert_names_the_held(self, adapter: Any, item: Artefact, publication: Publication,
                              record: dict[str, Any]) -> None:
        """The media id, and the permalink Instagram gives the post (it holds a shortcode)."""
        assert publication.remote_id == record["id"]
        assert publication.url == record["permalink"]
        assert publication.url.startswith("https://www.instagram.com/p/")


# -- publishing ------------------------------------------------------------------------------

def test_container_then_publish_carries_image_url_caption_and_alt(
        channel: tuple[InstagramAdapter, InstagramStandIn], tmp_path: Path) -> None:
    """POST media (image_url, caption, alt_text), then media_publish with its creation_id; the
    limit is read first; the token travels in form bodies and a header, never a URL."""
    adapter, standin = channel
    publication = adapter.publish(artefact(image=image_in(tmp_path), alt=ALT))
    (container,) = standin.container_calls
    assert container.form()["image_url"] == [standin.site_url + "orange-heart.png"]
    assert container.form()["caption"] == [TEXT] and container.form()["alt_text"] == [ALT]
    (publish,) = standin.create_calls
    assert publish.form()["creation_id"] == [publication.extra["container_id"]]
    limit = standin.calls_to("GET", rf"/v21.0/{standin.ig_user_id}/content_publishing_limit")
    assert limit and standin.calls.index(limit[0]) < standin.calls.index(container)
    assert [p["image"] for p in standin.posts] == [PNG]
    assert all(standin.token not in c.path and standin.token not in c.raw_query
               for c in standin.calls)
    site = [c for c in standin.calls if c.path.startswith("/site/")]
    assert site and all("authorization" not in c.headers for c in site)  # the website never sees it


def test_a_post_without_an_image_is_refused_before_any_call(
        channel: tuple[InstagramAdapter, InstagramStandIn]) -> None:
    adapter, standin = channel
    with pytest.raises(Rejected, match="needs an image"):
        adapter.publish(artefact())
    assert standin.calls == []


def test_the_image_must_be_on_the_website_exactly(channel: tuple[InstagramAdapter, InstagramStandIn],
                                                  tmp_path: Path) -> None:
    """Not on the website yet: Transient (worth another try); another file under the name:
    Rejected. Either way no container is made and nothing is posted."""
    adapter, standin = channel
    local = image_in(tmp_path / "content" / "images", "new-poster.png")
    with pytest.raises(Transient, match="not on the website yet"):
        adapter.publish(artefact(image=local, alt=ALT))
    image_in(tmp_path, "new-poster.png", OTHER_PNG)          # an older file under that name
    with pytest.raises(Rejected, match="not the same image"):
        adapter.publish(artefact(image=local, alt=ALT))
    assert standin.container_calls == [] and standin.posts == []
    image_in(tmp_path, "new-poster.png", PNG)                 # the website is brought up to date
    adapter.publish(artefact(image=local, alt=ALT))
    assert len(standin.posts) == 1


def test_an_image_instagram_cannot_fetch_is_refused(channel: tuple[InstagramAdapter, InstagramStandIn],
                                                    tmp_path: Path) -> None:
    """Instagram's own cURL fails (code 9004, subcode 2207052): Rejected with its message."""
    adapter, standin = channel
    standin.answer_next(graph_error(400, "Only photo or video can be accepted as media type.", 9004,
                                    2207052), match=lambda c: c.method == "POST")
    with pytest.raises(Rejected, match="2207052"):
        adapter.publish(artefact(image=image_in(tmp_path), alt=ALT))
    assert standin.create_calls == []


def test_image_addresses_keep_their_place_below_the_images_folder(tmp_path: Path) -> None:
    base = "https://www.wolverhamptonsafeguarding.org.uk/bulletin-images/"
    content = tmp_path / "content" / "images"
    assert image_url(base, content / "orange-heart.png") == base + "orange-heart.png"
    assert image_url(base.rstrip("/"), content / "2026" / "a poster.png") == base + "2026/a%20poster.png"
    assert image_url(base, Path("/elsewhere/flyer.png")) == base + "flyer.png"


def test_an_image_over_8_mb_is_refused_before_any_call(
        channel: tuple[InstagramAdapter, InstagramStandIn], tmp_path: Path) -> None:
    adapter, standin = channel
    big = image_in(tmp_path, "big.png", PNG + bytes(8 * 1024 * 1024))
    with pytest.raises(Rejected, match="up to 8 MB"):
        adapter.publish(artefact(image=big, alt=ALT))
    assert standin.calls == []


# -- waiting for the container ---------------------------------------------------------------

def test_it_waits_while_the_container_is_in_progress(tmp_path: Path) -> None:
    with InstagramStandIn(site_root=tmp_path, processing_polls=2) as standin:
        slept: list[float] = []
        adapter_for(standin, slept).publish(artefact(image=image_in(tmp_path), alt=ALT))
        assert len(slept) == 2 and len(standin.posts) == 1 and len(standin.create_calls) == 1


def test_a_container_still_in_progress_is_transient_and_nothing_is_published(tmp_path: Path) -> None:
    with InstagramStandIn(site_root=tmp_path, processing_polls=CONTAINER_POLLS + 5) as standin:
        slept: list[float] = []
        with pytest.raises(Transient, match="still processing"):
            adapter_for(standin, slept).publish(artefact(image=image_in(tmp_path), alt=ALT))
        assert len(slept) == CONTAINER_POLLS and standin.create_calls == [] and standin.posts == []


def test_a_container_in_error_is_rejected_with_instagrams_reason(
        channel: tuple[InstagramAdapter, InstagramStandIn], tmp_path: Path) -> None:
    adapter, standin = channel
    standin.fail_processing = "The aspect ratio is not supported. (2207009)"
    with pytest.raises(Rejected, match="aspect ratio is not supported"):
        adapter.publish(artefact(image=image_in(tmp_path), alt=ALT))
    assert standin.create_calls == []


# -- the content publishing limit ------------------------------------------------------------

def test_at_the_publishing_limit_it_waits_until_the_oldest_post_leaves_the_window(
        tmp_path: Path) -> None:
    """Two posts allowed a day, two made by the API: rate limited (never failed) until the
    older one is 24 hours old; no container is made."""
    first, second = NOW - timedelta(hours=20), NOW - timedelta(hours=3)
    with InstagramStandIn(site_root=tmp_path, quota_total=2, clock=lambda: NOW) as standin:
        standin.published_earlier("Earlier post", first)
        standin.published_earlier("Later post", second)
        with pytest.raises(RateLimited) as caught:
            adapter_for(standin).publish(artefact(image=image_in(tmp_path), alt=ALT))
        assert caught.value.retry_at == first + WINDOW + timedelta(seconds=1)
        assert "2 of the 2 posts" in str(caught.value)
        assert standin.container_calls == [] and len(standin.posts) == 2


def test_a_post_made_in_the_app_makes_the_wait_shorter_never_longer(tmp_path: Path) -> None:
    """The media list does not say which posts the API made, so a post made in the app may be
    taken for the oldest: the retry comes early, reads the limit again (one read, no post) and
    then waits for the right post; once the window frees, the post goes."""
    now = [NOW]
    in_app, first = NOW - timedelta(hours=22), NOW - timedelta(hours=20)
    with InstagramStandIn(site_root=tmp_path, quota_total=2, clock=lambda: now[0]) as standin:
        standin.published_earlier("Made in the app", in_app, by_api=False)
        standin.published_earlier("Earlier post", first)
        standin.published_earlier("Later post", NOW - timedelta(hours=3))
        adapter, item = adapter_for(standin), artefact(image=image_in(tmp_path), alt=ALT)
        with pytest.raises(RateLimited) as early:
            adapter.publish(item)
        assert early.value.retry_at == in_app + WINDOW + timedelta(seconds=1)
        now[0] = early.value.retry_at
        with pytest.raises(RateLimited) as right:
            adapter.publish(item)
        assert right.value.retry_at == first + WINDOW + timedelta(seconds=1)
        now[0] = right.value.retry_at
        adapter.publish(item)
        assert [p["text"] for p in standin.posts][-1] == TEXT and len(standin.create_calls) == 1


def test_over_the_limit_by_more_than_one_waits_for_enough_posts_to_leave(tmp_path: Path) -> None:
    stamps = [NOW - timedelta(hours=h) for h in (23, 10, 2)]
    with InstagramStandIn(site_root=tmp_path, quota_total=2, clock=lambda: NOW) as standin:
        for i, at in enumerate(stamps):
            standin.published_earlier(f"post {i}", at)
        with pytest.raises(RateLimited) as caught:
            adapter_for(standin).publish(artefact(image=image_in(tmp_path), alt=ALT))
        assert caught.value.retry_at == stamps[1] + WINDOW + timedelta(seconds=1)


def test_the_limit_reached_at_publish_is_rate_limited_not_failed(
        channel: tuple[InstagramAdapter, InstagramStandIn], tmp_path: Path) -> None:
    """Another app published in between: media_publish answers code 9, subcode 2207042."""
    adapter, standin = channel
    reply = graph_error(400, "Application request limit reached", 9, 2207042)
    reply.headers["Date"] = http_date(NOW)
    standin.answer_next(reply, match=lambda c: c.path.endswith("/media_publish"))
    with pytest.raises(RateLimited) as caught:
        adapter.publish(artefact(image=image_in(tmp_path), alt=ALT))
    assert caught.value.retry_at == NOW + timedelta(hours=1)  # then the limit is read again
    assert standin.posts == []


# -- timeouts and what follows a publish -----------------------------------------------------

def test_a_timeout_creating_the_container_is_unconfirmed_and_find_says_nothing_was_posted(
        channel: tuple[InstagramAdapter, InstagramStandIn], tmp_path: Path) -> None:
    adapter, standin = channel
    item = artefact(image=image_in(tmp_path), alt=ALT)
    standin.delay_next(TIMEOUT * 4, land=True,
                       match=lambda c: c.method == "POST" and c.path.endswith("/media"))
    with pytest.raises(Unconfirmed, match="may exist"):
        adapter.publish(item)
    assert adapter.find(item) is None and standin.create_calls == []


def test_an_unreadable_permalink_after_publishing_is_not_an_error(
        channel: tuple[InstagramAdapter, InstagramStandIn], tmp_path: Path) -> None:
    """The post exists once media_publish answers: a failed read of its permalink must not
    raise (a retry would post twice); the profile stands in for the link."""
    adapter, standin = channel
    standin.answer_next(graph_error(500, "An unexpected error has occurred.", 2),
                        match=lambda c: c.method == "GET" and "permalink" in c.raw_query)
    publication = adapter.publish(artefact(image=image_in(tmp_path), alt=ALT))
    assert publication.remote_id == standin.posts[0]["id"]
    assert publication.url == f"https://www.instagram.com/{standin.username}/"
    assert len(standin.create_calls) == 1


# -- credentials and permissions -------------------------------------------------------------

def test_a_missing_permission_flags_the_channel_and_check_sees_it(
        channel: tuple[InstagramAdapter, InstagramStandIn], tmp_path: Path) -> None:
    """Code 10 without instagram_content_publish: AuthExpired naming what the token needs;
    check() reads the publishing limit, so it fails too until the permission is given."""
    adapter, standin = channel
    standin.permissions.discard("instagram_content_publish")
    with pytest.raises(AuthExpired, match="instagram_content_publish") as caught:
        adapter.publish(artefact(image=image_in(tmp_path), alt=ALT))
    assert standin.token not in str(caught.value)
    with pytest.raises(AuthExpired):
        adapter.check()
    standin.permissions.add("instagram_content_publish")
    adapter.check()


def test_graph_rate_codes_without_a_time_retry_in_an_hour(tmp_path: Path) -> None:
    with InstagramStandIn(site_root=tmp_path, clock=lambda: NOW) as standin:
        reset = standin.rate_limit(code=4)
        with pytest.raises(RateLimited) as caught:
            adapter_for(standin).publish(artefact(image=image_in(tmp_path), alt=ALT))
        assert caught.value.retry_at == reset == NOW + timedelta(hours=1)


def test_the_registry_builds_the_adapter_for_live_instagram(standin: InstagramStandIn) -> None:
    adapter = make_adapter("instagram", settings_for(standin), Setup(standin.environ, wall_clock),
                           dry_run=False)
    assert isinstance(adapter, InstagramAdapter)


# -- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize(("table", "message"), [
    ({"account_id": "1", "image_base_url": "http://www.example.org/images/"},
     "must be a public https:// address"),
    ({"account_id": "1", "image_base_url": "images/"}, "must be a public https://"),
    ({"account_id": "1"}, "'image_base_url' is empty"),
    ({"image_base_url": "https://www.example.org/images/"}, "'account_id' is empty"),
])
def test_live_instagram_needs_its_account_and_a_public_https_image_address(
        tmp_path: Path, table: dict[str, str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_config(write_config(tmp_path, {"instagram": table}))
    assert message in str(caught.value) and "config.toml:" in str(caught.value)


def test_a_loopback_image_address_is_allowed_for_stand_ins(tmp_path: Path) -> None:
    path = write_config(tmp_path, {"instagram": {"account_id": "1",
                                                 "image_base_url": "http://127.0.0.1:8000/site/"}})
    assert load_config(path).settings.channels["instagram"].image_base_url.startswith("http://127")


# -- "Instagram needs an image" in check, approval and the publish gate -----------------------

IMAGELESS = "safer-internet-day/two-days-to-go/2027-02-07/instagram"


@pytest.fixture
def with_instagram(project: ProjectDir) -> ProjectDir:
    """The minimal project with an Instagram channel on its campaign (one post has no image)."""
    project.edit("config.toml", "[channels.mailchimp]",
                 '[channels.instagram]\nkind = "instagram"\ntoken_env = "WST_TEST_INSTAGRAM_TOKEN"\n\n'
                 "[channels.mailchimp]")
    project.edit("schedules/calendar.toml", 'channels = ["facebook", "x"]',
                 'channels = ["facebook", "x", "instagram"]')
    return project


def test_wst_check_names_the_instagram_post_without_an_image(with_instagram: ProjectDir) -> None:
    result = with_instagram.wst("check")
    assert result.returncode == 1
    errors = [line for line in (result.stdout + result.stderr).splitlines() if "error:" in line]
    assert len(errors) == 1 and "two-days-to-go" in errors[0] and "instagram-image" in errors[0]
    assert "needs an image" in errors[0] and "safer-internet-day.toml:" in errors[0]


def test_an_instagram_post_without_an_image_is_never_approved_nor_published(
        with_instagram: ProjectDir) -> None:
    from pipeline.publisher import Outcome, Publisher
    from pipeline.services import approvals
    from pipeline.services.actor import Actor
    from pipeline.states import HoldReason, State
    from pipeline.workspace import Workspace

    due = datetime(2027, 2, 7, 10, 0, tzinfo=UTC)  # 10:00 in London, in winter
    with Workspace(with_instagram.config, {}, clock=lambda: due) as ws:
        report = approvals.approve(ws, Actor("approver"), due - timedelta(days=3),
                                   approvals.Selection((IMAGELESS,)))
        assert report.approved == []
        assert "[instagram-image]" in report.refused[0].reason
        result = Publisher(ws).publish(IMAGELESS)
        assert (result.outcome, result.state) == (Outcome.HELD, State.HELD)
        (entry,) = ws.ledger.publications.entries(item_id=IMAGELESS)
        assert entry.hold_reason == HoldReason.CHECK_FAILED and "needs an image" in entry.last_error
        # the same post on Facebook and X is fine: the rule is Instagram's alone
        facebook = approvals.approve(ws, Actor("approver"), due - timedelta(days=3),
                                     approvals.Selection((IMAGELESS.replace("instagram", "facebook"),)))
        assert len(facebook.approved) == 1
