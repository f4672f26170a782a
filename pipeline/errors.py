"""Our own exceptions: the base every library error shares, so a face (the CLI, the web
workspace) turns any of them into a message at its one edge. Each error builds its message in
`__init__` and keeps its data as attributes."""

from __future__ import annotations


class WstError(Exception):
    """Base of every refusal or failure the pipeline reports to a person."""


class NotFound(WstError):
    """Something named does not exist (an item, a person, a campaign, a ledger row)."""

    def __init__(self, what: str, hint: str = "", field: str = ""):
        self.what = what
        self.hint = hint
        self.field = field  # the option or form field that named it, if any
        super().__init__(f"{what}{hint}")


class NotAllowed(WstError):
    """The person's RASCI role does not allow this action."""

    def __init__(self, person: str, action: str, reason: str, allowed: tuple[str, ...] = ()):
        self.person = person
        self.action = action
        self.reason = reason
        self.allowed = allowed
        super().__init__(reason)


class Invalid(WstError):
    """A request a person made that can't be carried out as asked (the message says the fix)."""

    def __init__(self, message: str, field: str = ""):
        self.field = field
        super().__init__(message)
