"""API tokens for admin writes: one role (ministry, issuer, operator) and an actor name per token.

A token is shown once when created; only its SHA-256 digest is stored, so the database never holds
a usable credential. Tokens are random (256 bits), which is why a plain digest (no salt) suffices.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from node.clock import Clock
from node.db.orm import TOKEN_ROLES, ApiToken
from node.db.uow import UnitOfWork
from node.errors import InvalidInput, NotFound

TOKEN_PREFIX = "pnt_"


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
