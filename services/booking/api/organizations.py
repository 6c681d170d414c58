"""Organisations that book, with their integrity (诚信) standing."""

from flask import g
from flask.views import MethodView
from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.booking.context import booking_context
from services.booking.domain.integrity import credit_summary
from services.booking.models import CreditEvent, Organization, OrganizationContactPhone
from services.booking.schemas import (ContactPhoneCreateSchema, ContactPhoneListSchema, ContactPhoneSchema,
                                      CreditEventPage, OrganizationCreateSchema, OrganizationPage,
                                      OrganizationSchema, OrganizationUpdateSchema)
from shared.api import Blueprint
from shared.audit import record_change
from shared.auth import requires
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, NotFound, Refused
from shared.http_schemas import PageArgs, paginate
from shared.personal_data import mainland_mobile
from shared.service_app import current_runtime

blp = Blueprint("organizations", __name__, url_prefix="/organizations",
                description="组织 Organisations and their credit")


# What the audit log keeps of an organisation's own record (shared/audit.py).
RECORD_FIELDS = ("name", "name_en", "kind", "contact_name", "contact_phone", "contact_email")


def record_of(organization: Organization) -> dict:
    return {name: getattr(organization, name) for name in RECORD_FIELDS}


def subject_of(organization_id: int) -> str:
    return f"organization:{organization_id}"


def with_standing(session, organization: Organization) -> Organization:
    for name, value in credit_summary(session, organization, utcnow(), booking_context().policy).items():
        setattr(organization, name, value)
    return organization


def _organization(session, organization_id: int) -> Organization:
    if not g.principal.has_role("staff") and g.principal.org_id != organization_id:
        raise Forbidden("只能查看本组织 An organisation sees only itself.")
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(f"没有这个组织 No organisation {organization_id}.")
    return organization


class OrganizationListArgs(PageArgs):
    name = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "staff: only organisations whose Chinese or English name contains this, in any case"})
    contact_phone = fields.String(metadata={"description": "only the organisation(s) whose contact has this mobile "
                                                          "number, in any written form (the portal's sign-in)"})


def contact_phone_forms(text: str) -> list[str] | None:
    """The ways a stored contact phone may spell this mainland mobile (the Contact schema takes
    `13800000001` and `+8613800000001` alike); None when it is no mainland mobile at all."""
    try:
        national = mainland_mobile(text)
    except ValueError:
        return None
    return [national, f"+86{national}", f"86{national}", f"0086{national}"]


@blp.route("")
class Organizations(MethodView):
    @requires("staff")
    @blp.arguments(OrganizationCreateSchema)
    @blp.response(201, OrganizationSchema)
    def post(self, data):
        with current_runtime().database.transaction() as session:
            if session.scalar(select(Organization.id).where(Organization.name == data["name"])):
                raise Conflict(f"已有同名组织 An organisation named {data['name']} exists.", {"name": ["taken"]})
            contact = data["contact"]
            organization = Organization(name=data["name"], name_en=data["name_en"], kind=data["kind"],
                                        contact_name=contact["name"], contact_phone=contact["phone"],
                                        contact_email=contact.get("email"))
            session.add(organization)
            session.flush()
            record_change(session, g.principal, "organization.create", subject_of(organization.id),
                          after=record_of(organization))
            return with_standing(session, organization)

    @requires("staff", "system")
    @blp.arguments(OrganizationListArgs, location="query")
    @blp.response(200, OrganizationPage)
    def get(self, args):
        """Staff list every organisation; the system role (the portal) only looks one up by its contact's phone."""
        query = select(Organization).order_by(Organization.id)
        if "contact_phone" in args:
            forms = contact_phone_forms(args.pop("contact_phone")) or []
            extra = select(OrganizationContactPhone.organization_id).where(OrganizationContactPhone.phone.in_(forms))
            query = query.where(Organization.contact_phone.in_(forms) | Organization.id.in_(extra))
        elif not g.principal.has_role("staff"):
            raise Forbidden("须按联系人电话查询 The system role looks organisations up by contact_phone only.")
        if "name" in args:
            part = args.pop("name").strip()
            query = query.where(Organization.name.icontains(part, autoescape=True)
                                | Organization.name_en.icontains(part, autoescape=True))
        with current_runtime().database.reader() as session:
            page = paginate(session, query, args)
            page["items"] = [with_standing(session, o) for o in page["items"]]
            return page


@blp.route("/<int:organization_id>")
class OrganizationById(MethodView):
    @requires("org", "staff")
    @blp.response(200, OrganizationSchema)
    def get(self, organization_id):
        with current_runtime().database.reader() as session:
            return with_standing(session, _organization(session, organization_id))

    @requires("staff")
    @blp.arguments(OrganizationUpdateSchema)
    @blp.response(200, OrganizationSchema)
    def patch(self, data, organization_id):
        """Change the name, English name, kind or contact; only the fields given. The contact's phone
        is a mainland mobile that no other organisation speaks with (it signs in for this one)."""
        with current_runtime().database.transaction() as session:
            organization = existing_organization(session, organization_id)
            if "name" in data and session.scalar(select(Organization.id).where(
                    Organization.name == data["name"], Organization.id != organization_id)):
                raise Conflict(f"已有同名组织 An organisation named {data['name']} exists.", {"name": ["taken"]})
            before = record_of(organization)
            contact = dict(data.pop("contact", {}))
            if "phone" in contact:
                contact["phone"] = _national(contact["phone"])
                _refuse_a_phone_already_a_contact(session, contact["phone"], organization_id, field="contact")
            for name, value in data.items():
                setattr(organization, name, value)
            for name, value in contact.items():
                setattr(organization, f"contact_{name}", value)
            try:
                session.flush()
            except IntegrityError as exc:  # the unique name caught a concurrent edit or registration
                raise Conflict("已有同名组织 An organisation with this name exists.", {"name": ["taken"]}) from exc
            record_change(session, g.principal, "organization.update", subject_of(organization_id),
                          before=before, after=record_of(organization))
            return with_standing(session, organization)


