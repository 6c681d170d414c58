"""The flask-smorest Api and Blueprint every service uses: its documented errors are ours,
integer ids in paths stay within what the databases can hold, and a request's arguments are
read by one schema instance per schema class."""

import functools

import flask_smorest
from flask_smorest import Api
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from shared.contracts import MAX_ID


class OneSchemaParser(FlaskParser):
    """webargs makes a new instance of the Schema class given to `Blueprint.arguments` for every
    request, and the instance its nested schemas at their first use: 2-4 % of a booking request
    (issue 14's profile, BookingRequestSchema 52 µs). One instance per class serves every request
    instead: a marshmallow 4 schema keeps nothing of one load for the next (no context), as
    marshmallow's maintainers say of sharing one across requests."""

    def _get_schema(self, argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            return _one_instance(argmap)
        return super()._get_schema(argmap, req)


@functools.cache
def _one_instance(schema_class: type) -> Schema:
    return schema_class()


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint, reading arguments with OneSchemaParser."""

    ARGUMENTS_PARSER = OneSchemaParser()



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
