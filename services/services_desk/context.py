"""The desk's own extensions: the working-day calendar and who gets the daily digest."""

from dataclasses import dataclass

from flask import current_app

from shared.working_days import WorkingCalendar


@dataclass(frozen=True)
class DeskContext:
    calendar: WorkingCalendar
    digest_recipients: tuple


def extend(app, settings) -> None:
    recipients = settings.environ.get("DESK_DIGEST_RECIPIENTS", "")
    app.extensions["desk"] = DeskContext(
        calendar=WorkingCalendar.from_environ(settings.environ),
        digest_recipients=tuple(r.strip() for r in recipients.split(",") if r.strip()),
    )


def desk_context() -> DeskContext:
    return current_app.extensions["desk"]
