"""Ports and child processes: what `yizhan run`, the benchmarks and the tests share.

A child runs in a session of its own (so a Celery worker's pool children or
gunicorn's workers stop with it) and writes to a log file; a group of children
is stopped together: SIGTERM to every session at once, one shared wait, then
SIGKILL for whatever still runs. Waiting is by polling a condition, bounded.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

# Where this Python's console scripts are: gunicorn, celery, yizhan.
BIN = Path(sys.executable).parent
LOCALHOST = "127.0.0.1"
# After SIGKILL a process is gone at once unless the kernel is stuck; this only bounds the wait.
KILL_WAIT_SECONDS = 5


class WaitTimedOut(TimeoutError, AssertionError):
    """A wait_until that ran out of time: a TimeoutError to scripts, a failed assertion to pytest."""


@contextmanager
def refused_port():
    """A port held bound but not listening: connecting is refused, and nobody else can take it meanwhile."""
    with socket.socket() as s:
        s.bind((LOCALHOST, 0))
        yield s.getsockname()[1]


def free_port() -> int:
    """A port free a moment ago, for a server about to bind it."""
    with refused_port() as port:
        return port


def port_answers(port: int) -> bool:
    """Whether something accepts connections on this port of 127.0.0.1."""
    with socket.socket() as s:
        return s.connect_ex((LOCALHOST, port)) == 0


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll until predicate() is truthy and return its value; WaitTimedOut naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimedOut(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def start_process(argv: list[str], env: dict, log_path: Path, cwd: Path | None = None) -> subprocess.Popen:
    """A child in its own session, its stdout and stderr appended to log_path."""
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_together(processes: list[subprocess.Popen], timeout: float = 20) -> None:
    """SIGTERM to every one's session at once, up to `timeout` for all of them, then SIGKILL for any still running."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, KILL_WAIT_SECONDS)):
        running = [p for p in processes if p.poll() is None]
        for process in running:
            signal_session(process, sig)
        deadline = time.monotonic() + wait
        for process in running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                continue


def signal_session(process: subprocess.Popen, sig: int) -> None:
    """Send sig to the process and everything in its session, unless it has already gone."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
