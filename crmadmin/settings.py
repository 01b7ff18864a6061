"""crmadmin settings: everything comes from environment variables, read here only.

Two modes, chosen by ``CRMADMIN_ENV``:

* ``development`` (the default): runs as it is on a fresh machine: SQLite in WAL mode,
  a Celery broker on the file system (no server), the built-in CRM sandbox.
* ``production``: demands ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS``,
  ``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``CRMADMIN_ENCRYPTION_KEYS``, and refuses to
  start on a missing or malformed value.

The README lists every variable.
"""

import base64
import hashlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from crmadmin.celery import filesystem_broker_options

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {value!r}"
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def required(name: str) -> str:
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when CRMADMIN_ENV=production")
    return value


CRMADMIN_ENV = env_str("CRMADMIN_ENV", "development")
if CRMADMIN_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"CRMADMIN_ENV must be 'development' or 'production'; got {CRMADMIN_ENV!r}"
    )
PRODUCTION = CRMADMIN_ENV == "production"

DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG cannot be on when CRMADMIN_ENV=production")

# Runtime files of the embedded default: the SQLite database and the broker's folders.
DATA_DIR = Path(env_str("CRMADMIN_DATA_DIR", str(BASE_DIR / "var"))).resolve()

if PRODUCTION:
    SECRET_KEY = required("DJANGO_SECRET_KEY")
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be a random value of at least 50 characters"
        )
    ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when CRMADMIN_ENV=production")
    if "*" in ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the hosts; '*' is refused")
else:
    SECRET_KEY = env_str(
        "DJANGO_SECRET_KEY", "django-insecure-development-only-key-never-use-in-production"
    )
    ALLOWED_HOSTS = env_list(
        "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"]
    )

CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# --- Database -------------------------------------------------------------------------

_database_url = required("DATABASE_URL") if PRODUCTION else env_str("DATABASE_URL")
if not _database_url:
    _database_url = f"sqlite:///{DATA_DIR / 'crmadmin.sqlite3'}"
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
if not _database.get("ENGINE"):
    raise ImproperlyConfigured("DATABASE_URL names no database engine Django knows")
