"""API tokens for admin writes: one role (ministry, issuer, operator) and an actor name per token.

A token is shown once when created; only its SHA-256 digest is stored, so the database never holds
a usable credential. Tokens are random (256 bits), which is why a plain digest (no salt) suffices.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from node.clock import Clock, isoformat_z
from node.db.orm import TOKEN_ROLES, ApiToken
from node.db.uow import UnitOfWork
from node.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "pnt_"
TOKEN_ID_LENGTH = 12


@dataclass(frozen=True)
class Principal:
    actor: str
    role: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_token(uow: UnitOfWork, clock: Clock, *, role: str, actor: str) -> str:
    """Create a token and return it; this is the only time the token itself exists in the node."""
    if role not in TOKEN_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(TOKEN_ROLES)}, not {role!r}")
    if not isinstance(actor, str) or not actor.strip() or len(actor) > 300:
        raise InvalidInput("a token needs an actor name (1-300 characters)")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    uow.session.add(ApiToken(digest=digest(token), role=role, actor=actor.strip(), created_at=clock.now()))
    await uow.commit()
    return token


async def authenticate(uow: UnitOfWork, token: str) -> Principal | None:
    """The principal of an unrevoked token, or None."""
    row = await uow.session.get(ApiToken, digest(token))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(actor=row.actor, role=row.role)


async def revoke_token(uow: UnitOfWork, clock: Clock, token: str) -> None:
    row = await uow.session.get(ApiToken, digest(token))
    if row is None:
        raise NotFound("unknown token")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
    await uow.commit()


def token_id(token_digest: str) -> str:
    """A short public handle for a token (a prefix of its digest): safe to list, useless to authenticate."""
    return token_digest[:TOKEN_ID_LENGTH]


async def list_tokens(uow: UnitOfWork) -> list[dict]:
    rows = (await uow.session.scalars(select(ApiToken).order_by(ApiToken.created_at, ApiToken.digest))).all()
    return [{"id": token_id(r.digest), "role": r.role, "actor": r.actor, "created": isoformat_z(r.created_at),
             "revoked": isoformat_z(r.revoked_at) if r.revoked_at else None} for r in rows]


async def revoke_token_id(uow: UnitOfWork, clock: Clock, handle: str) -> dict:
    """Revoke the token whose id (as listed) is `handle`, for an operator who no longer has the token."""
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
    await uow.commit()
    return {"id": handle, "role": row.role, "actor": row.actor, "revoked": isoformat_z(row.revoked_at)}
