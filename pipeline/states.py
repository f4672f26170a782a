"""The typed words of the reliability model: ledger states, failure kinds and hold reasons.

A leaf module (it imports nothing of the pipeline), so the channels, the ledger, the services
and both faces share one vocabulary, and no decision is ever made by matching message text.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Where one publication (item, channel, version) stands in the ledger."""

    PLANNED = "planned"          # recorded, not yet approved
    APPROVED = "approved"        # an Accountable person approved this exact version
    PUBLISHING = "publishing"    # written before the platform is called
    PUBLISHED = "published"      # the platform accepted it (id and link recorded)
    FAILED = "failed"            # an attempt did not go out (see ErrorKind)
    UNCONFIRMED = "unconfirmed"  # it may have gone out: ask the platform, never retry blind
    HELD = "held"                # kept back for a person's decision (see HoldReason)
    SUPERSEDED = "superseded"    # an edit replaced this version before it went out
    CANCELLED = "cancelled"      # a person decided it will not go out


# Every legal move; anything else is refused. Published and cancelled are final.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.PLANNED: frozenset({State.APPROVED, State.PUBLISHING, State.HELD, State.SUPERSEDED,
                              State.CANCELLED}),
    State.APPROVED: frozenset({State.PUBLISHING, State.HELD, State.SUPERSEDED, State.CANCELLED,
                               State.PUBLISHED}),
    State.PUBLISHING: frozenset({State.PUBLISHED, State.FAILED, State.UNCONFIRMED}),
    State.FAILED: frozenset({State.PUBLISHING, State.HELD, State.SUPERSEDED, State.CANCELLED,
                             State.PUBLISHED, State.APPROVED, State.PLANNED}),
    State.UNCONFIRMED: frozenset({State.PUBLISHED, State.APPROVED, State.PLANNED}),
    State.HELD: frozenset({State.APPROVED, State.PLANNED, State.SUPERSEDED, State.CANCELLED,
                           State.PUBLISHED}),
    State.PUBLISHED: frozenset(),
    # Only a revert to the same words revives a superseded row (it never went out).
    State.SUPERSEDED: frozenset({State.PLANNED, State.APPROVED, State.HELD}),
    State.CANCELLED: frozenset(),
}


class ErrorKind(StrEnum):
    """Why an attempt did not go out, as the channel adapter typed it (stored beside the text)."""

    RATE_LIMITED = "rate-limited"    # the platform said 429: tried again at its reset
    TRANSIENT = "transient"          # a 5xx or a connection that never reached it: backoff
    UNCONFIRMED = "unconfirmed"      # a timeout after sending: ask before anything else
    AUTH_EXPIRED = "auth-expired"    # credentials missing, expired or revoked
    DUPLICATE = "duplicate"          # the platform already has exactly this
    REJECTED = "rejected"            # the platform refused this content
    GAVE_UP = "gave-up"              # transient failures beyond the retry limit

    @property
    def final(self) -> bool:
        """True when the pipeline never tries again by itself (a person decides)."""
        return self in (ErrorKind.DUPLICATE, ErrorKind.REJECTED, ErrorKind.GAVE_UP)


class HoldReason(StrEnum):
    """Why a row is held (stored beside the readable note)."""

    PAUSE = "pause"                  # a comms freeze (`wst pause`)
    BLACKOUT = "blackout"            # a blackout window in the calendar
    CHANNEL_FLAGGED = "channel-flagged"  # the channel's credentials stopped working
    CHECK_FAILED = "check-failed"    # the content checks found an error at publication
    NOT_APPROVED = "not-approved"    # its time came without an approval
    MISSED = "missed"                # its time passed beyond the grace time
    BY_HAND = "by-hand"              # a manual channel: a person posts the copy-ready text
    DRAFT = "draft"                  # its time came while it was still marked draft
