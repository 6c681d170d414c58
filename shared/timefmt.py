"""The station's clock: Asia/Shanghai, whatever the server's zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

from shared.settings import STATION_TIMEZONE

STATION_TZ = ZoneInfo(STATION_TIMEZONE)


def to_station_time(moment: datetime) -> datetime:
    return moment.astimezone(STATION_TZ)


def local_text(moment: datetime) -> str:
    """`2026-12-03 09:00`, the way a notice on the station's wall writes it."""
    return to_station_time(moment).strftime("%Y-%m-%d %H:%M")
