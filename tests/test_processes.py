"""yizhan/processes.py: the one place ports, waits and child processes are handled, for `yizhan run`,
the benchmarks and the tests alike (issue 11 §7)."""

import socket
import sys
from pathlib import Path

import pytest

import bench.common
import tests.processes
import yizhan.local_station
from yizhan import processes
from yizhan.processes import (WaitTimedOut, free_port, port_answers, refused_port, start_process, stop_together,
                              wait_until)


SHARED_BY = {
    tests.processes: ("free_port", "refused_port", "wait_until", "start_process", "BIN"),
    bench.common: ("free_port", "wait_until", "start_process", "stop_together", "BIN"),
    yizhan.local_station: ("free_port", "port_answers", "BIN"),
}


@pytest.mark.parametrize("user", SHARED_BY, ids=lambda module: module.__name__)
def test_the_tests_the_benchmarks_and_yizhan_run_use_the_same_helpers(user):
    for name in SHARED_BY[user]:
        assert getattr(user, name, None) is getattr(processes, name), f"{user.__name__}.{name} is not the shared one"
    source = Path(user.__file__).read_text()
    assert "socket.socket()" not in source and "os.killpg" not in source and "time.sleep" not in source


def test_a_refused_port_refuses_and_a_free_port_can_be_bound():
    with refused_port() as port:
        assert not port_answers(port)
    port = free_port()
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert port_answers(port)


def test_a_wait_that_runs_out_is_both_a_timeout_for_scripts_and_a_failed_assertion_for_pytest():
    with pytest.raises(TimeoutError, match="waiting for the impossible"):
        wait_until(lambda: False, 0.2, 0.05, "the impossible")
    with pytest.raises(AssertionError):
        wait_until(lambda: 0, 0.1)
    assert issubclass(WaitTimedOut, TimeoutError) and issubclass(WaitTimedOut, AssertionError)
    assert wait_until(lambda: "found", 1) == "found"


STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_stopping_together_kills_a_child_that_ignores_sigterm_and_what_it_started(tmp_path):
    log = tmp_path / "stubborn.log"
    polite = start_process([sys.executable, "-c", "import time; time.sleep(600)"], {}, tmp_path / "polite.log")
    stubborn = start_process([sys.executable, "-c", STUBBORN], {}, log)
    grandchild = int(wait_until(lambda: log.read_text().strip(), 30, 0.05, "the grandchild's pid"))
    stop_together([polite, stubborn], timeout=0.5)
    assert polite.poll() is not None and stubborn.poll() is not None
    assert polite.returncode == -15 and stubborn.returncode == -9
    wait_until(lambda: not running(grandchild), 10, 0.05, "the grandchild, in the stopped session, to be gone")
