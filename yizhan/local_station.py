"""`make run`: the whole station on this machine, with demo data.

Redis (the one at REDIS_URL when it answers, otherwise a private redis-server),
the three APIs and the portal under gunicorn, one worker per queue, the portal's
outbox relay, the scheduler, a local SMTP sink and the gateway, all under honcho:
Ctrl-C stops every one of them.
The API, worker and scheduler command lines are the ones docker-compose.yml runs.
"""

import os
import shlex
import shutil
import sys
from pathlib import Path

import redis
from honcho.manager import Manager
from honcho.printer import Printer

from services.portal.seed import DEMO_ACCOUNTS
from shared.auth import issue_token
from shared.settings import DATABASE_SERVICES, PORTAL, SERVICE_PACKAGES, SERVICES
from yizhan.processes import BIN, free_port, port_answers
from yizhan.services import migrate_service, seed_service

# Who a phone signs in as: booking's demo organisations' contacts (services/booking/seed_data.py), any other a resident.
DEMO_SIGN_INS = (("13800000001", "组织联系人 contact of organisation 1 (role org)"),
                 ("13800000002", "组织联系人 contact of organisation 2 (role org)"),
                 ("13900000001", "居民 a resident (any other mainland mobile too)"))
ROLES_TO_PRINT = (("staff", None), ("admin", None), ("org", 1), ("resident", None), ("system", None))


def api_command(name: str, bind: str) -> list[str]:
    return [str(BIN / "gunicorn"), "--config", "python:shared.gunicorn_conf", "--bind", bind,
            f"{SERVICE_PACKAGES[name]}:create_app()"]


def portal_relay_command() -> list[str]:
    return [sys.executable, "-m", "services.portal.relay"]


def worker_command(name: str) -> list[str]:
    return [str(BIN / "celery"), "-A", f"{SERVICE_PACKAGES[name]}.worker", "worker", "-Q", name,
            "--hostname", f"{name}@%h", "--loglevel", "INFO"]


def scheduler_command(schedule_file: Path) -> list[str]:
    return [str(BIN / "celery"), "-A", "shared.scheduler", "beat", "--schedule", str(schedule_file), "--loglevel", "INFO"]


def gateway_command(port: int) -> list[str]:
    """waitress, not gunicorn's threads: 24 clients that send headers and never their body
    held every gunicorn thread; waitress reads requests whole before the app runs (yizhan/gateway.py)."""
    return [sys.executable, "-m", "yizhan.gateway", f"127.0.0.1:{port}"]


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def plan_processes(settings, var_dir: Path, env: dict) -> dict:
    """name → command line, for every process the local station needs."""
    processes = {}
    if not redis_answers(settings.redis_url):
        if shutil.which("redis-server") is None:
            raise SystemExit(f"Redis at {settings.redis_url} does not answer and redis-server is not installed.")
        port = free_port()
        processes["redis"] = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(var_dir)]
        env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    for name in SERVICES:
        processes[f"{name}-api"] = api_command(name, f"127.0.0.1:{settings.service_ports[name]}")
        processes[f"{name}-worker"] = worker_command(name)
    processes["portal"] = api_command(PORTAL, f"127.0.0.1:{settings.service_ports[PORTAL]}")
    processes["portal-relay"] = portal_relay_command()
    processes["scheduler"] = scheduler_command(var_dir / "celerybeat-schedule")
    processes["smtp-sink"] = [str(BIN / "yizhan"), "smtp-sink"]
    processes["gateway"] = gateway_command(settings.gateway_port)
    return processes


def banner(settings, env: dict, own_redis: bool) -> str:
    gateway = f"http://127.0.0.1:{settings.gateway_port}"
    lines = ["", "驿站 yizhan is starting. 服务地址 URLs:",
             f"  portal   {gateway}/   网页 the pages (direct: http://127.0.0.1:{settings.service_ports[PORTAL]})"]
    for name in SERVICES:
        lines.append(f"  {name:8} {gateway}/{name}/docs   (direct: http://127.0.0.1:{settings.service_ports[name]})")
    redis_note = "  (its own redis-server: REDIS_URL did not answer)" if own_redis else ""
    lines += [f"  Redis    {env['REDIS_URL']}{redis_note}", f"  SMS      {settings.sms_log_path}  (log provider)",
              f"  e-mail   {settings.var_dir / 'mail'}/*.eml  (SMTP sink on 127.0.0.1:{settings.smtp_port})",
              "", "演示令牌 Demo tokens (Authorization: Bearer <token>):"]
    for role, org in ROLES_TO_PRINT:
        label = f"{role} (org {org})" if org else role
        lines.append(f"  {label:12} {issue_token(settings.secret_key, role, f'demo-{role}', org, settings.token_ttl_seconds)}")
    lines += ["", "网页登录 Signing in to the pages (" + gateway + "/sign-in): enter the phone, then the 6-digit code",
              f"that arrives in {settings.sms_log_path} (the SMS log):"]
    for phone, who in DEMO_SIGN_INS:
        lines.append(f"  {phone}  {who}")
    lines += ["", f"工作人员登录 Staff and admin sign-in ({gateway}/staff/sign-in): username and password,",
              "then the 6-digit code printed by `yizhan users totp <username>` (development only):"]
    for username, password, role, _secret in DEMO_ACCOUNTS:
        lines.append(f"  {role:6} username {username}, password {password}")
    lines += ["", "Ctrl-C stops everything.", ""]
    return "\n".join(lines)


def process_env(name: str, env: dict, var_dir: Path) -> dict:
    """Each API's gunicorn processes share one metrics directory, emptied at start."""
    if not name.endswith("-api"):
        return env
    metrics_dir = var_dir / "prometheus" / name
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    return {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}


def run_station(settings) -> int:
    var_dir = settings.var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    ports = [settings.gateway_port, settings.smtp_port, *settings.service_ports.values()]
    busy = [p for p in ports if port_answers(p)]
    if busy:
        raise SystemExit(f"port(s) {busy} already in use: is the station already running? "
                         "Set YIZHAN_GATEWAY_PORT / YIZHAN_<SERVICE>_PORT / SMTP_PORT to move it.")
    env = dict(os.environ, YIZHAN_VAR_DIR=str(var_dir), REDIS_URL=settings.redis_url, PYTHONUNBUFFERED="1")
    for name in DATABASE_SERVICES:
        migrate_service(name, settings)
        print(f"{name}: migrated and seeded {seed_service(name)}", flush=True)
    processes = plan_processes(settings, var_dir, env)
    print(banner(settings, env, own_redis="redis" in processes), flush=True)
    manager = Manager(Printer(sys.stdout))
    for name, command in processes.items():
        manager.add_process(name, shlex.join(command), env=process_env(name, env, var_dir))
    manager.loop()
    return manager.returncode or 0

