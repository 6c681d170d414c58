"""The booking service: venues, organisations, bookings, the integrity ledger."""

from services.booking import context
from services.booking.api import (booking_requests, bookings, credit_changes, organizations, schedule, statistics,
                                  venues)
from services.booking.models import INFRASTRUCTURE
from shared import dead_letter_api
from shared.service_app import ServiceDefinition, create_service_app

SERVICE = ServiceDefinition(
    name="booking",
    title="yizhan booking 场地预约",
    description="Venues of the station and their bookings. 驿站场地与预约。",
    infrastructure=INFRASTRUCTURE,
    blueprints=[venues.blp, bookings.blp, organizations.blp, credit_changes.blp, booking_requests.blp, schedule.blp,
                statistics.blp, dead_letter_api.blp],
    extend=context.extend,
)


def create_app(settings=None):
    return create_service_app(SERVICE, settings)
