"""The service desk: booking reviews and errand tickets, the staff's workbench."""

from services.services_desk import context
from services.services_desk.api import reviews, statistics, ticket_types, tickets
from services.services_desk.models import INFRASTRUCTURE
from shared import dead_letter_api
from shared.service_app import ServiceDefinition, create_service_app

SERVICE = ServiceDefinition(
    name="desk",
    title="yizhan desk 服务台",
    description="Booking reviews and errand tickets for station staff. 审核与代办。",
    infrastructure=INFRASTRUCTURE,
    blueprints=[reviews.blp, ticket_types.blp, tickets.blp, statistics.blp, dead_letter_api.blp],
    extend=context.extend,
)


def create_app(settings=None):
    return create_service_app(SERVICE, settings)
