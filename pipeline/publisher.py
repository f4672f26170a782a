"""Publishing one item: the gates it must pass, the one call to its platform, and what each
kind of failure means. The daemon's jobs and the services (release, a reactive post) use this."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial

from pipeline import links
from pipeline.channels.base import Artefact, ChannelError, RateLimited, Transient, Unconfirmed
from pipeline.channels.registry import has_adapter
from pipeline.files import FileRefused, inside
from pipeline.images import open_image
from pipeline.ledger import SYSTEM, LedgerError
from pipeline.plan import DRAFT, Item
from pipeline.render import Rendered
from pipeline.states import ErrorKind, HoldReason, State
from pipeline.status import pause_gate
from pipeline.workspace import Workspace

log = logging.getLogger("wst.publish")
# Items whose time comes within this long are resolved and rendered ahead (see prepare()).
PREPARE_AHEAD = timedelta(hours=1)


class Outcome(StrEnum):
    """What one publish() did."""

    PUBLISHED = "published"        # the platform accepted it now
    HELD = "held"                  # kept back for a person (see the row's hold reason)
    FAILED = "failed"              # this attempt did not go out (see the row's error kind)
    UNCONFIRMED = "unconfirmed"    # it may have gone out; the platform is asked next
    WAITING = "waiting"            # the channel is rate limited: tried again at its reset
    NOT_DUE = "not due"            # never early: its own job publishes it at its time
    GONE = "gone"                  # the plan no longer has it
    SKIPPED = "skipped"            # this process lost the daemon lock
    IN_PROGRESS = "publishing"     # another worker is publishing it right now
    SETTLED = "settled"            # nothing to do: it is already where it stays


@dataclass(frozen=True)
class PublishResult:
    """The outcome of one publish() and the ledger state the row is in afterwards."""

    item_id: str
    outcome: Outcome
    state: State | None = None
    rehearsal: bool = False   # a dry run: nothing reached the platform
    note: str = ""            # why it was held, in words

    def __str__(self) -> str:
        # "settled" says nothing to a person; the state it is settled in does
        word = self.state.value if self.outcome == Outcome.SETTLED and self.state else self.outcome.value
        if self.outcome == Outcome.HELD and self.rehearsal:
            return f"would be held (dry run): {self.note}"
        if self.outcome == Outcome.PUBLISHED and self.rehearsal:
            return f"{word} (dry run: written to the outbox, nothing sent)"
        return f"{word} (dry run)" if self.rehearsal else word


# Retries are the scheduler's: the daemon passes a function that schedules one (None: no retry).
Retry = Callable[[Item, datetime], None]


class Publisher:
    """Publishes items of one workspace; `may_publish(now)` is the daemon's lock check."""

    def __init__(self, ws: Workspace, *, retry: Retry | None = None,
                 may_publish: Callable[[datetime], bool] | None = None):
        self.ws = ws
        self.retry = retry
        self.may_publish = may_publish

    def publish(self, item_id: str) -> PublishResult:
        """Publish one item if everything allows it now (a dry run's result says so)."""
        result = self._publish(item_id)
        item = self.ws.catalog.item(item_id)
        if item is not None and self.ws.catalog.dry_run_for(item.channel):
            return replace(result, rehearsal=True)
        return result

    def _publish(self, item_id: str) -> PublishResult:
        ws = self.ws
        now = ws.clock()
        if self.may_publish is not None and not self.may_publish(now):
            log.error("the daemon lock was lost; %s not published by this process", item_id)
            return PublishResult(item_id, Outcome.SKIPPED)
        catalog = ws.catalog  # one catalog for the whole decision, even if a reload swaps it
        item = catalog.item(item_id)
        if item is None:
            log.info("%s is no longer in the plan; nothing to do", item_id)
            return PublishResult(item_id, Outcome.GONE)
        key = ws.key(item)
        publications = ws.ledger.publications
        # One read for the row, the pause and the channel, and the sync's write transaction
        # only when the row is missing or out of date.
        view = publications.publish_view(key, item.channel, now)
        if not view.in_sync(item):
            publications.sync_planned([item], now, dry_run=catalog.dry_run_for)
            view = publications.publish_view(key, item.channel, now)
        entry = view.entry
        if entry is None:
            publications.entry(key)  # raises UnknownEntry, naming the key
            raise AssertionError("unreachable")
        if entry.state in (State.PUBLISHING, State.UNCONFIRMED):
            return self.resolve_unconfirmed(item, key)
        dry = entry.dry_run
        if entry.state not in (State.PLANNED, State.APPROVED, State.FAILED):
            return PublishResult(item_id, Outcome.SETTLED, entry.state)
        if entry.state == State.FAILED and entry.error_kind is not None and entry.error_kind.final:
            # e.g. X's duplicate 403: another call would only be refused again
            return PublishResult(item_id, Outcome.SETTLED, State.FAILED)
        # A released row goes out late on purpose: its lateness runs from the release.
        late = now - max(catalog.run_at(item), entry.released_at or catalog.run_at(item))
        if late < timedelta(0):
            return PublishResult(item_id, Outcome.NOT_DUE, entry.state)
        hold = partial(self._hold, item, key, now=now)
        if late > catalog.catch_up:
            return hold(HoldReason.MISSED, f"missed its time by {_span(late)}, beyond the "
                        f"{catalog.settings.grace_minutes}-minute catch-up window; publish it by "
                        f"hand and run `wst resolve`, or cancel it", alert=True)
        gates = [f"due {item.due.isoformat()}, started {_span(late)} late"]
        if item.status == DRAFT:
            return hold(HoldReason.DRAFT, f"still a draft at its time ({item.note}); finish it, "
                        f"approve it, then `wst release`", alert=True)
        paused, words = pause_gate(view.pause, due=item.due, help_post=item.help,
                                   answers_pause=item.answers_pause, released_at=entry.released_at)
        if paused:
            return hold(HoldReason.PAUSE, words)
        gates.append(words)
        blocked = view.blocked(now)
        if blocked:
            until = view.health.rate_limited_until if view.health else None
            if until and until > now:
                self._retry(item, until)
                return PublishResult(item_id, Outcome.WAITING, entry.state)
            return hold(HoldReason.CHANNEL_FLAGGED, f"channel {item.channel} is flagged: {blocked}")
        gates.append(f"channel {item.channel} is healthy")
        rendered = catalog.renderer.render(item)
        if rendered.errors:
            return hold(HoldReason.CHECK_FAILED, "content checks failed: " +
                        "; ".join(f.message for f in rendered.errors), alert=True)
        gates.append("content checks passed")
        if entry.state == State.PLANNED:
            if not dry or not catalog.settings.rehearse_unapproved:
                return hold(HoldReason.NOT_APPROVED, "not approved by an accountable person before "
                            "its time; approve it, then `wst release`", alert=not dry)
            gates.append("not approved: rehearsed anyway ([scheduler] rehearse_unapproved)")
        else:
            gates.append("approved by an accountable person")
        if not dry and not has_adapter(ws.config.settings.channels[item.channel].kind):
            return self._by_hand(item, key, rendered, now)
        if rendered.post is not None and rendered.post.image:
            # read again just before upload: the file may have changed since it was checked
            # (an edit that broke the project leaves the last good words in use)
            try:
                open_image(ws.config.content_dir, rendered.post.image)
            except FileRefused as exc:
                return hold(HoldReason.CHECK_FAILED, f"image '{rendered.post.image}' {exc}",
                            alert=True)
        return self._send(item, key, self.artefact(item, rendered, key, tuple(gates)))

    def _send(self, item: Item, key: str, artefact: Artefact) -> PublishResult:
        ws = self.ws
        publications = ws.ledger.publications
        adapter = ws.adapters.get(item.channel)
        try:
            entry = publications.begin_publishing(key, ws.clock())
        except LedgerError as exc:
            log.info("%s not started: %s", item.id, exc)
            return PublishResult(item.id, Outcome.SETTLED, publications.entry(key).state)
        started = ws.clock()
        try:
            publication = adapter.publish(artefact)
        except ChannelError as exc:
            return self._failed(item, key, entry.attempts, adapter.timeout, exc)
        publications.mark_published(key, publication.remote_id, publication.url, ws.clock(),
                                    lateness=started - ws.catalog.run_at(item))
        return PublishResult(item.id, Outcome.PUBLISHED, State.PUBLISHED)

    def _failed(self, item: Item, key: str, attempts: int, timeout: float,
                exc: ChannelError) -> PublishResult:
        """What a failed call means, by the kind the adapter gave it (never by its words)."""
        ws = self.ws
        publications = ws.ledger.publications
        now = ws.clock()
        kind = exc.kind
        if isinstance(exc, RateLimited):
            publications.mark_failed(key, str(exc), now, kind=kind)
            ws.ledger.health.rate_limited_until(item.channel, exc.retry_at, now)
            self._retry(item, exc.retry_at)
            return PublishResult(item.id, Outcome.FAILED, State.FAILED)
        if isinstance(exc, Transient):
            if attempts <= ws.catalog.settings.retry_limit:
                publications.mark_failed(key, str(exc), now, kind=kind)
                backoff = ws.catalog.settings.retry_backoff_seconds * 2 ** (attempts - 1)
                self._retry(item, now + timedelta(seconds=backoff))
            else:
                publications.mark_failed(key, f"gave up after {attempts} attempts: {exc}", now,
                                         kind=ErrorKind.GAVE_UP)
                ws.alerts.send("failed", f"{item.id} failed after {attempts} attempts", str(exc), now,
                               link=links.page_for(ws.config.settings, item.id))
            return PublishResult(item.id, Outcome.FAILED, State.FAILED)
        if isinstance(exc, Unconfirmed):
            publications.mark_unconfirmed(key, str(exc), now)
            # ask the platform soon; never post again blind
            self._retry(item, now + timedelta(seconds=max(5.0, timeout)))
            return PublishResult(item.id, Outcome.UNCONFIRMED, State.UNCONFIRMED)
        publications.mark_failed(key, _failure_words(kind, exc), now, kind=kind)
        if kind == ErrorKind.AUTH_EXPIRED:
            ws.ledger.health.flag(item.channel, str(exc), now)
            ws.alerts.send("credentials", f"{item.channel}: credentials expired or missing",
                           f"{exc}\nIts items are held until the credentials work again.", now,
                           link=links.status_page(ws.config.settings))
            return self._hold(item, key, HoldReason.CHANNEL_FLAGGED,
                              f"channel {item.channel} is flagged: {exc}", now=now)
        subject = (f"{item.id}: the platform already has this text" if kind == ErrorKind.DUPLICATE
                   else f"{item.id} was refused")
        ws.alerts.send("failed", subject, str(exc), now,
                       link=links.page_for(ws.config.settings, item.id))
        return PublishResult(item.id, Outcome.FAILED, State.FAILED)

    def resolve_unconfirmed(self, item: Item, key: str) -> PublishResult:
        """Ask the platform whether an interrupted publication landed; settle it either way."""
        ws = self.ws
        now = ws.clock()
        entry = ws.ledger.publications.entry(key)
        if entry.state == State.PUBLISHING:
            return PublishResult(item.id, Outcome.IN_PROGRESS, State.PUBLISHING)
        artefact = self.artefact(item, ws.catalog.renderer.render(item), key)
        try:
            found = ws.adapters.get(item.channel).find(artefact)
        except ChannelError as exc:
            log.warning("could not ask %s about %s yet: %s", item.channel, item.id, exc)
            self._retry(item, now + timedelta(seconds=ws.catalog.settings.retry_backoff_seconds))
            return PublishResult(item.id, Outcome.UNCONFIRMED, State.UNCONFIRMED)
        if found is not None:
            ws.ledger.publications.resolve(item.id, item.channel, found.remote_id, False, SYSTEM,
                                           now, url=found.url or None)
            return PublishResult(item.id, Outcome.PUBLISHED, State.PUBLISHED)
        ws.ledger.publications.resolve(item.id, item.channel, None, True, SYSTEM, now)
        return self.publish(item.id)  # confirmed absent: publishing now is not a blind retry

    def prepare(self, now: datetime) -> int:
        """Resolve and render (with the content checks) every item whose run time is within the
        grace time behind or PREPARE_AHEAD ahead, and build its channel's adapter, so that when
        it falls due its job only looks it up, applies the gates and calls the platform (in a
        burst, rendering at the due moment cost about a seventh of each publication's time).
        Rendering is pure and cached by content version, and a reload drops what was
        prepared. An item whose checks fail is alerted now, while there is time to fix it.
        Returns how many items are prepared."""
        catalog = self.ws.catalog
        behind = timedelta(minutes=catalog.settings.grace_minutes)
        lead = timedelta(minutes=catalog.settings.bulletin_lead_minutes)
        tz = catalog.config.tz
        soon = [i for i in catalog.items((now - behind).astimezone(tz).date(),
                                         (now + PREPARE_AHEAD + lead).astimezone(tz).date())
                if now - behind <= catalog.run_at(i) <= now + PREPARE_AHEAD]
        catalog.remember(soon)
        for item in soon:
            errors = catalog.renderer.render(item).errors
            if errors and catalog.run_at(item) > now:
                self.ws.alerts.send("check-failed", f"{item.id} fails its checks and will be held "
                                    f"at {catalog.run_at(item).astimezone(tz):%H:%M}",
                                    "\n".join(f.message for f in errors), now,
                                    link=links.page_for(catalog.config.settings, item.id))
        for channel in sorted({i.channel for i in soon}):
            self.ws.adapters.get(channel)
        return len(soon)

    def artefact(self, item: Item, rendered: Rendered, key: str,
                 gates: tuple[str, ...] = ()) -> Artefact:
        """The finished thing the adapter sends (with the gates it passed, for a rehearsal's record)."""
        config = self.ws.config
        if item.kind == "post":
            p = rendered.post
            assert p is not None
            # resolved again here, so that no path can lead outside content/ at upload either
            image = inside(config.content_dir, p.image) if p.image else None
            return Artefact(item.id, key, "post", text=p.text, link=p.link, image=image,
                            alt=p.alt, facets=tuple(f.as_record() for f in p.facets), gates=gates)
        b = rendered.bulletin
        assert b is not None
        month = item.id.split("/")[1]
        return Artefact(item.id, key, "bulletin", text=b.text, html=b.html, subject=b.subject,
                        preheader=b.preheader,
                        title=f"{config.settings.partnership.short_name} e-bulletin {month}",
                        send_at=item.due.astimezone(UTC), gates=gates)

    def _by_hand(self, item: Item, key: str, rendered: Rendered, now: datetime) -> PublishResult:
        written = self.ws.adapters.outbox(item.channel).publish(self.artefact(item, rendered, key))
        return self._hold(item, key, HoldReason.BY_HAND,
                          f"post by hand: copy-ready text in {written.url}; then run "
                          f"`wst resolve {item.id} --published-as LINK`", now=now, alert=True)

    def _hold(self, item: Item, key: str, reason: HoldReason, note: str, *, now: datetime,
              alert: bool = False) -> PublishResult:
        publications = self.ws.ledger.publications
        try:
            publications.mark_held(key, note, now, reason=reason)
        except LedgerError as exc:
            log.info("%s not held: %s", item.id, exc)
            return PublishResult(item.id, Outcome.SETTLED, publications.entry(key).state)
        if alert:
            self.ws.alerts.send("held", f"{item.id} is held", note, now,
                                link=links.page_for(self.ws.config.settings, item.id))
        return PublishResult(item.id, Outcome.HELD, State.HELD, note=note)

    def _retry(self, item: Item, at: datetime) -> None:
        if self.retry is not None:
            self.retry(item, at)


def _failure_words(kind: ErrorKind, exc: ChannelError) -> str:
    """The readable record of a failure that is never retried by itself."""
    if kind == ErrorKind.DUPLICATE:
        return f"duplicate content, never retried: {exc}"
    if kind == ErrorKind.REJECTED:
        return f"refused, never retried: {exc}"
    return str(exc)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    return f"{hours} hours" if hours < 48 else f"{hours // 24} days"
