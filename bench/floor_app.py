"""The floors: the least each booking endpoint's work can cost on this stack, with no rule in it.

    gunicorn --config python:shared.gunicorn_conf 'bench.floor_app:create_app()'

A Flask app on the booking API's own database, through shared/db.py's engine settings (SQLite's
WAL and `BEGIN IMMEDIATE`, PostgreSQL's pool), and on the same Redis through the project's Celery
factory. bench/http_bench.py measures each floor between the bare endpoint and the real one:

- `GET /floor/venues/<id>`: one SELECT of one venue by its key, as JSON. Availability reads a
  venue and its day's bookings in one statement, so it cannot cost less than this.
- `POST /floor`: one transaction that INSERTs one row into `bench_floor`, then one Celery task
  published after the commit (to a queue no worker consumes). A booking request writes its rows in
  one transaction and publishes after the commit, so it cannot cost less than this either.

No token, no validation, no metrics, no outbox: what is left is Flask, SQLAlchemy Core, the
database driver and one publish, each as the services use them (a read through
`Database.read_statements`, a write through the writer's engine). A floor's ratio to the bare endpoint
bounds the real endpoint's.
"""

from flask import Flask, abort, jsonify, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, func, insert, select

from services.booking.models import Venue
from shared.celery_app import make_celery
from shared.db import Database
from shared.settings import Settings

metadata = MetaData()
FLOOR = Table("bench_floor", metadata,
              Column("id", Integer, primary_key=True),
              Column("title", String(200)),
              Column("attendees", Integer),
              Column("at", DateTime(timezone=True), server_default=func.now()))
VENUE = Venue.__table__
# Built once, as the services build theirs (a floor that built its statements per request would
# cost more than the least the path can do).
READ_VENUE = select(VENUE.c.id, VENUE.c.code, VENUE.c.opening_hours).where(VENUE.c.id == bindparam("venue_id"))
WRITE_ROW = insert(FLOOR).returning(FLOOR.c.id)


def create_table(url: str) -> None:
    """Make `bench_floor` (the benchmark calls this once, before any floor app starts)."""
    database = Database(url)
    try:
        metadata.create_all(database.engine)
    finally:
        database.engine.dispose()


def create_app():
    settings = Settings.from_env()
    database = Database(settings.database_url("booking"))
    celery = make_celery("floor", settings)
    app = Flask("floor")

    @app.get("/floor/venues/<int:venue_id>")
    def read(venue_id):
        # As the services read: on PostgreSQL, a pool in autocommit, so no transaction to end.
        with database.read_statements() as connection:
            row = connection.execute(READ_VENUE, {"venue_id": venue_id}).first()
        if row is None:
            abort(404)
        return jsonify({"id": row.id, "code": row.code, "opening_hours": row.opening_hours})

    @app.post("/floor")
    def write():
        body = request.get_json()
        with database.engine.begin() as connection:
            row_id = connection.execute(WRITE_ROW, {"title": body["title"], "attendees": body["attendees"]}).scalar_one()
        celery.send_task("notify.noop", args=[{"id": row_id}])
        return jsonify({"id": row_id}), 201

    return app
