"""The station's clock: China Standard Time, +08:00, whatever the server's zone.

A fixed offset, not ZoneInfo("Asia/Shanghai"): the tz database gives that zone its
local mean time (+08:05:43) before 1901 and summer time in 1940–1949 and 1986–1991,
and the station means +08:00 for every date it is shown or asked.
"""

from datetime import datetime, timedelta, timezone

STATION_TZ = timezone(timedelta(hours=8), "CST")


def to_station_time(moment: datetime) -> datetime:
    return moment.astimezone(STATION_TZ)


def local_text(moment: datetime) -> str:
    """`2026-12-03 09:00`, the way a notice on the station's wall writes it."""
    return to_station_time(moment).strftime("%Y-%m-%d %H:%M")
