"""config.toml: one frozen, validated settings object, loaded once."""

from __future__ import annotations

import copy
import difflib
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse as parse_limit
from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from pipeline.channels.registry import KINDS
from pipeline.problems import ERROR, InputError, Problem, did_you_mean, display_path
from pipeline.store.errors import URL_FORMS
from pipeline.tomlfile import TomlFile, read_toml
from pipeline.validation import Strict, key_error, validate

CHANNEL_KINDS = tuple(KINDS)
SOCIAL_KINDS = frozenset(kind for kind, k in KINDS.items() if not k.email)
EMAIL_KINDS = frozenset(kind for kind, k in KINDS.items() if k.email)
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
LINKEDIN_VERSION = re.compile(r"^\d{6}(\.\d{2})?$")   # YYYYMM, or YYYYMM.RR for a revision
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_SECRET_WORDS = ("token", "secret", "password", "api_key", "apikey", "key")

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")]


class Partnership(Strict):
    """Who is publishing."""

    name: str = Field(description="The partnership's full name, shown in bulletins and previews.")
    short_name: str = Field("WST", description="Short name used in titles.")
    website: str = Field(description="The partnership's website (https://...).")
    timezone: str = Field("Europe/London", description="Local time zone for every time written in the calendar and content.")

    @field_validator("website")
    @classmethod
    def _https(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            host = parts.hostname or value.split("://")[-1].split("/")[0] or "www.example.org.uk"
            raise ValueError(f"write the address in full with https://, e.g. https://{host}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as 'Europe/London'") from None
        return value


class Official(Strict):
    """The official ways to raise a concern: copy is checked against these."""

    child_mash: str = Field(description="MASH number for a concern about a child or young person under 18.")
    adult_mash: str = Field(description="MASH number for a concern about an adult.")
    out_of_hours: str = Field(description="Out-of-hours number (children and adults).")
    emergency: str = Field("999", description="Number for immediate danger.")
    website: str = Field(description="The website as written in copy, without https://.")

    @field_validator("website")
    @classmethod
    def _bare_host(cls, value: str) -> str:
        if "://" in value or not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/\S*)?", value):
            host = urlsplit(value if "://" in value else "//" + value).hostname or "www.example.org.uk"
            raise ValueError(f"write the address as it appears in copy, without https://, e.g. {host}")
        return value


