"""bench/instruction_counts.py keeps working, run small (a file of its own: under valgrind it takes about
a minute, and the suite gives each file to one worker, so it runs beside tests/test_bench.py, not after it)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL, postgres_reachable

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_instruction_counts_runs_the_requests_it_counts():
    """bench/instruction_counts.py, run small: a count per database, each the instructions of a whole
    request or task (a Flask request with a database read costs hundreds of thousands, not tens; the
    notify task, which also builds and sends an e-mail, millions)."""
    env = {"YIZHAN_BENCH_POSTGRES_URL": POSTGRES_ADMIN_URL, "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "instruction_counts.py"), "--requests", "5",
                           "--warm-up", "3", "--endpoint", "availability", "--endpoint", "notify.send_message"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    databases = {"SQLite", "PostgreSQL"} if postgres_reachable() else {"SQLite"}
    for unit, (low, high) in {"availability +(\\d+) k instructions per request": (500, 50_000),
                              "notify.send_message +(\\d+) k instructions per task": (2_000, 200_000)}.items():
        counts = dict(re.findall(rf"^(SQLite|PostgreSQL) +{unit}", done.stdout, re.M))
        assert set(counts) == databases, done.stdout
        assert all(low < int(k) < high for k in counts.values()), counts
