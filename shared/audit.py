"""The audit log: who changed what in the data an admin must be able to trace (issue 13).

Each service keeps its own `audit_log` table (shared/db.py, AuditEntryMixin) and writes an
entry with `record_change` inside the transaction that makes the change: both commit or
neither does. `GET /audit-log` (admin only) lists a service's entries, newest first; the
portal's audit page reads all three and its own.
"""

from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from shared.api import Blueprint
from shared.auth import Principal, requires
from shared.http_schemas import PageArgs, StationDateTime, page_schema, paginate
from shared.logs import request_id_var

ACTION_MAX_CHARS = 60
SUBJECT_MAX_CHARS = 120
REASON_MAX_CHARS = 500
# A changed value is kept whole up to this size; longer text (a template body) is kept in full
# too, since the before and after are what an admin reads, but never beyond this.
VALUE_MAX_CHARS = 4000


def plain(value):
    """A value as JSON can hold it: dates as ISO text, anything unusual as its text, long text cut."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    text = str(value)
    return text if len(text) <= VALUE_MAX_CHARS else text[:VALUE_MAX_CHARS] + "…"


def changed_fields(before: dict | None, after: dict | None) -> dict:
    """{field: [before, after]} for each field whose value differs (a field one side lacks is None)."""
    before, after = before or {}, after or {}
    changes = {}
    for name in sorted(before.keys() | after.keys()):
        old, new = plain(before.get(name)), plain(after.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def record_change(session, principal: Principal, action: str, subject: str, *, before: dict | None = None,
                  after: dict | None = None, reason: str | None = None):
    """Add an audit entry to this transaction; None when an edit changed nothing and gave no reason.

    `action` names what was done ("template.update"), `subject` what it was done to
    ("template:booking_received"); `before`/`after` hold the fields as they were and are.
    """
    changes = changed_fields(before, after)
    if before is not None and after is not None and not changes and not reason:
        return None
    model = session.info["infrastructure"].audit_entry
    entry = model(actor=principal.identity, action=action[:ACTION_MAX_CHARS], subject=subject[:SUBJECT_MAX_CHARS],
                  changes=changes, reason=(reason or None) and reason[:REASON_MAX_CHARS],
                  request_id=request_id_var.get())
    session.add(entry)
    return entry


# --- GET /audit-log, on every API -------------------------------------------------------------

class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = StationDateTime()
    actor = fields.String(metadata={"description": "role:subject of whoever made the change"})
    action = fields.String(metadata={"example": "template.update"})
    subject = fields.String(metadata={"example": "template:booking_received"})
    changes = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()),
                          metadata={"description": "{field: [before, after]}"})
    reason = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)


class AuditArgs(PageArgs):
    subject = fields.String(validate=validate.Length(min=1, max=SUBJECT_MAX_CHARS),
                            metadata={"description": "only entries about this subject, e.g. organization:3"})
    actor = fields.String(validate=validate.Length(min=1, max=120))
    action = fields.String(validate=validate.Length(min=1, max=ACTION_MAX_CHARS))
    since = StationDateTime(metadata={"description": "only entries at or after this moment"})


AuditPage = page_schema(AuditEntrySchema, "AuditPage")

blp = Blueprint("audit_log", __name__, url_prefix="/audit-log",
                description="操作记录 Who changed what: templates, errand types, organisations, credit (admin)")


@blp.route("")
class AuditLog(MethodView):
    @requires("admin")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPage)
    def get(self, args):
        """This service's audit entries, newest first."""
        database = current_app.extensions["yizhan"].database
        model = database.infrastructure.audit_entry
        query = select(model).order_by(model.at.desc(), model.id.desc())
        for name in ("subject", "actor", "action"):
            if name in args:
                query = query.where(getattr(model, name) == args[name])
        if "since" in args:
            query = query.where(model.at >= args["since"])
        with database.reader() as session:
            return paginate(session, query, args)