class Store(Strict):
    """Where the ledger, job store and metrics live."""

    url: str = Field("sqlite:///var/wst.sqlite", description="SQLAlchemy database URL; a relative SQLite path is relative to config.toml.")
    lock_stale_seconds: float = Field(120, ge=1, le=86400, description="A daemon whose heartbeat is older than this is presumed dead: another (`wst run --standby`, or a new start) may take over. Longer than a heartbeat (`[scheduler] watch_seconds`) plus any clock difference between machines.")


    @field_validator("url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        # the URL may hold a password: the messages never repeat it
        try:
            make_url(value).get_dialect()
        except NoSuchModuleError:
            raise quiet_error(f"names a kind of database wst cannot use; write e.g. {URL_FORMS}") from None
        except (ArgumentError, ValueError):
            raise quiet_error(f"is not a database URL; write e.g. {URL_FORMS}") from None
        return value


class Paths(Strict):
    """Folders, relative to config.toml."""

    schedules: str = Field("schedules", description="The campaign calendar folder.")
    content: str = Field("content", description="The posts, bulletins, images and reference data folder.")
    outbox: str = Field("outbox", description="Where dry-run publications are written.")
    preview: str = Field("preview", description="Where `wst preview` writes the static preview site.")


class PlanSettings(Strict):
    """Planning defaults."""

    weeks: int = Field(8, ge=1, le=104, description="Default length of `wst plan` and `make run`, in weeks from today.")


class Checks(Strict):
    """Content check settings (the one rule set used by check, preview and the publish gate)."""

    reading_age_max: int = Field(9, ge=5, le=21, description="Highest reading age before a warning (GOV.UK aims for 9).")
    sentence_words_max: int = Field(25, ge=5, description="Longest sentence, in words, before a warning.")
    allowed_names: list[str] = Field(default_factory=list, description="Names of people or places that may appear without the identifying-detail warning.")
    image_base_url: str = Field("", description="Public address where content/images are served, for images in emails (e.g. https://www.wolverhamptonsafeguarding.org.uk/bulletin-images/).")
    first_year: int = Field(2025, ge=2000, le=2200, description="`wst check` works out every event from this year to `last_year`: a post outside every live window, or a time the clocks skip, is found in any of them.")
    last_year: int = Field(2035, ge=2000, le=2200, description="The last year `wst check` works events out for (at most 50 years after `first_year`).")

    @field_validator("last_year")
    @classmethod
    def _years_in_order(cls, last: int, info: ValidationInfo) -> int:
        first = info.data.get("first_year")
        if first is not None and not first <= last <= first + 50:
            raise ValueError(f"must be from first_year ({first}) to 50 years after it")
        return last


class SchedulerSettings(Strict):
    """How the daemon schedules and retries."""

    grace_minutes: int = Field(60, ge=0, le=10080, description="The catch-up window: an item whose time passed (the daemon was down, or a person released it after a hold) still goes out up to this many minutes late; later than that it is held as missed, with an alert, for a person to publish by hand or cancel.")
    look_back_days: int = Field(7, ge=0, le=366, description="On a store's first run, items due up to this many days before it are recorded too (and, being past their time, held as missed with an alert), so nothing recently due goes unreported. After the first run every item is recorded, at any age.")
    rehearse_unapproved: bool = Field(False, description="Dry run: write unapproved items to the outbox as well (a rehearsal of everything). By default a dry run applies the live gates: an unapproved item is reported as 'would be held: not approved' and not written as sent.")
    workers: int = Field(32, ge=1, le=128, description="Publications that may run at the same moment (each channel's calls are independent).")
    watch_seconds: float = Field(5, gt=0, le=3600, description="How often `wst run` looks for changes to content/, schedules/ and config.toml.")
    horizon_days: int = Field(400, ge=1, le=3650, description="How far ahead jobs are scheduled.")
    bulletin_lead_minutes: int = Field(1440, ge=0, le=20160, description="Bulletins are handed to the mailing service this long before their send time (with a test send), and scheduled there for the send time.")
    retry_limit: int = Field(3, ge=0, le=10, description="Retries after a server error (5xx) before an item is reported as failed.")
    retry_backoff_seconds: float = Field(60, ge=0, le=86400, description="First retry delay after a server error; doubles each time.")
    request_timeout_seconds: float = Field(30, gt=0, le=300, description="How long a platform call may take before it counts as unconfirmed.")


class FreezeSettings(Strict):
    """Comms freezes (`wst pause`): who may start and end one, and what happens to what fell due."""

    responsibility: str = Field("comms-freeze", description="The [responsibilities] row whose accountable roles may pause and resume all publication.")
    undecided: Literal["hold", "cancel"] = Field("hold", description="Items that fell due during a pause wait for a person's decision after it ends (`wst release --held-by-pause`, `wst cancel --held-by-pause`). Nobody decided: `hold` keeps them held and alerts every day; `cancel` cancels them `cancel_after_days` after the pause ended, with an alert.")
    cancel_after_days: int = Field(7, ge=0, le=365, description="With `undecided = \"cancel\"`: days after a pause ended before what it held is cancelled.")


class ApprovalSettings(Strict):
    """Telling approvers what waits for them."""

    notify: bool = Field(True, description="Email each person one digest when items enter their approvals queue (through [alerts] smtp_url, to the person's email).")
    remind_days: int = Field(2, ge=0, le=60, description="Remind the people who may approve an item this many days before it falls due unapproved (0: no reminders).")


class WebSettings(Strict):
    """The web workspace (`wst serve`)."""

    host: str = Field("127.0.0.1", description="Address `wst serve` listens on: loopback by default; in production put it behind a TLS reverse proxy (docs/deployment.md).")
    port: int = Field(8080, ge=1, le=65535, description="Port `wst serve` listens on.")
    base_url: str = Field("", description="The address people open, for links in emails (e.g. https://comms.wolverhamptonsafeguarding.org.uk); default http://HOST:PORT. Sign-in cookies are marked Secure when it is https.")
    secret_key_env: str = Field("WST_WEB_SECRET_KEY", pattern=r"^[A-Z][A-Z0-9_]*$", description="Environment variable holding the key that signs session cookies (32 random bytes or more). Unset in a dry run: a new key each start (everyone signs in again). Unset in live mode: `wst serve` refuses to start.")
    idle_minutes: int = Field(30, ge=1, le=1440, description="A session unused this long ends; the person signs in again.")
    invite_hours: int = Field(72, ge=1, le=720, description="How long a `wst user invite` link works (once).")
    sign_in_limit_account: str = Field("5 per 15 minutes", description="Refused sign-ins one account may have before it must wait (a rate limit; only refusals count).")
    sign_in_limit_address: str = Field("20 per 15 minutes", description="Refused sign-ins one address may make.")
    proxies: int = Field(0, ge=0, le=5, description="How many reverse proxies are in front of `wst serve`: their X-Forwarded-For, -Proto and -Host are trusted (0: none).")
    audit_roles: list[str] = Field(default_factory=lambda: ["business-unit", "executive", "cande-cochairs"], description="Roles whose holders may read and export the audit trail (it names people and their addresses).")

    @field_validator("sign_in_limit_account", "sign_in_limit_address")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            parse_limit(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a rate limit; write e.g. \"5 per 15 minutes\"") from None
        return value

    @field_validator("base_url")
    @classmethod
    def _an_address(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"'{value}' is not a web address; write e.g. https://comms.example.org")
        return value.rstrip("/")


class Alerts(Strict):
    """Where alerts go: always logged, and emailed to the business unit when SMTP is set."""

    smtp_url: str = Field("", description="smtp://host:port or smtps://host:port of the relay; empty logs alerts only.")
    from_address: str = Field("", description="Sender of alert emails.")
    to: list[str] = Field(default_factory=list, description="Recipients; default: the emails of people holding the business-unit role.")
    username_env: str = Field("", description="Environment variable holding the SMTP user name (optional).")
    password_env: str = Field("", description="Environment variable holding the SMTP password (optional).")

    @field_validator("username_env", "password_env")
    @classmethod
    def _env_name(cls, value: str, info) -> str:
        if value and not ENV_NAME.match(value):
            # it may be the password itself, written by mistake: never repeat it
            raise quiet_error(f"must name an environment variable in capitals, e.g. "
                              f"{info.field_name} = \"WST_ALERTS_{info.field_name[:-4].upper()}\"; "
                              f"never write the value itself in config.toml")
        return value


class MetricsSettings(Strict):
    """Engagement collection and evaluation."""

    cadence_hours: list[float] = Field(default_factory=lambda: [1.0, 6.0, 24.0, 72.0, 168.0, 672.0], description="Collect each published item this many hours after publication (1 h, 6 h, 1 day, 3 days, 7 days, 28 days).")
    every_minutes: int = Field(15, ge=1, le=1440, description="How often `wst run` looks for items due a collection.")
    x_read_cost_usd: float = Field(0.005, ge=0, description="What X charges to read one post (charged once per post per UTC day).")
    x_monthly_budget_usd: float = Field(5.0, ge=0, description="The most collection may spend reading X posts in a calendar month (UTC); it stops there.")
    facebook_insights: list[str] = Field(default_factory=lambda: ["post_media_view", "post_total_media_view_unique", "post_clicks"], description="Facebook post insight metrics to request (Meta renames them often; each is requested so a retired one cannot lose the others).")
    instagram_insights: list[str] = Field(default_factory=lambda: ["views", "reach", "likes", "comments", "shares", "saved", "total_interactions"], description="Instagram media insight metrics to request (one operation per post; if Meta has retired one, that post's metrics are asked one by one so the others survive).")
    baseline_from: str = Field("2022-04", pattern=r"^\d{4}-\d{2}$", description="First month of the concerns baseline (YYYY-MM).")
    baseline_to: str = Field("2023-03", pattern=r"^\d{4}-\d{2}$", description="Last month of the concerns baseline (YYYY-MM).")


class Channel(Strict):
    """One publishing channel. Credentials are only ever names of environment variables."""

    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True, strict=True)

    kind: Literal[CHANNEL_KINDS] = Field(  # type: ignore[valid-type]  # one list: the registry's
        description="Which platform adapter publishes to this channel.")
    enabled: bool = Field(True, description="Whether the plan includes this channel.")
    title: str = Field("", description="A readable name for tables and previews.")
    api_base: str = Field("", description="The platform's base address (every address is configurable, e.g. for a test stand-in).")
    dry_run: bool | None = Field(None, description="Force dry-run for this channel even when `mode = \"live\"`.")
    handle: str = Field("", description="The account's public handle or address, for links in previews.")
    account_id: str = Field("", description="Platform account id: Facebook page id, Instagram professional account (IG user) id, LinkedIn organisation id, Bluesky DID, Mailchimp audience (list) id.")
    api_version: str = Field("", description="API version where the platform versions its API: the Graph path for Facebook and Instagram (`v21.0`), the `LinkedIn-Version` header for LinkedIn (`YYYYMM`).")
    image_base_url: str = Field("", description="Instagram: the public https address where content/images/ is served (Instagram fetches each image from there; e.g. https://www.wolverhamptonsafeguarding.org.uk/bulletin-images/).")
    max_characters: int | None = Field(None, description="Override the platform's character limit (Mastodon instances differ).")
    from_name: str = Field("", description="Sender name for email channels.")
    from_address: str = Field("", description="Sender address for email channels.")
    reply_to: str = Field("", description="Reply-to address for email channels.")
    recipients_file: str = Field("", description="SMTP: CSV of recipients (email, name), relative to config.toml.")
    unsubscribe_url: str = Field("", description="SMTP: unsubscribe page; `{email}` is replaced per recipient.")
    test_recipients: list[str] = Field(default_factory=list, description="Addresses that get a test send before a bulletin is scheduled.")

    @field_validator("image_base_url")
    @classmethod
    def _public_https(cls, value: str) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme == "https" and parts.hostname:
            return value
        if parts.scheme == "http" and parts.hostname in LOOPBACK:
            return value  # a test stand-in on this machine; Instagram itself could never fetch it
        raise ValueError("must be a public https:// address (Instagram fetches each image from "
                         "it), e.g. https://www.wolverhamptonsafeguarding.org.uk/bulletin-images/")

    @model_validator(mode="after")
    def _extras_are_env_names(self) -> Channel:
        for key, value in (self.model_extra or {}).items():
            if key.endswith("_env"):
                if not isinstance(value, str) or not ENV_NAME.match(value):
                    raise _channel_key_error(key,
                        f"'{key}' must name an environment variable in capitals, "
                        f"e.g. {key} = \"WST_{key[:-4].upper()}\"")
                continue
            if any(word in key.lower() for word in _SECRET_WORDS):
                raise _channel_key_error(key,
                    f"'{key}' looks like a secret: never put secrets in config.toml; "
                    f"write {key}_env = \"NAME_OF_ENV_VAR\" and set that variable instead")
            hint = did_you_mean(key, [*type(self).model_fields, "token_env", "password_env",
                                      "api_key_env", "consumer_key_env", "consumer_secret_env",
                                      "access_token_env", "access_secret_env", "username_env"])
            raise _channel_key_error(key, f"unknown key '{key}'{hint}")
        return self

    @property
    def env_names(self) -> dict[str, str]:
        """Credential key → environment variable name."""
        return {k: v for k, v in (self.model_extra or {}).items() if k.endswith("_env")}

    def secret(self, key: str, environ: Mapping[str, str]) -> str | None:
        """Resolve credential `key` (e.g. 'token') from `environ`; None if unset."""
        name = self.env_names.get(f"{key}_env")
        return environ.get(name) if name else None


