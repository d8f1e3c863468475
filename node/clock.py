"""Time is always passed in: trust questions are asked "as of" a date, and tests pin the clock."""

from __future__ import annotations

import re
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


# XSD dateTimeStamp (what VC 2.0 requires of validFrom, validUntil and proof dates): the offset is
# mandatory. "2026-06-01T12:00:00" is a different instant in Guatemala and in Madrid, so reading it as
# UTC would silently move a validity period by hours; such a value is refused instead.
_DATE_TIME_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_datetime(value: str) -> datetime:
    """Parse an XSD dateTimeStamp (date, time and an offset or Z); anything else raises ValueError."""
    if not isinstance(value, str) or not _DATE_TIME_STAMP.match(value):
        raise ValueError(f"not a date-time with an offset (e.g. 2026-06-01T12:00:00Z): {value!r}")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
