"""The Docker Compose deployment matches the code and SPEC §6.

No Docker engine is needed: the compose file is read as YAML, checked by the
compose CLI's own `config` (skipped where no compose CLI is installed), and
the gateway config is checked as text and, where nginx is installed, by
`nginx -t`.
"""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_CONF = ROOT / "deploy" / "nginx.conf"

SPEC_QUEUES = ("booking", "desk", "notify")
GATEWAY_PREFIXES = ("/booking/", "/desk/", "/notify/")

# What `docker compose config` needs to interpolate the file; dummy values.
COMPOSE_ENV = {
    "YIZHAN_SECRET_KEY": "dummy-secret-for-config-check",
    "POSTGRES_PASSWORD": "dummy-password",
}


# --- reading the compose file -------------------------------------------------


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def command_args(service):
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else list(command)


def consumed_queues(service):
    """Queues named by a `celery ... worker -Q a,b` command ([] if not a worker)."""
    args = command_args(service)
    if "celery" not in args[:1] or "worker" not in args:
        return []
    queues = []
    for i, arg in enumerate(args):
        if arg in ("-Q", "--queues") and i + 1 < len(args):
            queues += args[i + 1].split(",")
        elif arg.startswith("--queues="):
            queues += arg.split("=", 1)[1].split(",")
        elif arg.startswith("-Q") and len(arg) > 2:
            queues += arg[2:].split(",")
    return queues


def is_worker(service):
    args = command_args(service)
    return args[:1] == ["celery"] and "worker" in args


def is_beat(service):
    args = command_args(service)
    return args[:1] == ["celery"] and "beat" in args


def one_shot_names(services):
    """Services others wait for to *finish*: the migrate/seed job."""
    return {
        dependency
        for service in services.values()
        if isinstance(service.get("depends_on"), dict)
        for dependency, rule in service["depends_on"].items()
        if rule.get("condition") == "service_completed_successfully"
    }


def workers_by_queue(services):
    found = {}
    for name, service in services.items():
        for queue in consumed_queues(service):
            found.setdefault(queue, []).append(name)
    return found


# --- queues ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def code_queues():
    try:
        from shared.celery_app import QUEUES
    except ImportError as exc:
        pytest.fail(
            "shared.celery_app must export QUEUES, the tuple of queue names the "
            f"workers consume, so this test can check compose runs a worker for each: {exc}"
        )
    return tuple(QUEUES)


@pytest.mark.parametrize("queue", SPEC_QUEUES)
def test_every_queue_in_the_spec_has_a_worker_service(services, queue):
    assert queue in workers_by_queue(services), f"no compose worker consumes -Q {queue}"


def test_every_queue_the_code_routes_to_has_a_worker_service(services, code_queues):
    consumed = workers_by_queue(services)
    missing = [queue for queue in code_queues if queue not in consumed]
    assert not missing, f"queues with no worker in docker-compose.yml: {missing}"


def test_the_code_declares_the_queues_of_the_spec(code_queues):
    assert set(SPEC_QUEUES) <= set(code_queues)


# --- service shape ----------------------------------------------------------------


def test_the_migrate_job_is_the_only_one_shot_service(services):
    one_shots = one_shot_names(services)
    assert one_shots == {"migrate"}
    assert "migrate" in " ".join(command_args(services["migrate"]))
    assert services["migrate"].get("restart", "no") == "no"


@pytest.mark.parametrize("kind", ["api", "worker"])
def test_apis_and_workers_wait_for_migrations(services, kind):
    names = [n for n in services if n.endswith(f"-{kind}")]
    assert len(names) == 3, f"expected three {kind} services, found {names}"
    for name in names:
        depends_on = services[name].get("depends_on")
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        assert depends_on.get("migrate", {}).get("condition") == (
            "service_completed_successfully"
        ), f"{name} must start only after migrate exits 0"


def test_every_long_running_service_has_a_healthcheck_and_restarts(services):
    one_shots = one_shot_names(services)
    for name, service in services.items():
        if name in one_shots:
            continue
        healthcheck = service.get("healthcheck") or {}
        assert healthcheck.get("test") and not healthcheck.get("disable"), (
            f"{name} has no healthcheck"
        )
        assert service.get("restart") == "unless-stopped", f"{name} restart policy"


def test_exactly_one_scheduler_runs(services):
    beats = [name for name, service in services.items() if is_beat(service)]
    assert len(beats) == 1, f"expected one celery beat service, found {beats}"
    service = services[beats[0]]
    assert (service.get("deploy") or {}).get("replicas", 1) <= 1
    assert service.get("scale", 1) <= 1


def test_worker_services_can_be_scaled(services):
    # A fixed container_name makes `docker compose up --scale X=N` fail.
    for name, service in services.items():
        if is_worker(service):
            assert "container_name" not in service, f"{name} sets container_name"


def test_worker_healthchecks_leave_hostname_to_the_container(services):
    # A single `$HOSTNAME` would be filled in by compose (with nothing) before
    # the container runs; `$$HOSTNAME` reaches the container's shell.
    for name, service in services.items():
        if is_worker(service):
            test = " ".join(service["healthcheck"]["test"])
            assert "$$HOSTNAME" in test, f"{name} healthcheck must ping its own node"


def test_secrets_come_from_the_environment(services):
    text = COMPOSE_FILE.read_text()
    assert "${YIZHAN_SECRET_KEY:?" in text
    assert "${POSTGRES_PASSWORD:?" in text


def test_image_runs_as_a_non_root_user():
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert users and users[-1] not in ("root", "0")


