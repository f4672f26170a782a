"""The ledger: one row per (item, channel, content version), so publication is on time, once, and
signed; with its approvals, pauses, channel health, audit trail and reporting reads.

One module per idea: `publications` (the state machine), `approvals`, `pauses`, `health`,
`audit`, `reads`, `notices` (what approvers were told); `rows` holds what they hand out;
`transitions` is the one gate every state change passes through. `Ledger` bundles them over
one store for the services.
"""

from __future__ import annotations

from pipeline.ledger.approvals import Approvals
from pipeline.ledger.audit import AuditTrail
from pipeline.ledger.health import ChannelHealth
from pipeline.ledger.notices import Notices
from pipeline.ledger.pauses import Pauses
from pipeline.ledger.publications import RESOLVABLE, WAITING, Publications
from pipeline.ledger.reads import LedgerReads
from pipeline.ledger.rows import (
    SYSTEM,
    Actor,
    Approval,
    ApprovalRefused,
    Entry,
    Event,
    Health,
    IllegalTransition,
    LedgerError,
    Pause,
    PauseError,
    PublishView,
    SyncResult,
    UnknownEntry,
    actor_of,
    ledger_key,
)
from pipeline.store import Store

__all__ = [
    "RESOLVABLE",
    "SYSTEM",
    "WAITING",
    "Actor",
    "Approval",
    "ApprovalRefused",
    "Approvals",
    "AuditTrail",
    "ChannelHealth",
    "Entry",
    "Event",
    "Health",
    "IllegalTransition",
    "Ledger",
    "LedgerError",
    "LedgerReads",
    "Notices",
    "Pause",
    "PauseError",
    "Pauses",
    "Publications",
    "PublishView",
    "SyncResult",
    "UnknownEntry",
    "actor_of",
    "ledger_key",
]


class Ledger:
    """The ledger's parts over one open store (no logic of its own)."""

    def __init__(self, store: Store):
        self.store = store
        self.publications = Publications(store)
        self.approvals = Approvals(store)
        self.pauses = Pauses(store)
        self.health = ChannelHealth(store)
        self.audit = AuditTrail(store)
        self.reads = LedgerReads(store)
        self.notices = Notices(store)
