"""Settings from the environment: one table, documented in README.md.

Every default works on a laptop; `Settings.check()` refuses to run in
production with the development secret or with DEBUG on.
"""

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEVELOPMENT_SECRET = "dev-secret-for-a-laptop-never-for-production"
# The JSON APIs: each has its queue, its worker and its tasks.
SERVICES = ("booking", "desk", "notify")
# The pages people use (services/portal): no queue of its own; its outbox is relayed by its own process.
PORTAL = "portal"
# Every service with a database of its own, migrated and seeded by `yizhan migrate` / `yizhan seed`.
DATABASE_SERVICES = (*SERVICES, PORTAL)
# Where each service's code lives; an API's name is also its queue and task prefix.
SERVICE_PACKAGES = {"booking": "services.booking", "desk": "services.services_desk", "notify": "services.notify",
                    "portal": "services.portal"}
STATION_TIMEZONE = "Asia/Shanghai"
# Where `make run` serves each service on its own (the gateway mounts the APIs under /<name>, the portal at /).
DEFAULT_PORTS = {"booking": 8081, "desk": 8082, "notify": 8083, "portal": 8084}


class ConfigurationError(RuntimeError):
    """The environment asks for something the station must not run with."""


def _env_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    env: str = "development"
    debug: bool = False
    secret_key: str = DEVELOPMENT_SECRET
    redis_url: str = "redis://127.0.0.1:6379/0"
    var_dir: Path = Path("var")
    database_urls: dict = field(default_factory=dict)
    log_level: str = "INFO"
    token_ttl_seconds: int = 8 * 3600
    outbox_interval_seconds: float = 1.0
    visibility_timeout_seconds: int = 900
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: str = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "驿站 Yizhan <station@yizhan.local>"
    sms_providers: tuple = ("log",)
    sms_log_path: Path = Path("var/sms.log")
    gateway_port: int = 8080
    # Where residents open the portal: links in SMS point here, and notify refuses links elsewhere.
    portal_url: str = "http://127.0.0.1:8080"
    service_ports: dict = field(default_factory=lambda: dict(DEFAULT_PORTS))
    # The whole environment, for the rules each service reads for itself (services/booking/policy.py).
    environ: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ=None) -> "Settings":
        e = os.environ if environ is None else environ
        var_dir = Path(e.get("YIZHAN_VAR_DIR", "var"))
        return cls(
            env=e.get("YIZHAN_ENV", "development"),
            debug=_env_bool(e.get("YIZHAN_DEBUG", "0")),
            secret_key=e.get("YIZHAN_SECRET_KEY", DEVELOPMENT_SECRET),
            redis_url=e.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            var_dir=var_dir,
            database_urls={
                name: e.get(f"{name.upper()}_DATABASE_URL") or f"sqlite:///{var_dir / name}.db"
                for name in DATABASE_SERVICES
            },
            log_level=e.get("YIZHAN_LOG_LEVEL", "INFO").upper(),
            token_ttl_seconds=int(e.get("YIZHAN_TOKEN_TTL", 8 * 3600)),
            outbox_interval_seconds=float(e.get("YIZHAN_OUTBOX_INTERVAL", "1.0")),
            visibility_timeout_seconds=int(e.get("YIZHAN_VISIBILITY_TIMEOUT", "900")),
            smtp_host=e.get("SMTP_HOST", "127.0.0.1"),
            smtp_port=int(e.get("SMTP_PORT", "8025")),
            smtp_security=e.get("SMTP_SECURITY", "none").lower(),
            smtp_username=e.get("SMTP_USERNAME", ""),
            smtp_password=e.get("SMTP_PASSWORD", ""),
            mail_from=e.get("MAIL_FROM", cls.mail_from),
            sms_providers=tuple(p.strip() for p in e.get("SMS_PROVIDERS", "log").split(",") if p.strip()),
            sms_log_path=Path(e.get("SMS_LOG_PATH", str(var_dir / "sms.log"))),
            gateway_port=int(e.get("YIZHAN_GATEWAY_PORT", "8080")),
            portal_url=e.get("YIZHAN_PORTAL_URL", cls.portal_url).rstrip("/"),
            service_ports={name: int(e.get(f"YIZHAN_{name.upper()}_PORT", port)) for name, port in DEFAULT_PORTS.items()},
            environ=dict(e),
        )

    def database_url(self, service: str) -> str:
        return self.database_urls.get(service) or f"sqlite:///{self.var_dir / service}.db"

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)

    def check(self) -> "Settings":
        """Refuse a production start that would be unsafe; return self otherwise."""
        if self.env not in {"development", "test", "production"}:
            raise ConfigurationError(f"YIZHAN_ENV must be development, test or production, not {self.env!r}")
        if self.smtp_security not in {"none", "starttls", "ssl"}:
            raise ConfigurationError("SMTP_SECURITY must be none, starttls or ssl")
        if self.env == "production":
            if self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32:
                raise ConfigurationError("YIZHAN_SECRET_KEY must be set to a random value of 32+ characters in production")
            if self.debug:
                raise ConfigurationError("YIZHAN_DEBUG must be off in production")
        return self


def load_settings() -> Settings:
    return Settings.from_env().check()
