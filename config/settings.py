"""Every setting Rollbook reads, each from the environment, once (django-environ).

With no environment at all this is the embedded development set-up that
`make run` serves: SQLite in WAL mode, a broker on the filesystem, the in-app
outbox for email and secrets generated into var/. With DEBUG=false every secret
must be given and `manage.py check --deploy` is expected to pass.
"""

import secrets
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("ROLLBOOK_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
DEBUG = env.bool("DEBUG", default=True)


def _dev_secret(name: str) -> str:
    """Reads a secret from the environment; in development, creates it once in var/."""
    if name in env.ENVIRON:
        return env.str(name)
    if not DEBUG:
        raise environ.ImproperlyConfigured(f"Set the {name} environment variable (DEBUG is off).")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / f"{name.lower()}.txt"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _dev_secret("SECRET_KEY")
FIELD_ENCRYPTION_KEY = _dev_secret("FIELD_ENCRYPTION_KEY")

BASE_DOMAIN = env.str("BASE_DOMAIN", default="localhost").lower()
# The scheme and port that links in emails use; the dev server listens on 8000.
SITE_SCHEME = env.str("SITE_SCHEME", default="http" if DEBUG else "https")
SITE_PORT = env.str("SITE_PORT", default="8000" if DEBUG else "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[BASE_DOMAIN, f".{BASE_DOMAIN}"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "import_export",
    "schools",
    "accounts",
    "bulkactions",
    "rostering",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "schools.tenancy.DistrictMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.htmx.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.ForcedPasswordChangeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
PLATFORM_URLCONF = "config.urls_platform"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "schools.context_processors.district",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'rollbook.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE avoids
    # "database is locked" on upgrade from a read to a write transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.DistrictBackend"]
# Usernames are unique per district (a constraint), not globally.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "schools:home"

PASSWORD_HASHERS = [
    "accounts.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Short sessions, never shared between district hosts (no cookie domain).
SESSION_COOKIE_AGE = env.int("SESSION_HOURS", default=8) * 3600
SESSION_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=[f"{SITE_SCHEME}://*.{BASE_DOMAIN}"]
)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGIN_THROTTLE = {
    "window_minutes": env.int("LOGIN_THROTTLE_MINUTES", default=15),
    "per_account": env.int("LOGIN_THROTTLE_PER_ACCOUNT", default=5),
    "per_ip": env.int("LOGIN_THROTTLE_PER_IP", default=30),
}
LOGO_MAX_BYTES = env.int("LOGO_MAX_BYTES", default=512 * 1024)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: the in-app outbox unless EMAIL_URL names an SMTP server.
if "EMAIL_URL" in env.ENVIRON:
    vars().update(env.email_url("EMAIL_URL"))
elif DEBUG:
    EMAIL_BACKEND = "accounts.mail.OutboxBackend"
else:
    # Production without a mail server would keep every activation link to itself.
    raise environ.ImproperlyConfigured("Set the EMAIL_URL environment variable (DEBUG is off).")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Rollbook <no-reply@rollbook.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL is set, else a broker on the filesystem under var/.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "accounts-send-due-reminders": {
        "task": "accounts.tasks.send_due_reminders",
        "schedule": crontab(hour=2, minute=30),
    },
    "accounts-purge-login-events": {
        "task": "accounts.tasks.purge_old_login_events",
        "schedule": 6 * 3600,
    },
    "bulkactions-resume-stalled-imports": {
        "task": "bulkactions.tasks.resume_stalled_imports",
        "schedule": 5 * 60,
    },
    "bulkactions-resume-stalled-bulk-actions": {
        "task": "bulkactions.tasks.resume_stalled_bulk_actions",
        "schedule": 5 * 60,
    },
    "rostering-dispatch-due-syncs": {
        "task": "rostering.tasks.dispatch_due_syncs",
        "schedule": 60,
    },
    "rostering-resume-stalled-syncs": {
        "task": "rostering.tasks.resume_stalled_syncs",
        "schedule": 5 * 60,
    },
    "bulkactions-purge-expired-credentials": {
        "task": "bulkactions.tasks.purge_expired_credentials",
        "schedule": 3600,
    },
}

# Rostering: how large a OneRoster bundle may be (packed, and unpacked), how long the SIS
# may take to answer one request, and after how long without a heartbeat a running sync
# counts as stalled and is started again.
ROSTER_MAX_BUNDLE_MB = env.int("ROSTER_MAX_BUNDLE_MB", default=200)
ROSTER_MAX_UNCOMPRESSED_MB = env.int("ROSTER_MAX_UNCOMPRESSED_MB", default=2000)
ROSTER_HTTP_TIMEOUT = env.float("ROSTER_HTTP_TIMEOUT", default=30.0)
ROSTER_STALL_MINUTES = env.int("ROSTER_STALL_MINUTES", default=15)
# Plain-HTTP SIS addresses on this machine (localhost): for development and the tests'
# OneRoster server; off in production, so admins cannot point the worker at local ports.
ROSTER_ALLOW_LOCAL_URLS = env.bool("ROSTER_ALLOW_LOCAL_URLS", default=DEBUG)

# Imports: what one file may hold, how long generated passwords can be downloaded, and
# after how long without a heartbeat a running import counts as stalled and is resumed.
IMPORT_MAX_FILE_MB = env.int("IMPORT_MAX_FILE_MB", default=30)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=100_000)
IMPORT_CREDENTIALS_HOURS = env.int("IMPORT_CREDENTIALS_HOURS", default=72)
IMPORT_STALL_MINUTES = env.int("IMPORT_STALL_MINUTES", default=5)
# Database connections one import writes its batches on at once (PostgreSQL only).
BULK_WRITE_THREADS = env.int("BULK_WRITE_THREADS", default=2)

# Shared between the web and worker processes: Redis, or files under var/ without it.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # fontTools (under fpdf2) logs every glyph subset at INFO.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
USE_X_FORWARDED_FOR = env.bool("USE_X_FORWARDED_FOR", default=False)
