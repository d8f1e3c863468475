"""API tokens for admin writes: each belongs to a named person (the subject) with a role and a scope.

- ministry: acts for one jurisdiction (`--jurisdiction GT`), one whose ministry this node hosts;
- issuer: acts for one institution hosted here (`--institution intecap`);
- operator: acts for the whole node (no scope).

Who authored, approved, assessed, reviewed or revoked something is always the token's subject, never a
name in a request body or an import file (architecture rule 12).

A token is shown once when created; only its SHA-256 digest is stored, so the database never holds
a usable credential. Tokens are random (256 bits), which is why a plain digest (no salt) suffices.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Iterator

from sqlalchemy import select

from node.clock import Clock, isoformat_z
from node.db.orm import TOKEN_ROLES, ApiToken, Identity
from node.db.uow import UnitOfWork
from node.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "pnt_"
TOKEN_ID_LENGTH = 12
OPERATOR, MINISTRY, ISSUER = "operator", "ministry", "issuer"
MAX_SUBJECT = 300
_JURISDICTION = re.compile(r"^[A-Z]{2}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Principal:
    """Who acts: a named person, a role, and a scope (a jurisdiction for a ministry, an institution
    slug for an issuer; none for the operator, who acts for the whole node)."""

    subject: str
    role: str
    jurisdiction: str | None = None
    institution: str | None = None

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR

    @property
    def scope(self) -> str | None:
        if self.jurisdiction:
            return f"jurisdiction:{self.jurisdiction}"
        if self.institution:
            return f"institution:{self.institution}"
        return None

    def acts_for_institution(self, slug: str | None) -> bool:
        return self.is_operator or (self.role == ISSUER and self.institution is not None and self.institution == slug)

    def acts_for_jurisdiction(self, code: str | None) -> bool:
        return self.is_operator or (self.role == MINISTRY and self.jurisdiction is not None
                                    and isinstance(code, str) and self.jurisdiction == code.upper())

    def to_json(self) -> dict:
        return {"subject": self.subject, "role": self.role, "scope": self.scope}


# The principal a piece of work is done for: set by HTTP authentication (per request task) and by the
# CLI (the operator of the node); read by the audit trail. Work done by the node itself (setup, demo
# seed) runs without one and is recorded as the system.
_acting: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("puente_acting_principal", default=None)
SYSTEM = Principal(subject="puente", role="system")


def set_acting(principal: Principal) -> None:
    """The principal of the rest of this task (an HTTP request handler, a CLI command)."""
    _acting.set(principal)


@contextlib.contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    token = _acting.set(principal)
    try:
        yield principal
    finally:
        _acting.reset(token)


def acting_principal() -> Principal:
    return _acting.get() or SYSTEM


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _subject(subject: object) -> str:
    if not isinstance(subject, str) or not subject.strip() or len(subject.strip()) > MAX_SUBJECT:
        raise InvalidInput(f"a token belongs to a named person: --subject NAME (1-{MAX_SUBJECT} characters)")
    if any(ord(c) < 32 for c in subject):
        raise InvalidInput("the subject must not contain control characters")
    return " ".join(subject.split())  # "Ana  López" is "Ana López": two-person rules compare subjects


async def _check_scope(uow: UnitOfWork, role: str, jurisdiction: str | None, institution: str | None) -> tuple[str | None, str | None]:
    """(jurisdiction, institution) for a new token of `role`: exactly the scope the role needs, and one
    that exists on this node."""
    if role == MINISTRY:
        if institution:
            raise InvalidInput("a ministry token acts for a jurisdiction, not an institution (--jurisdiction CODE)")
        code = (jurisdiction or "").strip().upper()
        if not _JURISDICTION.match(code):
            raise InvalidInput("a ministry token needs --jurisdiction: an ISO 3166-1 alpha-2 code such as GT")
        hosted = await uow.session.scalar(select(Identity.did).where(Identity.kind == "ministry", Identity.jurisdiction == code))
        if hosted is None:
            raise InvalidInput(f"this node hosts no ministry of {code}; a ministry token acts for a jurisdiction hosted here")
        return code, None
    if role == ISSUER:
        if jurisdiction:
            raise InvalidInput("an issuer token acts for an institution, not a jurisdiction (--institution SLUG)")
        slug = (institution or "").strip()
        if not _SLUG.match(slug):
            raise InvalidInput("an issuer token needs --institution: the slug of an institution hosted here, e.g. intecap")
        hosted = await uow.session.scalar(select(Identity.did).where(Identity.kind == "institution",
                                                                     Identity.path == f"institutions/{slug}"))
        if hosted is None:
            raise NotFound(f"no institution {slug!r} on this node; create it first (puente institution create)")
        return None, slug
    if jurisdiction or institution:
        raise InvalidInput("an operator token acts for the whole node: it takes no --jurisdiction or --institution")
    return None, None


async def create_token(uow: UnitOfWork, clock: Clock, *, role: str, subject: str, jurisdiction: str | None = None,
                       institution: str | None = None) -> str:
    """Create a token and return it; this is the only time the token itself exists in the node."""
    from node.audit import record

    if role not in TOKEN_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(TOKEN_ROLES)}, not {role!r}")
    subject = _subject(subject)
    jurisdiction, institution = await _check_scope(uow, role, jurisdiction, institution)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(digest=digest(token), role=role, subject=subject, jurisdiction=jurisdiction, institution=institution,
                   created_at=clock.now())
    uow.session.add(row)
    record(uow.session, "token.create", token_id(row.digest), at=row.created_at)
    await uow.commit()
    return token


def principal_of(row: ApiToken) -> Principal:
    return Principal(subject=row.subject, role=row.role, jurisdiction=row.jurisdiction, institution=row.institution)


async def authenticate(uow: UnitOfWork, token: str) -> Principal | None:
    """The principal of an unrevoked token, or None."""
    row = await uow.session.get(ApiToken, digest(token))
    if row is None or row.revoked_at is not None:
        return None
    return principal_of(row)


async def revoke_token(uow: UnitOfWork, clock: Clock, token: str) -> None:
    from node.audit import record

    row = await uow.session.get(ApiToken, digest(token))
    if row is None:
        raise NotFound("unknown token")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        record(uow.session, "token.revoke", token_id(row.digest), at=row.revoked_at)
    await uow.commit()


def token_id(token_digest: str) -> str:
    """A short public handle for a token (a prefix of its digest): safe to list, useless to authenticate."""
    return token_digest[:TOKEN_ID_LENGTH]


def token_json(row: ApiToken) -> dict:
    return {"id": token_id(row.digest), "role": row.role, "subject": row.subject, "scope": principal_of(row).scope,
            "created": isoformat_z(row.created_at), "revoked": isoformat_z(row.revoked_at) if row.revoked_at else None}


async def list_tokens(uow: UnitOfWork) -> list[dict]:
    rows = (await uow.session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.digest))).all()
    return [token_json(r) for r in rows]


async def revoke_token_id(uow: UnitOfWork, clock: Clock, handle: str) -> dict:
    """Revoke the token whose id (as listed) is `handle`, for an operator who no longer has the token."""
    from node.audit import record

    handle = handle.strip().lower()
    if len(handle) != TOKEN_ID_LENGTH or any(c not in "0123456789abcdef" for c in handle):
        raise InvalidInput(f"a token id is {TOKEN_ID_LENGTH} hexadecimal characters, as puente token list shows")
    rows = (await uow.session.scalars(select(ApiToken).where(ApiToken.digest.startswith(handle, autoescape=True)))).all()
    if not rows:
        raise NotFound(f"no token with id {handle}")
    if len(rows) > 1:  # 48 bits of a SHA-256: practically never, but never revoke the wrong one
        raise Conflict(f"token id {handle} is ambiguous; revoke with the token itself")
    row = rows[0]
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        record(uow.session, "token.revoke", handle, at=row.revoked_at)
    await uow.commit()
    return token_json(row)
