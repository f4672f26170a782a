"""Sign-in for the web workspace: an account per person of [people] (an argon2id hash, never
the password), one-time invitations that expire, and sessions the server keeps, so signing out
or going idle ends one for good. Tokens are random; only their SHA-256 is stored, so a copy of
the store signs nobody in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update

from pipeline.errors import Invalid, WstError
from pipeline.ledger.rows import aware
from pipeline.store import Store
from pipeline.store.schema import accounts_table, invites_table, sessions_table

MIN_PASSWORD = 12      # the NCSC's advice: long (three random words), not complicated
MAX_PASSWORD = 1024    # hashing an unbounded input is a denial of service
# Refreshing a session's last-seen time on every request would be a write per request.
TOUCH_EVERY = timedelta(minutes=1)
# Passwords people choose first (and the pipeline's own words): refused outright.
_COMMON = frozenset({
    "password", "password1", "password123", "passw0rd", "qwerty", "qwertyuiop", "123456",
    "12345678", "123456789", "1234567890", "letmein", "welcome", "welcome1", "iloveyou",
    "admin", "administrator", "changeme", "safeguarding", "wolverhampton", "monkey", "dragon",
    "football", "sunshine", "princess", "trustno1", "abc123", "summer", "winter", "spring",
    "autumn", "wolves", "westbromwich", "birmingham",
})


class InviteInvalid(WstError):
    """An invitation link that is unknown, used or expired (one answer for all three)."""

    def __init__(self) -> None:
        super().__init__("this link does not work any more: it was used already, or it "
                         "expired. Ask the business unit for a new one (`wst user invite`)")


def token_hash(token: str) -> str:
    """What the store keeps of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def password_problem(person: str, password: str) -> str | None:
    """Why a new password is not good enough, or None."""
    if len(password) < MIN_PASSWORD:
        return (f"use at least {MIN_PASSWORD} characters: three random words make a strong "
                f"password that is easy to remember")
    if len(password) > MAX_PASSWORD:
        return f"use at most {MAX_PASSWORD} characters"
    plain = password.lower().replace(" ", "")
    if plain in _COMMON or person.lower() in plain or len(set(plain)) < 4:
        return "that password is too easy to guess: choose three random words"
    return None


@dataclass(frozen=True)
class Session:
    """A signed-in session the server knows."""

    person: str
    created_at: datetime
    last_seen_at: datetime
    address: str