def quiet_error(message: str) -> PydanticCustomError:
    """An error about a value that its message must not repeat (it may hold a secret)."""
    return PydanticCustomError("quiet", "{message}", {"message": message})


def _channel_key_error(key: str, message: str) -> PydanticCustomError:
    """An error about one key of a channel table: it names that key's line and never the
    table's values, which may hold a secret written by mistake."""
    return key_error(key, message)


class Person(Strict):
    """Someone who can be Responsible or Accountable for work (role-based, never invented)."""

    name: str = Field(description="Name or role title shown in approvals.")
    roles: list[str] = Field(default_factory=list, description="RASCI roles this person holds (ids from [roles]).")
    organisation: str = Field("", description="Their organisation.")
    email: str = Field("", description="Where alerts, approval digests and reminders, and test sends go.")


class Responsibility(Strict):
    """Who does what for one kind of work (Appendix 5's RASCI matrix)."""

    title: str = Field(description="The kind of work.")
    responsible: list[str] = Field(default_factory=list, description="Roles that do the work.")
    accountable: list[str] = Field(description="Roles whose holders approve publication.")
    support: list[str] = Field(default_factory=list, description="Roles that support.")
    consulted: list[str] = Field(default_factory=list, description="Roles consulted.")
    informed: list[str] = Field(default_factory=list, description="Roles informed.")