@blp.route("/<int:organization_id>/credit-events")
class CreditEvents(MethodView):
    @requires("org", "staff")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CreditEventPage)
    def get(self, args, organization_id):
        """The integrity ledger, newest first: the score is the start score plus every event's points."""
        with current_runtime().database.reader() as session:
            _organization(session, organization_id)
            query = select(CreditEvent).where(CreditEvent.organization_id == organization_id)
            return paginate(session, query.order_by(CreditEvent.at.desc(), CreditEvent.id.desc()), args)


def _e164(text: str, field: str = "phone") -> str:
    try:
        return "+86" + mainland_mobile(text)
    except ValueError as exc:
        raise Refused(f"手机号码无效 Not a mainland mobile number: {exc}", {field: [str(exc)]}) from None


def existing_organization(session, organization_id: int) -> Organization:
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise NotFound(f"没有这个组织 No organisation {organization_id}.")
    return organization


def _national(text: str) -> str:
    """An organisation's own contact phone, as 11 digits (the sign-in lookup reads every written form)."""
    try:
        return mainland_mobile(text)
    except ValueError as exc:
        raise Refused(f"手机号码无效 Not a mainland mobile number: {exc}", {"contact": {"phone": [str(exc)]}}) from None


def _refuse_a_phone_already_a_contact(session, phone: str, itself: int | None = None, field: str | None = None) -> None:
    """One phone speaks for one organisation: the portal's sign-in must know which it is.
    `itself`: the organisation whose own contact phone this is becoming (its own phones do not count);
    `field`: the object the phone is in, in the error's fields."""
    forms = contact_phone_forms(phone) or []
    holder = session.scalar(select(Organization.id).where(Organization.contact_phone.in_(forms),
                                                          Organization.id != (itself or 0))) or \
        session.scalar(select(OrganizationContactPhone.organization_id).where(
            OrganizationContactPhone.phone.in_(forms), OrganizationContactPhone.organization_id != (itself or 0)))
    if holder is not None:
        problem = {"phone": [f"already a contact of organisation {holder}"]}
        raise Conflict(f"该号码已是组织{holder}的联系电话 This phone is already a contact of organisation {holder}.",
                       {field: problem} if field else problem, code="phone_taken")


@blp.route("/<int:organization_id>/contact-phones")
class ContactPhones(MethodView):
    @requires("staff")
    @blp.response(200, ContactPhoneListSchema)
    def get(self, organization_id):
        """The further phones that sign in to the portal as this organisation's contact."""
        with current_runtime().database.reader() as session:
            existing_organization(session, organization_id)
            return {"items": _contact_phones(session, organization_id)}

    @requires("staff")
    @blp.arguments(ContactPhoneCreateSchema)
    @blp.response(201, ContactPhoneSchema)
    def post(self, data, organization_id):
        """Add a phone: it then signs in to the portal as this organisation's contact (role `org`).
        409 when it already is a contact, of this organisation or another."""
        phone = _e164(data["phone"])
        with current_runtime().database.transaction() as session:
            existing_organization(session, organization_id)
            _refuse_a_phone_already_a_contact(session, phone)
            before = _phone_numbers(session, organization_id)
            added = OrganizationContactPhone(organization_id=organization_id, phone=phone,
                                             created_by=g.principal.sub, created_at=utcnow())
            session.add(added)
            try:
                session.flush()
            except IntegrityError as exc:  # the unique phone caught a concurrent request for it
                raise Conflict("该号码已是联系电话 This phone is already an organisation's contact.",
                               {"phone": ["already a contact"]}, code="phone_taken") from exc
            record_change(session, g.principal, "organization.contact_phone_add", subject_of(organization_id),
                          before={"contact_phones": before},
                          after={"contact_phones": _phone_numbers(session, organization_id)})
            return added


def _contact_phones(session, organization_id: int) -> list[OrganizationContactPhone]:
    return session.scalars(select(OrganizationContactPhone)
                           .where(OrganizationContactPhone.organization_id == organization_id)
                           .order_by(OrganizationContactPhone.id)).all()


def _phone_numbers(session, organization_id: int) -> list[str]:
    """The further phones as the audit log keeps them: the list before and after a change."""
    return [p.phone for p in _contact_phones(session, organization_id)]


@blp.route("/<int:organization_id>/contact-phones/<phone>")
class ContactPhoneByNumber(MethodView):
    @requires("staff")
    @blp.response(204)
    def delete(self, organization_id, phone):
        """Remove a further phone: at its next sign-in it is a resident again."""
        with current_runtime().database.transaction() as session:
            existing_organization(session, organization_id)
            found = session.scalar(select(OrganizationContactPhone).where(
                OrganizationContactPhone.organization_id == organization_id,
                OrganizationContactPhone.phone == _e164(phone)))
            if found is None:
                raise NotFound(f"该组织没有这个联系电话 Organisation {organization_id} has no contact phone {phone}.")
            before = _phone_numbers(session, organization_id)
            session.delete(found)
            session.flush()
            record_change(session, g.principal, "organization.contact_phone_remove", subject_of(organization_id),
                          before={"contact_phones": before},
                          after={"contact_phones": _phone_numbers(session, organization_id)})
