"""Throughput of the notification pipeline beside a bare Celery task, in one run, on SQLite and PostgreSQL.

    .venv/bin/python bench/pipeline_bench.py [--messages 500] [--concurrency 2] [--output docs/benchmarks.md]

Starts a private redis-server, a fresh SQLite notify database and, when PostgreSQL
answers (YIZHAN_BENCH_POSTGRES_URL, default the local test server; a new database,
dropped afterwards), a fresh PostgreSQL one, and a local SMTP sink in its own
process (`yizhan smtp-sink`). Then:

1. for each database, one notify worker (`celery -A services.notify.worker`); N
   `notify.send_message` tasks (e-mail, template booking_approved) go straight onto
   the `notify` list in Redis, as another community system would post them; the
   clock runs from the first post until the last message is `sent` (handed to the
   SMTP sink). Each message is one task: send_message accepts it and sends it
   (deliver_message runs only for a message to be tried again). The worker serves
   its merged figures (PROMETHEUS_MULTIPROC_DIR, YIZHAN_WORKER_METRICS_PORT:
   shared/task_metrics.py); from them, the SQL statements and Redis round trips
   both tasks counted (shared/work_counts.py), per message.
2. right after each database's run, the floor: a worker of bench/floor_worker.py
   (same factory and options), N `notify.floor` tasks, each one INSERT in one
   transaction and one fixed e-mail to the same sink, clocked as the baseline.
3. the baseline: a worker of bench/noop_app.py, an app from the same factory
   (shared.celery_app.make_celery: same JSON, late acks, prefetch 1), same
   command-line options and concurrency; N `notify.noop` tasks posted the same
   way; the clock runs until a Redis counter, which each task INCRs, reaches N.

Everything runs on the same machine as the client, so absolute figures are a
floor; the ratio to the baseline measured in the same run is the figure to compare.
Over each clocked run, the CPU time of every process that shares the cores (the
worker's pool and main processes, the SMTP sink, PostgreSQL's processes for the
bench's database, Redis) is read from /proc, per message: where the time goes.
With `--output FILE` a Markdown section is appended to FILE (after bench/http_bench.py
has written it).
"""

import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import redis
from sqlalchemy import create_engine, func, make_url, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import floor_app  # noqa: E402
from bench.common import (CpuMeter, GoalBudget, PostgresDatabases, Processes, child_pids,  # noqa: E402
                          database_processes, email_payload, goal_budget_table, migrate_and_seed, percentiles, publish,
                          run, sample_sum, scrape, station_env, stop_on_sigterm, with_metrics_dir, work_done)
from services.notify.domain.messages import SENT  # noqa: E402
from services.notify.models import Message  # noqa: E402
from shared.outbox import marker_key  # noqa: E402
from yizhan.processes import BIN, free_port, port_answers, wait_until  # noqa: E402

NOOP_DONE_KEY = "bench:noop:done"  # bench/noop_app.py DONE_KEY; not imported, so this script needs no app settings
FLOOR_DONE_KEY = "bench:floor:done"  # bench/floor_worker.py DONE_KEY, likewise
EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
DEADLINE_SECONDS = 120
TASKS = ("notify.send_message", "notify.deliver_message")  # shared.contracts SEND_MESSAGE, DELIVER_MESSAGE
GOAL = 0.4  # issue 14: the pipeline at least this share of the bare task's rate


# --- posting tasks the way tests/raw_tasks.py does: kombu's message, LPUSHed onto the queue's list ----

def raw_message(task: str, payload: dict) -> str:
    task_id = str(uuid.uuid4())
    body = json.dumps([[payload], {}, EMBED], ensure_ascii=False).encode()
    headers = {"lang": "py", "task": task, "id": task_id, "root_id": task_id, "parent_id": None, "group": None,
               "retries": 0, "eta": None, "expires": None, "timelimit": [None, None]}
    queue = task.split(".")[0]
    return json.dumps({
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {"correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
                       "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0,
                       "body_encoding": "base64", "delivery_tag": str(uuid.uuid4())},
    })


def post_all(client: redis.Redis, queue: str, messages: list[str]) -> None:
    """One LPUSH per task, sent in one round trip; the worker takes them oldest first."""
    pipe = client.pipeline(transaction=False)
    for message in messages:
        pipe.lpush(queue, message)
    pipe.execute()


# --- the two runs ----------------------------------------------------------------------------------

