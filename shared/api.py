"""The flask-smorest Api every service uses: its documented errors are ours, and
integer ids in paths stay within what the databases can hold."""

from flask_smorest import Api
from marshmallow import Schema, fields
from werkzeug.routing import IntegerConverter

from shared.contracts import MAX_ID



class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "machine-readable, e.g. validation_error"})
    message = fields.String(required=True, metadata={"description": "for people, Chinese first, English beside it"})
    fields_ = fields.Dict(data_key="fields", required=True,
                          metadata={"description": "each offending field with its messages"})


class ErrorSchema(Schema):
    """Every error: `{"error": {"code", "message", "fields"}}` (SPEC §4)."""

    error = fields.Nested(ErrorBodySchema, required=True)


class IdConverter(IntegerConverter):
    """`<int:…>` in our routes: 0 to MAX_ID; a larger number matches no route (a 404)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class StationApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None, **kwargs):
        if app is not None:
            app.url_map.converters["int"] = IdConverter
        super().__init__(app, **kwargs)
        self.register_converter(IdConverter, lambda c: {"type": "integer", "minimum": 0, "maximum": MAX_ID})
