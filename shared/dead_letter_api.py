"""`GET /dead-letters` and `POST /dead-letters/{id}/replay`, admin only: the messages this service's
worker refused (shared/dead_letters.py), as `yizhan dead-letters list|replay` has them, over HTTP.

One blueprint, registered by every service with a queue; each reads its own database's table.
"""

import base64

from flask.views import MethodView
from marshmallow import Schema, fields
from sqlalchemy import select

from shared.api import Blueprint
from shared.auth import requires
from shared.dead_letters import replay_dead_letter
from shared.errors import Conflict, NotFound
from shared.http_schemas import PageArgs, StationDateTime, page_schema, paginate
from shared.logs import mask_personal_data
from shared.service_app import current_runtime

# Enough of a body to see what was sent; the whole is kept in the table for the CLI.
SHOWN_BODY_CHARS = 4000

blp = Blueprint("dead_letters", __name__, url_prefix="/dead-letters",
                description="死信 Messages the worker refused, with the reason; replay one onto its queue")


def shown_body(row) -> str:
    """The body as readable text, phone and ID numbers masked (an operator reads it, a log may keep it)."""
    if row.body_encoding == "base64":
        text = base64.b64decode(row.body).decode("utf-8", "replace")
    else:
        text = row.body
    return mask_personal_data(text[:SHOWN_BODY_CHARS])


class DeadLetterSchema(Schema):
    id = fields.Integer()
    queue = fields.String()
    task_name = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    reason = fields.Function(lambda row: mask_personal_data(row.reason))
    content_type = fields.String(allow_none=True)
    body = fields.Function(shown_body, metadata={"description": f"the first {SHOWN_BODY_CHARS} characters, "
                                                                "phone and ID numbers masked"})
    received_at = StationDateTime()
    replayed_at = StationDateTime(allow_none=True)


class DeadLetterArgs(PageArgs):
    include_replayed = fields.Boolean(load_default=False)


class ReplaySchema(Schema):
    payload = fields.Dict(load_default=None, metadata={"description": "a corrected payload instead of the stored one"})


DeadLetterPage = page_schema(DeadLetterSchema, "DeadLetterPage")


@blp.route("")
class DeadLetters(MethodView):
    @requires("admin")
    @blp.arguments(DeadLetterArgs, location="query")
    @blp.response(200, DeadLetterPage)
    def get(self, args):
        """Newest first; those already replayed only with `include_replayed=true`."""
        database = current_runtime().database
        model = database.infrastructure.dead_letter
        query = select(model).order_by(model.id.desc())
        if not args["include_replayed"]:
            query = query.where(model.replayed_at.is_(None))
        with database.reader() as session:
            return paginate(session, query, args)


@blp.route("/<int:dead_letter_id>/replay")
class ReplayDeadLetter(MethodView):
    @requires("admin")
    @blp.arguments(ReplaySchema)
    @blp.response(200, DeadLetterSchema)
    def post(self, data, dead_letter_id):
        """Put the message back on its queue with a new task id, once: a replayed one is a 409
        (replaying it again could repeat its effect; `yizhan dead-letters replay` still can)."""
        runtime = current_runtime()
        model = runtime.database.infrastructure.dead_letter
        with runtime.database.reader() as session:
            row = session.get(model, dead_letter_id)
        if row is None:
            raise NotFound(f"没有这条死信 No dead letter {dead_letter_id}.")
        if row.replayed_at is not None:
            raise Conflict(f"这条死信已重放 Dead letter {dead_letter_id} was already replayed.",
                           {"id": ["already replayed"]})
        return replay_dead_letter(runtime.database, runtime.celery, dead_letter_id, data["payload"])