def run_pipeline(processes: Processes, env: dict, client: redis.Redis, work: Path, database: str, n: int,
                 concurrency: int) -> dict:
    name = f"notify-worker-{database}"
    metrics_port = free_port()
    env = {**with_metrics_dir(env, work, name), "YIZHAN_WORKER_METRICS_PORT": str(metrics_port)}
    processes.worker(name, "services.notify.worker", "notify", env, concurrency)
    database_url = notify_database_url(env, work)
    # The relay's first pass, at its start, finds this fresh Redis without its marker and replays what the
    # outbox holds (shared/outbox.py replay_if_redis_forgot): let it, before the clock starts, or it
    # replays the nets of messages being sent, and the run counts deliver_message tasks a steady
    # station never runs.
    wait_until(lambda: client.exists(marker_key(make_url(database_url))), 30, 0.05, f"{name}'s outbox relay")
    run_id = uuid.uuid4().hex[:8]
    tasks = [raw_message("notify.send_message", email_payload(f"bench-{run_id}-{i}", i, "压力测试 bench"))
             for i in range(n)]
    mails_before = len(list((work / "mail").glob("*.eml")))
    engine = create_engine(database_url)
    sent = select(func.count()).select_from(Message).where(Message.status == SENT)
    try:
        meter = CpuMeter(cpu_roles(processes, name, database_url))
        posted_at = datetime.now(timezone.utc)
        post_all(client, "notify", tasks)
        try:
            wait_until(lambda: processes.alive(name) and engine_scalar(engine, sent) >= n, DEADLINE_SECONDS, 0.2,
                       f"{n} messages to be sent")
            cpu = meter.stop_per(n)
        except TimeoutError:
            with engine.connect() as conn:
                counts = dict(conn.execute(select(Message.status, func.count()).group_by(Message.status)).all())
            raise SystemExit(f"not all sent within {DEADLINE_SECONDS}s; statuses {counts}; worker log:\n"
                             f"{processes.log(name)[-3000:]}") from None
        with engine.connect() as conn:
            rows = conn.execute(select(Message.created_at, Message.updated_at).where(Message.status == SENT)).all()
        work_by_task = task_work(f"http://127.0.0.1:{metrics_port}/metrics", n)
    finally:
        engine.dispose()
    processes.stop(name)
    created = [c for c, _ in rows]
    sent_at = [u for _, u in rows]
    # The last `sent` timestamp ends the clock more precisely than the 0.2 s poll that noticed it.
    elapsed = (max(sent_at) - posted_at).total_seconds()
    accept_to_sent = sorted((s - c).total_seconds() for c, s in zip(created, sent_at))
    post_to_sent = sorted((s - posted_at).total_seconds() for s in sent_at)
    mails = len(list((work / "mail").glob("*.eml"))) - mails_before
    if mails != n:
        raise SystemExit(f"the SMTP sink holds {mails} new .eml files, expected {n}")
    return {"database": database, "elapsed": elapsed, "rate": n / elapsed, "mails": mails,
            "accept_to_sent": percentiles(accept_to_sent), "post_to_sent": percentiles(post_to_sent),
            "cpu": cpu,
            "work": {key: sum(w[key] for w in work_by_task.values()) / n for key in ("sql", "redis")},
            "work_by_task": {task: {key: w[key] / n for key in w} for task, w in work_by_task.items()}}


def cpu_roles(processes: Processes, worker: str, database_url: str) -> dict:
    """Whatever uses the machine's cores during a run: the worker's pool processes and its main process
    (which takes the tasks from Redis and hands them to the pool), the SMTP sink, Redis, and the
    PostgreSQL server's processes for the bench's database (this script's own poll included)."""
    main = processes.running[worker].pid
    return {
        "pool": lambda: child_pids(main),
        "main": lambda: [main],
        "sink": lambda: [processes.running["smtp-sink"].pid],
        "redis": lambda: [processes.running["redis"].pid],
        "database": database_processes(database_url),
    }


def engine_scalar(engine, statement):
    with engine.connect() as conn:
        return conn.scalar(statement)


def task_work(metrics_url: str, n: int) -> dict:
    """The work each task counted, from the worker's merged metrics, once every send_message has
    finished, and every deliver_message that ran (a retry) too (a task's counts are added before
    Celery counts it as succeeded or retried)."""
    def count(samples, task, outcome):
        return sample_sum(samples, "yizhan_tasks_total", task=task, outcome=outcome)

    def finished():
        samples = scrape(metrics_url)
        send, deliver = TASKS
        deliveries_done = sum(count(samples, deliver, outcome) for outcome in ("succeeded", "retried", "failed"))
        return (count(samples, send, "succeeded") >= n and deliveries_done >= count(samples, deliver, "received")
                and samples)
    samples = wait_until(finished, 30, 0.1, f"the worker's metrics to count {n} send_message tasks")
    return {task: work_done(samples, "notify", task) for task in TASKS}