if _database["ENGINE"] == "django.db.backends.sqlite3":
    _database["CONN_MAX_AGE"] = 0
    _database["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE transactions
        # take the write lock up front instead of failing half-way with "database locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A named file (not :memory:) so that a Celery worker process can share the test database.
    _database["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications ---------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "crmadmin.accounts",
    "crmadmin.zoho",
    "crmadmin.massupdate",
    "crmadmin.audit",
    "crmadmin.sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "crmadmin.urls"
WSGI_APPLICATION = "crmadmin.wsgi.application"

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
                "crmadmin.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- Authentication and sessions ------------------------------------------------------

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "massupdate:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A session ends this long after sign-in (a working day), whatever the activity.
SESSION_COOKIE_AGE = env_int("CRMADMIN_SESSION_SECONDS", 8 * 3600, minimum=60)
# Login throttling (crmadmin/accounts/throttle.py): this many refused sign-ins within the
# window lock the account, or the address, until the oldest of them leaves the window.
CRMADMIN_LOGIN_MAX_FAILURES = env_int("CRMADMIN_LOGIN_MAX_FAILURES", 5, minimum=1)
CRMADMIN_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int(
    "CRMADMIN_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1
)
CRMADMIN_LOGIN_LOCKOUT_MINUTES = env_int("CRMADMIN_LOGIN_LOCKOUT_MINUTES", 15, minimum=1)
# How many reverse proxies in front of the web server add the address they saw to
# X-Forwarded-For: the client's address is the one the outermost of them saw. 0: none, and
# the header is ignored (a client could write anything in it).
CRMADMIN_PROXY_HOPS = env_int("CRMADMIN_PROXY_HOPS", 0)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# A pasted list of IDs may be up to 5 MB (crmadmin/massupdate/selection.py) and a
# multi-select may tick many values: above these, Django refuses the request (templates/400.html).
# Files don't count here; the CSV upload checks its own size.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5_000

# --- Security headers -----------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("CRMADMIN_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Outside production, whitenoise serves straight from the source folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Celery -----------------------------------------------------------------------------

_broker_url = required("CELERY_BROKER_URL") if PRODUCTION else env_str("CELERY_BROKER_URL")
CELERY_BROKER_URL = _broker_url or "filesystem://"
if CELERY_BROKER_URL.split("://", 1)[0] not in {"filesystem", "redis", "rediss", "amqp", "amqps"}:
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL must start with filesystem://, redis://, rediss:// or amqp://"
    )
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(DATA_DIR / "broker")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "check-connections": {
        "task": "crmadmin.zoho.tasks.check_all_connections",
        "schedule": env_int("CRMADMIN_CONNECTION_CHECK_SECONDS", 900, minimum=60),
    },
    "recover-stalled-jobs": {
        "task": "massupdate.recover_stalled_jobs",
        "schedule": env_int("CRMADMIN_RECOVERY_SECONDS", 60, minimum=1),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# A worker previewing or running a job beats this often; a job whose heartbeat is older
# than the second figure is resumed by another worker (crmadmin/massupdate/recovery.py).
CRMADMIN_HEARTBEAT_SECONDS = env_int("CRMADMIN_HEARTBEAT_SECONDS", 10, minimum=1)
CRMADMIN_STALE_AFTER_SECONDS = env_int("CRMADMIN_STALE_AFTER_SECONDS", 60, minimum=2)
if CRMADMIN_STALE_AFTER_SECONDS < 2 * CRMADMIN_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "CRMADMIN_STALE_AFTER_SECONDS must be at least twice CRMADMIN_HEARTBEAT_SECONDS, "
        "or a live worker's job could be taken for a stalled one"
    )

# --- crmadmin -------------------------------------------------------------------------

# Demo mode: demo users and the sandbox connection may be created (``make demo`` sets it).
CRMADMIN_DEMO = env_bool("CRMADMIN_DEMO", False)
if PRODUCTION and CRMADMIN_DEMO:
    raise ImproperlyConfigured("CRMADMIN_DEMO cannot be on when CRMADMIN_ENV=production")

# The built-in Zoho-compatible CRM under /sandbox/. Off in production unless asked for.
CRMADMIN_SANDBOX_ENABLED = env_bool("CRMADMIN_SANDBOX", not PRODUCTION)

# Keys that encrypt stored secrets (client secrets, tokens). Comma-separated Fernet keys:
# the first encrypts, all of them decrypt, so a key can be rotated (see the README).
_encryption_keys = env_list("CRMADMIN_ENCRYPTION_KEYS", [])
if PRODUCTION and not _encryption_keys:
    raise ImproperlyConfigured("CRMADMIN_ENCRYPTION_KEYS must be set when CRMADMIN_ENV=production")
if not _encryption_keys:
    # Development only: a key derived from the (development) secret key.
    _digest = hashlib.sha256(f"crmadmin-encryption:{SECRET_KEY}".encode()).digest()
    _encryption_keys = [base64.urlsafe_b64encode(_digest).decode()]
CRMADMIN_ENCRYPTION_KEYS = _encryption_keys

# Outgoing calls to Zoho.
CRMADMIN_HTTP_TIMEOUT = env_int("CRMADMIN_HTTP_TIMEOUT", 30, minimum=1)
CRMADMIN_HTTP_MAX_ATTEMPTS = env_int("CRMADMIN_HTTP_MAX_ATTEMPTS", 6, minimum=1)
# Where every worker takes its slots of a connection's concurrency limit (zoho/limits.py):
# redis:// for workers on several machines (the Redis broker's by default), file: for one.
_redis_broker = CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
CRMADMIN_LIMITER_URL = env_str("CRMADMIN_LIMITER_URL") or (
    CELERY_BROKER_URL if _redis_broker else "file:"
)
if CRMADMIN_LIMITER_URL.split(":", 1)[0] not in {"redis", "rediss", "file"}:
    raise ImproperlyConfigured("CRMADMIN_LIMITER_URL must start with redis://, rediss:// or file:")

# Mass updates: a preview older than this must be renewed before submitting; the module
# and field lists are cached per connection for this long (a button refreshes them).
CRMADMIN_PREVIEW_MAX_AGE_MINUTES = env_int("CRMADMIN_PREVIEW_MAX_AGE_MINUTES", 30, minimum=1)
CRMADMIN_METADATA_MAX_AGE_SECONDS = env_int("CRMADMIN_METADATA_MAX_AGE_SECONDS", 3600)
# Approvals: the first values of the approval policy (an admin edits it afterwards), and how
# old a preview an approval may rely on.
CRMADMIN_APPROVAL_THRESHOLD = env_int("CRMADMIN_APPROVAL_THRESHOLD", 5000, minimum=1)
CRMADMIN_SENSITIVE_FIELDS = env_list("CRMADMIN_SENSITIVE_FIELDS", ["Owner", "Deals.Stage"])
CRMADMIN_APPROVAL_MAX_AGE_HOURS = env_int("CRMADMIN_APPROVAL_MAX_AGE_HOURS", 24, minimum=1)
# Records per mass-update call: Zoho takes at most 500; fewer means smaller steps to cancel.
CRMADMIN_BATCH_SIZE = min(500, env_int("CRMADMIN_BATCH_SIZE", 500, minimum=1))

# --- Logging: never a secret in a log line --------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "crmadmin.zoho.redaction.RedactSecretsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
        # The development server logs request lines, query strings included (an OAuth
        # callback carries ?code=…): redacted like everything else.
        "server": {"class": "logging.StreamHandler", "formatter": "server", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env_str("CRMADMIN_LOG_LEVEL", "INFO")},
    "loggers": {
        # Replace Django's own handlers (which have no redaction) by the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
# Celery would otherwise replace the root logger's handlers, and the redaction with them.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
