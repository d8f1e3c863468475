"""Time is always passed in: trust questions are asked "as of" a date, and tests pin the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass
class FixedClock:
    """A clock for tests and for "as of" questions; `advance` moves it explicitly."""

    at: datetime

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.at = self.at + timedelta(**delta)


def isoformat_z(moment: datetime) -> str:
    """XSD dateTime in UTC with a trailing Z and whole seconds, as VC documents use."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_datetime(value: str) -> datetime:
    """Parse an XSD dateTime; a value without an offset is read as UTC."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