class Settings(Strict):
    """Everything in config.toml."""

    mode: Literal["dry-run", "live"] = Field("dry-run", description="`dry-run` writes to the outbox; `live` publishes.")
    partnership: Partnership = Field(description="Who is publishing.")
    official: Official = Field(description="The official ways to raise a concern.")
    store: Store = Field(default_factory=Store, description="The database.")
    paths: Paths = Field(default_factory=Paths, description="Folders.")
    plan: PlanSettings = Field(default_factory=PlanSettings, description="Planning defaults.")
    checks: Checks = Field(default_factory=Checks, description="Content check settings.")
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings, description="The daemon's scheduling.")
    alerts: Alerts = Field(default_factory=Alerts, description="Alert delivery.")
    freeze: FreezeSettings = Field(default_factory=FreezeSettings, description="Comms freezes.")
    approvals: ApprovalSettings = Field(default_factory=ApprovalSettings, description="Approver notices.")
    web: WebSettings = Field(default_factory=WebSettings, description="The web workspace.")
    metrics: MetricsSettings = Field(default_factory=MetricsSettings, description="Engagement collection and evaluation.")
    channels: dict[Id, Channel] = Field(default_factory=dict, description="Publishing channels by name.")
    roles: dict[Id, str] = Field(default_factory=dict, description="RASCI roles: id = title.")
    people: dict[Id, Person] = Field(default_factory=dict, description="People by id.")
    responsibilities: dict[Id, Responsibility] = Field(default_factory=dict, description="RASCI per kind of work.")


