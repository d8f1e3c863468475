"""The audit trail: who (subject, role, scope) did what (an action and an object id) and when.

`record(session, action, object_id, at=...)` adds one row to the session of the write it describes, so
the row commits with the write or not at all. Who acts is the principal of the running task (set by
HTTP authentication or the CLI; see node.tokens); work the node does by itself (setup, demo seed) is
recorded as the system. Object ids only: never a token, a key, or a worker's name or identifier.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from node.clock import isoformat_z
from node.db.orm import AuditEvent
from node.errors import InvalidInput
from node.tokens import Principal, acting_principal

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def record(session: Any, action: str, object_id: str, *, at: datetime, principal: Principal | None = None) -> None:
    who = principal or acting_principal()
    session.add(AuditEvent(at=at, subject=who.subject[:300], role=who.role, scope=who.scope, action=action,
                           object_id=str(object_id)[:600]))


def event_json(row: AuditEvent) -> dict[str, Any]:
    return {"id": row.id, "at": isoformat_z(row.at), "subject": row.subject, "role": row.role, "scope": row.scope,
            "action": row.action, "object": row.object_id}


def parse_limit(value: Any) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    text = str(value)
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidInput(f"limit is a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def parse_since(value: Any) -> datetime | None:
    """An XSD dateTime with an offset (2026-06-01T00:00:00Z) or a date (2026-06-01, from its start in UTC)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise InvalidInput("since is a date (2026-06-01) or a date-time with an offset (2026-06-01T12:00:00Z)")
    return moment


async def list_events(session: Any, *, since: datetime | None = None, subject: str | None = None,
                      limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """Newest first."""
    query = select(AuditEvent)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if subject:
        query = query.where(AuditEvent.subject == subject)
    rows = (await session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))).all()
    return [event_json(r) for r in rows]
