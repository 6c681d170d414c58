"""What the notify fault tests share: the e-mails they post and the count of those sent."""

from shared import contracts
from tests.raw_tasks import post_task

PARAMS = {"title": "党课", "venue": "党群会议室", "start": "2027-01-05 09:00", "booking_id": "1"}


def post_emails(client, count: int, key_prefix: str, recipient_prefix: str) -> None:
    """`count` booking_approved e-mails straight onto Redis, to <recipient_prefix><n>@example.org."""
    for n in range(count):
        post_task(client, contracts.SEND_MESSAGE, {
            "v": 1, "idempotency_key": f"{key_prefix}-{n}", "channel": "email",
            "recipient": f"{recipient_prefix}{n}@example.org", "template": "booking_approved", "params": PARAMS})


def sent_count(station) -> int:
    return station.http("notify", "GET", "/messages?status=sent&per_page=1").json()["total"]
