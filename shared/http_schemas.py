"""marshmallow pieces every service's HTTP schemas use."""

from datetime import timezone

from marshmallow import Schema, ValidationError, fields, validate

from shared.timefmt import to_station_time


class StationDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset in, the station's time (always +08:00, shared/timefmt.py) out.

    Python's datetimes run from year 1 to 9999: a moment at either end that cannot be moved
    to UTC (how it is stored and compared) or to +08:00 (how it is shown) is refused here,
    naming the field, instead of overflowing later in a query or a response.
    """

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(timezone.utc)
            to_station_time(moment)
        except OverflowError:
            raise ValidationError("日期超出范围 The date is out of range.") from None
        return moment

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_station_time(value).isoformat()


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


def page_schema(item_schema, name: str):
    """`{"items": [...], "total": N, "page": P, "per_page": K}` for one item schema."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema)),
        "total": fields.Integer(),
        "page": fields.Integer(),
        "per_page": fields.Integer(),
    }, name=name)


def paginate(session, query, args) -> dict:
    """Run a select() for one page; count the whole result."""
    from sqlalchemy import func, select

    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page, per_page = args["page"], args["per_page"]
    items = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return {"items": items, "total": total, "page": page, "per_page": per_page}
