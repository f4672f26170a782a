"""config.toml: found by --config or WST_CONFIG, paths relative to it, validated with located messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ProjectDir, clean_env, copy_minimal, run_wst

from pipeline.config import load_config
from pipeline.problems import InputError

RANGE = ("--from", "2027-02-01", "--to", "2027-02-28")
SUMMARY = "1 events, 1 campaigns, 2 posts, 0 bulletins: 0 error(s), 0 warning(s)"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A working folder that is not the project's."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def _post_ids(stdout: str) -> list[str]:
    return [i["id"] for i in json.loads(stdout) if i["kind"] == "post"]


def test_config_option_from_another_folder(project: ProjectDir, elsewhere: Path) -> None:
    result = project.wst("plan", "--json", *RANGE, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert len(_post_ids(result.stdout)) == 4  # schedules/ and content/ found beside config.toml


def test_wst_config_variable_from_another_folder(project: ProjectDir, elsewhere: Path) -> None:
    result = run_wst("check", cwd=elsewhere, env=clean_env(WST_CONFIG=str(project.config)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == SUMMARY


def test_config_option_wins_over_the_variable(project: ProjectDir, elsewhere: Path) -> None:
    env = clean_env(WST_CONFIG=str(elsewhere / "no-such.toml"))
    result = run_wst("--config", str(project.config), "check", cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == SUMMARY


def test_default_is_config_toml_in_the_working_folder(project: ProjectDir) -> None:
    result = run_wst("check", cwd=project.path, env=clean_env(WST_CONFIG=""))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == SUMMARY


def test_missing_config_says_how_to_point_at_one(elsewhere: Path) -> None:
    result = run_wst("check", cwd=elsewhere)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "config.toml: error: config file not found; run from the project folder, or pass "
        "--config PATH or set WST_CONFIG")


def test_paths_section_is_relative_to_the_config_file(tmp_path: Path, elsewhere: Path) -> None:
    project = copy_minimal(tmp_path / "project")
    (project.path / "schedules").rename(project.path / "calendar")
    (project.path / "content").rename(project.path / "words")
    project.edit("config.toml", "[roles]",
                 '[paths]\nschedules = "calendar"\ncontent = "words"\n\n[roles]')
    result = project.wst("plan", "--json", *RANGE, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert len(_post_ids(result.stdout)) == 4
    config = load_config(project.config)
    assert config.schedules_dir == project.path / "calendar"
    assert config.content_dir == project.path / "words"


def test_store_url_is_relative_to_the_config_file(project: ProjectDir) -> None:
    config = load_config(project.config)
    assert config.store_url == f"sqlite:///{project.path / 'var/wst.sqlite'}"
    project.edit("config.toml", "[roles]", '[store]\nurl = "sqlite:////srv/wst.sqlite"\n\n[roles]')
    assert load_config(project.config).store_url == "sqlite:////srv/wst.sqlite"


def test_secrets_resolve_from_the_environment_mapping(project: ProjectDir) -> None:
    config = load_config(project.config)
    facebook = config.settings.channels["facebook"]
    assert facebook.env_names == {"token_env": "WST_TEST_FACEBOOK_TOKEN"}
    assert facebook.secret("token", {"WST_TEST_FACEBOOK_TOKEN": "t"}) == "t"
    assert facebook.secret("token", {}) is None
    assert facebook.secret("password", {"WST_TEST_FACEBOOK_TOKEN": "t"}) is None


def test_bundled_config_loads() -> None:
    from conftest import BUNDLED_CONFIG

    config = load_config(BUNDLED_CONFIG)
    assert config.settings.partnership.timezone == "Europe/London"
    assert config.settings.official.child_mash == "01902 555392"
    assert config.settings.official.adult_mash == "01902 551199"
    assert config.settings.official.out_of_hours == "01902 552999"
    assert set(config.enabled_channels()) >= {"facebook", "x", "mailchimp"}


@pytest.mark.parametrize(("old", "new", "message"), [
    ('timezone = "Europe/London"', 'timezone = "Europe/Wolverhampton"',
     "config.toml:8: error: 'partnership.timezone' = 'Europe/Wolverhampton': unknown time zone; "
     "use an IANA name such as 'Europe/London'"),
    ('mode = "dry-run"', 'mode = "dryrun"',
     "config.toml:2: error: 'mode' = 'dryrun': expected one of 'dry-run' or 'live'"),
    ('kind = "x"', 'kind = "twitter"',
     "config.toml:21: error: 'channels.x.kind' = 'twitter': expected one of 'x', 'facebook', "
     "'bluesky', 'mastodon', 'instagram', 'linkedin', 'mailchimp', 'smtp' or 'manual'"),
    ('[channels.x]\nkind = "x"', '[channels.x]\nkind = "x"\nenabled = "sometimes"',
     "config.toml:22: error: 'channels.x.enabled' = 'sometimes': expected true or false"),
    # quoted values are never quietly converted: "yes" and "8" are text, not a flag or a number
    ('[channels.x]\nkind = "x"', '[channels.x]\nkind = "x"\nenabled = "yes"',
     "config.toml:22: error: 'channels.x.enabled' = 'yes': expected true or false"),
    ('mode = "dry-run"', 'mode = "dry-run"\n[plan]\nweeks = "8"',
     "config.toml:4: error: 'plan.weeks' = '8': expected a whole number"),
    ('website = "https://www.wolverhamptonsafeguarding.org.uk"\n', "",
     "config.toml:4: error: missing required key 'partnership.website'"),
    ('mode = "dry-run"', 'mode = "dry-run"\n[checks]\nfirst_year = 2030\nlast_year = 2026',
     "config.toml:5: error: 'checks.last_year' = 2026: must be from first_year (2030) to 50 "
     "years after it"),
])
def test_settings_errors_name_key_value_and_expectation(project: ProjectDir, old: str, new: str,
                                                        message: str) -> None:
    project.edit("config.toml", old, new)
    with pytest.raises(InputError) as raised:
        load_config(project.config)
    shown = [str(p).replace(str(project.config), "config.toml") for p in raised.value.problems]
    assert shown == [message]


def test_an_enabled_channel_needs_its_settings(project: ProjectDir) -> None:
    """An SMTP channel without an unsubscribe page (or sender, or recipients) is refused."""
    project.edit("config.toml", "[roles]", '[channels.staff]\nkind = "smtp"\n'
                 'from_address = "wst@example.org"\nrecipients_file = "staff.csv"\n\n[roles]')
    project.write("staff.csv", "email,name\nann@example.org,Ann\n")
    with pytest.raises(InputError) as raised:
        load_config(project.config)
    assert [p.message for p in raised.value.problems] == [
        "[channels.staff] is enabled but 'unsubscribe_url' is empty; set it, or set "
        "enabled = false"]
