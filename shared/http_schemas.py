"""marshmallow pieces every service's HTTP schemas use."""

from marshmallow import Schema, fields, validate

from shared.timefmt import to_station_time


class StationDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset in, the station's time (always +08:00, shared/timefmt.py) out."""

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
