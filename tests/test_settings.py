"""Production settings: secrets are required and `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, env):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "FIELD_ENCRYPTION_KEY"}}
    env.update(
        {
            "DEBUG": "false",
            "BASE_DOMAIN": "rollbook.example.org",
            "ROLLBOOK_VAR_DIR": str(tmp_path),
            "SECRET_KEY": "x" * 60 + "production-secret-key-that-is-long-and-random-1234567890",
            "FIELD_ENCRYPTION_KEY": "y" * 50,
            "EMAIL_URL": "smtp://mail.example.org:587",
        }
    )
    env.update(extra)
    return env


def test_check_deploy_is_clean_in_production(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr
    assert not (tmp_path / "secret_key.txt").exists()


def test_development_generates_secrets_into_var(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env["ROLLBOOK_VAR_DIR"] = str(tmp_path)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    assert manage("check", env=env).returncode == 0
    secret = (tmp_path / "secret_key.txt").read_text()
    assert len(secret) >= 50
    assert oct((tmp_path / "secret_key.txt").stat().st_mode)[-3:] == "600"
    manage("check", env=env)
    assert (tmp_path / "secret_key.txt").read_text() == secret


def test_pages_carry_security_headers(client_for, district):
    response = client_for(district).get("/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_default_database_is_sqlite_in_wal_mode(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ROLLBOOK_VAR_DIR"] = str(tmp_path)
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(connection.vendor, c.fetchone()[0])"
    )
    result = manage("shell", "-c", code, env=env)
    assert result.stdout.strip().splitlines()[-1].split() == ["sqlite", "wal"], result.stderr
    assert (tmp_path / "rollbook.sqlite3").exists()


def test_production_refuses_to_start_without_a_mail_server(tmp_path):
    env = production_env(tmp_path)
    del env["EMAIL_URL"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "Set the EMAIL_URL environment variable" in result.stderr


def test_production_serves_static_files(tmp_path):
    env = production_env(tmp_path, STATIC_ROOT=str(tmp_path / "static"))
    assert manage("collectstatic", "--noinput", env=env).returncode == 0
    code = (
        "from django.test import Client; "
        "r = Client(HTTP_HOST='rollbook.example.org').get('/static/js/app.js', secure=True); "
        "print(r.status_code)"
    )
    result = manage("shell", "-c", code, env=env)
    assert result.stdout.strip().splitlines()[-1] == "200", result.stderr
