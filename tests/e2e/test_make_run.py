"""`make run`'s runner brings the whole station up (its own Redis when REDIS_URL
does not answer), the README's walk-through works against it as printed, and
Ctrl-C stops every process it started."""

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest
import requests

from tests.conftest import TEST_SECRET
from tests.processes import BIN, ROOT, free_port, wait_until

pytestmark = pytest.mark.e2e


def walkthrough_script() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Walk-through", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def local_station(tmp_path):
    ports = {name: free_port() for name in ("GATEWAY", "BOOKING", "DESK", "NOTIFY", "PORTAL")}
    env = {**os.environ, "YIZHAN_VAR_DIR": str(tmp_path / "var"), "YIZHAN_SECRET_KEY": TEST_SECRET,
           "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",  # nothing there: the runner starts its own
           "SMTP_PORT": str(free_port()), "PYTHONUNBUFFERED": "1",
           "NOTIFY_QUIET_START": "00:00", "NOTIFY_QUIET_END": "00:00"}  # the walk-through runs at any hour
    env.update({f"YIZHAN_{name}_PORT": str(port) for name, port in ports.items()})
    log = open(tmp_path / "run.log", "wb")
    runner = subprocess.Popen([str(BIN / "yizhan"), "run"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    output = lambda: (tmp_path / "run.log").read_text(errors="replace")  # noqa: E731
    gateway = f"http://127.0.0.1:{ports['GATEWAY']}"

    def up():
        assert runner.poll() is None, output()[-3000:]
        try:
            healthy = all(requests.get(f"{gateway}/{s}/healthz", timeout=2).status_code == 200
                          for s in ("booking", "desk", "notify"))
        except requests.RequestException:
            return False
        return healthy and output().count("ready.") >= 3
    try:
        wait_until(up, 60, 0.5, "the local station")
        yield runner, env, ports, output
    except AssertionError:
        print(output()[-5000:])
        raise
    finally:
        if runner.poll() is None:  # the test failed before its Ctrl-C: stop everything the runner started
            runner.send_signal(signal.SIGINT)
            try:
                runner.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(runner.pid, signal.SIGKILL)
        log.close()


def test_make_run_serves_the_readme_walkthrough_and_stops_on_ctrl_c(local_station, tmp_path):
    runner, env, ports, output = local_station
    assert "redis-server" in output() and "演示令牌 Demo tokens" in output()
    for role in ("staff", "admin", "org (org 1)", "resident", "system"):
        assert re.search(rf"  {re.escape(role)} +ey", output()), role
    gateway = f"http://127.0.0.1:{ports['GATEWAY']}"
    assert f"portal   {gateway}/ " in output() and "13800000001" in output()
    home = requests.get(f"{gateway}/", timeout=10)
    assert home.status_code == 200 and "华垦社区党群服务驿站" in home.text
    assert "script-src 'self'" in home.headers["Content-Security-Policy"]

    script = walkthrough_script().replace("8080", str(ports["GATEWAY"])).replace(".venv/bin/yizhan", str(BIN / "yizhan"))
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, output()[-4000:]
    lines = result.stdout.splitlines()
    assert re.match(r"booking \d+ is pending review", lines[0])
    assert lines.count("approved") == 2
    for expected in ("booking_approved sms sent", "booking_received sms sent",
                     "booking_approved email sent", "booking_received email sent"):
        assert expected in lines
    assert list((tmp_path / "var" / "mail").glob("*.eml"))
    assert "已通过审核" in (tmp_path / "var" / "sms.log").read_text()

    runner.send_signal(signal.SIGINT)
    runner.wait(30)
    wait_until(lambda: not any(port_open(p) for p in ports.values()), 15, 0.2, "every port to close after Ctrl-C")
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert not leftovers, f"processes still running after Ctrl-C: {leftovers}"
