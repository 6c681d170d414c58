"""Configuration from the environment, and a refusal to run unsafely in production."""

import subprocess

import pytest

from services.booking import create_app
from shared.settings import DEVELOPMENT_SECRET, ConfigurationError, Settings
from tests.processes import BIN

STRONG = "k" * 40


def test_defaults_work_on_a_laptop():
    settings = Settings.from_env({})
    assert settings.env == "development"
    assert settings.database_url("booking") == "sqlite:///var/booking.db"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    settings.check()


def test_each_service_reads_its_own_database_url():
    settings = Settings.from_env({"DESK_DATABASE_URL": "postgresql+psycopg://u@db/desk"})
    assert settings.database_url("desk") == "postgresql+psycopg://u@db/desk"
    assert settings.database_url("notify").startswith("sqlite:///")


@pytest.mark.parametrize("environ, complaint", [
    ({"YIZHAN_ENV": "production"}, "YIZHAN_SECRET_KEY"),
    ({"YIZHAN_ENV": "production", "YIZHAN_SECRET_KEY": DEVELOPMENT_SECRET}, "YIZHAN_SECRET_KEY"),
    ({"YIZHAN_ENV": "production", "YIZHAN_SECRET_KEY": "short"}, "YIZHAN_SECRET_KEY"),
    ({"YIZHAN_ENV": "production", "YIZHAN_SECRET_KEY": STRONG, "YIZHAN_DEBUG": "1"}, "YIZHAN_DEBUG"),
    ({"YIZHAN_ENV": "staging"}, "YIZHAN_ENV"),
    ({"SMTP_SECURITY": "tls1.0"}, "SMTP_SECURITY"),
])
def test_unsafe_settings_are_refused(environ, complaint):
    with pytest.raises(ConfigurationError, match=complaint):
        Settings.from_env(environ).check()
    with pytest.raises(ConfigurationError):
        create_app(Settings.from_env(environ))


def test_production_with_a_real_secret_starts():
    Settings.from_env({"YIZHAN_ENV": "production", "YIZHAN_SECRET_KEY": STRONG}).check()


def test_the_command_line_refuses_the_development_secret_in_production(tmp_path):
    result = subprocess.run([str(BIN / "yizhan"), "token", "--role", "staff"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "YIZHAN_ENV": "production", "YIZHAN_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "YIZHAN_SECRET_KEY" in result.stderr
