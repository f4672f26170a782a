"""`wst check` over one small broken project per kind of bad input: exact message, line and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ProjectDir, output_lines
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.tomlfile import parse_toml

CONFIG = "config.toml"
CALENDAR = "schedules/calendar.toml"
POSTS = "content/posts/safer-internet-day.toml"

# (case, file, old text, new text, the exact line `wst check` must print)
# Every line number below is the line of the key to fix in the edited file.
CASES = [
    ("unknown-key-in-config", CONFIG, 'short_name = "TSP"', 'shortname = "TSP"',
     "config.toml:6: error: unknown key 'partnership.shortname' (did you mean 'short_name'?)"),
    ("wrong-type-in-config", CONFIG, "[roles]", '[plan]\nweeks = "eight"\n\n[roles]',
     "config.toml:29: error: 'plan.weeks' = 'eight': expected a whole number"),
    ("unknown-role-of-person", CONFIG, 'roles = ["approvers"]', 'roles = ["approver"]',
     "config.toml:33: error: person 'approver' has unknown role 'approver' (did you mean "
     "'approvers'?); roles are defined in [roles]"),
    ("unknown-role-in-responsibility", CONFIG, 'title = "Bulletins"\naccountable = ["approvers"]',
     'title = "Bulletins"\naccountable = ["aprovers"]',
     "config.toml:41: error: [responsibilities.e-bulletins] accountable names unknown role "
     "'aprovers' (did you mean 'approvers'?)"),
    ("secret-in-config", CONFIG, 'kind = "x"\n', 'kind = "x"\ntoken = "abc"\n',
     "config.toml:22: error: [channels.x] 'token' looks like a secret: never put secrets in "
     "config.toml; write token_env = \"NAME_OF_ENV_VAR\" and set that variable instead"),
    ("unknown-key-in-post", POSTS, 'id = "on-the-day"', 'id = "on-the-day"\nimages = "sid.jpg"',
     "content/posts/safer-internet-day.toml:8: error: unknown key 'post.images' "
     "(did you mean 'image'?)"),
    ("unknown-campaign", POSTS, "[[post]]\nid = \"two-days-to-go\"",
     "campaign = \"safer-internet-week\"\n\n[[post]]\nid = \"two-days-to-go\"",
     "content/posts/safer-internet-day.toml:1: error: unknown campaign 'safer-internet-week' "
     "(did you mean 'safer-internet-day'?); name the file after a campaign id in schedules/ "
     "or set campaign = \"...\""),
    ("unknown-channel-in-post", POSTS, 'id = "on-the-day"',
     'id = "on-the-day"\nchannels = ["facebok"]',
     "content/posts/safer-internet-day.toml:8: error: unknown channel 'facebok' (did you mean "
     "'facebook'?); channels are defined under [channels] in config.toml"),
    ("unknown-channel-in-campaign", CALENDAR, 'channels = ["facebook", "x"]',
     'channels = ["facebook", "twitter"]',
     "schedules/calendar.toml:20: error: unknown channel 'twitter'; channels are defined under "
     "[channels] in config.toml"),
    ("unknown-event", CALENDAR, 'events = ["safer-internet-day"]',
     'events = ["safer-internet-dya"]',
     "schedules/calendar.toml:19: error: unknown event 'safer-internet-dya' (did you mean "
     "'safer-internet-day'?); events are defined with [[event]] in schedules/"),
    ("anchor-not-in-campaign", POSTS, 'id = "on-the-day"',
     'id = "on-the-day"\nanchor = "world-mental-health-day"',
     "content/posts/safer-internet-day.toml:8: error: post 'safer-internet-day/on-the-day' is "
     "timed from anchor 'world-mental-health-day', which is not one of campaign "
     "'safer-internet-day''s events (safer-internet-day); add it to the campaign's events or "
     "fix the anchor"),
    ("duplicate-event-id", CALENDAR, "[[campaign]]",
     '[[event]]\nid = "safer-internet-day"\ntitle = "Again"\ndate = "02-10"\n\n[[campaign]]',
     "schedules/calendar.toml:16: error: duplicate event id 'safer-internet-day' (first defined "
     "at schedules/calendar.toml:10); give each event its own id"),
    ("duplicate-campaign-id", CALENDAR, 'channels = ["facebook", "x"]\n',
     'channels = ["facebook", "x"]\n\n[[campaign]]\nid = "safer-internet-day"\ntitle = "Twice"\n'
     'priority = "online-safety"\nevents = ["safer-internet-day"]\nchannels = ["x"]\n',
     "schedules/calendar.toml:23: error: duplicate campaign id 'safer-internet-day' (first "
     "defined at schedules/calendar.toml:15); give each campaign its own id"),
    ("duplicate-post-id", POSTS, 'id = "on-the-day"', 'id = "two-days-to-go"',
     "content/posts/safer-internet-day.toml:7: error: duplicate post id 'two-days-to-go' in "
     "campaign 'safer-internet-day' (first at line 1); give each post its own id"),
    ("missing-image", POSTS, "images/sid.jpg", "images/missing.png",
     "content/posts/safer-internet-day.toml:10: error: image 'images/missing.png' not found "
     "under content/; add the file or fix the path"),
    ("image-without-alt", POSTS, 'alt = "A parent and child look at a tablet together."\n', "",
     "content/posts/safer-internet-day.toml:10: error: post 'safer-internet-day/on-the-day' has "
     "an image but no alt text; write alt = \"...\" describing it, including any words in it"),
    ("post-with-no-channel", POSTS, 'id = "on-the-day"', 'id = "on-the-day"\nchannels = []',
     "content/posts/safer-internet-day.toml:8: error: post 'safer-internet-day/on-the-day' has "
     "no channel; list at least one in channels = [...] or leave it out to use the campaign's"),
    ("absolute-date-outside-window", POSTS, "on the day at 09:00", "at 2027-06-01 09:00",
     "content/posts/safer-internet-day.toml:8: error: post 'safer-internet-day/on-the-day' is "
     "dated 2027-06-01 which is outside every live window of campaign 'safer-internet-day'; "
     "move it, or widen live_before_days/live_after_days"),
    ("relative-date-outside-window", POSTS, "on the day at 09:00", "3 weeks before at 09:00",
     "content/posts/safer-internet-day.toml:8: error: post 'safer-internet-day/on-the-day' "
     "('3 weeks before at 09:00') falls on 2025-01-21 for safer-internet-day@2025, outside the "
     "live window 2025-02-04 to 2025-02-13; move it, or widen the campaign's "
     "live_before_days/live_after_days"),
    ("bad-when-phrase", POSTS, "on the day at 09:00", "tomorrow at 9",
     "content/posts/safer-internet-day.toml:8: error: 'post.when' = 'tomorrow at 9': cannot read "
     "when = 'tomorrow at 9'; write one of: \"on the day at 10:00\", \"on the last day at "
     "10:00\", \"each day of the event at 12:30\", \"on day 3 of the event at 09:00\", \"2 days "
     "before at 10:00\", \"1 week after at 14:00\", \"at 2027-02-01 10:00\""),
    ("time-of-day-out-of-range", POSTS, "on the day at 09:00", "on the day at 25:00",
     "content/posts/safer-internet-day.toml:8: error: 'post.when' = 'on the day at 25:00': "
     "'on the day at 25:00' has no such time of day; use 24-hour HH:MM"),
]


@pytest.mark.parametrize(("name", "relative", "old", "new", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_broken_input_gives_one_located_error(project: ProjectDir, name: str, relative: str,
                                              old: str, new: str, expected: str) -> None:
    project.edit(relative, old, new)
    result = project.wst("check")
    lines = output_lines(result)
    assert expected in lines, "\n".join(lines)
    # nothing else is reported as an error: no follow-on errors from the same mistake
    assert [line for line in lines if ": error: " in line] == [expected]
    assert result.returncode == 1


# Malformed TOML: the parser's wording may change between Python versions, so these assert the
# file, line and our own prefix and suffix.
MALFORMED = [
    ("config", CONFIG, 'short_name = "TSP"', 'short_name = "TSP', "config.toml:6: error: "),
    ("schedules-file", CALENDAR, 'title = "Safer Internet Day"\nrule',
     'title = Safer Internet Day\nrule', "schedules/calendar.toml:12: error: "),
    ("posts-file", POSTS, 'id = "on-the-day"', 'id = "on-the-day',
     "content/posts/safer-internet-day.toml:7: error: "),
]


@pytest.mark.parametrize(("name", "relative", "old", "new", "prefix"), MALFORMED,
                         ids=[c[0] for c in MALFORMED])
def test_malformed_toml_names_file_and_line(project: ProjectDir, name: str, relative: str,
                                            old: str, new: str, prefix: str) -> None:
    project.edit(relative, old, new)
    result = project.wst("check")
    lines = output_lines(result)
    found = [line for line in lines if line.startswith(prefix)]
    assert len(found) == 1, "\n".join(lines)
    # one message only: nothing that was in the unreadable file is reported again as missing
    assert [line for line in lines if ": error: " in line or ": warning: " in line] == found
    assert "malformed TOML: " in found[0]
    assert found[0].endswith("; fix the syntax on this line")
    assert result.returncode == 1


def test_posts_file_named_after_no_campaign(project: ProjectDir) -> None:
    (project.path / POSTS).rename(project.path / "content/posts/safer-internt-day.toml")
    result = project.wst("check")
    # the campaign comes from the file name, so the message names the file (no line to point at)
    assert ("content/posts/safer-internt-day.toml: error: unknown campaign 'safer-internt-day' "
            "(did you mean 'safer-internet-day'?); name the file after a campaign id in "
            "schedules/ or set campaign = \"...\"") in output_lines(result)
    assert result.returncode == 1


def test_secret_value_is_never_printed(project: ProjectDir) -> None:
    project.edit(CONFIG, 'kind = "x"\n', 'kind = "x"\naccess_secret = "s3cr3t-value"\n')
    result = project.wst("check")
    assert result.returncode == 1
    assert "access_secret" in result.stdout + result.stderr
    assert "s3cr3t-value" not in result.stdout + result.stderr


def test_env_reference_must_be_a_variable_name(project: ProjectDir) -> None:
    project.edit(CONFIG, 'token_env = "WST_TEST_FACEBOOK_TOKEN"', 'token_env = "EAAB-abc123"')
    result = project.wst("check")
    assert ("config.toml:18: error: [channels.facebook] 'token_env' must name an environment "
            "variable in capitals, e.g. token_env = \"WST_TOKEN\"") in output_lines(result)
    assert "EAAB-abc123" not in result.stdout + result.stderr
    assert result.returncode == 1


def test_clean_minimal_project_passes(project: ProjectDir) -> None:
    result = project.wst("check", "--strict")
    assert [line for line in result.stdout.splitlines() if line.strip()] == []
    assert result.stderr.strip() == ("1 events, 1 campaigns, 2 posts, 0 bulletins: "
                                     "0 error(s), 0 warning(s)")
    assert result.returncode == 0


def test_strict_fails_on_warnings_only(project: ProjectDir) -> None:
    project.edit(POSTS, 'id = "two-days-to-go"', 'id = "two-days-to-go"\nalt = "A tablet."')
    warning = ("content/posts/safer-internet-day.toml:3: warning: post "
               "'safer-internet-day/two-days-to-go' has alt text but no image")
    relaxed = project.wst("check")
    assert warning in output_lines(relaxed)
    assert relaxed.returncode == 0
    strict = project.wst("check", "--strict")
    assert warning in output_lines(strict)
    assert strict.returncode == 1


# --- line numbers: every key of every post is found on the line that writes it ------------------

_KEYS = ["when", "text", "link", "alt", "title", "audience"]


@settings(max_examples=50, deadline=None)
@given(posts=st.lists(st.lists(st.sampled_from(_KEYS), unique=True), min_size=1, max_size=6),
       blank=st.lists(st.booleans(), min_size=6, max_size=6),
       multiline=st.booleans())
def test_every_post_key_is_located_on_its_own_line(posts: list[list[str]], blank: list[bool],
                                                   multiline: bool) -> None:
    lines: list[str] = ['campaign = "c"  # a comment']
    where: dict[tuple, int] = {}
    for i, keys in enumerate(posts):
        lines += ["", "[[post]]"]
        where[("post", i)] = len(lines)
        lines.append(f'id = "post-{i}"')
        where[("post", i, "id")] = len(lines)
        for j, key in enumerate(keys):
            if blank[j % len(blank)]:
                lines.append("# a note with = in it")
            if key == "text" and multiline:
                lines.append('text = """First line,')
                where[("post", i, key)] = len(lines)
                lines += ["second = not a key,", 'end."""']
            else:
                lines.append(f'{key} = "value {i} {j}"')
                where[("post", i, key)] = len(lines)
        lines += ["[post.variants]", 'x = "short"']
        where[("post", i, "variants", "x")] = len(lines)
    source = parse_toml("\n".join(lines) + "\n", Path("c.toml"), "c.toml")
    for loc, line in where.items():
        assert source.line_of(loc) == line, (loc, "\n".join(lines))
    assert source.line_of(("post", 0, "channels")) == where[("post", 0)]  # falls back to the table
