"""A calendar month in the station's time (+08:00): the period the station's numbers are counted in
(issue 13). `GET /statistics?month=YYYY-MM` on every API and the portal's numbers pages share it,
so "December" begins at 00:00 on 1 December in Haikou, not in UTC, everywhere."""

import re
from dataclasses import dataclass
from datetime import date, datetime

from marshmallow import Schema, ValidationError, fields

from shared.timefmt import STATION_TZ, to_station_time

MONTH_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}")  # ASCII digits only: \d would take "２０２６"
# Every month whose bounds convert between station time and UTC without overflowing datetime.
FIRST_YEAR, LAST_YEAR = 1970, 9998


@dataclass(frozen=True, order=True)
class StationMonth:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> "StationMonth":
        """`2026-12`; ValueError for anything else, named plainly."""
        if not isinstance(text, str) or not MONTH_TEXT.fullmatch(text):
            raise ValueError("月份格式应为 YYYY-MM The month must be written YYYY-MM, for example 2026-12.")
        year, month = int(text[:4]), int(text[5:])
        if not 1 <= month <= 12:
            raise ValueError("月份须在 01 至 12 之间 The month must be 01 to 12.")
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"年份须在 {FIRST_YEAR} 至 {LAST_YEAR} 之间 The year must be {FIRST_YEAR} to {LAST_YEAR}.")
        return cls(year, month)

    @classmethod
    def of(cls, moment: datetime) -> "StationMonth":
        """The month this moment falls in at the station."""
        local = to_station_time(moment)
        return cls(local.year, local.month)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def start(self) -> datetime:
        """00:00 on the first, station time."""
        return datetime(self.year, self.month, 1, tzinfo=STATION_TZ)

    @property
    def end(self) -> datetime:
        """00:00 on the first of the next month, station time: the month is [start, end)."""
        return self.next().start

    def next(self) -> "StationMonth":
        return StationMonth(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "StationMonth":
        return StationMonth(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


class MonthField(fields.String):
    """`YYYY-MM` in, a StationMonth out (marshmallow); the OpenAPI document shows it as a pattern."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("description", "a month in station time (+08:00), YYYY-MM")
        super().__init__(**kwargs)
        self.metadata.setdefault("pattern", r"^[0-9]{4}-(0[1-9]|1[0-2])$")
        self.metadata.setdefault("example", "2026-12")

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return StationMonth.parse(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class StatisticsArgs(Schema):
    """The query of every API's `GET /statistics`."""

    month = MonthField(required=True)
