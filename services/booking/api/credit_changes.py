"""Staff change an organisation's integrity (诚信) standing by hand (issue 13): a manual adjustment
of its credit, or lifting a suspension early; each with its reason, in the ledger with who made it,
and in the audit log."""

from flask import g
from flask.views import MethodView

from services.booking.api.organizations import existing_organization, subject_of
from services.booking.context import booking_context
from services.booking.domain.integrity import adjust_credit, credit_score, lift_suspension, suspended_until
from services.booking.schemas import CreditAdjustmentSchema, CreditEventSchema, LiftSuspensionSchema
from shared.api import Blueprint
from shared.audit import record_change
from shared.auth import requires
from shared.db import utcnow
from shared.service_app import current_runtime

blp = Blueprint("credit_changes", __name__, url_prefix="/organizations",
                description="诚信调整 Staff adjust an organisation's credit or lift its suspension")


@blp.route("/<int:organization_id>/credit-adjustments")
class CreditAdjustments(MethodView):
    @requires("staff")
    @blp.arguments(CreditAdjustmentSchema)
    @blp.response(201, CreditEventSchema)
    def post(self, data, organization_id):
        """Add or take credit points by hand, with the reason: a ledger event (`adjustment`) naming who made it.
        422 when the score would leave 0…the start score."""
        policy, reason = booking_context().policy, data["reason"].strip()
        with current_runtime().database.transaction() as session:
            organization = existing_organization(session, organization_id)
            before = credit_score(session, organization_id, policy)
            event = adjust_credit(session, organization, data["points"], reason, g.principal.sub, utcnow(), policy)
            # The event is the only change: the score after is the score before plus its points.
            record_change(session, g.principal, "credit.adjust", subject_of(organization_id),
                          before={"credit_score": before}, after={"credit_score": before + event.points}, reason=reason)
            return event


@blp.route("/<int:organization_id>/lift-suspension")
class LiftSuspension(MethodView):
    @requires("staff")
    @blp.arguments(LiftSuspensionSchema)
    @blp.response(201, CreditEventSchema)
    def post(self, data, organization_id):
        """End a suspension now, with the reason: a ledger event (`suspension_lifted`) naming who lifted it;
        the violations before it no longer count towards the next suspension. 409 when none is in force."""
        reason, now = data["reason"].strip(), utcnow()
        with current_runtime().database.transaction() as session:
            organization = existing_organization(session, organization_id)
            before = suspended_until(session, organization_id, now)
            event = lift_suspension(session, organization, reason, g.principal.sub, now)
            # A lift ends every suspension before it (integrity.last_lift_id): none is in force after it.
            record_change(session, g.principal, "credit.lift_suspension", subject_of(organization_id),
                          before={"suspended_until": before}, after={"suspended_until": None}, reason=reason)
            return event
