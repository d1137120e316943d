"""Settings for every run mode, read from environment variables.

With DATABASE_URL and REDIS_URL unset the service runs on embedded defaults (SQLite, tasks run
in-process, local-memory cache) so that `make run` works on a bare machine. With them set it uses
PostgreSQL, Redis as cache and Celery broker, and separate worker processes.
"""

import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.media_storage import media_storage
from ml.analysers import BESIDE_THE_CLASSIFIER
from ml.analysers import REGISTRY as ANALYSER_REGISTRY
from ml.classifier.analyser import CLASSIFIER

BACKEND_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BACKEND_DIR.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def env_list(name: str, default: str, separator: str = ",") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(separator) if item.strip()]


# Everything the service writes on a bare machine (SQLite database, media, generated secret key)
# lives under one ignored directory, so a fresh clone starts clean.
VAR_DIR = Path(os.environ.get("CXR_VAR_DIR", REPO_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def load_secret_key() -> str:
    """Use DJANGO_SECRET_KEY when given; otherwise a random key kept in VAR_DIR.

    The key signs the JWTs, so it must survive restarts; generating it on first start avoids a
    well-known default key ever reaching a deployment.
    """
    configured = os.environ.get("DJANGO_SECRET_KEY")
    if configured:
        return configured
    key_file = VAR_DIR / "secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = load_secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "common",
    "accounts",
    "deployments",
    "studies",
    "health",
    "audit",
    "feedback",
    "reports",
    "model_card",
    "observability",
    "backups",
    "pacs",
    "monitoring",
]

MIDDLEWARE = [
    # First, so that every log line of a request carries its id and every answer is counted.
    "observability.request_id.RequestIdMiddleware",
    "observability.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "common.security_headers.ContentSecurityPolicyMiddleware",
    # WhiteNoise, with the web app's hashed assets cached for a year (common.static_files).
    "common.static_files.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that its answer carries every header above; before any view: an API path with a NUL or
    # other control character answers the JSON 404.
    "common.control_characters.ControlCharacterPathMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Database: PostgreSQL from DATABASE_URL, SQLite under VAR_DIR otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The in-process analysis thread writes while requests write too (studies, audit events). A
    # transaction that begins with a read cannot wait for the write lock later (SQLite answers
    # "database is locked" at once), so each transaction takes the lock when it begins, waiting
    # up to 30 s for it.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Local passwords first; then the hospital's directory, when CXR_LDAP_URL is set (accounts.ldap).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "accounts.ldap.backend.DirectoryBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files: the built SPA (frontend/dist, built by Vite with base /static/) served by WhiteNoise.
FRONTEND_DIST_DIR = Path(os.environ.get("CXR_FRONTEND_DIST", REPO_DIR / "frontend" / "dist"))
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BACKEND_DIR / "staticfiles"))
STATICFILES_DIRS = [FRONTEND_DIST_DIR] if FRONTEND_DIST_DIR.is_dir() else []
STORAGES = {
    # Media: local files under MEDIA_ROOT, or the S3-compatible object store that CXR_S3_BUCKET names.
    "default": media_storage(os.environ),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Radiographs and heatmaps are patient data: they are served only through authenticated API views,
# never from a public media URL.
MEDIA_ROOT = Path(os.environ.get("CXR_MEDIA_ROOT", VAR_DIR / "media"))

# Uploads: Django spools files above this size to disk; the hard limit is CXR_MAX_UPLOAD_BYTES,
# checked before the body is parsed (nginx enforces the same limit in production).
CXR_MAX_UPLOAD_BYTES = env_int("CXR_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
# The most images one study may hold (one upload of several files, or images a PACS sends); each
# file is held to CXR_MAX_UPLOAD_BYTES on its own.
CXR_MAX_IMAGES_PER_STUDY = env_int("CXR_MAX_IMAGES_PER_STUDY", 16)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Cache and broker: Redis when REDIS_URL is given, in-process otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
CXR_EMBEDDED_TASKS = not REDIS_URL
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CXR_CACHE_PREFIX", "cxr"),
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CXR_RESULT_CACHE_SECONDS = env_int("CXR_RESULT_CACHE_SECONDS", 7 * 24 * 3600)

# Celery. Embedded mode runs tasks in-process (see studies/dispatch.py); otherwise Redis is the broker.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = CXR_EMBEDDED_TASKS
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CXR_TASK_QUEUE", "cxr-analysis")
# The analysers beside the classifier have a queue of their own, consumed by a worker process of
# its own (`celery worker --role analysers`, config/celery_app.py), so that a study's findings never
# wait behind another study's analysers. Named after CXR_TASK_QUEUE unless set, so a run with a queue
# of its own (tests, the load test) has its own analyser queue too.
CXR_ANALYSER_QUEUE = os.environ.get("CXR_ANALYSER_QUEUE") or f"{CELERY_TASK_DEFAULT_QUEUE}-analysers"
CELERY_TASK_ROUTES = {"studies.run_analysers": {"queue": CXR_ANALYSER_QUEUE}}
# A task is acknowledged only once it finished, and given back to the queue if its worker process
# dies, so a crashed worker never loses a study; the study service bounds the number of attempts.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CXR_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CXR_TASK_TIME_LIMIT", 300)
# Redis redelivers an unacknowledged task after this long (a worker host that vanished): longer
# than the hard time limit so a slow but live task is never run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT * 2}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CXR_MAX_ANALYSIS_ATTEMPTS = env_int("CXR_MAX_ANALYSIS_ATTEMPTS", 3)
# A worker takes up to this many waiting studies at once: one forward pass and one round of
# database writes for all of them (studies.analysis).
CXR_ANALYSIS_BATCH_SIZE = env_int("CXR_ANALYSIS_BATCH_SIZE", 8)

# --- Reliability: a study always ends (common.jobs), a dependency down answers 503. ---
# Celery beat runs the reconciler every CXR_RECONCILE_INTERVAL_SECONDS. A study queued for longer
# than CXR_QUEUED_DEADLINE_SECONDS since it was last enqueued lost its message; one running for
# longer than CXR_RUNNING_DEADLINE_SECONDS lost its worker. Either is enqueued again up to
# CXR_MAX_REQUEUES times, then failed with a message.
CXR_RECONCILE_INTERVAL_SECONDS = env_int("CXR_RECONCILE_INTERVAL_SECONDS", 60)
CXR_QUEUED_DEADLINE_SECONDS = env_int("CXR_QUEUED_DEADLINE_SECONDS", 600)
CXR_RUNNING_DEADLINE_SECONDS = env_int("CXR_RUNNING_DEADLINE_SECONDS", CELERY_TASK_TIME_LIMIT + 60)
if CXR_RUNNING_DEADLINE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    # A live task would have its study taken from it and analysed twice at once.
    raise ImproperlyConfigured("CXR_RUNNING_DEADLINE_SECONDS must be longer than CXR_TASK_TIME_LIMIT.")
CXR_MAX_REQUEUES = env_int("CXR_MAX_REQUEUES", 3)
CELERY_BEAT_SCHEDULE = {
    "reconcile-studies": {
        "task": "studies.reconcile_studies",
        "schedule": float(CXR_RECONCILE_INTERVAL_SECONDS),
        # Passes that could not run in time (a broker outage, a busy worker) are dropped, not stacked.
        "options": {"expires": float(CXR_RECONCILE_INTERVAL_SECONDS)},
    },
    # Yesterday's monitoring snapshot (monitoring.drift), once a day after midnight.
    "monitoring-daily-snapshot": {
        "task": "monitoring.daily_snapshot",
        "schedule": crontab(hour=0, minute=30),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Site acceptance (monitoring): the largest zip of labelled radiographs an admin uploads (the request
# body limit, CXR_MAX_UPLOAD_BYTES, applies too), a run's hard time limit on the findings worker,
# and the bootstrap resamples of each finding's confidence intervals.
CXR_ACCEPTANCE_MAX_ZIP_BYTES = env_int("CXR_ACCEPTANCE_MAX_ZIP_BYTES", 512 * 1024 * 1024)
CXR_ACCEPTANCE_TIME_LIMIT_SECONDS = env_int("CXR_ACCEPTANCE_TIME_LIMIT_SECONDS", 3600)
CXR_ACCEPTANCE_BOOTSTRAP_RESAMPLES = env_int("CXR_ACCEPTANCE_BOOTSTRAP_RESAMPLES", 1000)
# Monitoring: a day is drifted when a finding's population stability index against the acceptance
# baseline passes CXR_DRIFT_PSI_THRESHOLD, or its two-sample KS p-value falls below
# CXR_DRIFT_KS_P_VALUE (a finding is judged only with CXR_DRIFT_MIN_STUDIES studies that day), or
# the intake refused more than CXR_DRIFT_REFUSAL_RATE of the day's radiographs.
CXR_DRIFT_PSI_THRESHOLD = env_float("CXR_DRIFT_PSI_THRESHOLD", 0.25)
CXR_DRIFT_KS_P_VALUE = env_float("CXR_DRIFT_KS_P_VALUE", 0.001)
CXR_DRIFT_REFUSAL_RATE = env_float("CXR_DRIFT_REFUSAL_RATE", 0.10)
CXR_DRIFT_MIN_STUDIES = env_int("CXR_DRIFT_MIN_STUDIES", 30)
# How long a client is asked to wait when a dependency is down (503) or a broker refused an upload.
CXR_UNAVAILABLE_RETRY_AFTER_SECONDS = env_int("CXR_UNAVAILABLE_RETRY_AFTER_SECONDS", 30)
# A persistent connection that the database closed (a restart, pg_terminate_backend) is replaced
# when the next request begins, instead of failing that request.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Upload limits per user: a rate (DRF throttle syntax, counted in the cache) and a cap on the
# studies waiting for analysis at once.
CXR_UPLOAD_RATE = os.environ.get("CXR_UPLOAD_RATE", "60/min")
CXR_MAX_PENDING_STUDIES_PER_USER = env_int("CXR_MAX_PENDING_STUDIES_PER_USER", 50)
CXR_PENDING_RETRY_AFTER_SECONDS = 30
# An upload's Idempotency-Key (studies.idempotency) and the answer it got are kept this long: a retry
# within it gets that answer again, a later one is a new upload.
CXR_IDEMPOTENCY_KEY_HOURS = env_int("CXR_IDEMPOTENCY_KEY_HOURS", 24)

# The model: a weights directory (card.json + model.weights.h5) or, unset, seeded untrained weights.
CXR_WEIGHTS = os.environ.get("CXR_WEIGHTS") or None
# The folder the operator puts weights folders in (compose: /weights, mounted read-only): the Model
# versions page offers each of its subfolders with a card for an admin to install. Unset: none offered.
CXR_WEIGHTS_ROOT = os.environ.get("CXR_WEIGHTS_ROOT", "")
CXR_MODEL_THREADS = env_int("CXR_MODEL_THREADS", 0) or None
# The analysers beside the classifier (ml.analysers' registry), each with its own weights directory
# in the environment variable its class names (CXR_SEGMENTATION_WEIGHTS, CXR_SCREENER_WEIGHTS,
# CXR_CT_WEIGHTS; unset: its seeded untrained network, said so everywhere). CXR_ANALYSERS lists those
# that run on a radiograph study, comma separated ("" runs the classifier alone); they run after its
# findings are stored. A chest CT series (a zip of slices or a multi-frame DICOM) is scored by the
# CT analyser instead of the classifier.
CXR_ANALYSERS = tuple(
    kind.strip()
    for kind in os.environ.get("CXR_ANALYSERS", ",".join(BESIDE_THE_CLASSIFIER)).split(",")
    if kind.strip()
)
CXR_ANALYSER_WEIGHTS = {
    kind: analyser.card_type.weights_dir_from_env()
    for kind, analyser in ANALYSER_REGISTRY.items()
    if kind != CLASSIFIER
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # drf-spectacular's AutoSchema, plus every error status an operation can answer (common.schema).
    "DEFAULT_SCHEMA_CLASS": "common.schema.ErrorDocumentingAutoSchema",
    "EXCEPTION_HANDLER": "common.exception_handler.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("CXR_ACCESS_TOKEN_MINUTES", 5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env_int("CXR_REFRESH_TOKEN_HOURS", 12)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    # Tokens carry a hash of the password hash: a password reset ends every session at once.
    "CHECK_REVOKE_TOKEN": True,
}

# --- Security headers on every response: a Content-Security-Policy (common.security_headers), and
# from Django's middleware frame denial, Referrer-Policy and nosniff, stated here so none is lost.
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- Sign-in throttling against password guessing (accounts.throttles): failed sign-ins allowed per
# user name and per client address in a sliding window (DRF rate syntax); then 429 with Retry-After.
CXR_SIGN_IN_FAILURES_PER_USERNAME = os.environ.get("CXR_SIGN_IN_FAILURES_PER_USERNAME", "5/min")
CXR_SIGN_IN_FAILURES_PER_ADDRESS = os.environ.get("CXR_SIGN_IN_FAILURES_PER_ADDRESS", "20/min")

# The audit log records the client's address: REMOTE_ADDR, or behind this many reverse proxies
# (1 behind the bundled nginx) the matching entry of X-Forwarded-For. See audit/client_address.py.
CXR_TRUSTED_PROXY_COUNT = env_int("CXR_TRUSTED_PROXY_COUNT", 0)
# Repeated views of one study by one user within this window (the page polling while an analysis
# runs) are recorded once.
CXR_AUDIT_VIEW_WINDOW_SECONDS = env_int("CXR_AUDIT_VIEW_WINDOW_SECONDS", 60)

# Triage by score alone can leave a low-score study unread for hours behind a stream of high-score
# ones: the worklist's triage orders lift any study not yet read after this many minutes, oldest
# first, whatever its score (studies.triage).
CXR_TRIAGE_MAX_WAIT_MINUTES = env_int("CXR_TRIAGE_MAX_WAIT_MINUTES", 60)
if CXR_TRIAGE_MAX_WAIT_MINUTES < 1:
    raise ImproperlyConfigured("CXR_TRIAGE_MAX_WAIT_MINUTES must be at least 1.")

# Live study status (studies.events): status changes go out on Redis pub/sub channels named with
# this prefix (in-process in embedded mode) and reach browsers as server-sent events, with a
# comment every CXR_EVENTS_HEARTBEAT_SECONDS so that proxies keep a quiet stream open.
CXR_EVENTS_CHANNEL_PREFIX = os.environ.get("CXR_CACHE_PREFIX", "cxr")
CXR_EVENTS_HEARTBEAT_SECONDS = env_int("CXR_EVENTS_HEARTBEAT_SECONDS", 15)

SPECTACULAR_SETTINGS = {
    "TITLE": "Chest X-ray decision support API",
    "DESCRIPTION": (
        "Upload chest radiographs, read per-finding probabilities against operating thresholds and "
        "Grad-CAM heatmaps. Decision support, not a diagnosis."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable enum names in the schema, and so in the web app's generated types.
    "ENUM_NAME_OVERRIDES": {
        "StudyStatusEnum": "studies.models.StudyStatus",
        "HealthStatusEnum": ["ok", "degraded"],
        "AuditActionEnum": "audit.models.AuditAction",
        "VerdictEnum": "feedback.models.Verdict",
        "StudyKindEnum": "studies.models.ImageKind",
        # Images of a study, slices of a CT series: pooled by the same rules (ml.evaluation.grouping).
        "AggregationRuleEnum": "ml.evaluation.grouping.AGGREGATION_RULES",
        "AcceptanceSourceEnum": "monitoring.models.AcceptanceSource",
    },
    # Serve the docs page's scripts from this service: hospital networks often reach no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Logs and metrics (observability/) ---
# Every record carries the id of the request (or of the request that queued the task) it belongs to.
# CXR_LOG_FORMAT=json writes one JSON object per line, for a log collector (docker-compose.yml sets it).
CXR_LOG_FORMAT = os.environ.get("CXR_LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "observability.request_id.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "observability.json_logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if CXR_LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("CXR_LOG_LEVEL", "INFO")},
    # highdicom and pynetdicom log the instance UIDs of the objects they handle at INFO: those
    # identify patients' images, which the logs never hold (pacs app). Pillow's debug messages echo
    # image metadata (an EXIF Artist, a PNG text chunk) as it parses it: a patient's name would reach
    # the logs at CXR_LOG_LEVEL=DEBUG.
    "loggers": {
        **{name: {"level": "WARNING"} for name in ("highdicom", "pynetdicom")},
        "PIL": {"level": "INFO"},
    },
}
# Workers log through the same configuration, so their lines carry request ids too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /api/metrics/ answers a scraper that sends this bearer token; unset, metrics are off.
CXR_METRICS_TOKEN = os.environ.get("CXR_METRICS_TOKEN", "")

# --- HTTPS behind the TLS-terminating proxy (nginx/templates/default.conf.template) ---
# CXR_HTTPS=true where clients reach the service over HTTPS through a proxy that sets
# X-Forwarded-Proto itself (the bundled nginx overwrites any client value): Django then knows requests
# are secure, sends its cookies (admin session, CSRF) only over HTTPS, redirects plain HTTP and sends
# HSTS (a year, CXR_HSTS_SECONDS), so `manage.py check --deploy` is clean. The proxy does both first
# for everything it serves (nginx hides Django's HSTS header to send its own); what reaches Django over
# plain HTTP is internal: health checks and the metrics scrape, which are exempt from the redirect.
CXR_HTTPS = env_bool("CXR_HTTPS", False)
if CXR_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^api/health/", r"^api/metrics/$"]
SESSION_COOKIE_SECURE = CXR_HTTPS
CSRF_COOKIE_SECURE = CXR_HTTPS
SECURE_HSTS_SECONDS = env_int("CXR_HSTS_SECONDS", 31_536_000 if CXR_HTTPS else 0)
# HSTS for every subdomain, and the browsers' preload list, bind every host of the hospital's domain:
# that is the hospital's decision for its whole domain, not this one service's, so neither is set
# and Django's reminders of them are silenced.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

# Hospital integration (pacs app): the DICOM listener (C-STORE SCP) and STOW-RS, and whose studies
# the images they receive become. CXR_DICOM_PORT unset or 0: no listener.
CXR_DICOM_AE_TITLE = os.environ.get("CXR_DICOM_AE_TITLE", "CXR_DS")
CXR_DICOM_HOST = os.environ.get("CXR_DICOM_HOST", "127.0.0.1")
CXR_DICOM_PORT = env_int("CXR_DICOM_PORT", 0)
# Who may send to the listener, besides the senders an admin allows (pacs.models.DicomSender):
# "AE_TITLE[=username][@address or CIDR network],..."; an entry without a username sends as
# CXR_DICOM_SERVICE_ACCOUNT. The default lets the shipped Orthanc configuration (AE title ORTHANC)
# send; any other calling AE title is refused at association (pacs.senders).
CXR_DICOM_SERVICE_ACCOUNT = os.environ.get("CXR_DICOM_SERVICE_ACCOUNT", "")
CXR_DICOM_SENDERS = env_list("CXR_DICOM_SENDERS", "ORTHANC")
# A STOW-RS request may carry several images: its body may be this many times the upload limit.
CXR_STOW_MAX_INSTANCES = env_int("CXR_STOW_MAX_INSTANCES", 16)
# Filing results back: the original identifiers of received images are kept encrypted with this
# Fernet key (unset: they are not kept, and results cannot be filed back); results go to the PACS
# at CXR_PACS_DESTINATION ("AE_TITLE@host:port", C-STORE), retried with exponential backoff.
CXR_ORIGIN_KEY = os.environ.get("CXR_ORIGIN_KEY", "")
CXR_PACS_DESTINATION = os.environ.get("CXR_PACS_DESTINATION", "")

# Studies of one patient are linked by a pseudonymous patient key (studies.patients): an
# HMAC-SHA256, keyed by this secret, of the Patient ID and Issuer of Patient ID a DICOM file
# arrives with, or of a patient reference a clinician types with an upload (hashed as a Patient ID
# of CXR_PATIENT_REFERENCE_ISSUER, so a typed hospital number meets the PACS's). The identifier is
# never kept. By default the secret is derived from SECRET_KEY under its own label (no other use of
# SECRET_KEY yields it); set it so that rotating SECRET_KEY does not unlink every patient's priors.
CXR_PATIENT_KEY_SECRET = (
    os.environ.get("CXR_PATIENT_KEY_SECRET", "")
    or hmac.new(SECRET_KEY.encode(), b"cxr patient key v1", hashlib.sha256).hexdigest()
)
CXR_PATIENT_REFERENCE_ISSUER = os.environ.get("CXR_PATIENT_REFERENCE_ISSUER", "")
CXR_PACS_SEND_RETRIES = env_int("CXR_PACS_SEND_RETRIES", 8)
CXR_PACS_RETRY_BASE_SECONDS = env_int("CXR_PACS_RETRY_BASE_SECONDS", 30)

# --- Hospital sign-in by OpenID Connect (accounts.oidc): the authorization code flow with PKCE
# against the hospital's provider (Keycloak, ADFS, Entra ID...), beside the local accounts. Off
# unless CXR_OIDC_ISSUER is set. The provider's discovery document is read from
# CXR_OIDC_ISSUER/.well-known/openid-configuration; CXR_OIDC_REDIRECT_URI is the web app's
# /sign-in/callback as the browser reaches it, registered at the provider with the client.
CXR_OIDC_ISSUER = os.environ.get("CXR_OIDC_ISSUER", "").rstrip("/")
CXR_OIDC_CLIENT_ID = os.environ.get("CXR_OIDC_CLIENT_ID", "")
CXR_OIDC_CLIENT_SECRET = os.environ.get("CXR_OIDC_CLIENT_SECRET", "")
CXR_OIDC_REDIRECT_URI = os.environ.get("CXR_OIDC_REDIRECT_URI", "")
# Where the provider sends the browser back after signing out (registered with the client too).
CXR_OIDC_POST_LOGOUT_REDIRECT_URI = os.environ.get("CXR_OIDC_POST_LOGOUT_REDIRECT_URI", "")
CXR_OIDC_SCOPES = os.environ.get("CXR_OIDC_SCOPES", "openid profile email")
CXR_OIDC_PROVIDER_NAME = os.environ.get("CXR_OIDC_PROVIDER_NAME", "your hospital")
# The role comes from this ID token claim (a string or a list of strings, e.g. groups or roles):
# any of the admin values makes an admin, else any of the clinician values a clinician, else the
# sign-in is refused.
CXR_OIDC_ROLE_CLAIM = os.environ.get("CXR_OIDC_ROLE_CLAIM", "groups")
CXR_OIDC_ADMIN_VALUES = env_list("CXR_OIDC_ADMIN_VALUES", "cxr-admin")
CXR_OIDC_CLINICIAN_VALUES = env_list("CXR_OIDC_CLINICIAN_VALUES", "cxr-clinician")
CXR_OIDC_USERNAME_CLAIM = os.environ.get("CXR_OIDC_USERNAME_CLAIM", "preferred_username")
# The provider's discovery document and signing keys are kept this long (keys are fetched again
# at once when a token names a key not seen yet).
CXR_OIDC_METADATA_SECONDS = env_int("CXR_OIDC_METADATA_SECONDS", 3600)
if CXR_OIDC_ISSUER and not (CXR_OIDC_CLIENT_ID and CXR_OIDC_REDIRECT_URI):
    raise ImproperlyConfigured("CXR_OIDC_ISSUER needs CXR_OIDC_CLIENT_ID and CXR_OIDC_REDIRECT_URI.")

# --- Hospital sign-in by LDAP (accounts.ldap): the token endpoint checks a user name and password
# by binding to the hospital's directory as the user, after the local accounts (a user with a
# password of the service's own, such as the break-glass admin, signs in with it and never through
# the directory). Off unless CXR_LDAP_URL (ldap:// or ldaps://) is set. The user's entry is named by
# CXR_LDAP_BIND_DN_TEMPLATE ("uid={username},ou=people,dc=hospital,dc=example"), or searched for
# under CXR_LDAP_USER_SEARCH_BASE with CXR_LDAP_USER_FILTER, bound as the service account
# CXR_LDAP_SERVICE_BIND_DN (anonymously if unset). The role: membership of any of the admin
# groups makes an admin, else of any of the clinician groups a clinician, else sign-in is refused
# (group DNs separated by ";", since a DN holds commas).
CXR_LDAP_URL = os.environ.get("CXR_LDAP_URL", "")
# StartTLS on an ldap:// URL; certificates are always verified (against CXR_LDAP_CA_FILE, a PEM
# bundle, or the system's).
CXR_LDAP_START_TLS = env_bool("CXR_LDAP_START_TLS", False)
CXR_LDAP_CA_FILE = os.environ.get("CXR_LDAP_CA_FILE", "")
CXR_LDAP_BIND_DN_TEMPLATE = os.environ.get("CXR_LDAP_BIND_DN_TEMPLATE", "")
CXR_LDAP_USER_SEARCH_BASE = os.environ.get("CXR_LDAP_USER_SEARCH_BASE", "")
# Empty is the default too: compose passes the variable through, set or not.
CXR_LDAP_USER_FILTER = os.environ.get("CXR_LDAP_USER_FILTER") or "(uid={username})"
CXR_LDAP_SERVICE_BIND_DN = os.environ.get("CXR_LDAP_SERVICE_BIND_DN", "")
CXR_LDAP_SERVICE_BIND_PASSWORD = os.environ.get("CXR_LDAP_SERVICE_BIND_PASSWORD", "")
# The entry's attribute that names the user in the service, and the one that identifies it for
# good (entryUUID in OpenLDAP, objectGUID in Active Directory), where names can change.
CXR_LDAP_USERNAME_ATTRIBUTE = os.environ.get("CXR_LDAP_USERNAME_ATTRIBUTE", "uid")
CXR_LDAP_ID_ATTRIBUTE = os.environ.get("CXR_LDAP_ID_ATTRIBUTE", "entryUUID")
CXR_LDAP_ADMIN_GROUPS = env_list("CXR_LDAP_ADMIN_GROUPS", "", separator=";")
CXR_LDAP_CLINICIAN_GROUPS = env_list("CXR_LDAP_CLINICIAN_GROUPS", "", separator=";")
# The group's attribute that lists its members' DNs (groupOfNames and Active Directory: member;
# groupOfUniqueNames: uniqueMember).
CXR_LDAP_GROUP_MEMBER_ATTRIBUTE = os.environ.get("CXR_LDAP_GROUP_MEMBER_ATTRIBUTE", "member")
# For connecting and for each answer: past it, sign-in answers 503 (the directory is unavailable).
CXR_LDAP_TIMEOUT_SECONDS = env_int("CXR_LDAP_TIMEOUT_SECONDS", 5)
if CXR_LDAP_URL:
    if not CXR_LDAP_URL.startswith(("ldap://", "ldaps://")):
        raise ImproperlyConfigured("CXR_LDAP_URL must start with ldap:// or ldaps://.")
    if CXR_LDAP_START_TLS and CXR_LDAP_URL.startswith("ldaps://"):
        raise ImproperlyConfigured("CXR_LDAP_START_TLS is for ldap:// URLs; ldaps:// is TLS already.")
    if bool(CXR_LDAP_BIND_DN_TEMPLATE) == bool(CXR_LDAP_USER_SEARCH_BASE):
        raise ImproperlyConfigured("Set one of CXR_LDAP_BIND_DN_TEMPLATE and CXR_LDAP_USER_SEARCH_BASE.")
    if "{username}" not in (CXR_LDAP_BIND_DN_TEMPLATE or CXR_LDAP_USER_FILTER):
        raise ImproperlyConfigured("The LDAP DN template or user filter must hold {username}.")
    if not (CXR_LDAP_ADMIN_GROUPS or CXR_LDAP_CLINICIAN_GROUPS):
        raise ImproperlyConfigured("CXR_LDAP_URL needs CXR_LDAP_ADMIN_GROUPS or CXR_LDAP_CLINICIAN_GROUPS.")

# Orthanc's REST API (e.g. http://orthanc:8042): set, the objects a new set of results replaces
# are deleted from the PACS once the new set is filed (pacs.supersede); unset, they stay.
CXR_PACS_REST_URL = os.environ.get("CXR_PACS_REST_URL", "")