def run_counted(processes: Processes, env: dict, client: redis.Redis, n: int, concurrency: int, app: str, task: str,
                done_key: str, make_payload, work: Path) -> dict:
    """A worker of `app`; N `task`s posted at once; the clock runs until the Redis counter each task
    INCRs at its end reaches N."""
    name = app.rsplit(".", 1)[-1]
    client.delete(done_key)
    processes.worker(name, app, "notify", env, concurrency)
    tasks = [raw_message(task, make_payload(i)) for i in range(n)]
    meter = CpuMeter(cpu_roles(processes, name, notify_database_url(env, work)))
    began = time.monotonic()
    post_all(client, "notify", tasks)

    def all_done():
        if not processes.alive(name):
            raise SystemExit(f"{name} died; its log:\n{processes.log(name)[-3000:]}")
        return int(client.get(done_key) or 0) >= n
    # A GET every 5 ms: the whole run may last well under a second, so the 0.2 s poll would blur it.
    wait_until(all_done, DEADLINE_SECONDS, 0.005, f"{n} {task} tasks")
    elapsed = time.monotonic() - began
    cpu = meter.stop_per(n)
    processes.stop(name)
    return {"elapsed": elapsed, "rate": n / elapsed, "cpu": cpu}


def run_baseline(processes: Processes, env: dict, client: redis.Redis, work: Path, n: int, concurrency: int) -> dict:
    return run_counted(processes, env, client, n, concurrency, "bench.noop_app", "notify.noop", NOOP_DONE_KEY,
                       lambda i: {"v": 1}, work)


def run_floor(processes: Processes, env: dict, client: redis.Redis, work: Path, n: int, concurrency: int) -> dict:
    """The pipeline's floor on one database (bench/floor_worker.py): one INSERT and one fixed e-mail per task."""
    floor_app.create_table(notify_database_url(env, work))
    return run_counted(processes, env, client, n, concurrency, "bench.floor_worker", "notify.floor",
                       FLOOR_DONE_KEY, lambda i: {"to": f"floor{i}@example.org"}, work)


def notify_database_url(env: dict, work: Path) -> str:
    return env.get("NOTIFY_DATABASE_URL") or f"sqlite:///{work / 'notify.db'}"


# --- main ------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500, help="messages (and baseline tasks) per run")
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes, both runs")
    parser.add_argument("--output", type=Path, default=None, help="append the table as Markdown to this file")
    args = parser.parse_args()
    if args.messages < 2:
        parser.error("--messages must be at least 2")

    stop_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="yizhan-pipeline-bench-"))
    smtp_port = free_port()
    env = station_env(work, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_SECURITY="none",
                      SMTP_USERNAME="", SMTP_PASSWORD="")  # SQLite: the notify database is <work>/notify.db
    processes = Processes(work)
    postgres = PostgresDatabases.create(["notify"])
    envs = {"SQLite": env, **({"PostgreSQL": {**env, **postgres.env()}} if postgres else {})}
    client = None
    try:
        env["REDIS_URL"] = processes.redis(env)
        envs = {label: {**e, "REDIS_URL": env["REDIS_URL"]} for label, e in envs.items()}
        client = redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=1, decode_responses=True)
        with ThreadPoolExecutor(len(envs)) as pool:
            list(pool.map(lambda e: migrate_and_seed(e, ["notify"]), envs.values()))
        processes.start("smtp-sink", [str(BIN / "yizhan"), "smtp-sink", "--port", str(smtp_port),
                                      "--dir", str(work / "mail")], env)
        wait_until(lambda: processes.alive("smtp-sink") and port_answers(smtp_port), 20, 0.05, "the SMTP sink")

        print(f"{args.messages} messages, worker concurrency {args.concurrency}, {os.cpu_count()} cores", flush=True)
        pipelines = []
        for database, database_env in envs.items():
            pipeline = run_pipeline(processes, database_env, client, work, database, args.messages, args.concurrency)
            pipelines.append(pipeline)
            print(f"pipeline  {database:10} {pipeline['rate']:8.1f} messages/s  ({pipeline['elapsed']:.2f} s; "
                  f"{pipeline['mails']} .eml files in the sink; per message {pipeline['work']['sql']:.1f} SQL, "
                  f"{pipeline['work']['redis']:.1f} Redis: {pipeline['work_by_task']})", flush=True)
            pipeline["floor"] = run_floor(processes, database_env, client, work, args.messages, args.concurrency)
            print(f"floor     {database:10} {pipeline['floor']['rate']:8.1f} tasks/s     "
                  f"({pipeline['floor']['elapsed']:.2f} s)", flush=True)
        baseline = run_baseline(processes, env, client, work, args.messages, args.concurrency)
        print(f"baseline  {baseline['rate']:8.1f} tasks/s     ({baseline['elapsed']:.2f} s)", flush=True)
    finally:
        processes.stop_all()
        if client is not None:
            client.close()
        if postgres:
            postgres.drop()
        shutil.rmtree(work, ignore_errors=True)

    publish(render(pipelines, baseline, args), "Notification pipeline", args.output)
    return 0


