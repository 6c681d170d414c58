"""The booking service's own extensions: its rules and the working-day calendar."""

from dataclasses import dataclass

from flask import current_app

from services.booking.policy import BookingPolicy
from shared.working_days import WorkingCalendar


@dataclass(frozen=True)
class BookingContext:
    policy: BookingPolicy
    calendar: WorkingCalendar


def extend(app, settings) -> None:
    app.extensions["booking"] = BookingContext(
        policy=BookingPolicy.from_env(settings.environ),
        calendar=WorkingCalendar.from_environ(settings.environ),
    )


def booking_context() -> BookingContext:
    return current_app.extensions["booking"]
