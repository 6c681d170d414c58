"""shared/gunicorn_conf.py, plus a cProfile of every request that asks for one (bench/profile_bench.py).

    gunicorn --config python:bench.profiled_gunicorn_conf ...   with YIZHAN_PROFILE_DIR set

A request carrying `X-Profile: 1` runs under its worker's profile for its method and path,
from gunicorn's pre_request hook to its post_request hook (the response written too); each
worker dumps its profiles into YIZHAN_PROFILE_DIR as it exits. cProfile follows one thread
(Python 3.11's profiler is per thread), so run it with one thread per worker.
"""

import cProfile
import os
from pathlib import Path

from shared.gunicorn_conf import *  # noqa: F401,F403  (every setting the services run with)

_profiles: dict[str, cProfile.Profile] = {}


def _wanted(req) -> bool:
    return ("X-PROFILE", "1") in req.headers


def pre_request(worker, req):
    if _wanted(req):
        _profiles.setdefault(f"{req.method} {req.path}", cProfile.Profile()).enable()


def post_request(worker, req, environ, resp):
    if _wanted(req):
        _profiles[f"{req.method} {req.path}"].disable()


def worker_exit(server, worker):
    directory = Path(os.environ["YIZHAN_PROFILE_DIR"])
    for key, profile in _profiles.items():
        profile.dump_stats(directory / f"{key.replace(' ', '').replace('/', '_')}-{os.getpid()}.prof")
