"""Settings for the test suite: the real settings, with tasks run inline and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("TASKS_EAGER", "True")

from barnstorm.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SIGNUP_RATE_LIMIT = 1000
MAP_TILE_URL = ""  # tests never fetch map tiles
if not REDIS_URL:  # noqa: F405
    # One process per run; a shared folder would mix two runs' rate-limit counters.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory, so that threads in race tests take real locks.
    VAR_DIR.mkdir(exist_ok=True)  # noqa: F405
    # One file per run, so that two runs on one machine never share a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
