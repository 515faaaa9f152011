"""Settings for every environment.

One ``environ.Env()``; every value comes from the environment with a safe *embedded* default
(SQLite, in-process cache and channel layer, a serverless Celery broker). ``production.py``
only hardens these and fails loudly when a secret is missing. The README has the table.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django_guid.integrations import CeleryIntegration

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
# A developer's .env is read when present; real deployments set the environment.
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

VAR_DIR = Path(env.str("CRYPTOCAST_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- core -------------------------------------------------------------------------------
SERVICE_NAME = "cryptocast"
VERSION = env.str("CRYPTOCAST_VERSION", default="0.1.0")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Embedded default only: production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-embedded-dev-key-change-me-0123456789")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sites",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    # third party
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_filters",
    "corsheaders",
    "channels",
    "django_celery_beat",
    "django_prometheus",
    "django_guid",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    # ours, bottom layer first
    "core",
    "accounts",
    "streaming",
    "fx",
    "markets",
    "mlserving",
    "news",
    "forecasts",
    "alerts",
    "dashboard",
]

# Every entry runs natively under WSGI and ASGI (no thread hops); the browser-only ones skip
# lean requests (health, metrics, API calls without a session cookie). See core/middleware.py.
MIDDLEWARE = [
    "core.middleware.PrometheusBeforeMiddleware",
    # django-guid's request id, its settings read once (core.middleware.request_id_middleware).
    "core.middleware.request_id_middleware",
    "core.middleware.request_logging_middleware",
    # 400 for control characters in path/query/form fields, chunked bodies, bad multipart.
    "core.middleware.hostile_input_middleware",
    # gzip above HTTP_GZIP_MIN_BYTES; never streams (/api/v1/stream/*, text/event-stream).
    "core.middleware.CompressionMiddleware",
    "core.middleware.SecurityMiddleware",
    "core.middleware.StaticFilesMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.SessionMiddleware",
    "core.middleware.CommonMiddleware",
    "core.middleware.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "core.middleware.MessageMiddleware",
    "core.middleware.XFrameOptionsMiddleware",
    # Content-Security-Policy on every response (django-csp; settings CSP_*).
    "core.middleware.CSPMiddleware",
    # allauth insists on its own dotted path here; it is natively sync+async and costs a
    # context variable per request.
    "allauth.account.middleware.AccountMiddleware",
    # allauth's Google pages without a configured Google app: 503, not 500.
    "accounts.middleware.SocialAppMissingMiddleware",
    # AxesMiddleware last among auth-related middleware (django-axes docs); natively
    # sync+async, one getattr per request (axes checks for this dotted path too).
    "axes.middleware.AxesMiddleware",
    "core.middleware.PrometheusAfterMiddleware",
    # Innermost: async views' in-memory answers (cached reads) without a thread hop.
    "core.middleware.async_fast_path_middleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
SITE_ID = 1

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
            ],
        },
    },
]

# --- database ----------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
if DATABASE_URL:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
        # Under ASGI persistent connections leak per thread: CONN_MAX_AGE=0 plus psycopg's pool.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        if env.bool("DATABASE_POOL", default=True):
            DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
                "min_size": env.int("DATABASE_POOL_MIN", default=1),
                "max_size": env.int("DATABASE_POOL_MAX", default=10),
                "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
            }
        DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
            "DATABASE_CONNECT_TIMEOUT", default=5
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django_prometheus.db.backends.sqlite3",
            "NAME": env.str("SQLITE_PATH", default=str(VAR_DIR / "cryptocast.sqlite3")),
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE avoids
                # "database is locked" on lock upgrades.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache, channels, celery: Redis when REDIS_URL is set -------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# Socket and connect timeout (seconds) of every Redis call: cache, Celery publish and results,
# channel layer, locks, provider budgets. A stalled or dead Redis fails fast (issue 16).
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=0.25)
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's own Redis backend, counted by django-prometheus (hits, misses,
            # failures), reusing one client per pool (core/cachebackends.py).
            "BACKEND": "core.cachebackends.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "cc",
            "TIMEOUT": 300,
            "OPTIONS": {
                # Fail fast when Redis is down: callers fall back to L1 or the database.
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
                "retry_on_timeout": False,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
                    }
                ]
            },
        }
    }
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
    # kombu and the result backend wait forever on a stalled Redis without these (the result
    # backend subscribes to each task's result key at publish time).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_timeout": REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        "retry_on_timeout": False,
        # kombu's connect-on-first-use: one quick retry (its default sleeps 2 s before it)
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
        # A message a killed worker had taken (acks_late) goes back to the queue after this.
        "visibility_timeout": env.int("CELERY_BROKER_VISIBILITY_TIMEOUT", default=3600),
    }
    # The result backend's reconnect loop (default: 20 tries a second apart) also runs at
    # publish time, when it subscribes to the new task's result key.
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
        "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.1},
    }
    CELERY_REDIS_SOCKET_TIMEOUT = REDIS_SOCKET_TIMEOUT
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_SOCKET_TIMEOUT
    CELERY_REDIS_RETRY_ON_TIMEOUT = False
else:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.locmem.LocMemCache",
            "LOCATION": "cryptocast-default",
            "TIMEOUT": 300,
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    # A broker that needs no server: kombu's SQLAlchemy transport on a SQLite file.
    CELERY_BROKER_URL = env.str(
        "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
    )
    CELERY_RESULT_BACKEND = env.str(
        "CELERY_RESULT_BACKEND", default=f"db+sqlite:///{VAR_DIR / 'celery-results.sqlite3'}"
    )

CELERY_TIMEZONE = "UTC"
# A publish never waits long on a dead broker: one connect timeout per try, two quick retries
# (kombu's defaults: 4 s connect timeout, 3 retries up to 1 s apart: ~19 s in a request).
CELERY_BROKER_CONNECTION_TIMEOUT = max(REDIS_SOCKET_TIMEOUT, 0.1) if REDIS_URL else 4.0
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.2,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Our structured LOGGING applies in workers too (Celery would otherwise replace the root logger).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses locked-out credentials before any other backend checks them.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",  # Django's Argon2 with OWASP's parameters
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# OWASP Password Storage Cheat Sheet baseline for Argon2id (accounts/hashers.py says why).
ARGON2_TIME_COST = env.int("ARGON2_TIME_COST", default=2)
ARGON2_MEMORY_KIB = env.int("ARGON2_MEMORY_KIB", default=19456)
ARGON2_PARALLELISM = env.int("ARGON2_PARALLELISM", default=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The dashboard's sign-in page (dashboard.views_account); allauth's own stays at /accounts/login/.
LOGIN_URL = "/signin"
LOGIN_REDIRECT_URL = "/"

# django-axes: lockouts live in the database, never in a cache that could fall back to memory.
# (a subclass of axes.handlers.database.AxesDatabaseHandler, see accounts.lockout)
AXES_HANDLER = "accounts.lockout.AccountAxesHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Locks are per (account, address) pair: a stranger's failures lock only the stranger's own
# pair, never the owner signing in from elsewhere (issue 16, SECURITY.md). Distributed guessing
# at one account is capped by AXES_ACCOUNT_FAILURE_LIMIT failures summed over every address
# within the cool-off (accounts.lockout.AccountAxesHandler); per-address spraying by the auth
# throttle. A password reset clears the account's failures.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ACCOUNT_FAILURE_LIMIT = env.int("AXES_ACCOUNT_FAILURE_LIMIT", default=50)
# Attempts while locked are refused without counting (they would push the lock further out).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "email"
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ADMIN = True
# One username for every login path (the admin posts "username", the API and allauth "email"),
# the client IP behind NUM_PROXIES trusted proxies, and a 429 envelope with Retry-After.
AXES_USERNAME_CALLABLE = "accounts.lockout.axes_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.axes_client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.axes_lockout_response"
AXES_HTTP_RESPONSE_CODE = 429

# allauth: e-mail is the login identifier.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
# Never log into an existing account just because the e-mail matches (accounts.services.google
# links only when both sides have verified the address).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
GOOGLE_OAUTH_CLIENT_ID = env.str("GOOGLE_OAUTH_CLIENT_ID", default="")
GOOGLE_OAUTH_CLIENT_SECRET = env.str("GOOGLE_OAUTH_CLIENT_SECRET", default="")
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APPS": (
            [
                {
                    "client_id": GOOGLE_OAUTH_CLIENT_ID,
                    "secret": GOOGLE_OAUTH_CLIENT_SECRET,
                    "key": "",
                }
            ]
            if GOOGLE_OAUTH_CLIENT_ID
            else []
        ),
        "SCOPE": ["openid", "email", "profile"],
        "AUTH_PARAMS": {"access_type": "online"},
        "OAUTH_PKCE_ENABLED": True,
    }
}

# simplejwt: its own signing key, short-lived access tokens, rotation with blacklisting.
JWT_SIGNING_KEY = env.str(
    "JWT_SIGNING_KEY", default="insecure-embedded-jwt-key-change-me-0123456789"
)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's check plus token-family revocation and is_active, in one query.
        "accounts.authentication.JWTAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.BoundedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",  # + the role per operation
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="600/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
    },
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "core.errors.EnvelopeExceptionHandler",
    "EXCEPTION_FORMATTER_CLASS": "core.errors.EnvelopeFormatter",
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    # Documented per operation by core.openapi.AutoSchema (503 where a view declares it).
    "ALLOWED_ERROR_STATUS_CODES": [
        "400",
        "401",
        "403",
        "404",
        "405",
        "406",
        "413",
        "415",
        "429",
        "500",
    ],
}
_DSE = "drf_standardized_errors.openapi_serializers."
SPECTACULAR_SETTINGS = {
    "TITLE": "cryptocast API",
    "DESCRIPTION": "Crypto prices, candles, news, honest forecasts and live streams.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": _DSE + "ValidationErrorEnum.choices",
        "ClientErrorEnum": _DSE + "ClientErrorEnum.choices",
        "ServerErrorEnum": _DSE + "ServerErrorEnum.choices",
        "ErrorCode401Enum": _DSE + "ErrorCode401Enum.choices",
        "ErrorCode403Enum": _DSE + "ErrorCode403Enum.choices",
        "ErrorCode404Enum": _DSE + "ErrorCode404Enum.choices",
        "ErrorCode405Enum": _DSE + "ErrorCode405Enum.choices",
        "ErrorCode406Enum": _DSE + "ErrorCode406Enum.choices",
        "ErrorCode415Enum": _DSE + "ErrorCode415Enum.choices",
        "ErrorCode429Enum": _DSE + "ErrorCode429Enum.choices",
        "ErrorCode500Enum": _DSE + "ErrorCode500Enum.choices",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}
# Request bodies above this are refused with 413 in the envelope.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("FILE_UPLOAD_MAX_MEMORY_SIZE", default=10_485_760)

# django-guid: a request id on every response and every log line.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": False,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "UUID_LENGTH": 32,
    # Tasks enqueued by a request log with that request's id.
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True, log_parent=True)],
}

# --- i18n, static -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
# The embedded default serves static files straight from the apps (no collectstatic needed).
SERVESTATIC_USE_FINDERS = env.bool("SERVESTATIC_USE_FINDERS", default=True)
SERVESTATIC_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- mail -------------------------------------------------------------------------------
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
# SMTP connect/read timeout (Django's default waits forever on a stalled mail server).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cryptocast <noreply@localhost>")

# --- data, models -------------------------------------------------------------------------
_default_sample = BASE_DIR.parent / "shared" / "data"
CRYPTOCAST_SAMPLE_DATA = env.str(
    "CRYPTOCAST_SAMPLE_DATA", default=str(_default_sample) if _default_sample.is_dir() else ""
)
MODEL_ARTIFACTS_DIR = Path(
    env.str("MODEL_ARTIFACTS_DIR", default=str(BASE_DIR / "models" / "artifacts"))
)
# Artifact store (mlserving.store): empty = MODEL_ARTIFACTS_DIR is a directory every process
# shares; s3://bucket/prefix = an S3-compatible object store (MODEL_ARTIFACTS_DIR is then this
# machine's working copy / download cache). Credentials empty = botocore's own chain.
MODEL_ARTIFACTS_URL = env.str("MODEL_ARTIFACTS_URL", default="")
MODEL_ARTIFACTS_S3_ENDPOINT_URL = env.str("MODEL_ARTIFACTS_S3_ENDPOINT_URL", default="")
MODEL_ARTIFACTS_S3_REGION = env.str("MODEL_ARTIFACTS_S3_REGION", default="")
MODEL_ARTIFACTS_S3_ACCESS_KEY_ID = env.str("MODEL_ARTIFACTS_S3_ACCESS_KEY_ID", default="")
MODEL_ARTIFACTS_S3_SECRET_ACCESS_KEY = env.str("MODEL_ARTIFACTS_S3_SECRET_ACCESS_KEY", default="")
# Seconds a process serves its copy of the object store's manifest before re-checking its ETag.
MODEL_ARTIFACTS_POLL_SECONDS = env.float("MODEL_ARTIFACTS_POLL_SECONDS", default=30.0)

# --- observability ----------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="console")  # "console" or "json"
SENTRY_DSN = env.str("SENTRY_DSN", default="")
PROMETHEUS_EXPORT_MIGRATIONS = False

from core.logging import build_logging_config  # noqa: E402  (pure function, no Django imports)

LOGGING = build_logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)

if SENTRY_DSN:  # integrations switch on from the environment only
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
        release=VERSION,
    )

# --- markets data (stored data, ingestion, schedule) ------------------------------------
# A quote is served with stale=true when its provider time is older than this.
MARKETS_QUOTE_STALE_SECONDS = env.int("MARKETS_QUOTE_STALE_SECONDS", default=300)
# Quote history older than this is deleted by the daily cleanup (latest quotes are kept).
MARKETS_QUOTE_HISTORY_DAYS = env.int("MARKETS_QUOTE_HISTORY_DAYS", default=30)
# Rows per INSERT ... ON CONFLICT statement in the candle upsert (all in one transaction).
MARKETS_UPSERT_BATCH_SIZE = env.int("MARKETS_UPSERT_BATCH_SIZE", default=2000)
# PostgreSQL: loads of at least this many candles go through COPY + INSERT ... ON CONFLICT
# (0 = always bulk_create).
MARKETS_UPSERT_COPY_MIN_ROWS = env.int("MARKETS_UPSERT_COPY_MIN_ROWS", default=1000)
# Longest CSV accepted by import_ohlcv / the upload endpoint (rows per file).
MARKETS_IMPORT_MAX_ROWS = env.int("MARKETS_IMPORT_MAX_ROWS", default=500_000)
MARKETS_IMPORT_MAX_UPLOAD_BYTES = env.int("MARKETS_IMPORT_MAX_UPLOAD_BYTES", default=20_000_000)
# core.locks: "auto" = Redis SET NX PX when REDIS_URL is set, else a database row.
CORE_LOCK_BACKEND = env.str("CORE_LOCK_BACKEND", default="auto")
# /api/v1/market/global and /market/trending: seconds a provider answer is reused.
MARKETS_GLOBAL_TTL_SECONDS = env.int("MARKETS_GLOBAL_TTL_SECONDS", default=120)
MARKETS_TRENDING_TTL_SECONDS = env.int("MARKETS_TRENDING_TTL_SECONDS", default=600)
# After a provider failure, /market/global and /market/trending answer from the database
# for this long without retrying the provider (one slow request per window, not every one).
MARKETS_PROVIDER_FAILURE_TTL_SECONDS = env.int("MARKETS_PROVIDER_FAILURE_TTL_SECONDS", default=30)

# --- markets providers (clients, failover, live prices cache) -----------------------------
COINGECKO_API_URL = env.str("COINGECKO_API_URL", default="https://api.coingecko.com/api/v3")
BINANCE_API_URL = env.str("BINANCE_API_URL", default="https://api.binance.com")
COINCAP_API_URL = env.str("COINCAP_API_URL", default="https://rest.coincap.io/v3")
CRYPTOCOMPARE_API_URL = env.str(
    "CRYPTOCOMPARE_API_URL", default="https://min-api.cryptocompare.com"
)
# Keys are optional (CoinCap v3 is skipped without one); never given a default.
COINGECKO_API_KEY = env.str("COINGECKO_API_KEY", default="")
COINGECKO_API_PLAN = env.str("COINGECKO_API_PLAN", default="demo")  # "demo" or "pro" key header
COINCAP_API_KEY = env.str("COINCAP_API_KEY", default="")
CRYPTOCOMPARE_API_KEY = env.str("CRYPTOCOMPARE_API_KEY", default="")
# Quote failover order; the first provider that answers wins.
MARKET_QUOTE_PROVIDERS = env.list(
    "MARKET_QUOTE_PROVIDERS", default=["coingecko", "binance", "coincap", "cryptocompare", "replay"]
)
PROVIDER_TIMEOUT_SECONDS = env.float("PROVIDER_TIMEOUT_SECONDS", default=8.0)
PROVIDER_CONNECT_TIMEOUT_SECONDS = env.float("PROVIDER_CONNECT_TIMEOUT_SECONDS", default=3.0)
PROVIDER_RETRY_ATTEMPTS = env.int("PROVIDER_RETRY_ATTEMPTS", default=3)
# Longest Retry-After we sleep in-process; a longer one fails over at once.
PROVIDER_RETRY_AFTER_CAP_SECONDS = env.float("PROVIDER_RETRY_AFTER_CAP_SECONDS", default=2.0)
PROVIDER_RETRY_TOTAL_SECONDS = env.float("PROVIDER_RETRY_TOTAL_SECONDS", default=15.0)
PROVIDER_BREAKER_FAIL_MAX = env.int("PROVIDER_BREAKER_FAIL_MAX", default=5)
PROVIDER_BREAKER_RESET_SECONDS = env.float("PROVIDER_BREAKER_RESET_SECONDS", default=60.0)
# Outbound budgets, requests per minute per provider, shared across processes.
PROVIDER_BUDGETS = env.dict(
    "PROVIDER_BUDGETS",
    cast={"value": int},
    default={"coingecko": 25, "binance": 600, "coincap": 100, "cryptocompare": 50},
)
# Embedded mode: budgets in a SQLite file (shared by web and worker); "" keeps them in memory.
PROVIDER_BUDGET_SQLITE_PATH = env.str(
    "PROVIDER_BUDGET_SQLITE_PATH", default=str(VAR_DIR / "provider-budget.sqlite")
)
# Replay provider: recorded candles played as if live (deterministic given the clock).
MARKET_REPLAY_SPEED = env.float("MARKET_REPLAY_SPEED", default=1.0)  # recorded s per real s
MARKET_REPLAY_START = env.str("MARKET_REPLAY_START", default="2024-07-01T00:00:00Z")
MARKET_REPLAY_ANCHOR = env.str("MARKET_REPLAY_ANCHOR", default="2026-01-01T00:00:00Z")
# Live price cache: in-process L1 TTL over the Django cache (L2) TTL; L2 skipped after a failure.
PRICES_L1_TTL_SECONDS = env.float("PRICES_L1_TTL_SECONDS", default=2.0)
PRICES_L2_TTL_SECONDS = env.int("PRICES_L2_TTL_SECONDS", default=30)
PRICES_L2_BACKOFF_SECONDS = env.float("PRICES_L2_BACKOFF_SECONDS", default=5.0)
# Seconds a client is told to wait (Retry-After) when no price is available at all.
PRICES_RETRY_AFTER_SECONDS = env.int("PRICES_RETRY_AFTER_SECONDS", default=30)

# --- mlserving / forecasts serving (manifest, loading, forecast archive and API) ----------
# Models older than this (days since training) are not served; 0 disables the check.
MODEL_MAX_AGE_DAYS = env.float("MODEL_MAX_AGE_DAYS", default=45.0)
# Extra fully-qualified types skops may load beyond mlserving's built-in allowlist.
MLSERVING_SKOPS_TRUSTED = env.list("MLSERVING_SKOPS_TRUSTED", default=[])
# Horizons (days) generated per coin and model; the API serves 1..min(this, 30).
FORECAST_HORIZON_DAYS = env.int("FORECAST_HORIZON_DAYS", default=30)
FORECAST_LEVELS = [80, 90, 95]
FORECAST_DEFAULT_SYMBOLS = env.list("FORECAST_DEFAULT_SYMBOLS", default=["BTC", "ETH"])
# Model types the beat jobs and commands use by default; empty = every model type.
FORECAST_DEFAULT_MODELS = env.list("FORECAST_DEFAULT_MODELS", default=[])
# Seconds a computed forecast response stays in the cache (L1 in-process and L2 shared).
FORECAST_API_CACHE_SECONDS = env.int("FORECAST_API_CACHE_SECONDS", default=60)
FORECAST_API_L1_SECONDS = env.float("FORECAST_API_L1_SECONDS", default=5.0)
# Training: walk-forward test origins, refit schedule, calibration warm-up, model params.
FORECAST_TRAIN_EVAL_DAYS = env.int("FORECAST_TRAIN_EVAL_DAYS", default=120)
FORECAST_TRAIN_REFIT_DAYS = env.int("FORECAST_TRAIN_REFIT_DAYS", default=60)
FORECAST_TRAIN_WARMUP_DAYS = env.int("FORECAST_TRAIN_WARMUP_DAYS", default=60)
# LightGBM: one booster per horizon ("per_horizon", measured better by walk-forward skill than
# one "pooled" booster with the horizon as a feature: docs/forecasting-lightgbm-horizons.md).
FORECAST_LIGHTGBM_HORIZON_MODE = env.str("FORECAST_LIGHTGBM_HORIZON_MODE", default="per_horizon")
if FORECAST_LIGHTGBM_HORIZON_MODE not in ("per_horizon", "pooled"):
    raise ImproperlyConfigured("FORECAST_LIGHTGBM_HORIZON_MODE must be per_horizon or pooled")
# LightGBM on 1 thread: walk-forward makes many small fits on a shared 2-core machine.
FORECAST_MODEL_PARAMS: dict = {
    "lightgbm": {"num_threads": 1},
    "ensemble": {"base_params": {"lightgbm": {"num_threads": 1}}},
}

# --- accounts ---------------------------------------------------------------------------
# Extra Google OAuth client ids (Android, iOS, ...) accepted as ID-token audiences by
# POST /api/v1/auth/oauth/google/mobile, besides GOOGLE_OAUTH_CLIENT_ID.
GOOGLE_OAUTH_MOBILE_CLIENT_IDS = env.list("GOOGLE_OAUTH_MOBILE_CLIENT_IDS", default=[])
# Google's endpoints as settings (read per request) so tests point them at a loopback stub.
GOOGLE_OAUTH_AUTHORIZE_URL = env.str(
    "GOOGLE_OAUTH_AUTHORIZE_URL", default="https://accounts.google.com/o/oauth2/v2/auth"
)
GOOGLE_OAUTH_TOKEN_URL = env.str(
    "GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token"
)
GOOGLE_OAUTH_JWKS_URL = env.str(
    "GOOGLE_OAUTH_JWKS_URL", default="https://www.googleapis.com/oauth2/v3/certs"
)
GOOGLE_OAUTH_ISSUERS = env.list(
    "GOOGLE_OAUTH_ISSUERS", default=["https://accounts.google.com", "accounts.google.com"]
)
# Where the browser lands after Google sign-in, with ?code=<one-time code> (POST it to
# /api/v1/auth/oauth/google/exchange) or an error envelope; tokens never go in URLs.
OAUTH_SPA_REDIRECT_URL = env.str("OAUTH_SPA_REDIRECT_URL", default="/")
OAUTH_HANDOFF_TTL_SECONDS = env.int("OAUTH_HANDOFF_TTL_SECONDS", default=60)
# WebSocket tickets: single use, capped at 30 s whatever this says.
WS_TICKET_TTL_SECONDS = env.int("WS_TICKET_TTL_SECONDS", default=30)
API_KEY_MAX_PER_USER = env.int("API_KEY_MAX_PER_USER", default=20)
# The link mailed by POST password-reset; {uid} and {token} go in the fragment so they never
# reach a server log.
PASSWORD_RESET_URL_TEMPLATE = env.str(
    "PASSWORD_RESET_URL_TEMPLATE",
    default="http://localhost:8000/reset-password#uid={uid}&token={token}",
)
# DELETE /me deactivates at once; the purge job anonymises the row after this many days.
ACCOUNT_DELETION_GRACE_DAYS = env.int("ACCOUNT_DELETION_GRACE_DAYS", default=30)
# E-mail verification (POST /api/v1/auth/email/verify): link in the mail, code lifetime.
EMAIL_VERIFY_URL_TEMPLATE = env.str(
    "EMAIL_VERIFY_URL_TEMPLATE", default="http://localhost:8000/verify-email#token={token}"
)
EMAIL_VERIFY_MAX_AGE_HOURS = env.int("EMAIL_VERIFY_MAX_AGE_HOURS", default=72)
# The accounts mail outbox (sign-up verification, password reset): a claimed row not marked
# within the lease is re-sent by the sweep; attempts before giving up; days finished rows
# (they hold typed addresses) are kept.
ACCOUNTS_MAIL_LEASE_SECONDS = env.int("ACCOUNTS_MAIL_LEASE_SECONDS", default=120)
ACCOUNTS_MAIL_MAX_ATTEMPTS = env.int("ACCOUNTS_MAIL_MAX_ATTEMPTS", default=8)
ACCOUNTS_MAIL_RETENTION_DAYS = env.int("ACCOUNTS_MAIL_RETENTION_DAYS", default=7)

# --- streaming (WebSocket /api/v1/stream/ws, SSE /api/v1/stream/sse) --------------------
# Where seqs and resume buffers live: "auto" = Redis when REDIS_URL is set, else the database
# (embedded default: web processes relay new rows, so a worker's publish reaches browsers).
STREAM_BACKEND = env.str("STREAM_BACKEND", default="auto")
# Messages kept per channel for resume (WS "resume", SSE Last-Event-ID); older -> reset.
STREAM_BUFFER_SIZE = env.int("STREAM_BUFFER_SIZE", default=500)
# Socket timeout of every Redis call of the stream log and the publisher.
STREAM_REDIS_TIMEOUT_SECONDS = env.float("STREAM_REDIS_TIMEOUT_SECONDS", default=0.5)
# Server heartbeat frame interval; a connection with no subscription is closed after the idle time.
STREAM_HEARTBEAT_SECONDS = env.int("STREAM_HEARTBEAT_SECONDS", default=15)
STREAM_IDLE_TIMEOUT_SECONDS = env.int("STREAM_IDLE_TIMEOUT_SECONDS", default=120)
# Per-connection limits: channels, client frame size, bad messages before closing (4400).
STREAM_MAX_SUBSCRIPTIONS = env.int("STREAM_MAX_SUBSCRIPTIONS", default=100)
STREAM_MAX_MESSAGE_BYTES = env.int("STREAM_MAX_MESSAGE_BYTES", default=8192)
STREAM_MAX_ERRORS = env.int("STREAM_MAX_ERRORS", default=20)
# Slow clients: updates coalesce per channel; a client behind for this long, or with this many
# items pending, is closed with 4429.
STREAM_SLOW_CLIENT_SECONDS = env.float("STREAM_SLOW_CLIENT_SECONDS", default=10.0)
STREAM_MAX_PENDING_ITEMS = env.int("STREAM_MAX_PENDING_ITEMS", default=5000)
# Streams in another currency (?vs= / "vs"): how long a loaded rate is reused by every
# subscriber of the process before it is looked up again (REST's prices cache: 30 s).
STREAM_RATE_REFRESH_SECONDS = env.float("STREAM_RATE_REFRESH_SECONDS", default=15.0)
# Embedded relay: how often each web process looks for new stream rows.
STREAM_RELAY_POLL_SECONDS = env.float("STREAM_RELAY_POLL_SECONDS", default=0.2)
# Server processes (daphne, gunicorn workers): gc.freeze() after start-up and this
# collector threshold (core/gctune.py); empty leaves Python's defaults (700,10,10).
SERVER_GC_THRESHOLD = env.str("SERVER_GC_THRESHOLD", default="10000,20,20")
# SSE: reconnect delay told to EventSource (retry:) and comment keep-alive interval.
STREAM_SSE_RETRY_MS = env.int("STREAM_SSE_RETRY_MS", default=3000)
STREAM_SSE_KEEPALIVE_SECONDS = env.float("STREAM_SSE_KEEPALIVE_SECONDS", default=15.0)
# markets: the live tick (quotes of the top coins every few seconds through the failover).
MARKETS_TICK_SECONDS = env.int("MARKETS_TICK_SECONDS", default=5)
MARKETS_TICK_TOP = env.int("MARKETS_TICK_TOP", default=20)
# --- accounts, part two (2FA, roles, audit log, data export) ------------------------------
# TOTP codes accepted one step (30 s) either side of now, for clocks that drift.
MFA_TOTP_VALID_WINDOW = env.int("MFA_TOTP_VALID_WINDOW", default=1)
# Issuer name shown in the authenticator app.
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="cryptocast")
# Lifetime of the challenge that auth/signin answers a 2FA user with.
MFA_CHALLENGE_TTL_SECONDS = env.int("MFA_CHALLENGE_TTL_SECONDS", default=300)
# Recovery codes made per (re)generation.
MFA_RECOVERY_CODE_COUNT = env.int("MFA_RECOVERY_CODE_COUNT", default=10)
# Staff and admins must have confirmed 2FA to sign in (the Django admin and the API: over the
# API a staff member without 2FA gets only an enrolment-scoped token).
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=False)
# Lifetime of that enrolment-scoped token (it opens auth/mfa/totp[/confirm] only).
MFA_ENROL_TOKEN_SECONDS = env.int("MFA_ENROL_TOKEN_SECONDS", default=600)
# Audit events older than this are deleted by the hourly clean-up.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
# Data exports (POST auth/me/export): where the ZIPs are kept, how long, and how often a user
# may ask for one.
ACCOUNTS_EXPORT_DIR = Path(env.str("ACCOUNTS_EXPORT_DIR", default=str(VAR_DIR / "exports")))
ACCOUNTS_EXPORT_TTL_HOURS = env.int("ACCOUNTS_EXPORT_TTL_HOURS", default=24)
ACCOUNTS_EXPORT_MIN_INTERVAL_MINUTES = env.int("ACCOUNTS_EXPORT_MIN_INTERVAL_MINUTES", default=60)
# --- alerts -----------------------------------------------------------------------------
# Limits per user (a clear 400 past them).
ALERTS_MAX_PER_USER = env.int("ALERTS_MAX_PER_USER", default=100)
ALERTS_MAX_WATCHLISTS_PER_USER = env.int("ALERTS_MAX_WATCHLISTS_PER_USER", default=20)
ALERTS_WATCHLIST_MAX_COINS = env.int("ALERTS_WATCHLIST_MAX_COINS", default=100)
ALERTS_MAX_WEBHOOKS_PER_USER = env.int("ALERTS_MAX_WEBHOOKS_PER_USER", default=5)
# Default "no data" threshold of a new alert: a quote older than this never fires or passes.
ALERTS_STALE_SECONDS = env.int("ALERTS_STALE_SECONDS", default=600)
# Forecast conditions ignore forecasts issued longer ago than this (then: no data).
ALERTS_FORECAST_MAX_AGE_HOURS = env.int("ALERTS_FORECAST_MAX_AGE_HOURS", default=72)
# Outbox: a claimed delivery not marked within this many seconds is re-delivered by the sweep.
ALERTS_DELIVERY_LEASE_SECONDS = env.int("ALERTS_DELIVERY_LEASE_SECONDS", default=120)
# Webhooks: per-attempt timeout, attempts before giving up, first backoff (doubles), and
# consecutive failures after which the webhook is disabled.
ALERTS_WEBHOOK_TIMEOUT_SECONDS = env.float("ALERTS_WEBHOOK_TIMEOUT_SECONDS", default=5.0)
ALERTS_WEBHOOK_MAX_ATTEMPTS = env.int("ALERTS_WEBHOOK_MAX_ATTEMPTS", default=6)
ALERTS_WEBHOOK_BACKOFF_SECONDS = env.int("ALERTS_WEBHOOK_BACKOFF_SECONDS", default=30)
ALERTS_WEBHOOK_DISABLE_AFTER = env.int("ALERTS_WEBHOOK_DISABLE_AFTER", default=10)
# SSRF guard relaxations, for tests and closed networks only: plain http, private addresses.
ALERTS_WEBHOOK_ALLOW_HTTP = env.bool("ALERTS_WEBHOOK_ALLOW_HTTP", default=False)
ALERTS_WEBHOOK_ALLOW_PRIVATE = env.bool("ALERTS_WEBHOOK_ALLOW_PRIVATE", default=False)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(  # type: ignore[index]
    {
        "AlertStatusEnum": [(v, v.title()) for v in ("active", "paused", "expired", "completed")],
    }
)
# Anomaly detector (daily beat job): robust z-score threshold and the rolling window it uses.
ALERTS_ANOMALY_Z = env.float("ALERTS_ANOMALY_Z", default=6.0)
ALERTS_ANOMALY_WINDOW_DAYS = env.int("ALERTS_ANOMALY_WINDOW_DAYS", default=30)

# --- operations (ops: admin endpoints, health samples, batching, gzip, features API) ------
# Every CSRF failure under /api/ answers the JSON envelope (Django's HTML page elsewhere).
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# Response compression (core.middleware.CompressionMiddleware; nginx does it too in compose).
HTTP_GZIP = env.bool("HTTP_GZIP", default=True)
HTTP_GZIP_MIN_BYTES = env.int("HTTP_GZIP_MIN_BYTES", default=1024)
# Health history: the beat job samples every component this often and keeps this many hours.
HEALTH_SAMPLE_EVERY_SECONDS = env.int("HEALTH_SAMPLE_EVERY_SECONDS", default=60)
HEALTH_SAMPLE_RETENTION_HOURS = env.int("HEALTH_SAMPLE_RETENTION_HOURS", default=168)
# /health/api: every provider is probed at once; one slower than this is reported as timed out.
HEALTH_API_TIMEOUT_SECONDS = env.float("HEALTH_API_TIMEOUT_SECONDS", default=2.0)
# Request batching of live price misses: a batch waits this long for others to join (0 = only
# single-flight per coin).
PRICES_BATCH_WINDOW_MS = env.float("PRICES_BATCH_WINDOW_MS", default=5.0)
# Features API: longest date range per request (days).
FEATURES_MAX_DAYS = env.int("FEATURES_MAX_DAYS", default=3660)
# A forecast whose origin (last candle used) is older than this many days is served stale=true.
FORECAST_STALE_AFTER_DAYS = env.float("FORECAST_STALE_AFTER_DAYS", default=2.0)
# --- forecasts: fan-out over Celery workers (docs/forecasting-fanout.md) ---------------------
# Forecast the top N active coins by market-cap rank (+ FORECAST_DEFAULT_SYMBOLS + watchlists).
FORECAST_TOP_N = env.int("FORECAST_TOP_N", default=20)
# Time limit of one (coin, model) training task / one coin's issuing task (soft = this - 60 s).
FORECAST_TRAIN_TASK_SECONDS = env.int("FORECAST_TRAIN_TASK_SECONDS", default=3600)
FORECAST_ISSUE_TASK_SECONDS = env.int("FORECAST_ISSUE_TASK_SECONDS", default=600)
# A task's lease, extended by a heartbeat while it works: a dead worker's task can be
# taken over this long after it stopped.
FORECAST_TASK_LEASE_SECONDS = env.int("FORECAST_TASK_LEASE_SECONDS", default=120)
# Queue of the training tasks ("" = the default queue every worker consumes; "training" needs
# workers started with `-Q training`).
FORECAST_TRAINING_QUEUE = env.str("FORECAST_TRAINING_QUEUE", default="")
# --- news -------------------------------------------------------------------------------
# Feeds: descriptive User-Agent (Reddit requires one), timeouts, size cap, request budgets.
NEWS_USER_AGENT = env.str(
    "NEWS_USER_AGENT",
    default="cryptocast/0.1 (news aggregator; +https://github.com/cryptocast/cryptocast)",
)
NEWS_FETCH_TIMEOUT_SECONDS = env.float("NEWS_FETCH_TIMEOUT_SECONDS", default=10.0)
NEWS_MAX_FEED_BYTES = env.int("NEWS_MAX_FEED_BYTES", default=5_000_000)
NEWS_DEFAULT_BUDGET_PER_MINUTE = env.int("NEWS_DEFAULT_BUDGET_PER_MINUTE", default=10)
NEWS_RETENTION_DAYS = env.int("NEWS_RETENTION_DAYS", default=90)
NEWS_GDELT_URL = env.str("NEWS_GDELT_URL", default="https://api.gdeltproject.org/api/v2/doc/doc")
# GET news/tone: GDELT timelinetone per coin, fresh in the cache this long, then served as stale
# (with the reason) while GDELT is unreachable, up to the second figure.
NEWS_GDELT_TONE_FRESH_SECONDS = env.int("NEWS_GDELT_TONE_FRESH_SECONDS", default=3600)
NEWS_GDELT_TONE_KEEP_SECONDS = env.int("NEWS_GDELT_TONE_KEEP_SECONDS", default=7 * 24 * 3600)
# CryptoPanic is skipped cleanly without a key.
CRYPTOPANIC_API_KEY = env.str("CRYPTOPANIC_API_KEY", default="")
# POST news/refresh: the SSRF-checked crawl of one user-given URL.
NEWS_CRAWL_TIMEOUT_SECONDS = env.float("NEWS_CRAWL_TIMEOUT_SECONDS", default=8.0)
NEWS_CRAWL_MAX_BYTES = env.int("NEWS_CRAWL_MAX_BYTES", default=2_000_000)
NEWS_CRAWL_MAX_REDIRECTS = env.int("NEWS_CRAWL_MAX_REDIRECTS", default=3)
NEWS_CRAWL_BUDGET_PER_MINUTE = env.int("NEWS_CRAWL_BUDGET_PER_MINUTE", default=30)
# With a key, news/refresh scrapes through Firecrawl (after the same SSRF checks), falling back
# to the built-in fetch when Firecrawl fails.
FIRECRAWL_API_KEY = env.str("FIRECRAWL_API_KEY", default="")
FIRECRAWL_API_URL = env.str("FIRECRAWL_API_URL", default="https://api.firecrawl.dev")
FIRECRAWL_TIMEOUT_SECONDS = env.float("FIRECRAWL_TIMEOUT_SECONDS", default=20.0)
# --- request speed (issue 17: middleware stack, request logging) ------------------------------
# Lean requests skip session, CSRF, messages, auth middleware, allauth and axes: these path
# prefixes always, and API paths that carry no session cookie (except the full-stack ones).
CORE_LEAN_PATH_PREFIXES = env.list("CORE_LEAN_PATH_PREFIXES", default=["/health", "/metrics"])
CORE_LEAN_API_PREFIXES = env.list("CORE_LEAN_API_PREFIXES", default=["/api/"])
CORE_FULL_STACK_PREFIXES = env.list("CORE_FULL_STACK_PREFIXES", default=["/api/v1/auth/"])
# Share of successful (< 400) requests logged; errors and slow requests are always logged.
CORE_REQUEST_LOG_SAMPLE_RATE = env.float("CORE_REQUEST_LOG_SAMPLE_RATE", default=1.0)
CORE_REQUEST_LOG_SLOW_MS = env.float("CORE_REQUEST_LOG_SLOW_MS", default=500.0)
# The listing (/api/v1/cryptocurrencies/) answers repeat queries from a cache of the rendered
# page for this long (in-process and shared; 0 = off). Quotes change once per sync period.
MARKETS_LISTING_CACHE_SECONDS = env.int("MARKETS_LISTING_CACHE_SECONDS", default=2)
# Rendered history pages (USD, JSON) until a candle write bumps their generation (0 = off).
MARKETS_HISTORY_CACHE_SECONDS = env.int("MARKETS_HISTORY_CACHE_SECONDS", default=600)
MARKETS_HISTORY_L1_SECONDS = env.float("MARKETS_HISTORY_L1_SECONDS", default=1.0)
# Embedded SQLite: reopening the file costs a connect and two PRAGMAs per request; keep the
# connection (per thread) this many seconds. PostgreSQL keeps CONN_MAX_AGE=0 with its pool.
if not DATABASE_URL:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("SQLITE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Django's W001-W003 look for its own dotted paths; core.checks re-makes them for the
# core.middleware subclasses (each must be in MIDDLEWARE, as itself or a subclass).
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

# --- fx and the CoinGecko-compatible API (/coingecko/api/v3/, docs/coingecko-compat.md) ---
# Daily fiat reference rates (frankfurter.dev serves the ECB's), stored per day.
FX_API_URL = env.str("FX_API_URL", default="https://api.frankfurter.dev/v1")
FX_SYNC_ENABLED = env.bool("FX_SYNC_ENABLED", default=True)
# The latest-rates table is cached this long (the source publishes once a day).
FX_CACHE_SECONDS = env.int("FX_CACHE_SECONDS", default=3600)
# Longest /coingecko/api/v3/ page (CoinGecko caps per_page at 250).
COINGECKO_COMPAT_MAX_PER_PAGE = env.int("COINGECKO_COMPAT_MAX_PER_PAGE", default=250)
# --- dashboard pages (docs/dashboard.md) ------------------------------------------------------
# /forecasts shows the backtest-*.png plots of this folder (manage.py backtest writes them).
DASHBOARD_BACKTEST_PLOTS_DIR = env.str(
    "DASHBOARD_BACKTEST_PLOTS_DIR", default=str(BASE_DIR / "docs" / "img")
)
# --- Content-Security-Policy (django-csp, docs/dashboard-accounts.md) -------------------------
# Every HTML page: scripts, styles, fonts and images from this origin only, no inline code.
# CSP_REPORT_ONLY sends the same policy as Content-Security-Policy-Report-Only (to try it out).
CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)
# Where browsers POST violation reports (empty: no report-uri directive).
CSP_REPORT_URI = env.str("CSP_REPORT_URI", default="")
_CSP_DIRECTIVES: dict[str, list[str] | bool] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
}
if CSP_REPORT_URI:
    _CSP_DIRECTIVES["report-uri"] = [CSP_REPORT_URI]
CONTENT_SECURITY_POLICY = None if CSP_REPORT_ONLY else {"DIRECTIVES": _CSP_DIRECTIVES}
CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _CSP_DIRECTIVES} if CSP_REPORT_ONLY else None

# --- hostile input and operator endpoints (issue 16) -----------------------------------------
# JSON from clients (API bodies, WebSocket frames) nested deeper than this is a 400.
CORE_JSON_MAX_DEPTH = env.int("CORE_JSON_MAX_DEPTH", default=64)
# /metrics and /health/detailed answer only a request with "Authorization: Bearer <OPS_TOKEN>"
# or from one of OPS_ALLOWED_NETWORKS (CIDRs, e.g. 10.0.0.0/8); neither set = loopback only.
OPS_TOKEN = env.str("OPS_TOKEN", default="")
OPS_ALLOWED_NETWORKS = env.list("OPS_ALLOWED_NETWORKS", default=[])
