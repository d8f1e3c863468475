"""Unit of work: one transaction per use case. Leaving without commit() rolls back."""

from __future__ import annotations

from typing import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class UnitOfWork:
    session: AsyncSession

    def __init__(self, session_factory: async_sessionmaker) -> None:
        self._session_factory = session_factory

    async def __aenter__(self) -> "UnitOfWork":
        self.session = self._session_factory()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            await self.session.rollback()  # no-op after commit; undoes anything left uncommitted
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


UnitOfWorkFactory = Callable[[], UnitOfWork]
