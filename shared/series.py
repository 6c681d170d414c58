"""One labelled series of a Prometheus metric, made once and kept.

prometheus_client's `labels()` checks and converts every label value and takes the metric's lock at
each call, to find a series it already made: for every request, four times (the request, its
latency, its statements and its Redis round trips), 1.2 % of an availability request's instructions
(issue 14). `series()` finds it in a plain dict instead. The series are the ones `labels()` would
return, in the same number: each metric keeps its own for as long as the process lives anyway
(prometheus_client docs, "Labels"), so callers bound their label values as before.
"""

_made: dict = {}


def series(metric, *values):
    """`metric.labels(*values)`, looked up in a dict once it has been made."""
    key = (metric, values)
    try:
        return _made[key]
    except KeyError:
        return _made.setdefault(key, metric.labels(*values))
