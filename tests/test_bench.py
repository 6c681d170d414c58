"""`make bench` keeps working: each benchmark script, run small, writes its section with real figures.

The figures themselves are not judged here (shared machines are noisy; docs/benchmarks.md
holds a full run); what is checked is that every script starts its processes, measures,
stops them all and writes a table whose numbers parse.
"""

import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from tests.conftest import POSTGRES_ADMIN_URL, postgres_reachable

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
SMALL_RUNS = [
    ("http_bench.py", ["--seconds", "0.5", "--connections", "4"], "## HTTP: the booking API",
     ["| SQLite | GET /venues/11/availability |", "| SQLite | POST /bookings |",
      "| SQLite | floor: one SELECT |", "| SQLite | floor: one INSERT, one task |"]),
    ("pipeline_bench.py", ["--messages", "10"], "## Notification pipeline",
     ["| SQLite | 10 | 2 |", "| pipeline, SQLite |", "| floor, SQLite |", "| baseline |"]),
    ("e2e_bench.py", ["--samples", "3"], "## End-to-end latency",
     ["booking request → review case visible at the desk", "decision → booker's SMS handed to the provider"]),
    ("scale_bench.py", ["--seconds", "0.5", "--connections", "4", "--bookings", "400"],
     "## Scale: availability as bookings grow", ["| SQLite | 100 |", "| SQLite | 400 |"]),
    ("profile_bench.py", ["--seconds", "0.5"], "## Profile: where a request's time goes",
     ["| SQLite | GET /venues/11/availability |", "| SQLite | POST /bookings |"]),
]
# Two lanes of about equal length, run side by side: each script starts its own processes on free
# ports, with databases of its own.
LANES = [["http_bench.py", "e2e_bench.py", "profile_bench.py"], ["pipeline_bench.py", "scale_bench.py"]]
# The rows each script adds when PostgreSQL answers.
POSTGRES_ROWS = {"http_bench.py": ["| PostgreSQL | GET /venues/11/availability |", "| PostgreSQL | POST /bookings |",
                                   "| PostgreSQL | floor: one SELECT |", "| PostgreSQL | floor: one INSERT, one task |"],
                 "pipeline_bench.py": ["| PostgreSQL | 10 | 2 |", "| pipeline, PostgreSQL |", "| floor, PostgreSQL |"],
                 "scale_bench.py": ["| PostgreSQL | 400 |"],
                 "e2e_bench.py": [],
                 "profile_bench.py": ["| PostgreSQL | GET /venues/11/availability |", "| PostgreSQL | POST /bookings |"]}


def table_rows(section: str) -> list[list[str]]:
    """The body rows of the Markdown tables in a section: the lines after a `| --- |` line."""
    rows, in_body = [], False
    for line in section.splitlines():
        if not line.startswith("|"):
            in_body = False
        elif set(line) <= set("|-: "):
            in_body = True
        elif in_body:
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def column(section: str, header: str, first_cells: str) -> float:
    """The number under `header` in the first row that starts with `first_cells` of the first table of
    `section` that has such a column and such a row."""
    lines = [line if line.startswith("|") else "" for line in section.splitlines()]
    for table in (t.splitlines() for t in "\n".join(lines).split("\n\n") if t.strip()):
        headers = [cell.strip() for cell in table[0].strip("|").split("|")]
        rows = [line for line in table[2:] if line.startswith(first_cells)]
        if header in headers and rows:
            return float(rows[0].strip("|").split("|")[headers.index(header)])
    raise AssertionError(f"no table with a column {header!r} and a row {first_cells!r} in\n{section}")