class Config:
    """Validated settings plus where they came from (paths resolve against the file)."""

    def __init__(self, settings: Settings, path: Path, source: TomlFile):
        self.settings = settings
        self.path = path
        self.root = path.resolve().parent  # absolute, so a later chdir cannot move the store
        self.source = source
        self.warnings: list[Problem] = []  # what `wst check` reports about config.toml itself

    @property
    def tz(self) -> ZoneInfo:
        """The partnership's local time zone."""
        return ZoneInfo(self.settings.partnership.timezone)

    def resolve(self, relative: str) -> Path:
        """A path from config, resolved against the config file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else self.root / p

    @property
    def schedules_dir(self) -> Path:
        """The campaign calendar folder."""
        return self.resolve(self.settings.paths.schedules)

    @property
    def content_dir(self) -> Path:
        """The content folder."""
        return self.resolve(self.settings.paths.content)

    @property
    def store_url(self) -> str:
        """The store URL with a relative SQLite path made relative to config.toml."""
        url = self.settings.store.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
            rel = url[len(prefix):]
            if rel and rel != ":memory:" and not rel.startswith("file:"):  # a URI stays as written
                return prefix + str(self.resolve(rel))
        return url

    def enabled_channels(self) -> dict[str, Channel]:
        """Channels that the plan includes."""
        return {n: c for n, c in self.settings.channels.items() if c.enabled}


def cross_check(settings: Settings, source: TomlFile) -> list[Problem]:
    """References inside config.toml: roles named by people and responsibilities exist, and
    every enabled channel has the settings it needs."""
    problems: list[Problem] = _website_slip(settings, source)
    for name, channel in settings.channels.items():
        if not channel.enabled:
            continue
        problems += _recipients(name, channel, source)
        live = settings.mode == "live" and channel.dry_run is not True
        kind = KINDS[channel.kind]   # settings an enabled channel cannot work without
        needed = kind.needs + (kind.needs_live if live else ())
        for key in needed:
            if not getattr(channel, key):
                problems.append(source.problem(("channels", name, key) if (
                    "channels", name, key) in source.lines else ("channels", name),
                    f"[channels.{name}] is enabled but '{key}' is empty; set it, or set "
                    f"enabled = false"))
        if channel.kind == "linkedin" and channel.api_version and \
                not LINKEDIN_VERSION.match(channel.api_version):
            problems.append(source.problem(("channels", name, "api_version"),
                f"[channels.{name}] api_version '{channel.api_version}' is not a LinkedIn "
                f"version: write the month as YYYYMM (e.g. \"202611\"), a version LinkedIn "
                f"still serves"))
    roles = set(settings.roles)
    for pid, person in settings.people.items():
        for i, role in enumerate(person.roles):
            if role not in roles:
                problems.append(source.problem(("people", pid, "roles", i),
                    f"person '{pid}' has unknown role '{role}'{did_you_mean(role, roles)}; "
                    f"roles are defined in [roles]"))
    for work, resp in settings.responsibilities.items():
        for column in ("responsible", "accountable", "support", "consulted", "informed"):
            for role in getattr(resp, column):
                if role not in roles:
                    problems.append(source.problem(("responsibilities", work, column),
                        f"[responsibilities.{work}] {column} names unknown role "
                        f"'{role}'{did_you_mean(role, roles)}"))
        if not resp.accountable:
            problems.append(source.problem(("responsibilities", work, "accountable"),
                f"[responsibilities.{work}] needs at least one accountable role to approve it"))
        elif not any(set(p.roles) & set(resp.accountable) for p in settings.people.values()):
            problems.append(source.problem(("responsibilities", work, "accountable"),
                f"nobody in [people] holds an accountable role for '{work}' "
                f"({', '.join(resp.accountable)}), so nothing of it can be approved; "
                f"add the role to a person", severity="warning"))
    freeze = settings.freeze.responsibility
    if freeze not in settings.responsibilities:
        at = ("freeze", "responsibility") if ("freeze", "responsibility") in source.lines else ()
        problems.append(source.problem(at,
            f"no [responsibilities.{freeze}] row, so nobody may pause or resume publication "
            f"(`wst pause`); add one naming the accountable roles", severity="warning"))
    return problems


def _recipients(name: str, channel: Channel, source: TomlFile) -> list[Problem]:
    """An SMTP channel's recipients file is inside the project and a list of addresses."""
    if channel.kind != "smtp" or not channel.recipients_file:
        return []
    from pipeline.channels.smtp import recipients_problems

    written = channel.recipients_file
    return [source.problem(("channels", name, "recipients_file"),
                           f"[channels.{name}] recipients_file '{written}' {why}")
            for why in recipients_problems(source.path.resolve().parent, written)]


