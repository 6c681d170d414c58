"""The notify service: SMS and e-mail from templates, with the guarantees residents need."""

from services.notify import context
from services.notify.api import messages, opt_outs, receipts, statistics, templates
from services.notify.models import INFRASTRUCTURE
from shared import dead_letter_api
from shared.service_app import ServiceDefinition, create_service_app

SERVICE = ServiceDefinition(
    name="notify",
    title="yizhan notify 通知",
    description="SMS and e-mail from templates, with delivery status. 短信与邮件通知。",
    infrastructure=INFRASTRUCTURE,
    blueprints=[messages.blp, templates.blp, opt_outs.blp, receipts.blp, statistics.blp, dead_letter_api.blp],
    extend=context.extend,
)


def create_app(settings=None):
    return create_service_app(SERVICE, settings)
