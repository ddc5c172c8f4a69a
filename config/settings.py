"""unionaid settings: one env-driven file (healthchecks style).

Every setting that differs between a laptop and production is read from the environment,
secrets also from a ``NAME_FILE`` path. Nothing is configured only in production.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

import unionaid

BASE_DIR = Path(__file__).resolve().parent.parent
# The unionaid package itself (templates, static, locale): src/unionaid in a checkout,
# site-packages/unionaid when installed from the wheelhouse (docs/deploy.md).
SRC_DIR = Path(unionaid.__file__).resolve().parent
# Data the app writes (SQLite, collected static files, private uploads). An install from the
# wheelhouse sets UNIONAID_VAR_DIR (deploy/unionaid.env.example): the default is the checkout's var/.
VAR_DIR = Path(os.environ.get("UNIONAID_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    """Read a setting from NAME, or from the file named by NAME_FILE."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "dev-only-insecure-key-change-me-" + "x" * 20)
ALLOWED_HOSTS = [h for h in env("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "treebeard",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "unionaid.core",
    "unionaid.audit",
    "unionaid.org",
    "unionaid.accounts",
    "unionaid.members",
    "unionaid.notifications",
    "unionaid.funds",
    "unionaid.approvals",
    "unionaid.stats",
    "unionaid.checks",
    "unionaid.assistance",
    "unionaid.visits",
    "unionaid.archive",
    "unionaid.matching",
    "unionaid.exports",
    "unionaid.schedules",
    "unionaid.portal",
    "unionaid.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "unionaid.core.middleware.IdentifierFreeRedirectMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "unionaid.core.middleware.SessionTouchMiddleware",
    "unionaid.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "unionaid.core.middleware.RequestContextMiddleware",
    "unionaid.accounts.middleware.AccessMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "unionaid.web.context_processors.access",
                "unionaid.notifications.context_processors.notifications",
            ],
        },
    }
]

if not env("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # home of the embedded SQLite database
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'unionaid.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side binding with prepared statements: a statement a connection runs twice is
    # prepared, so PostgreSQL stops re-planning the same joins on every approval
    # (docs/benchmarks.md, "Final approvals per second"). Set DB_PREPARE_THRESHOLD=off behind a
    # transaction-mode pgbouncer, which cannot keep prepared statements.
    _prepare = env("DB_PREPARE_THRESHOLD", "2").strip().lower()
    if _prepare not in ("off", "none", ""):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=int(_prepare))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # generated one-time passwords (staff import, first admin): re-hashed at first login
    "unionaid.accounts.passwords.OneTimePasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "unionaid.accounts.passwords.CharacterClassValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Idle timeout: the session expires after SESSION_IDLE_MINUTES without a request.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
# Saved (and its expiry moved on) at most once a minute: core.middleware.SessionTouchMiddleware.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and env_bool("HTTPS", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Lockout (django-axes): 5 failures per user name lock the account for 30 minutes.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 30) / 60
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_LOCKOUT_CALLABLE = "unionaid.accounts.views.locked_out"  # renders that template in Chinese
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_VERBOSE = False

OTP_TOTP_ISSUER = "unionaid"

# Security headers
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# Behind nginx (deploy/nginx/unionaid.conf), which sets both headers itself, overwriting what a
# client sent: the request's scheme, and the client's address for the audit journal
# (core.context.client_ip). The app port must then be reachable only by the proxy.
BEHIND_PROXY = env_bool("BEHIND_PROXY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
CLIENT_IP_HEADER = "HTTP_X_REAL_IP" if BEHIND_PROXY else None
# The proxies whose CLIENT_IP_HEADER is believed (addresses or networks, comma-separated): a
# request from anywhere else is journaled and rate-limited by its own address. With several app
# servers, the nginx machine's address.
TRUSTED_PROXIES = [p.strip() for p in env("TRUSTED_PROXIES", "127.0.0.1,::1").split(",")
                   if p.strip()]
# A load balancer's or monitor's health check talks plain HTTP to the app server.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [SRC_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [SRC_DIR / "static"]
# nginx serves STATIC_ROOT itself in production (deploy/nginx/unionaid.conf).
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "static")))
# WhiteNoise serves the static files from the app server itself (no separate web server needed
# for a small union); `unionaid collectstatic` fills STATIC_ROOT (make run does it).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
# Uploaded files and import sources live outside the web root and are served only through views.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")))
# Backups (`unionaid backup`, the nightly job; docs/backup.md): one file of the database and its
# .sha256, mode 0600, in BACKUP_DIR (keep it off the web root; copy it off the machine); the
# nightly job keeps the BACKUP_KEEP newest. The encryption keys are never in a backup.
BACKUP_DIR = Path(env("BACKUP_DIR", str(VAR_DIR / "backups")))
BACKUP_KEEP = env_int("BACKUP_KEEP", 14)
# Uploaded spreadsheets are measured before they are read (core.spreadsheets.ReadLimits): rows
# (header included), columns, and bytes once unzipped (a .xlsx) or on disk (a .csv). A member
# roster of 100,000 rows (a whole 路局) unzips to about 60 MB; an archive ledger holds the
# hardship households of one unit, a few thousand rows. Bigger rosters: split them, or
# `unionaid import members --no-limits` on the server itself.
MEMBERS_IMPORT_MAX_ROWS = env_int("MEMBERS_IMPORT_MAX_ROWS", 100_000)
MEMBERS_IMPORT_MAX_UNPACKED_MB = env_int("MEMBERS_IMPORT_MAX_UNPACKED_MB", 100)
ARCHIVE_IMPORT_MAX_ROWS = env_int("ARCHIVE_IMPORT_MAX_ROWS", 20_000)
ARCHIVE_IMPORT_MAX_UNPACKED_MB = env_int("ARCHIVE_IMPORT_MAX_UNPACKED_MB", 50)
IMPORT_MAX_COLUMNS = env_int("IMPORT_MAX_COLUMNS", 100)

