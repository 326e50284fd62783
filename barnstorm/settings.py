"""Barnstorm settings. Every value that differs between machines comes from the environment."""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from barnstorm.lib.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required unless DEBUG=True")
    SECRET_KEY = "barnstorm-development-only-not-secret"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")
SITE_NAME = envstr("SITE_NAME", "Barnstorm")
ORGANIZATION_ADDRESS = envstr("ORGANIZATION_ADDRESS", "Barnstorm Demo Campaign, PO Box 27, Des Moines, IA 50309")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "js_lib_htmx",
    "js_lib_leaflet",
    "barnstorm.lib",
    "barnstorm.accounts",
    "barnstorm.people",
    "barnstorm.activity",
    "barnstorm.donations",
    "barnstorm.events",
    "barnstorm.segments",
    "barnstorm.mailings",
    "barnstorm.field",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "barnstorm.urls"
WSGI_APPLICATION = "barnstorm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "barnstorm" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "barnstorm.lib.context_processors.site",
            ],
        },
    }
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASE_URL = envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'barnstorm.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database needs no set-up, not even its folder.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers continue while one writer writes; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue instead of failing with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:root"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# Redis, when configured, is the task broker, the cache and the rate-limit store.
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "barnstorm.lib.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    # A folder under var/, so the web server and the worker share cached figures (the dashboard's
    # aggregates are computed by the worker and read by the web process) without a server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# Celery. Without REDIS_URL the broker is a folder under var/: a worker needs no server.
# TASKS_EAGER=True runs every task inline in the calling process (tests, scripts).
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    _queue = VAR_DIR / "queue"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue / "out"),
        "data_folder_out": str(_queue / "out"),
        "processed_folder": str(_queue / "processed"),
        "control_folder": str(_queue / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = envbool("TASKS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Periodic work, run by the one worker started with `barnstorm worker --beat`.
CELERY_BEAT_SCHEDULE = {
    "recurring-charge-due": {"task": "barnstorm.donations.tasks.recurring_charge_due", "schedule": 600.0},
    "attempts-reconcile": {"task": "barnstorm.donations.tasks.attempts_reconcile_due", "schedule": 300.0},
    "attempts-record": {"task": "barnstorm.donations.tasks.attempts_record_task", "schedule": 60.0},
    "event-reminders-due": {"task": "barnstorm.events.tasks.event_reminders_send_due", "schedule": 300.0},
    "engagement-refresh-recent": {"task": "barnstorm.segments.tasks.engagement_refresh_recent", "schedule": 120.0},
    "dashboard-refresh": {"task": "barnstorm.segments.tasks.dashboard_refresh", "schedule": 300.0},
    "mailings-due": {"task": "barnstorm.mailings.tasks.mailings_due", "schedule": 60.0},
    "field-leases-expire": {"task": "barnstorm.field.tasks.contacts_expire_leases", "schedule": 60.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Email: console in development, SMTP when EMAIL_HOST is set, or any provider via
# EMAIL_BACKEND=anymail.backends.<esp>.EmailBackend and ANYMAIL settings.
EMAIL_HOST = envstr("EMAIL_HOST")
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    # Django's SMTP backend with a faster path for mailings (barnstorm/mailings/backends.py).
    "barnstorm.mailings.backends.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Barnstorm <hello@barnstorm.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
TIME_ZONE = envstr("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media/"
IMPORT_DIR = VAR_DIR / "imports"

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Public signup: attempts per IP address per hour before the form refuses.
SIGNUP_RATE_LIMIT = envint("SIGNUP_RATE_LIMIT", 20)

# Payments. The embedded test processor takes cards unless STRIPE_SECRET_KEY is set;
# PayPal is offered when PAYPAL_CLIENT_ID is set. The *_API_BASE settings point at stubs in tests.
STRIPE_SECRET_KEY = envstr("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = envstr("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = envstr("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = envstr("STRIPE_API_BASE", "https://api.stripe.com")
# With Stripe, the card is typed into Stripe.js's field and never reaches Barnstorm's server.
STRIPE_JS_URL = envstr("STRIPE_JS_URL", "https://js.stripe.com/v3/")
if STRIPE_SECRET_KEY and not STRIPE_PUBLISHABLE_KEY:
    raise ImproperlyConfigured("STRIPE_PUBLISHABLE_KEY is needed with STRIPE_SECRET_KEY: Stripe.js takes the card")
PAYPAL_CLIENT_ID = envstr("PAYPAL_CLIENT_ID")
PAYPAL_CLIENT_SECRET = envstr("PAYPAL_CLIENT_SECRET")
PAYPAL_WEBHOOK_ID = envstr("PAYPAL_WEBHOOK_ID")
PAYPAL_API_BASE = envstr("PAYPAL_API_BASE", "https://api-m.paypal.com")
# Card-testing defence: after this many declined attempts from one IP address or one card
# within the window, further attempts are blocked until the window has passed.
CARD_TESTING_MAX_DECLINES = envint("CARD_TESTING_MAX_DECLINES", 5)
CARD_TESTING_WINDOW_SECONDS = envint("CARD_TESTING_WINDOW_SECONDS", 600)
# Recurring gifts: days after a failed installment to try again; after the last, the plan stops.
RECURRING_RETRY_DAYS = [int(d) for d in envlist("RECURRING_RETRY_DAYS", ["1", "3", "7"])]

# SMS: the embedded sandbox (texts kept in a table) unless TWILIO_ACCOUNT_SID is set.
TWILIO_ACCOUNT_SID = envstr("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = envstr("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = envstr("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = envstr("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_STATUS_CALLBACK_URL = envstr("TWILIO_STATUS_CALLBACK_URL")
TWILIO_API_BASE = envstr("TWILIO_API_BASE", "https://api.twilio.com")
SMS_SANDBOX_FROM_NUMBER = envstr("SMS_SANDBOX_FROM_NUMBER", "+15155550100")

# Mailings: recipients per batch task; seconds a batch may hold its rows before another worker
# takes them over (a dead worker's); messages per second per recipient domain across all workers
# ("gmail.com=200,yahoo.com=100"); the ask used where a person has never given.
MAILING_BATCH_SIZE = envint("MAILING_BATCH_SIZE", 500)
MAILING_LEASE_SECONDS = envint("MAILING_LEASE_SECONDS", 300)
MAILING_DOMAIN_RATES = {
    domain.strip().lower(): int(rate)
    for domain, _, rate in (item.partition("=") for item in envlist("MAILING_DOMAIN_RATES", []))
}
MAILING_DEFAULT_AMOUNT = envint("MAILING_DEFAULT_AMOUNT", 27)
# django-anymail's settings from the environment: every ANYMAIL_<NAME> variable becomes
# ANYMAIL["<NAME>"], e.g. ANYMAIL_POSTMARK_SERVER_TOKEN, ANYMAIL_SENDGRID_API_KEY, and
# ANYMAIL_WEBHOOK_SECRET ("user:password" that tracking webhooks must send); see docs/mailings.md.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value
    for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and value
}

# Peer-to-peer texting: the hours (recipient's local time) when volunteers may text, "9-21" or
# "9:30-20:30". Point the SMS provider's inbound and status webhooks at SITE_URL/field/sms/inbound/.
TEXTING_HOURS = envstr("TEXTING_HOURS", "9-21")

# Map background tiles for event maps; blank means no tiles (the list and markers still work).
MAP_TILE_URL = envstr("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")

# Only `barnstorm bench donate` sets this: it mounts the bare baseline endpoint under /bench/.
BENCH_ENDPOINTS = envbool("BENCH_ENDPOINTS", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "WARNING")},
}