# --- the compose CLI's own check -------------------------------------------------


def compose_cli():
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    pytest.skip("neither docker-compose nor the docker compose plugin is installed")


def run_compose_config(env_overrides, tmp_path, *extra_args):
    # An empty --env-file keeps a developer's own .env out of the check.
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    env.update(env_overrides)
    return subprocess.run(
        [
            *compose_cli(),
            "--env-file", str(empty_env_file),
            "--project-directory", str(ROOT),
            "-f", str(COMPOSE_FILE),
            *extra_args,
            "config", "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize("profile_args", [[], ["--profile", "dev"]], ids=["default", "dev"])
def test_compose_accepts_the_file(tmp_path, profile_args):
    result = run_compose_config(COMPOSE_ENV, tmp_path, *profile_args)
    assert result.returncode == 0, result.stderr
    # Every ${VAR} is either given above or has a default: none silently blank.
    assert "variable is not set" not in result.stderr, result.stderr


@pytest.mark.parametrize("missing", sorted(COMPOSE_ENV))
def test_compose_refuses_to_run_without_a_secret(tmp_path, missing):
    env = {k: v for k, v in COMPOSE_ENV.items() if k != missing}
    result = run_compose_config(env, tmp_path)
    assert result.returncode != 0
    assert missing in result.stderr


# --- the gateway ------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx_conf():
    return NGINX_CONF.read_text()


def location_block(conf, path):
    # Up to the line that holds only the location's closing brace (an `if { … }` may sit inside).
    match = re.search(r"location\s+" + re.escape(path) + r"\s*\{(.*?)^\s*\}\s*$", conf, re.S | re.M)
    assert match, f"nginx.conf has no `location {path}`"
    return match.group(1)


@pytest.mark.parametrize("prefix", GATEWAY_PREFIXES)
def test_gateway_routes_each_api_under_its_prefix(nginx_conf, services, prefix):
    block = location_block(nginx_conf, prefix)
    name = prefix.strip("/")
    assert f"set $service_prefix /{name};" in block  # sent as X-Forwarded-Prefix
    assert "proxy_pass http://$upstream$upstream_uri;" in block  # the raw path, prefix stripped (tests/test_nginx_gateway.py)
    upstream = re.search(r"set \$upstream ([\w-]+):8000;", block)
    assert upstream and upstream.group(1) in services, f"{prefix} upstream"


def test_gateway_puts_flower_behind_basic_auth(nginx_conf, services):
    block = location_block(nginx_conf, "/flower/")
    assert "auth_basic_user_file" in block
    assert "set $upstream flower:5555;" in block and "flower" in services


def test_gateway_sets_forwarding_headers_and_limits(nginx_conf):
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Prefix", "X-Request-ID"):
        assert re.search(rf"proxy_set_header\s+{header}\s", nginx_conf), header
    assert "$request_id" in nginx_conf  # made up when the client sent none
    assert re.search(r"client_max_body_size\s+\d+[km]?;", nginx_conf)
    assert re.search(r"limit_req_zone\s+\$binary_remote_addr", nginx_conf)
    assert re.search(r"^\s*limit_req\s+zone=", nginx_conf, re.M)


def test_gateway_config_passes_nginx_t(tmp_path):
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)),
        None,
    )
    if nginx is None:
        pytest.skip("nginx is not installed; the text checks above still ran")
    result = subprocess.run(
        [nginx, "-t", "-q", "-c", str(NGINX_CONF), "-g", f"pid {tmp_path}/nginx.pid;"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0 and "Permission denied" in result.stderr:
        pytest.skip(f"nginx -t needs root here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr


# --- the portal (issue 12) --------------------------------------------------------------------


def test_the_portal_runs_under_gunicorn_after_migrations(services):
    portal = services["portal"]
    assert "services.portal:create_app()" in command_args(portal)
    assert portal["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_the_portals_outbox_has_a_relay(services):
    relay = services["portal-relay"]
    assert command_args(relay)[-2:] == ["-m", "services.portal.relay"]
    assert "portal-relay.alive" in " ".join(relay["healthcheck"]["test"])
    assert relay["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_every_service_database_is_created_and_named(services):
    from shared.settings import DATABASE_SERVICES

    environment = yaml.safe_load(COMPOSE_FILE.read_text())["x-app-environment"]
    created = (ROOT / "deploy" / "postgres" / "10-create-databases.sql").read_text()
    for name in DATABASE_SERVICES:
        url = environment[f"{name.upper()}_DATABASE_URL"]
        database = url.rsplit("/", 1)[1]
        assert f"CREATE DATABASE {database};" in created, name


def test_the_portal_reaches_the_apis_inside_the_network(services):
    environment = yaml.safe_load(COMPOSE_FILE.read_text())["x-app-environment"]
    for name in ("booking", "desk", "notify"):
        host = re.match(r"http://([\w-]+):8000$", environment[f"PORTAL_{name.upper()}_URL"]).group(1)
        assert host in services


def test_gateway_serves_the_portal_at_the_root(nginx_conf, services):
    block = location_block(nginx_conf, "/")
    assert "set $upstream portal:8000;" in block and "portal" in services
    assert "proxy_pass http://$upstream$request_uri;" in block  # the raw path, nothing cut
    assert "error_page 502 503 504 =503 @portal_unavailable;" in block
    assert "网页暂时打不开" in location_block(nginx_conf, "@portal_unavailable")
    assert "portal" in services["gateway"]["depends_on"]