def _website_slip(settings: Settings, source: TomlFile) -> list[Problem]:
    """[official] website a slip away from [partnership] website: one of them is misspelt, and
    every correct link in the content would be reported instead of this line."""
    from pipeline.lint import misspelt_host, site_host

    official, own = site_host(settings.official.website), site_host(settings.partnership.website)
    if not misspelt_host(official, own):
        return []
    return [source.problem(("official", "website"),
        f"[official] website '{settings.official.website}' and [partnership] website "
        f"'{settings.partnership.website}' differ by a slip: one is misspelt; make them the same")]


class ConfigError(InputError):
    """config.toml cannot be used. When its only faults are unknown keys (a typo), `usable` is
    the config without them: good enough for `wst check` to go on and report every other
    problem in the project, never to publish with."""

    def __init__(self, problems: list[Problem], usable: Config | None = None):
        super().__init__(problems)
        self.usable = usable


def _without_unknown_keys(path: Path, source: TomlFile) -> Config | None:
    try:
        Settings.model_validate(source.data)
        return None
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    data = copy.deepcopy(source.data)
    for error in errors:
        loc = list(error["loc"])
        if error["type"] == "table_key":
            loc.append(error["ctx"]["key"])
        elif error["type"] != "extra_forbidden":
            return None
        meant = difflib.get_close_matches(str(loc[0]), list(Settings.model_fields), n=1, cutoff=0.6)
        if len(loc) == 1 and meant and meant[0] not in data:
            return None  # a section's name misspelt: all it holds would be reported as missing
        table = functools.reduce(lambda d, k: d.get(k, {}) if isinstance(d, dict) else {},
                                 loc[:-1], data)
        if isinstance(table, dict):
            table.pop(loc[-1], None)
    try:
        settings = Settings.model_validate(data)
    except ValidationError:
        return None
    if any(p.is_error for p in cross_check(settings, source)):
        return None
    return Config(settings, path, source)


def load_config(path: Path) -> Config:
    """Read and validate config.toml; raise InputError listing every problem."""
    shown = display_path(path)
    if not path.exists():
        raise InputError([Problem(shown, None, ERROR,
            "config file not found; run from the project folder, or pass --config PATH "
            "or set WST_CONFIG")])
    source = read_toml(path, shown)
    settings, problems = validate(Settings, source.data, source)
    if settings is None:
        raise ConfigError(problems, _without_unknown_keys(path, source))
    found = cross_check(settings, source)
    errors = [p for p in found if p.is_error]
    if errors:
        raise InputError(errors)
    config = Config(settings, path, source)
    config.warnings = [p for p in found if not p.is_error]
    return config