def render(pipelines: list[dict], baseline: dict, args) -> str:
    lines = [
        f"`bench/pipeline_bench.py`: {args.messages} `notify.send_message` e-mails posted at once straight onto the "
        f"`notify` list in Redis; one notify worker (`--concurrency {args.concurrency}`) on each database in turn, a "
        f"local SMTP sink in its own process, all on the same {os.cpu_count()}-core machine. The clock runs from the "
        "first post to the last message `sent` (handed to the SMTP sink; its `updated_at`). Each message is one task: "
        "`send_message` accepts it and sends it after its commit (`deliver_message` runs only for a message to be "
        "tried again); SQL statements and Redis round trips per message are what both tasks counted (shared/work_counts.py), read from the worker's merged metrics "
        "after the run and divided by N. Baseline: a Celery app from the same factory "
        "(`shared.celery_app.make_celery`), same worker options, whose one task only INCRs a Redis counter so "
        "its completion can be seen (a tiny cost), posted the same way after the pipelines; its clock stops when the "
        "counter reaches N (read every 5 ms). No warm-up in any run. The floor, on each database right after its "
        "pipeline (bench/floor_worker.py, same factory and options, clocked as the baseline): a task that INSERTs "
        "one row in one transaction and hands a fixed e-mail of a few hundred bytes, not built with the `email` "
        "package, to the same SMTP sink over a kept connection, with no contract, inbox, template, send lock or "
        "outbox; its ratio bounds the pipeline's.",
        "",
        "| database | N | concurrency | messages/s | SQL statements / message | Redis round trips / message "
        "| baseline tasks/s | ratio | floor tasks/s | floor ratio | accept→sent p50 / p99 s | post→sent p50 / p99 s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for p in pipelines:
        a2s, p2s = p["accept_to_sent"], p["post_to_sent"]
        lines.append(f"| {p['database']} | {args.messages} | {args.concurrency} | {p['rate']:.1f} | "
                     f"{p['work']['sql']:.1f} | {p['work']['redis']:.1f} | {baseline['rate']:.0f} | "
                     f"{p['rate'] / baseline['rate']:.3f} | {p['floor']['rate']:.1f} | "
                     f"{p['floor']['rate'] / baseline['rate']:.3f} | {a2s['p50']:.2f} / {a2s['p99']:.2f} | "
                     f"{p2s['p50']:.2f} / {p2s['p99']:.2f} |")
    split = "; ".join(f"{p['database']}: " + ", ".join(
        f"`{task.split('.')[1]}` {w['sql']:.1f} SQL and {w['redis']:.1f} Redis" for task, w in p["work_by_task"].items())
        for p in pipelines)
    lines += [
        "",
        f"Per message, by task: {split}. The outbox relay's thread, which publishes only what the task's own "
        "publish after commit left behind, counts nowhere. "
        "Latencies come from the `messages` table (`created_at`, set when `send_message` accepts the message, and "
        "`updated_at` of the `sent` status) and the moment of posting. All N arrive at once, so they measure "
        "mostly waiting in the queue, not the work of one message. No latency is measured for the baseline.",
    ]
    runs = [(f"pipeline, {p['database']}", p) for p in pipelines] + \
           [(f"floor, {p['database']}", p["floor"]) for p in pipelines] + [("baseline", baseline)]
    if all(result.get("cpu") for _, result in runs):
        cores = os.cpu_count() or 1
        lines += [
            "",
            "Where the cores go: CPU time per message (per task for the floor and the baseline), in milliseconds, "
            "used during the clocked run by each process, read from /proc: the worker's pool processes (which run "
            "the tasks), its main process (which takes them from Redis and hands them to the pool), the SMTP sink, "
            "the PostgreSQL server's processes for the bench's database (this script's poll included; SQLite runs "
            "inside the pool processes), and Redis. All of them share the machine's "
            f"{cores} cores, so {cores} × 1000 ÷ `all` is the most tasks a second the CPU allows; a run "
            "near that figure is bound by CPU, not by waiting.",
            "",
            "| run | tasks/s | pool processes | main process | SMTP sink | PostgreSQL server | Redis | all "
            "| cores allow, tasks/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for label, result in runs:
            c = result["cpu"]
            lines.append(f"| {label} | {result['rate']:.1f} | {c['pool']:.2f} | {c['main']:.2f} | {c['sink']:.2f} | "
                         f"{c['database']:.2f} | {c['redis']:.2f} | {c['all']:.2f} | {cores * 1000 / c['all']:.0f} |")
        lines += goal_budget_table(
            "the pool processes that run the task",
            "Celery's main process, the SMTP sink, the PostgreSQL server and Redis", ["database"],
            [([p["database"]], GoalBudget.of(GOAL, baseline["rate"], p["cpu"], "pool", baseline["cpu"],
                                              p["floor"]["cpu"])) for p in pipelines])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run(main)