class Accounts:
    """Accounts, invitations and sessions in the store."""

    def __init__(self, store: Store, hasher: PasswordHasher | None = None):
        self.store = store
        self.hasher = hasher or PasswordHasher()  # argon2id, the library's RFC 9106 defaults
        # Verified against when the name is unknown, so both answers take as long.
        self._decoy = self.hasher.hash(secrets.token_hex(16))

    # -- invitations -------------------------------------------------------------------------

    def invite(self, person: str, by: str, now: datetime, valid: timedelta) -> str:
        """A new one-time token by which `person` sets a password (older ones stop working)."""
        aware("now", now)
        token = secrets.token_urlsafe(32)
        t = invites_table
        with self.store.writing() as conn:
            conn.execute(update(t).where(t.c.person == person, t.c.used_at.is_(None))
                         .values(used_at=now))
            conn.execute(t.insert().values(token_hash=token_hash(token), person=person,
                                           created_by=by, created_at=now,
                                           expires_at=now + valid))
        return token

    def invited(self, token: str, now: datetime) -> str:
        """The person an invitation is for, if it still works; else InviteInvalid."""
        t = invites_table
        with self.store.reading() as conn:
            row = conn.execute(select(t).where(t.c.token_hash == token_hash(token))).mappings().first()
        if row is None or row["used_at"] is not None or row["expires_at"] <= now:
            raise InviteInvalid()
        return row["person"]

    def redeem(self, token: str, password: str, now: datetime) -> str:
        """Set the invited person's password (the link then stops working, and every session
        of theirs ends); returns the person."""
        aware("now", now)
        person = self.invited(token, now)
        problem = password_problem(person, password)
        if problem:
            raise Invalid(problem, field="password")
        hashed = self.hasher.hash(password)
        t, a = invites_table, accounts_table
        with self.store.writing() as conn:
            used = conn.execute(update(t).where(t.c.token_hash == token_hash(token),
                                                t.c.used_at.is_(None), t.c.expires_at > now)
                                .values(used_at=now))
            if used.rowcount != 1:  # used a moment ago in another request
                raise InviteInvalid()
            if conn.execute(select(a.c.person).where(a.c.person == person)).first():
                conn.execute(update(a).where(a.c.person == person)
                             .values(password_hash=hashed, updated_at=now))
            else:
                conn.execute(a.insert().values(person=person, password_hash=hashed,
                                               created_at=now, updated_at=now))
            conn.execute(delete(sessions_table).where(sessions_table.c.person == person))
        return person

    # -- signing in ----------------------------------------------------------------------------

    def verify(self, person: str, password: str) -> bool:
        """Whether `password` is the person's; the same work whether or not they have an
        account, so the time taken tells nothing."""
        a = accounts_table
        with self.store.reading() as conn:
            row = conn.execute(select(a.c.password_hash).where(a.c.person == person)).first()
        stored = row[0] if row else self._decoy
        try:
            self.hasher.verify(stored, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return False
        return row is not None

    def has_account(self, person: str) -> bool:
        """Whether the person has set a password."""
        a = accounts_table
        with self.store.reading() as conn:
            return conn.execute(select(a.c.person).where(a.c.person == person)).first() is not None

    def start(self, person: str, now: datetime, address: str) -> str:
        """A new session (a fresh token at every sign-in); returns its token."""
        aware("now", now)
        token = secrets.token_urlsafe(32)
        with self.store.writing() as conn:
            conn.execute(sessions_table.insert().values(
                token_hash=token_hash(token), person=person, created_at=now, last_seen_at=now,
                address=address[:100]))
        return token

    def session(self, token: str, now: datetime, idle: timedelta) -> Session | None:
        """The session of a token if it is still alive at `now` (refreshed now and then);
        one idle longer than `idle` is ended and None returned."""
        s = sessions_table
        key = token_hash(token)
        with self.store.reading() as conn:
            row = conn.execute(select(s).where(s.c.token_hash == key)).mappings().first()
        if row is None:
            return None
        if now - row["last_seen_at"] > idle:
            self.end(token)
            return None
        if now - row["last_seen_at"] >= TOUCH_EVERY:
            with self.store.writing() as conn:
                conn.execute(update(s).where(s.c.token_hash == key).values(last_seen_at=now))
        return Session(row["person"], row["created_at"], row["last_seen_at"], row["address"])

    def end(self, token: str) -> None:
        """End a session (signing out)."""
        with self.store.writing() as conn:
            conn.execute(delete(sessions_table).where(sessions_table.c.token_hash == token_hash(token)))

    # -- the private calendar feed ---------------------------------------------------------------

    def new_feed(self, person: str) -> str:
        """A new private token for the person's calendar subscription (the old link stops)."""
        token = secrets.token_urlsafe(24)
        a = accounts_table
        with self.store.writing() as conn:
            conn.execute(update(a).where(a.c.person == person)
                         .values(feed_token_hash=token_hash(token)))
        return token

    def feed_person(self, token: str) -> str | None:
        """Whose calendar feed a token opens, if any."""
        a = accounts_table
        with self.store.reading() as conn:
            row = conn.execute(select(a.c.person).where(
                a.c.feed_token_hash == token_hash(token))).first()
        return row[0] if row else None

    def sessions_of(self, person: str) -> list[Session]:
        """A person's live sessions, newest first."""
        s = sessions_table
        with self.store.reading() as conn:
            rows = conn.execute(select(s).where(s.c.person == person)
                                .order_by(s.c.created_at.desc())).mappings().all()
        return [Session(r["person"], r["created_at"], r["last_seen_at"], r["address"]) for r in rows]
