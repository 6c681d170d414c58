"""Notify's side of the station's numbers for one month (issue 13): SMS and e-mail sent and failed.

A message belongs to the month it was accepted in, station time (+08:00); its status is the one it
has now. One aggregate over the messages, grouped by channel and status.
"""

from sqlalchemy import func, select

from services.notify.domain.messages import ACCEPTED, DELIVERED, FAILED, SENDING, SENT, SUPPRESSED
from services.notify.models import Message
from shared.station_month import StationMonth

CHANNELS = ("sms", "email")
# What a reader of the numbers asks: did it go out, did it fail, was it held back, is it still on its way.
OUTCOMES = {"sent": (SENT, DELIVERED), "delivered": (DELIVERED,), "failed": (FAILED,), "suppressed": (SUPPRESSED,),
            "waiting": (ACCEPTED, SENDING)}


def month_statistics(session, month: StationMonth) -> dict:
    rows = session.execute(select(Message.channel, Message.status, func.count(Message.id))
                           .where(Message.created_at >= month.start, Message.created_at < month.end)
                           .group_by(Message.channel, Message.status)).all()
    counts = {}
    for channel, status, number in rows:
        counts.setdefault(channel, {})[status] = number
    channels = []
    for channel in CHANNELS + tuple(sorted(set(counts) - set(CHANNELS))):
        by_status = counts.get(channel, {})
        channels.append({"channel": channel, "total": sum(by_status.values()),
                         **{name: sum(by_status.get(s, 0) for s in statuses) for name, statuses in OUTCOMES.items()}})
    return {"month": month, "start": month.start, "end": month.end, "channels": channels}
