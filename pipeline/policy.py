"""Who may do what: pure functions over the settings (the RASCI matrix of Appendix 5).

The CLI, the web workspace and the ledger ask these; none of them decides on its own."""

from __future__ import annotations

from pipeline.config import Settings


def people_with(settings: Settings, roles: list[str] | tuple[str, ...]) -> list[str]:
    """Ids of the people holding any of `roles`, in config order."""
    wanted = set(roles)
    return [pid for pid, p in settings.people.items() if set(p.roles) & wanted]


def accountable_for(settings: Settings, responsibility: str) -> list[str]:
    """The people who may approve work of this responsibility."""
    resp = settings.responsibilities.get(responsibility)
    return people_with(settings, list(resp.accountable)) if resp else []


def approval_refusal(settings: Settings, responsibility: str, person: str) -> str | None:
    """Why `person` may not approve work of `responsibility`, or None if they may."""
    if person not in settings.people:
        return f"'{person}' is not in [people] in config.toml"
    resp = settings.responsibilities.get(responsibility)
    if resp is None:
        return (f"its responsibility '{responsibility}' is not in [responsibilities], "
                f"so nobody is accountable for it")
    allowed = accountable_for(settings, responsibility)
    if person not in allowed:
        return (f"'{person}' does not hold an accountable role for '{responsibility}' "
                f"({', '.join(resp.accountable)}); it may be approved by: "
                f"{', '.join(allowed) or 'nobody'}")
    return None


def freeze_refusal(settings: Settings, person: str) -> str | None:
    """Why `person` may not pause or resume all publication (or decide what a pause held, or
    let an item out while one is on), or None if they may."""
    if person not in settings.people:
        return f"'{person}' is not in [people] in config.toml"
    work = settings.freeze.responsibility
    if work not in settings.responsibilities:
        return (f"there is no [responsibilities.{work}] row in config.toml, so nobody may pause "
                f"or resume publication; add one naming the accountable roles")
    allowed = accountable_for(settings, work)
    if person not in allowed:
        return (f"'{person}' does not hold an accountable role for '{work}'; pausing, resuming "
                f"and deciding what a pause held is for: {', '.join(allowed) or 'nobody'}")
    return None


def decision_refusal(settings: Settings, responsibility: str, person: str) -> str | None:
    """Why `person` may not release or cancel a held item of `responsibility` (they must be
    accountable for the item, or for comms freezes), or None if they may."""
    if person not in settings.people:
        return f"'{person}' is not in [people] in config.toml"
    if approval_refusal(settings, responsibility, person) is None:
        return None
    if freeze_refusal(settings, person) is None:
        return None
    allowed = sorted(set(accountable_for(settings, responsibility))
                     | set(accountable_for(settings, settings.freeze.responsibility)))
    return (f"'{person}' is not accountable for '{responsibility}' or for comms freezes; it is "
            f"for: {', '.join(allowed) or 'nobody'}")


def works_on_refusal(settings: Settings, responsibility: str, person: str,
                     work: str) -> str | None:
    """Why `person` may not do some work for `responsibility` (it is for the people responsible,
    accountable or in support for it; `work` says what, e.g. "test sends are for"), or None if
    they may."""
    if person not in settings.people:
        return f"'{person}' is not in [people] in config.toml"
    resp = settings.responsibilities.get(responsibility)
    if resp is None:
        return f"its responsibility '{responsibility}' is not in [responsibilities]"
    allowed = people_with(settings, [*resp.responsible, *resp.accountable, *resp.support])
    if person not in allowed:
        return (f"'{person}' is not responsible, accountable or in support for "
                f"'{responsibility}'; {work}: {', '.join(allowed) or 'nobody'}")
    return None


def audit_refusal(settings: Settings, person: str) -> str | None:
    """Why `person` may not read or export the audit trail (it names people and the addresses
    they acted from), or None if they may: it is for the roles in `[web] audit_roles`."""
    if person not in settings.people:
        return f"'{person}' is not in [people] in config.toml"
    roles = settings.web.audit_roles
    allowed = people_with(settings, roles)
    if person not in allowed:
        return (f"'{person}' does not hold a role that may read the audit trail "
                f"({', '.join(roles) or 'none is set in [web] audit_roles'}); it is for: "
                f"{', '.join(allowed) or 'nobody'}")
    return None


def test_send_refusal(settings: Settings, responsibility: str, person: str) -> str | None:
    """Why `person` may not test-send work of `responsibility` (they must be responsible,
    accountable or in support for it), or None if they may."""
    return works_on_refusal(settings, responsibility, person, "test sends are for")


def writing_refusal(settings: Settings, responsibility: str, person: str) -> str | None:
    """Why `person` may not write work of `responsibility` and send it for approval (they must
    be responsible, accountable or in support for it), or None if they may."""
    return works_on_refusal(settings, responsibility, person, "writing them is for")


def calendar_refusal(settings: Settings, responsibilities: list[str] | tuple[str, ...],
                     person: str) -> str | None:
    """Why `person` may not change a calendar entry that work of `responsibilities` hangs on
    (an awareness day moves every campaign anchored to it: they must be able to write each),
    or None if they may."""
    for responsibility in responsibilities:
        refusal = writing_refusal(settings, responsibility, person)
        if refusal:
            return refusal
    return None