def test_every_benchmark_runs_and_writes_its_table(tmp_path):
    # One gunicorn worker per API, as tests/processes.py starts them: each worker costs an app import,
    # and a small run is mostly starting processes. /metrics still merges through PROMETHEUS_MULTIPROC_DIR.
    env = {"YIZHAN_BENCH_POSTGRES_URL": POSTGRES_ADMIN_URL, "YIZHAN_API_WORKERS": "1",
           "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin"}
    on_postgres = postgres_reachable()
    runs = {script: (options, heading) for script, options, heading, _ in SMALL_RUNS}

    def run_lane(scripts):
        """Scripts one after another, each into its own file; mostly they wait for processes to start."""
        for script in scripts:
            options, _ = runs[script]
            done[script] = subprocess.run([sys.executable, str(ROOT / "bench" / script), *options,
                                           "--output", str(tmp_path / f"{script}.md")],
                                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    done = {}
    with ThreadPoolExecutor(len(LANES)) as pool:  # two lanes side by side, one per core
        list(pool.map(run_lane, LANES))
    sections = {}
    for script, _, heading, expected_rows in SMALL_RUNS:
        assert done[script].returncode == 0, f"{script} failed:\n{done[script].stdout[-3000:]}\n{done[script].stderr[-3000:]}"
        text = (tmp_path / f"{script}.md").read_text(encoding="utf-8")
        assert re.findall(r"^## .*$", text, flags=re.M) == [heading], text
        section = sections[script] = text[text.index(heading):]
        for row in expected_rows + (POSTGRES_ROWS[script] if on_postgres else []):
            assert row in section, f"{script}: no row {row!r} in\n{section}"
        rows = table_rows(section)
        assert len(rows) >= len(expected_rows), section
        for row in rows:
            numbers = [cell for cell in row if re.fullmatch(r"[\d,.]+( / [\d.]+)?", cell)]
            assert numbers and all(float(n.split(" / ")[0].replace(",", "")) >= 0 for n in numbers), row
            rate_cells = [float(n.replace(",", "")) for n in numbers if " / " not in n]
            assert any(value > 0 for value in rate_cells), f"{script}: a row of zeros {row}"
    http, pipeline = sections["http_bench.py"], sections["pipeline_bench.py"]
    for database in ["SQLite"] + (["PostgreSQL"] if on_postgres else []):
        # Read from the running services' /metrics: a booking and a message always read and write.
        assert column(http, "SQL statements / request", f"| {database} | POST /bookings |") > 0
        assert column(http, "Redis round trips / request", f"| {database} | POST /bookings |") > 0
        # Where the cores go, read from /proc: the app serves every request and the client sends it.
        for endpoint in ("bare Flask GET /bare", "floor: one SELECT", "GET /venues/11/availability", "POST /bookings"):
            assert column(http, "app processes", f"| {database} | {endpoint} |") > 0
            assert column(http, "client", f"| {database} | {endpoint} |") > 0
        assert column(pipeline, "SQL statements / message", f"| {database} |") > 0
        # Where the cores go, read from /proc: the pool processes run every task, and the worker's
        # main process hands each one over.
        for run in (f"pipeline, {database}", f"floor, {database}"):
            assert column(pipeline, "pool processes", f"| {run} |") > 0
            assert column(pipeline, "main process", f"| {run} |") > 0
            assert column(pipeline, "SMTP sink", f"| {run} |") > 0
    if on_postgres:
        assert column(pipeline, "PostgreSQL server", "| pipeline, PostgreSQL |") > 0
    assert column(pipeline, "PostgreSQL server", "| pipeline, SQLite |") == 0
    assert column(http, "PostgreSQL server", "| SQLite | POST /bookings |") == 0
    if on_postgres:
        assert column(http, "PostgreSQL server", "| PostgreSQL | POST /bookings |") > 0
    from bench.http_bench import FLOORS, PAIRS

    for database in ["SQLite"] + (["PostgreSQL"] if on_postgres else []):
        for endpoint, bare, _ in PAIRS:
            row = f"| {database} | {endpoint} |"
            assert_budget_agrees(http, row, row, f"| {database} | {bare} |", f"| {database} | {FLOORS[endpoint]} |",
                                 "app processes", "req/s")
        assert_budget_agrees(pipeline, f"| {database} |", f"| pipeline, {database} |", "| baseline |",
                             f"| floor, {database} |", "pool processes", "tasks/s")


def assert_budget_agrees(section: str, budget_row: str, cores_row: str, baseline_row: str, floor_row: str, own: str,
                         rate: str) -> None:
    """The goal's budget (bench.common.GoalBudget) is what the section's own tables say: the CPU the goal
    allows from the baseline's rate, less what the path's other processes spent, is what is left."""
    def budget(header):
        return column(section, header, budget_row)

    goal, allowed = budget("goal, ratio to the baseline"), budget("CPU the goal allows in all, ms")
    baseline_rate = column(section, rate, baseline_row)
    assert allowed == pytest.approx(os.cpu_count() * 1000 / (goal * baseline_rate), rel=0.02, abs=0.01)
    outside = column(section, "all", cores_row) - column(section, own, cores_row)
    assert budget("spent outside the path's own processes, ms") == pytest.approx(outside, abs=0.02)
    assert budget("left to them, ms") == pytest.approx(allowed - outside, abs=0.02)
    assert budget("the baseline's own processes spend, ms") == column(section, own, baseline_row)
    assert budget("the floor's own processes spend, ms") == column(section, own, floor_row)
    assert budget("the path's own processes spend now, ms") == column(section, own, cores_row)


class JsonAnswer(BaseHTTPRequestHandler):
    """Answers each GET with its path as JSON, keeping the connection open (HTTP/1.1), unless
    `close_after` says to close it after the answer without saying so, as an expired keep-alive does."""

    protocol_version = "HTTP/1.1"
    close_after = False

    def do_GET(self):
        body = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.close_after

    def log_message(self, *args):
        pass


@contextmanager
def served(handler):
    """A local HTTP server with `handler`, in a thread of its own; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_a_run_on_a_loaded_machine_still_measures_every_connection():
    """On a loaded machine a connection's thread may start after its run's time is up: it still sends
    one request, and one latency is enough for the percentiles (CI once failed on a warm-up that
    measured nothing)."""
    from bench.common import drive, percentiles, summarise

    with served(JsonAnswer) as port:
        result = drive(port, "GET", lambda: ("/", None, {}), 0, 3)
    assert result["requests"] >= 3 and result["statuses"] == {200: result["requests"]}
    assert result["p50_ms"] <= result["p99_ms"]
    one = summarise([([0.004], 1.0, {200: 1})])
    assert (one["requests"], one["p50_ms"], one["p99_ms"]) == (1, 4.0, 4.0)
    assert percentiles([0.5])["p99"] == 0.5
    with pytest.raises(ValueError):
        summarise([([], 1.0, {})])


def test_the_end_to_end_client_reconnects_after_the_servers_keep_alive_ran_out():
    """gunicorn closes a keep-alive connection idle for 2 s; a sample that waited longer sent its next
    request into the closed connection (a broken pipe, in CI on a loaded machine). The server here
    closes every connection after its answer, as an expired keep-alive would."""
    from bench.e2e_bench import Client

    class AnswerOnce(JsonAnswer):
        close_after = True

    with served(AnswerOnce) as port:
        client = Client(port)
        assert client.call("GET", "/one") == (200, {"path": "/one"})
        time.sleep(1.2)  # past Client.IDLE_SECONDS
        assert client.call("GET", "/two") == (200, {"path": "/two"})
