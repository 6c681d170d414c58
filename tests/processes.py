"""Real processes for the tests: redis-server, gunicorn APIs, Celery workers.

Each process writes to its own log file, so a failing test can show what the
process said, and a test can wait for a line (`celery@… ready.`). Ports, waits,
starting and stopping are yizhan/processes.py's, shared with bench/ and `yizhan run`.
"""

import os
from pathlib import Path

import redis
import requests

from shared.settings import SERVICE_PACKAGES
from yizhan import processes
from yizhan.processes import BIN, free_port, refused_port, start_process, wait_until  # noqa: F401 (tests import them here)

ROOT = Path(__file__).resolve().parent.parent


class ManagedProcess:
    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.process = None

    def start(self):
        self.process = start_process(self.argv, self.env, self.log_path, cwd=ROOT)
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 30):
        def seen():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.process.returncode}):\n{self.log_text()[-3000:]}")
            return text in self.log_text()
        wait_until(seen, timeout, 0.2, f"{self.name} to log {text!r}")

    def signal(self, sig) -> None:
        if self.process and self.process.poll() is None:
            processes.signal_session(self.process, sig)

    def stop(self, timeout: float = 20) -> None:
        stop_together([self], timeout)


def stop_together(managed: list[ManagedProcess], timeout: float = 20) -> None:
    """yizhan.processes.stop_together for the ones that were started."""
    processes.stop_together([m.process for m in managed if m.process is not None], timeout)


class RedisServer(ManagedProcess):
    """A private redis-server that keeps nothing on disk, on a port of its own."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        super().__init__(f"redis-{self.port}", ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                                 "--save", "", "--appendonly", "no", "--dir", str(log_dir)],
                         dict(os.environ), log_dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        super().start()
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers():
            try:
                return client.ping()
            except redis.ConnectionError:
                return False
        wait_until(answers, 10, 0.05, f"redis on port {self.port}")
        return self


def api_process(service: str, port: int, env: dict, log_dir: Path, workers: int = 1) -> ManagedProcess:
    """gunicorn as deployed; one worker process unless a test is about several (each costs an app import)."""
    argv = [str(BIN / "gunicorn"), "--config", "python:shared.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), f"{SERVICE_PACKAGES[service]}:create_app()"]
    metrics_dir = log_dir / f"prometheus-{service}"
    metrics_dir.mkdir(exist_ok=True)
    return ManagedProcess(f"{service}-api", argv, {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, log_dir)


def worker_process(service: str, env: dict, log_dir: Path, concurrency: int = 2, suffix: str = "") -> ManagedProcess:
    argv = [str(BIN / "celery"), "-A", f"{SERVICE_PACKAGES[service]}.worker", "worker", "-Q", service,
            "--hostname", f"{service}{suffix}@%h", "--loglevel", "INFO", "--concurrency", str(concurrency),
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    metrics_dir = log_dir / f"prometheus-{service}-worker{suffix}"
    metrics_dir.mkdir(exist_ok=True)
    process = ManagedProcess(f"{service}-worker{suffix}", argv, {
        **env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "YIZHAN_WORKER_METRICS_PORT": str(free_port())}, log_dir)
    process.metrics_url = f"http://127.0.0.1:{process.env['YIZHAN_WORKER_METRICS_PORT']}/metrics"
    return process


def wait_healthy(base_url: str, timeout: float = 30) -> None:
    def healthy():
        try:
            return requests.get(f"{base_url}/healthz", timeout=3).status_code == 200
        except requests.RequestException:
            return False
    wait_until(healthy, timeout, 0.2, f"{base_url}/healthz")
