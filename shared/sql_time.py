"""Two time expressions SQLite and PostgreSQL spell differently, so that the station's numbers
stay one aggregate query per table on either database (issue 13).

UTCDateTime stores naive UTC text on SQLite and timestamptz on PostgreSQL (shared/db.py):
SQLite's julianday() and date(…, '+8 hours') read that text (sqlite.org/lang_datefunc.html);
PostgreSQL subtracts timestamps and takes the epoch of the interval (postgresql.org, "Date/Time
Functions and Operators").
"""

from sqlalchemy import Date, Float, case, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

# The station's offset (shared/timefmt.py): fixed +08:00, no summer time.
STATION_OFFSET_HOURS = 8


class hours_between(FunctionElement):
    """(end - start) in hours, as a float."""

    type = Float()
    name = "hours_between"
    inherit_cache = True


@compiles(hours_between, "sqlite")
def _hours_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_between_postgresql(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


class station_date(FunctionElement):
    """The calendar day a stored moment falls on at the station (+08:00)."""

    type = Date()
    name = "station_date"
    inherit_cache = True


@compiles(station_date, "sqlite")
def _station_date_sqlite(element, compiler, **kw):
    (moment,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date({moment}, '+{STATION_OFFSET_HOURS} hours')"


@compiles(station_date, "postgresql")
def _station_date_postgresql(element, compiler, **kw):
    (moment,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(({moment} AT TIME ZONE 'UTC') + INTERVAL '{STATION_OFFSET_HOURS} hours' AS DATE)"


def count_where(condition):
    """How many rows of a grouped query meet the condition (0, not NULL, when none do)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
