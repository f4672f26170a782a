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