# The scheduler (`unionaid scheduler`) gives up on a run still "running" after this long (its
# process died elsewhere) and records it as failed; set it above the longest job's run.
SCHEDULER_RUN_TIMEOUT_MINUTES = env_int("SCHEDULER_RUN_TIMEOUT_MINUTES", 360)

TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Outbound messages (notifications app; docs/architecture.md, "Messages leave the system").
# Each channel has a sender; one whose provider is not configured logs instead (console).
SMS_GATEWAY_URL = env("SMS_GATEWAY_URL", "")
SMS_ACCESS_KEY_ID = env("SMS_ACCESS_KEY_ID", "")
SMS_ACCESS_KEY_SECRET = env("SMS_ACCESS_KEY_SECRET", "")
SMS_SIGN_NAME = env("SMS_SIGN_NAME", "")
SMS_TEMPLATES = {"notice": env("SMS_TEMPLATE_NOTICE", ""), "code": env("SMS_TEMPLATE_CODE", "")}
EMAIL_HOST = env("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "unionaid@localhost")
WECHAT_API_BASE = env("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_APP_ID = env("WECHAT_APP_ID", "")
WECHAT_APP_SECRET = env("WECHAT_APP_SECRET", "")
WECHAT_TEMPLATES = {"notice": env("WECHAT_TEMPLATE_NOTICE", "")}
# Our parameter names -> the data keys of the WeChat template (thing1, time2 ... as chosen in
# the mini-program's console).
WECHAT_TEMPLATE_FIELDS = {"notice": {"title": env("WECHAT_FIELD_TITLE", "thing1"),
                                     "time": env("WECHAT_FIELD_TIME", "time2")}}
WECHAT_PAGE = env("WECHAT_PAGE", "pages/inbox/index")
_CONSOLE_SENDER = "unionaid.notifications.senders.ConsoleSender"
NOTIFICATION_SENDERS = {
    "sms": "unionaid.notifications.senders.SmsHttpSender" if SMS_GATEWAY_URL else _CONSOLE_SENDER,
    "email": "unionaid.notifications.senders.EmailSender" if EMAIL_HOST else _CONSOLE_SENDER,
    "wechat": "unionaid.notifications.senders.WeChatSender" if WECHAT_APP_ID else _CONSOLE_SENDER,
}
NOTIFICATION_HTTP_TIMEOUT = env_int("NOTIFICATION_HTTP_TIMEOUT", 10)
# Non-urgent messages wait for the end of quiet hours (local time, start-end); "" turns it off.
NOTIFICATION_QUIET_HOURS = env("NOTIFICATION_QUIET_HOURS", "22:00-07:00")
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 6)
NOTIFICATION_RETRY_SECONDS = env_int("NOTIFICATION_RETRY_SECONDS", 60)  # doubles per attempt

# Field encryption. UNIONAID_KEYS holds "kid:base64key" pairs separated by commas; the active key
# encrypts new values, every listed key can decrypt. UNIONAID_INDEX_KEY keys the lookup hashes.
# CRYPTO_SUITE is "aes" (AES-256-GCM + HMAC-SHA256) or "sm" (SM4-GCM + HMAC-SM3, 国密).
UNIONAID_CRYPTO_SUITE = env("UNIONAID_CRYPTO_SUITE", "aes")
UNIONAID_KEYS = env("UNIONAID_KEYS", "")
UNIONAID_ACTIVE_KEY = env("UNIONAID_ACTIVE_KEY", "")
UNIONAID_INDEX_KEY = env("UNIONAID_INDEX_KEY", "")
# Only for a laptop demo: derive keys from SECRET_KEY when none are configured. On by default only
# with DEBUG (`make run` and the test settings turn it on explicitly); off, a missing key stops the
# WSGI/ASGI app at load and any command at its first use of crypto (ImproperlyConfigured), and
# check --deploy fails (unionaid.E001). check --deploy warns when it is on.
UNIONAID_DEV_KEYS = env_bool("UNIONAID_DEV_KEYS", DEBUG)

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "unionaid.core.logging.RedactPersonalData"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter",
                          "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"], "formatter": "plain"},
        # runserver's request lines ("GET /members/?q=… HTTP/1.1" 200): redacted like the rest
        # (gunicorn's access log: config/gunicorn.conf.py).
        "django.server": {"class": "logging.StreamHandler", "filters": ["redact"],
                          "formatter": "django.server"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# Lockout is per user name (offices share one NAT address, so per-IP lockout would lock out a
# whole union office); see docs/architecture.md.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
