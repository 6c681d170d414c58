"""gunicorn settings for every API: `gunicorn --config python:shared.gunicorn_conf ...`."""

import os

workers = int(os.environ.get("YIZHAN_API_WORKERS", "2"))
threads = int(os.environ.get("YIZHAN_API_THREADS", "4"))
timeout = 30
graceful_timeout = 20
# Logs go to stderr; the application writes JSON lines there too.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("YIZHAN_LOG_LEVEL", "info").lower()
# Refuse absurd request lines and headers before Flask sees them.
limit_request_line = 8190
limit_request_fields = 100


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the merged metrics (prometheus_client multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
